//! Which of the client's request headers may reach a provider: an allow-list per
//! provider kind, extended by the operator with `forward_headers`. Everything else the
//! client sent (billing selectors such as `openai-organization` or
//! `x-goog-user-project`, cookies, proxy credentials, SDK telemetry) is removed.

use std::collections::BTreeMap;

use super::cluster::Cluster;
use super::error::{err, ConfigError};
use super::provider::Provider;

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

/// May the client's header `name` (lowercase, as Envoy hands it over) reach `provider`?
/// `per_attempt`: the per-attempt position, where the client's headers were already
/// filtered by the gateway position and `x-envoy-*` are the router's own.
/// `for_kind`: what the provider's kind needs on top (its translator says).
pub fn allowed(provider: &Provider, for_kind: &[&str], name: &str, per_attempt: bool) -> bool {
    name.starts_with(':')
        || EVERY_KIND.contains(&name)
        || for_kind.contains(&name)
        || provider.forward_headers.iter().any(|h| h == name)
        || (per_attempt && name.starts_with("x-envoy-"))
}

/// Headers an operator cannot allow: credentials (the gateway sets the provider's own;
/// each provider's translator checks at compile time that its own are here), and
/// framing or protocol headers the gateway rewrites.
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

/// A header no operator may forward (AWS signs with a family of `x-amz-` headers).
/// `const`: translators check their credential headers against it when compiled.
pub const fn refuses(name: &str) -> bool {
    let name = name.as_bytes();
    starts_with(name, b"x-amz-") || any_equal(name, NEVER)
}

/// Every one of `names` is refused by [`refuses`].
pub const fn refuses_all(names: &[&str]) -> bool {
    match names {
        [] => true,
        [first, rest @ ..] => refuses(first) && refuses_all(rest),
    }
}

const fn any_equal(name: &[u8], list: &[&str]) -> bool {
    match list {
        [] => false,
        [first, rest @ ..] => {
            (name.len() == first.len() && starts_with(name, first.as_bytes()))
                || any_equal(name, rest)
        }
    }
}

const fn starts_with(s: &[u8], prefix: &[u8]) -> bool {
    match (s, prefix) {
        (_, []) => true,
        ([a, s @ ..], [b, prefix @ ..]) => *a == *b && starts_with(s, prefix),
        ([], [_, ..]) => false,
    }
}

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
            if refuses(name) || name == route_header {
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
        p.common.forward_headers = sorted(own);
    }
    for c in clusters.iter_mut() {
        c.wire.common.forward_headers = sorted(every.clone());
    }
    Ok(())
}

fn sorted(mut list: Vec<String>) -> Vec<String> {
    list.sort();
    list.dedup();
    list
}
