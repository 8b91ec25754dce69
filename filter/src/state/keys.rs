//! Every shared-data key, so that none can collide with another by accident.

use crate::strs::concat;

/// A target's health (`health::HealthState`).
pub fn health(provider: &str, model: &str) -> String {
    concat(&["llm:health:", provider, "|", model])
}

/// Moving average of time to first byte (µs) per target, for `lowest_latency`.
pub fn latency(provider: &str, model: &str) -> String {
    concat(&["llm:latency:", provider, "|", model])
}

/// Usage ledger row per requested model and target that served it.
pub fn usage(model: &str, provider: &str, upstream_model: &str) -> String {
    concat(&["llm:usage:", model, "|", provider, "|", upstream_model])
}

/// Totals of one key, team or model for one day or month.
pub fn period(period: &str, scope: &str, name: &str) -> String {
    concat(&["llm:period:", period, ":", scope, ":", name])
}

/// Rate-limit window of a virtual key.
pub fn key_rate(key: &str) -> String {
    concat(&["llm:rate:key:", key])
}

/// Rate-limit window of a model limit.
pub fn model_rate(limit: &str) -> String {
    concat(&["llm:rate:model:", limit])
}
