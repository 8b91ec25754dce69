//! `POST /v1/embeddings`: checks every provider shares, and the entry points into the
//! provider's [`Translator`](super::Translator). OpenAI and Azure take the client's body
//! as it is (model rewritten); Gemini, Vertex and Bedrock get their own format
//! (`gemini/embeddings.rs`, `bedrock/embeddings.rs`) and answer an OpenAI list built by
//! `embeddings_out.rs`; kinds without embeddings answer a clear 400 before anything
//! goes upstream (the trait's default).

pub use super::embeddings_out::Shape;
use super::{provider, Answer, Call, ResponseMeta, ResponseOut, UpstreamRequest};
use crate::api::embeddings::{EmbeddingInput, EmbeddingsRequest};
use crate::config::Provider;
use crate::error::GatewayError;

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
    super::chat_checks::named_model(&req.model)?;
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
    provider::of(provider)
        .embeddings_request(&Call::new(provider, upstream_model, raw, now_ms), req)
}

pub fn response(
    provider: &Provider,
    status: u16,
    body: &[u8],
    meta: &ResponseMeta<'_>,
    shape: &Shape,
) -> Result<ResponseOut, GatewayError> {
    let answer = Answer::new(provider, status, body, 0, meta);
    provider::of(provider).embeddings_response(&answer, shape)
}
