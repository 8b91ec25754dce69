//! Typed wire structs, one module per dialect. No logic beyond (de)serialisation.
pub mod anthropic;
mod anthropic_out;
pub mod anthropic_server;
pub mod bedrock;
pub mod embeddings;
pub mod embeddings_upstream;
pub mod gemini;
mod json_out;
pub mod openai;
pub mod openai_client;
mod openai_de;
mod openai_out;
pub mod text;
