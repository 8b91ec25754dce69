//! `POST /v1/embeddings`: one dispatch per provider kind. OpenAI and Azure take the
//! client's body as it is (model rewritten); Gemini, Vertex and Bedrock get their own
//! format (`gemini/embeddings.rs`, `bedrock/embeddings.rs`) and answer an OpenAI list
//! built by `embeddings_out.rs`; kinds without embeddings answer a clear 400 before
//! anything goes upstream.

use super::{azure, bedrock, gemini, openai, ResponseMeta, ResponseOut, UpstreamRequest};
use crate::api::embeddings::{EmbeddingInput, EmbeddingsProbe, EmbeddingsRequest};
use crate::config::{Provider, ProviderKind};
use crate::error::GatewayError;
use crate::usage::{estimate, TokenUsage};

/// What translating the answer needs to know about the request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// `encoding_format: "base64"`: vectors as base64 of little-endian f32.
    pub base64: bool,
    /// Number of inputs: the answer must carry as many vectors.
    pub inputs: usize,
    /// Estimated input tokens, reported when the provider reports none.
    pub estimate: u64,
}

impl Shape {
    pub fn of(req: &EmbeddingsRequest) -> Shape {
        Shape {
            base64: req.encoding_format.as_deref() == Some("base64"),
            inputs: req.input.len(),
            estimate: estimate::embedding_tokens(req),
        }
    }
}

/// The inputs as text, for providers that embed text only (no token ids).
pub fn texts<'a>(req: &'a EmbeddingsRequest, kind: &str) -> Result<Vec<&'a str>, GatewayError> {
    match &req.input {
        EmbeddingInput::Text(s) => Ok(vec![s.as_str()]),
        EmbeddingInput::Texts(v) => Ok(v.iter().map(String::as_str).collect()),
        EmbeddingInput::Tokens(_) | EmbeddingInput::TokenLists(_) => Err(GatewayError::bad_field(
            "input",
            format!("this model's provider ({kind}) embeds text only: send strings, not token ids"),
        )),
    }
}

/// Check what every provider needs, before routing.
pub fn validate(req: &EmbeddingsRequest) -> Result<(), GatewayError> {
    if req.model.is_empty() {
        return Err(GatewayError::bad_field("model", "model must not be empty"));
    }
    if req.input.is_empty() {
        return Err(GatewayError::bad_field(
            "input",
            "input must not be an empty array",
        ));
    }
    if req.input.has_empty_item() {
        return Err(GatewayError::bad_field(
            "input",
            "input must not contain empty strings or empty token arrays",
        ));
    }
    if let Some(f) = req.encoding_format.as_deref() {
        if f != "float" && f != "base64" {
            return Err(GatewayError::bad_field(
                "encoding_format",
                "encoding_format must be \"float\" or \"base64\"",
            ));
        }
    }
    if req.dimensions == Some(0) {
        return Err(GatewayError::bad_field(
            "dimensions",
            "dimensions must be at least 1",
        ));
    }
    Ok(())
}

pub fn request(
    provider: &Provider,
    upstream_model: &str,
    req: &EmbeddingsRequest,
    raw: &[u8],
    now_ms: u64,
) -> Result<UpstreamRequest, GatewayError> {
    match &provider.kind {
        ProviderKind::OpenAi => Ok(UpstreamRequest {
            path: format!("{}/embeddings", provider.base_path),
            headers: openai::headers(provider),
            body: openai::rewrite_model(raw, &req.model, upstream_model)?,
        }),
        ProviderKind::Azure(settings) => Ok(UpstreamRequest {
            path: azure::path(provider, settings, upstream_model, "embeddings")?,
            headers: azure::headers(provider, settings),
            body: openai::rewrite_model(raw, &req.model, upstream_model)?,
        }),
        ProviderKind::Anthropic(_) => Err(unsupported(provider, "anthropic")),
        ProviderKind::Gemini => gemini::embeddings::gemini_request(provider, upstream_model, req),
        ProviderKind::Vertex(v) => {
            gemini::embeddings::vertex_request(provider, v, upstream_model, req)
        }
        ProviderKind::VertexAnthropic(_) => Err(unsupported(provider, "vertex_anthropic")),
        ProviderKind::Bedrock(settings) => {
            bedrock::embeddings::request(provider, settings, upstream_model, req, now_ms)
        }
    }
}

pub fn response(
    provider: &Provider,
    status: u16,
    body: &[u8],
    meta: &ResponseMeta<'_>,
    shape: &Shape,
) -> Result<ResponseOut, GatewayError> {
    match &provider.kind {
        ProviderKind::OpenAi | ProviderKind::Azure(_) => openai_response(status, body),
        ProviderKind::Anthropic(_) => Err(unsupported(provider, "anthropic")),
        ProviderKind::Gemini => gemini::embeddings::gemini_response(status, body, meta, shape),
        ProviderKind::Vertex(_) => gemini::embeddings::vertex_response(status, body, meta, shape),
        ProviderKind::VertexAnthropic(_) => Err(unsupported(provider, "vertex_anthropic")),
        ProviderKind::Bedrock(_) => bedrock::embeddings::response(status, body, meta, shape),
    }
}

/// OpenAI-format answers pass through; only usage is read.
fn openai_response(status: u16, body: &[u8]) -> Result<ResponseOut, GatewayError> {
    if !(200..300).contains(&status) {
        return Err(openai::error(status, body));
    }
    let probe: EmbeddingsProbe = serde_json::from_slice(body)
        .map_err(|_| GatewayError::bad_gateway("upstream returned a malformed embeddings list"))?;
    let prompt = probe.usage.and_then(|u| u.prompt_tokens.or(u.total_tokens));
    Ok(ResponseOut {
        body: None,
        usage: TokenUsage {
            prompt,
            // Embeddings produce no completion tokens; zero is the reported truth.
            completion: prompt.map(|_| 0),
            cached_prompt: None,
        },
    })
}

fn unsupported(provider: &Provider, kind: &str) -> GatewayError {
    GatewayError::bad_field(
        "model",
        format!(
            "provider {:?} ({kind}) does not serve embeddings through this gateway",
            provider.name
        ),
    )
}
