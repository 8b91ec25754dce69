//! `POST /v1/messages/count_tokens` (the `anthropic` SDK's `messages.count_tokens`): the
//! Messages body without `max_tokens`, answered `{"input_tokens": n}`.
//!
//! * An Anthropic provider counts: the body goes to its `/v1/messages/count_tokens` as
//!   a message would go to `/v1/messages` (see `passthrough`), the answer comes back as
//!   it is. Counting is free: nothing is charged. Claude on Vertex AI counts the same
//!   body at `count-tokens:rawPredict` (see `vertex`).
//! * Gemini, Vertex Gemini and Bedrock (Claude models) count the prompt in their own
//!   format ([`count_upstream`]); the count comes back in Anthropic's shape.
//! * Every other provider has no counting endpoint: the gateway estimates
//!   the prompt of the chat request the message would become, and says so in the
//!   [`ESTIMATE_HEADER`] response header.

use serde::{Deserialize, Serialize};

use super::{count_upstream, to_openai};
use crate::api::anthropic_server::MessagesRequest;
use crate::config::{Provider, TokenEstimator};
use crate::error::GatewayError;
use crate::translate::{ResponseMeta, ResponseOut, UpstreamRequest};
use crate::usage::{estimate, TokenUsage};

/// Names how the count was made: `estimated` when the gateway made it.
pub const ESTIMATE_HEADER: &str = "x-llm-gateway-token-count";

pub fn parse(raw: &[u8]) -> Result<MessagesRequest, GatewayError> {
    let mut req = super::checks::checked(raw, false)?;
    req.count_only = true;
    // Counting answers JSON, whatever the body says.
    req.stream = None;
    Ok(req)
}

/// Whether `provider` counts tokens itself (else [`estimate`]).
pub fn counted_upstream(provider: &Provider, upstream_model: &str) -> bool {
    crate::translate::provider::of(provider)
        .messages_native()
        .is_some()
        || count_upstream::counts(provider, upstream_model)
}

pub fn request(
    provider: &Provider,
    upstream_model: &str,
    req: &MessagesRequest,
    raw: &[u8],
    now_ms: u64,
) -> Result<UpstreamRequest, GatewayError> {
    match crate::translate::provider::of(provider).messages_native() {
        Some(native) => super::passthrough::request(provider, native, upstream_model, req, raw),
        None => count_upstream::request(provider, upstream_model, req, now_ms),
    }
}

#[derive(Serialize, Deserialize)]
struct Count {
    input_tokens: u64,
}

/// Anthropic's count passes through (checked to be one), errors as for messages;
/// another provider's count is written as Anthropic's.
pub fn response(
    provider: &Provider,
    status: u16,
    body: &[u8],
    meta: &ResponseMeta<'_>,
) -> Result<ResponseOut, GatewayError> {
    let free = TokenUsage {
        prompt: Some(0),
        completion: Some(0),
        ..TokenUsage::default()
    };
    if crate::translate::provider::of(provider)
        .messages_native()
        .is_none()
    {
        let input_tokens = count_upstream::count(provider, status, body, meta)?;
        let body = serde_json::to_vec(&Count { input_tokens })
            .map_err(|e| GatewayError::internal(format!("serialise: {e}")))?;
        return Ok(ResponseOut {
            finish_reasons: Default::default(),
            body: Some(body),
            usage: free,
        });
    }
    if !(200..300).contains(&status) {
        return super::passthrough::response(status, body);
    }
    serde_json::from_slice::<Count>(body)
        .map_err(|_| GatewayError::bad_gateway("upstream returned a malformed token count"))?;
    Ok(ResponseOut {
        finish_reasons: Default::default(),
        body: None,
        usage: free,
    })
}

/// The gateway's estimate, as the answer's body.
pub fn estimate(
    provider: &Provider,
    upstream_model: &str,
    req: &MessagesRequest,
    estimator: TokenEstimator,
) -> Result<Vec<u8>, GatewayError> {
    let chat = to_openai::build(provider, upstream_model, req)?.chat;
    let input_tokens = estimate::prompt_tokens(&chat, estimator);
    serde_json::to_vec(&Count { input_tokens })
        .map_err(|e| GatewayError::internal(format!("serialise: {e}")))
}
