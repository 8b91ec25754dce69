//! Vertex AI: Gemini (`publishers/google`, the Gemini body) and Anthropic models
//! (`publishers/anthropic`, `rawPredict`: the Messages body without `model`, with
//! `anthropic_version`). Both authenticate with `Authorization: Bearer <token>`.

#[cfg(test)]
mod cases;
pub mod settings;
mod translator;

use crate::api::openai::ChatRequest;
use crate::config::ProviderCommon;
use crate::error::GatewayError;
use crate::translate::anthropic::wire as an;
use crate::translate::anthropic::{self, BodyOptions};
use crate::translate::{gemini, gemini::response as gemini_response, ResponseOut, UpstreamRequest};
use settings::{VertexAnthropicSettings, VertexSettings};

pub fn publisher_prefix(provider: &ProviderCommon, v: &VertexSettings, publisher: &str) -> String {
    format!(
        "{}/projects/{}/locations/{}/publishers/{publisher}/models",
        provider.base_path, v.project, v.location
    )
}

pub fn bearer(provider: &ProviderCommon) -> Vec<(&'static str, String)> {
    provider
        .api_key
        .iter()
        .map(|k| ("authorization", format!("Bearer {}", k.expose())))
        .collect()
}

pub fn gemini_request(
    provider: &ProviderCommon,
    v: &VertexSettings,
    upstream_model: &str,
    req: &ChatRequest,
) -> Result<UpstreamRequest, GatewayError> {
    let prefix = publisher_prefix(provider, v, "google");
    Ok(UpstreamRequest {
        path: gemini::method_path(&prefix, upstream_model, req.is_stream())?,
        headers: bearer(provider),
        body: Some(gemini::build(upstream_model, req)?),
    })
}

pub fn anthropic_request(
    provider: &ProviderCommon,
    s: &VertexAnthropicSettings,
    upstream_model: &str,
    req: &ChatRequest,
) -> Result<UpstreamRequest, GatewayError> {
    let model = gemini::path_model(upstream_model)?;
    let method = if req.is_stream() {
        "streamRawPredict"
    } else {
        "rawPredict"
    };
    let body = anthropic::build_body(
        &BodyOptions {
            model: None,
            anthropic_version: Some(&s.version),
            default_max_tokens: s.default_max_tokens,
        },
        req,
    )?;
    Ok(UpstreamRequest {
        path: format!(
            "{}/{model}:{method}",
            publisher_prefix(provider, &s.vertex, "anthropic")
        ),
        headers: bearer(provider),
        body: Some(body),
    })
}

pub fn anthropic_response(
    status: u16,
    body: &[u8],
    created: u64,
) -> Result<ResponseOut, GatewayError> {
    if !(200..300).contains(&status) {
        return Err(anthropic_error(status, body));
    }
    anthropic::response(status, body, created)
}

/// Errors come from Vertex itself (Google shape: quota, auth, unknown model) or from
/// the model (Anthropic shape: `{"type":"error","error":{"type",…}}`).
fn anthropic_error(status: u16, body: &[u8]) -> GatewayError {
    match serde_json::from_slice::<an::ErrorEnvelope>(body) {
        Ok(env) if env.error.kind.is_some() => anthropic::error(status, body),
        _ => gemini_response::error(status, body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_in_both_shapes() {
        let e = anthropic_error(
            429,
            br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#,
        );
        assert_eq!((e.status, e.kind), (429, "rate_limit_error"));
        let e = anthropic_error(
            529,
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert_eq!((e.status, e.kind), (503, "overloaded_error"));
    }
}
