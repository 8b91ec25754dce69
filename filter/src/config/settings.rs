//! The document's top-level settings: request size, the routing header, usage batching
//! and the token estimator.

use serde::Deserialize;

use super::error::{err, ConfigError};

pub const DEFAULT_MAX_BODY: usize = 8 * 1024 * 1024;
pub const DEFAULT_ROUTE_HEADER: &str = "x-llm-cluster";
const MAX_USAGE_FLUSH_MS: u64 = 60_000;

/// How request tokens are estimated before the provider counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenEstimator {
    Cheap,
    Tiktoken,
}

pub(super) fn max_body_bytes(raw: Option<usize>) -> Result<usize, ConfigError> {
    let max_body_bytes = raw.unwrap_or(DEFAULT_MAX_BODY);
    if max_body_bytes == 0 {
        return err("max_body_bytes", "must be greater than 0");
    }
    Ok(max_body_bytes)
}

pub(super) fn route_header(raw: Option<String>) -> Result<String, ConfigError> {
    let route_header = raw.unwrap_or_else(|| DEFAULT_ROUTE_HEADER.to_string());
    if route_header.is_empty()
        || !route_header
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return err(
            "route_header",
            "must be a non-empty lowercase header name ([a-z0-9_-])",
        );
    }
    Ok(route_header)
}

pub(super) fn usage_flush_ms(raw: Option<u64>) -> Result<u64, ConfigError> {
    let usage_flush_ms = raw.unwrap_or(0);
    if usage_flush_ms > MAX_USAGE_FLUSH_MS {
        return err(
            "usage_flush_ms",
            "must be at most 60000 (counts wait this long in a worker before anyone sees them)",
        );
    }
    Ok(usage_flush_ms)
}

pub(super) fn token_estimator(raw: Option<TokenEstimator>) -> Result<TokenEstimator, ConfigError> {
    let token_estimator = raw.unwrap_or(TokenEstimator::Cheap);
    if token_estimator == TokenEstimator::Tiktoken && !cfg!(feature = "tiktoken") {
        return err(
            "token_estimator",
            "this .wasm was built without tiktoken: use llm_gateway_tiktoken.wasm (./build.sh build makes both)",
        );
    }
    Ok(token_estimator)
}
