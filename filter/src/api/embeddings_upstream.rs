//! Embeddings wire formats of providers that do not speak OpenAI's: Gemini
//! `batchEmbedContents`, Vertex AI `predict`, and the Bedrock `InvokeModel` bodies of
//! Amazon Titan Text Embeddings and Cohere Embed.

use serde::{Deserialize, Serialize};

// ---- Gemini (Google AI Studio): POST {base}/models/{model}:batchEmbedContents ----

#[derive(Debug, Serialize)]
pub struct BatchEmbedRequest<'a> {
    pub requests: Vec<EmbedContentRequest<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbedContentRequest<'a> {
    /// `models/{model}`: must name the model of the path.
    pub model: &'a str,
    pub content: EmbedContent<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_dimensionality: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct EmbedContent<'a> {
    pub parts: Vec<TextPart<'a>>,
}

#[derive(Debug, Serialize)]
pub struct TextPart<'a> {
    pub text: &'a str,
}

#[derive(Debug, Deserialize)]
pub struct BatchEmbedResponse {
    #[serde(default)]
    pub embeddings: Vec<ContentEmbedding>,
}

#[derive(Debug, Deserialize)]
pub struct ContentEmbedding {
    pub values: Vec<f64>,
}

// ---- Vertex AI: POST …/publishers/google/models/{model}:predict ----

#[derive(Debug, Serialize)]
pub struct PredictRequest<'a> {
    pub instances: Vec<PredictInstance<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<PredictParameters>,
}

#[derive(Debug, Serialize)]
pub struct PredictInstance<'a> {
    pub content: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PredictParameters {
    pub output_dimensionality: u32,
}

#[derive(Debug, Deserialize)]
pub struct PredictResponse {
    #[serde(default)]
    pub predictions: Vec<Prediction>,
}

#[derive(Debug, Deserialize)]
pub struct Prediction {
    pub embeddings: PredictionEmbeddings,
}

#[derive(Debug, Deserialize)]
pub struct PredictionEmbeddings {
    pub values: Vec<f64>,
    #[serde(default)]
    pub statistics: Option<Statistics>,
}

/// Protobuf `Struct` numbers are doubles, so `token_count` may come as `6.0`.
#[derive(Debug, Deserialize)]
pub struct Statistics {
    #[serde(default)]
    pub token_count: Option<f64>,
}

// ---- Bedrock InvokeModel: Amazon Titan Text Embeddings (one text per call) ----

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TitanRequest<'a> {
    pub input_text: &'a str,
    /// v2 only: 256, 512 or 1024.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalize: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitanResponse {
    pub embedding: Vec<f64>,
    #[serde(default)]
    pub input_text_token_count: Option<u64>,
}

// ---- Bedrock InvokeModel: Cohere Embed (up to 96 texts per call) ----

#[derive(Debug, Serialize)]
pub struct CohereRequest<'a> {
    pub texts: Vec<&'a str>,
    pub input_type: &'static str,
    /// Embed v4 only: 256, 512, 1024 or 1536.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_dimension: Option<u32>,
}

#[derive(Debug, Deserialize)]
pub struct CohereResponse {
    pub embeddings: CohereEmbeddings,
}

/// `embeddings_floats` answers are a list of vectors; `embeddings_by_type` answers
/// (Embed v4, or when `embedding_types` was sent) key them by type.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum CohereEmbeddings {
    Floats(Vec<Vec<f64>>),
    ByType { float: Vec<Vec<f64>> },
}
