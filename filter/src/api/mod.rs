//! Typed wire structs, one module per dialect. No logic beyond (de)serialisation.
pub mod anthropic;
pub mod bedrock;
pub mod openai;
