//! `POST /v1/embeddings`: one dispatch per provider kind. OpenAI and Azure take the
//! client's body as it is (model rewritten); kinds without an embeddings translator
//! answer a clear 400 before anything goes upstream.

use super::{azure, openai, ResponseOut, UpstreamRequest};
use crate::api::embeddings::{EmbeddingsProbe, EmbeddingsRequest};
use crate::config::{Provider, ProviderKind};
use crate::error::GatewayError;
use crate::usage::TokenUsage;

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
) -> Result<UpstreamRequest, GatewayError> {
    let body = openai::rewrite_model(raw, &req.model, upstream_model)?;
    match &provider.kind {
        ProviderKind::OpenAi => Ok(UpstreamRequest {
            path: format!("{}/embeddings", provider.base_path),
            headers: openai::headers(provider),
            body,
        }),
        ProviderKind::Azure(settings) => Ok(UpstreamRequest {
            path: azure::path(provider, settings, upstream_model, "embeddings")?,
            headers: azure::headers(provider, settings),
            body,
        }),
        ProviderKind::Anthropic(_) => Err(unsupported(provider, "anthropic")),
        // Gemini's batchEmbedContents and Vertex's predict are not wired up yet.
        ProviderKind::Gemini => Err(unsupported(provider, "gemini")),
        ProviderKind::Vertex(_) => Err(unsupported(provider, "vertex")),
        ProviderKind::VertexAnthropic(_) => Err(unsupported(provider, "vertex_anthropic")),
        // Titan/Cohere embeddings through InvokeModel are not wired up yet.
        ProviderKind::Bedrock(_) => Err(unsupported(provider, "bedrock")),
    }
}

pub fn response(
    provider: &Provider,
    status: u16,
    body: &[u8],
) -> Result<ResponseOut, GatewayError> {
    match &provider.kind {
        ProviderKind::OpenAi | ProviderKind::Azure(_) => openai_response(status, body),
        ProviderKind::Anthropic(_) => Err(unsupported(provider, "anthropic")),
        ProviderKind::Gemini => Err(unsupported(provider, "gemini")),
        ProviderKind::Vertex(_) => Err(unsupported(provider, "vertex")),
        ProviderKind::VertexAnthropic(_) => Err(unsupported(provider, "vertex_anthropic")),
        ProviderKind::Bedrock(_) => Err(unsupported(provider, "bedrock")),
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
