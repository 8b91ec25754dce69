//! Which of the client's request headers may reach a provider: an allow-list per
//! provider kind, extended by the operator with `forward_headers`. Everything else the
//! client sent (billing selectors such as `openai-organization` or
//! `x-goog-user-project`, cookies, proxy credentials, SDK telemetry) is removed.

use std::collections::BTreeMap;

use super::cluster::Cluster;
use super::error::{err, ConfigError};
use super::provider::{Provider, ProviderKind};

/// What any provider may see: content negotiation and tracing. Pseudo-headers and the
/// headers the gateway writes itself (credentials, `content-length`, …) are not listed:
/// they are always kept or replaced.
const EVERY_KIND: &[&str] = &[
    "accept",
    "content-type",
    "user-agent",
    "x-request-id",
    "traceparent",
    "tracestate",
    "x-forwarded-proto",
    "transfer-encoding",
];

/// What one kind needs on top.
fn for_kind(kind: &ProviderKind) -> &'static [&'static str] {
    match kind {
        ProviderKind::Azure(_) => &["x-ms-client-request-id"],
        // anthropic-beta stays out by default: beta features can be billed differently
        // from what the gateway prices (the operator may allow it).
        ProviderKind::OpenAi
        | ProviderKind::Anthropic(_)
        | ProviderKind::Gemini
        | ProviderKind::Vertex(_)
        | ProviderKind::VertexAnthropic(_)
        | ProviderKind::Bedrock(_) => &[],
    }
}

/// May the client's header `name` (lowercase, as Envoy hands it over) reach `provider`?
/// `per_attempt`: the per-attempt position, where the client's headers were already
/// filtered by the gateway position and `x-envoy-*` are the router's own.
pub fn allowed(provider: &Provider, name: &str, per_attempt: bool) -> bool {
    name.starts_with(':')
        || EVERY_KIND.contains(&name)
        || for_kind(&provider.kind).contains(&name)
        || provider.forward_headers.iter().any(|h| h == name)
        || (per_attempt && name.starts_with("x-envoy-"))
}

/// Headers an operator cannot allow: credentials (the gateway sets the provider's own),
/// and framing or protocol headers the gateway rewrites.
const NEVER: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "cookie",
    "host",
    "content-length",
    "content-encoding",
    "accept-encoding",
    "anthropic-version",
];

/// `forward_headers`: provider name (or `*` for every provider) → header names.
pub type RawForward = BTreeMap<String, Vec<String>>;

/// Check the document and give each provider its extra names (its own and `*`'s). A
/// failover cluster stands in for several providers: it gets every name allowed for any
/// of them, and the per-attempt filter behind it applies each provider's own list.
pub fn apply(
    raw: Option<RawForward>,
    providers: &mut [Provider],
    clusters: &mut [Cluster],
    route_header: &str,
) -> Result<(), ConfigError> {
    let Some(raw) = raw else {
        return Ok(());
    };
    for (key, names) in &raw {
        if key != "*" && !providers.iter().any(|p| &p.name == key) {
            return err(
                format!("forward_headers.{key}"),
                "must be the name of a provider, or * for every provider",
            );
        }
        for name in names {
            let valid = !name.is_empty()
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !valid {
                return err(
                    format!("forward_headers.{key}"),
                    format!("{name:?} is not a lowercase header name ([a-z0-9_-])"),
                );
            }
            if NEVER.contains(&name.as_str()) || name.starts_with("x-amz-") || name == route_header
            {
                return err(
                    format!("forward_headers.{key}"),
                    format!("{name} carries credentials or framing the gateway sets itself; it cannot be forwarded"),
                );
            }
        }
    }
    let every: Vec<String> = raw.values().flatten().cloned().collect();
    let all = raw.get("*").cloned().unwrap_or_default();
    for p in providers.iter_mut() {
        let mut own = raw.get(&p.name).cloned().unwrap_or_default();
        own.extend(all.iter().cloned());
        p.forward_headers = sorted(own);
    }
    for c in clusters.iter_mut() {
        c.wire.forward_headers = sorted(every.clone());
    }
    Ok(())
}

fn sorted(mut list: Vec<String>) -> Vec<String> {
    list.sort();
    list.dedup();
    list
}
