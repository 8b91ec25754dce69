//! `POST /v1/messages/count_tokens` in the gateway position. The caller's key and its
//! model allow-list apply as for messages (`access::check_models`); counting is neither
//! charged nor counted against rate limits or budgets (Anthropic does not bill it either). Providers that
//! count (Anthropic) get the request (`translate::messages::count_tokens`); for the
//! others the gateway answers at once with its estimate, named as such in a header.

use crate::api::anthropic_server::MessagesRequest;
use crate::config::{Config, Provider};
use crate::error::GatewayError;
use crate::host::Host;
use crate::translate::messages::count_tokens::{self, ESTIMATE_HEADER};

/// `true` when the gateway answered (the provider does not count tokens itself).
pub fn answer_locally(
    cfg: &Config,
    host: &mut dyn Host,
    provider: &Provider,
    upstream_model: &str,
    req: &MessagesRequest,
) -> Result<bool, GatewayError> {
    if count_tokens::counted_upstream(provider) {
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
