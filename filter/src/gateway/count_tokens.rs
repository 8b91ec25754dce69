//! `POST /v1/messages/count_tokens` in the gateway position. The caller's key and its
//! model allow-list apply as for messages; counting is neither charged nor counted
//! against rate limits or budgets (Anthropic does not bill it either). Providers that
//! count (Anthropic, Vertex AI, Gemini, Bedrock's Claude models) get the request (`translate::messages::count_tokens`); for the
//! others the gateway answers at once with its estimate, named as such in a header.

use super::access::refusal;
use crate::api::anthropic_server::MessagesRequest;
use crate::config::{Config, Provider};
use crate::error::GatewayError;
use crate::host::Host;
use crate::translate::messages::count_tokens::{self, ESTIMATE_HEADER};

/// The model allow-list of the caller's key (`caller`: its index, `None` when the
/// gateway has no keys).
pub fn allowed(
    cfg: &Config,
    caller: Option<usize>,
    host: &mut dyn Host,
    model: &str,
) -> Result<(), GatewayError> {
    let key = cfg
        .access
        .as_ref()
        .and_then(|a| caller.and_then(|i| a.key(i)));
    match key.and_then(|k| k.models.as_ref().map(|m| (k, m))) {
        Some((k, models)) if !models.iter().any(|m| m == model) => {
            refusal(host, "model_not_allowed", Some(&k.name));
            Err(GatewayError::model_not_allowed(model))
        }
        _ => Ok(()),
    }
}

/// `true` when the gateway answered (the provider does not count tokens itself).
pub fn answer_locally(
    cfg: &Config,
    host: &mut dyn Host,
    provider: &Provider,
    upstream_model: &str,
    req: &MessagesRequest,
) -> Result<bool, GatewayError> {
    if count_tokens::counted_upstream(provider, upstream_model) {
        return Ok(false);
    }
    let body = count_tokens::estimate(provider, upstream_model, req, cfg.token_estimator)?;
    let headers = [
        ("content-type", "application/json"),
        (ESTIMATE_HEADER, "estimated"),
        ("x-llm-provider", provider.name.as_str()),
        ("x-llm-model", upstream_model),
    ];
    host.send_local_response(200, &headers, &body);
    Ok(true)
}
