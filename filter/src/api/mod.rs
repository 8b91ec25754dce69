//! Typed wire structs, one module per dialect. No logic beyond (de)serialisation.
pub mod anthropic_server;
pub mod completion;
pub mod embeddings;
pub mod embeddings_upstream;
pub(crate) mod json_out;
pub mod openai;
pub mod openai_build;
mod openai_de;
mod openai_out;
pub mod responses;
pub mod responses_echo;
pub mod text;
