//! `POST /v1/messages/count_tokens` (the `anthropic` SDK's `messages.count_tokens`): the
//! Messages body without `max_tokens`, answered `{"input_tokens": n}`.
//!
//! * An Anthropic provider counts: the body goes to its `/v1/messages/count_tokens` as
//!   a message would go to `/v1/messages` (see `passthrough`), the answer comes back as
//!   it is. Counting is free: nothing is charged.
//! * Every other provider has no such endpoint for this body: the gateway estimates
//!   the prompt of the chat request the message would become, and says so in the
//!   [`ESTIMATE_HEADER`] response header.

use serde::{Deserialize, Serialize};

use super::to_openai;
use crate::api::anthropic_server::MessagesRequest;
use crate::config::{Provider, TokenEstimator};
use crate::error::GatewayError;
use crate::translate::{ResponseOut, UpstreamRequest};
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
pub fn counted_upstream(provider: &Provider) -> bool {
    crate::translate::provider::of(provider)
        .messages_native()
        .is_some()
}

pub fn request(
    provider: &Provider,
    upstream_model: &str,
    req: &MessagesRequest,
    raw: &[u8],
) -> Result<UpstreamRequest, GatewayError> {
    match crate::translate::provider::of(provider).messages_native() {
        Some(settings) => super::passthrough::request(provider, settings, upstream_model, req, raw),
        None => Err(GatewayError::internal(
            "token counting is estimated for this provider",
        )),
    }
}

#[derive(Serialize, Deserialize)]
struct Count {
    input_tokens: u64,
}

/// The provider's count passes through (checked to be one); errors as for messages.
pub fn response(status: u16, body: &[u8]) -> Result<ResponseOut, GatewayError> {
    if !(200..300).contains(&status) {
        return super::passthrough::response(status, body);
    }
    serde_json::from_slice::<Count>(body)
        .map_err(|_| GatewayError::bad_gateway("upstream returned a malformed token count"))?;
    Ok(ResponseOut {
        finish_reasons: Default::default(),
        body: None,
        usage: TokenUsage {
            prompt: Some(0),
            completion: Some(0),
            ..TokenUsage::default()
        },
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
