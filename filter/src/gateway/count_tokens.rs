//! `POST /v1/messages/count_tokens` in the gateway position. The caller's key, its
//! model allow-list, budgets and request rate limits apply as for messages (a count is
//! one request of 0 tokens: nobody can make unbounded provider calls through it);
//! counting is never charged. Providers that count (Anthropic, Vertex AI, Gemini, Bedrock's
//! Claude models) get the request (`translate::messages::count_tokens`); for the others the gateway answers with its
//! estimate, named as such in a header.

use crate::api::anthropic_server::MessagesRequest;
use crate::config::{Config, Provider, Target};
use crate::error::GatewayError;
use crate::fleet::reserved::Reserved;
use crate::host::Host;
use crate::translate::messages::count_tokens::{self, ESTIMATE_HEADER};

/// The gateway's own answer, sent once the request is admitted.
pub struct Local {
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

/// The answer when the gateway counts itself (the provider does not count tokens);
/// None when the provider counts.
pub fn local(
    cfg: &Config,
    provider: &Provider,
    upstream_model: &str,
    req: &MessagesRequest,
) -> Result<Option<Local>, GatewayError> {
    if count_tokens::counted_upstream(provider, upstream_model) {
        return Ok(None);
    }
    let body = count_tokens::estimate(provider, upstream_model, req, cfg.token_estimator)?;
    let headers = vec![
        ("content-type", "application/json".to_string()),
        (ESTIMATE_HEADER, "estimated".to_string()),
        ("x-llm-provider", provider.name.clone()),
        ("x-llm-model", upstream_model.to_string()),
    ];
    Ok(Some(Local { headers, body }))
}

pub fn send(host: &mut dyn Host, local: &Local) {
    let headers: Vec<(&str, &str)> = local
        .headers
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    host.send_local_response(200, &headers, &local.body);
}

/// Fleet mode: a count the gateway answers itself once the store admits the request.
pub struct Held {
    pub reserved: Reserved,
    pub local: Local,
    pub model: String,
    pub target: Target,
}
