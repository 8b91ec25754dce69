//! OpenAI and OpenAI-compatible upstreams: the body goes through byte for byte except
//! `model` (and `stream_options`, so that every stream reports usage).

#[cfg(test)]
mod cases;
pub mod embeddings;
mod translator;

use crate::api::openai::{ChatRequest, UsageProbe};
use crate::codec::json_splice::{find_top_level, insert_first, splice};
use crate::config::ProviderCommon;
use crate::error::GatewayError;
use crate::translate::finish::FinishReasons;
use crate::translate::request_parts::concat;
use crate::translate::{errors, ResponseOut, UpstreamRequest};
use crate::usage::TokenUsage;

pub mod settings;
pub mod stream;

const INCLUDE_USAGE: &[u8] = br#"{"include_usage":true}"#;

pub fn request(
    provider: &ProviderCommon,
    upstream_model: &str,
    req: &ChatRequest,
    raw: &[u8],
) -> Result<UpstreamRequest, GatewayError> {
    Ok(UpstreamRequest {
        path: concat(&provider.base_path, "/chat/completions"),
        headers: headers(provider),
        body: chat_body(upstream_model, req, raw)?,
    })
}

pub fn headers(provider: &ProviderCommon) -> Vec<(&'static str, String)> {
    match &provider.api_key {
        Some(key) => vec![("authorization", concat("Bearer ", key.expose()))],
        None => Vec::new(),
    }
}

/// The client's chat body with `model` swapped and usage asked for (`None`: unchanged).
pub fn chat_body(
    upstream_model: &str,
    req: &ChatRequest,
    raw: &[u8],
) -> Result<Option<Vec<u8>>, GatewayError> {
    let mut body = rewrite_model(raw, &req.model, upstream_model)?;
    // Ask for the usage chunk even when the client did not, so streams are accounted;
    // the stream mapper hides that chunk from such clients.
    if req.is_stream() && !req.wants_usage_chunk() {
        let current = body.as_deref().unwrap_or(raw);
        let updated = match find_top_level(current, "stream_options") {
            Some(range) => Some(splice(current, range, INCLUDE_USAGE)),
            None => insert_first(current, "stream_options", INCLUDE_USAGE),
        };
        body = Some(updated.ok_or_else(|| GatewayError::internal("could not set stream_options"))?);
    }
    Ok(body)
}

/// `raw` with its top-level `model` replaced, or `None` when it already names `upstream`.
pub fn rewrite_model(
    raw: &[u8],
    client_model: &str,
    upstream: &str,
) -> Result<Option<Vec<u8>>, GatewayError> {
    if client_model == upstream {
        return Ok(None);
    }
    let quoted = serde_json::to_vec(upstream)
        .map_err(|e| GatewayError::internal(format!("model name: {e}")))?;
    let range = find_top_level(raw, "model")
        .ok_or_else(|| GatewayError::internal("request body lost its model field"))?;
    Ok(Some(splice(raw, range, &quoted)))
}

pub fn response(status: u16, body: &[u8]) -> Result<ResponseOut, GatewayError> {
    if (200..300).contains(&status) {
        let probe: UsageProbe = serde_json::from_slice(body).map_err(|_| {
            GatewayError::bad_gateway("upstream returned a malformed chat completion")
        })?;
        if probe.choices.is_none() {
            return Err(GatewayError::bad_gateway(
                "upstream returned a chat completion without choices",
            ));
        }
        let reasons = probe.choices.iter().flatten();
        return Ok(ResponseOut {
            body: None,
            finish_reasons: FinishReasons::of(reasons.map(|c| c.finish_reason.as_deref())),
            usage: probe
                .usage
                .as_ref()
                .map(TokenUsage::from_openai)
                .unwrap_or_default(),
        });
    }
    Err(error(status, body))
}

pub fn error(status: u16, body: &[u8]) -> GatewayError {
    errors::from_error_object(status, body)
}
