//! What the gateway reports about requests besides usage: the GenAI operation of an
//! endpoint, refusals (every error the gateway answers itself, by endpoint, reason and
//! status) and the series that must exist, at zero, from the start.

use super::inbound::Endpoint;
use crate::config::Config;
use crate::error::{GatewayError, Origin};
use crate::host::Host;
use crate::telemetry::semconv;
use crate::usage::metrics::{self, Labels};

/// `gen_ai.operation.name` of an endpoint.
pub fn operation(e: Endpoint) -> &'static str {
    match e {
        Endpoint::Chat | Endpoint::Messages | Endpoint::Responses => "chat",
        Endpoint::Embeddings => "embeddings",
        // Not a GenAI operation of the conventions: its own value, never mixed with chat.
        Endpoint::CountTokens => "count_tokens",
    }
}

/// The endpoint a client asked for, as a label: its path when the gateway serves it,
/// `other` for anything else (a client-chosen path must not become a series).
pub fn endpoint_label(path: &str) -> &'static str {
    const KNOWN: [&str; 7] = [
        "/v1/chat/completions",
        "/v1/embeddings",
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/responses",
        "/v1/models",
        "/v1/usage",
    ];
    if let Some(k) = KNOWN.iter().find(|k| path == **k) {
        return k;
    }
    if path.starts_with("/v1/messages/") {
        return "/v1/messages";
    }
    if path.starts_with("/v1/responses/") {
        return "/v1/responses";
    }
    if path.starts_with("/v1/models/") {
        return "/v1/models";
    }
    if path.starts_with("/llm/") {
        return "/llm";
    }
    "other"
}

fn reason(e: &GatewayError) -> &'static str {
    e.code.unwrap_or(e.kind)
}

/// A reply the gateway made itself instead of calling a provider.
pub fn refusal(host: &mut dyn Host, endpoint: &'static str, e: &GatewayError) {
    if e.origin == Origin::Upstream {
        return; // a provider's answer: counted with the request's errors
    }
    let mut status = String::with_capacity(3);
    crate::strs::push_u64(&mut status, u64::from(e.status));
    host.counter_add(&metrics::refusal_name(endpoint, reason(e), &status), 1);
}

/// The refusals every gateway can make, per endpoint (defined at zero).
const REFUSALS: [(&str, u16); 8] = [
    ("invalid_request_error", 400),
    ("invalid_api_key", 401),
    ("model_not_allowed", 403),
    ("model_not_found", 404),
    ("request_too_large", 413),
    ("rate_limit_exceeded", 429),
    ("budget_exceeded", 429),
    ("api_error", 500),
];

/// Define the error and refusal series at zero (at configuration), so that rates and
/// alerts over them work before the first error.
pub fn create_series(cfg: &Config, host: &mut dyn Host) {
    for endpoint in ["/v1/chat/completions", "/v1/embeddings", "/v1/messages"] {
        for (reason, status) in REFUSALS {
            let mut s = String::new();
            crate::strs::push_u64(&mut s, u64::from(status));
            host.counter_add(&metrics::refusal_name(endpoint, reason, &s), 0);
        }
    }
    host.counter_add(&metrics::refusal_name("other", "unknown_url", "404"), 0);
    if cfg.traces.is_some() {
        host.counter_add(metrics::SPANS_DROPPED, 0);
    }
    for (model, route) in &cfg.models {
        for t in &route.targets {
            let Some(p) = cfg.provider(t.provider) else {
                continue;
            };
            for operation in ["chat", "embeddings"] {
                let labels = Labels {
                    operation,
                    provider: semconv::provider_name(p),
                    llm_provider: &p.name,
                    request_model: model,
                    response_model: &t.model,
                    key: "",
                };
                for kind in metrics::ERROR_TYPES {
                    host.counter_add(&metrics::error_name(&labels, kind), 0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_labelled_without_client_text() {
        assert_eq!(
            endpoint_label("/v1/chat/completions"),
            "/v1/chat/completions"
        );
        assert_eq!(
            endpoint_label("/v1/messages/count_tokens"),
            "/v1/messages/count_tokens"
        );
        assert_eq!(endpoint_label("/v1/messages/batches"), "/v1/messages");
        assert_eq!(endpoint_label("/v1/responses/resp_1"), "/v1/responses");
        assert_eq!(endpoint_label("/v1/models/gpt-4.1"), "/v1/models");
        assert_eq!(endpoint_label("/v1/anything/else"), "other");
        assert_eq!(endpoint_label("/llm/dashboard"), "/llm");
    }

    #[test]
    fn refusals_count_by_endpoint_reason_and_status_but_not_upstream_errors() {
        let mut h = crate::host::FakeHost::default();
        refusal(&mut h, "/v1/embeddings", &GatewayError::unknown_model("x"));
        refusal(
            &mut h,
            "/v1/embeddings",
            &GatewayError::upstream(502, "api_error", "x"),
        );
        assert_eq!(
            h.counters,
            [(
                "llmgw.refusals_total.llm_endpoint./v1/embeddings.reason.model_not_found\
                 .http_response_status_code.404"
                    .to_string(),
                1
            )]
            .into()
        );
    }
}
