//! OpenAI Embeddings wire format (`POST /v1/embeddings`): what clients send and what
//! the gateway reads from answers to account them.

use serde::Deserialize;

/// Fields the gateway checks. The OpenAI-format passthrough forwards the original
/// bytes, so unknown fields (`user`, future ones) reach the provider untouched.
#[derive(Debug, Deserialize)]
pub struct EmbeddingsRequest {
    pub model: String,
    pub input: EmbeddingInput,
    #[serde(default)]
    pub encoding_format: Option<String>,
    #[serde(default)]
    pub dimensions: Option<u32>,
    #[serde(default)]
    pub user: Option<String>,
}

/// A string, an array of strings, an array of token ids, or an array of such arrays.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
    Text(String),
    Texts(Vec<String>),
    Tokens(Vec<u32>),
    TokenLists(Vec<Vec<u32>>),
}

impl EmbeddingInput {
    /// Number of inputs (each gets one vector).
    pub fn len(&self) -> usize {
        match self {
            EmbeddingInput::Text(_) | EmbeddingInput::Tokens(_) => 1,
            EmbeddingInput::Texts(v) => v.len(),
            EmbeddingInput::TokenLists(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An empty string or an empty token list anywhere (OpenAI refuses those).
    pub fn has_empty_item(&self) -> bool {
        match self {
            EmbeddingInput::Text(s) => s.is_empty(),
            EmbeddingInput::Tokens(t) => t.is_empty(),
            EmbeddingInput::Texts(v) => v.iter().any(String::is_empty),
            EmbeddingInput::TokenLists(v) => v.iter().any(Vec::is_empty),
        }
    }
}

/// `usage` of an embeddings answer: `prompt_tokens` and `total_tokens` only.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct EmbeddingsUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub total_tokens: Option<u64>,
}

/// Enough of an embeddings answer to check its shape and account it.
#[derive(Debug, Deserialize)]
pub struct EmbeddingsProbe {
    pub data: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    pub usage: Option<EmbeddingsUsage>,
}

/// An OpenAI embeddings list built by the gateway for providers that speak another
/// format (Gemini, Vertex, Bedrock).
#[derive(Debug, serde::Serialize)]
pub struct EmbeddingsList<'a> {
    pub object: &'static str,
    pub data: Vec<EmbeddingOut>,
    pub model: &'a str,
    pub usage: UsageOut,
}

#[derive(Debug, serde::Serialize)]
pub struct EmbeddingOut {
    pub object: &'static str,
    pub index: usize,
    pub embedding: Vector,
}

/// `encoding_format: "float"` → numbers; `"base64"` → little-endian f32 bytes.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum Vector {
    Floats(Vec<f64>),
    Base64(String),
}

#[derive(Debug, serde::Serialize)]
pub struct UsageOut {
    pub prompt_tokens: u64,
    pub total_tokens: u64,
}
