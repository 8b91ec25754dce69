//! Typed wire structs, one module per dialect. No logic beyond (de)serialisation.
pub mod anthropic;
pub mod anthropic_server;
pub mod bedrock;
pub mod embeddings;
pub mod embeddings_upstream;
pub mod gemini;
pub mod openai;
pub mod openai_client;
mod openai_de;
pub mod text;
