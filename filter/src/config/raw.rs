//! The configuration document exactly as users write it. Unknown fields are errors,
//! so a typo never silently turns a setting off.

use serde::Deserialize;

use super::error::ConfigError;
use super::settings::TokenEstimator;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `gateway` (default): an HTTP filter before the router. `upstream`: the per-attempt
    /// filter in a cluster's `http_filters`, translating for the endpoint Envoy picked.
    #[serde(default)]
    pub role: Option<Role>,
    /// `cheap` (default) or `tiktoken` (needs the tiktoken build of the filter).
    #[serde(default)]
    pub token_estimator: Option<TokenEstimator>,
    pub providers: Vec<super::raw_provider::RawProvider>,
    #[serde(default)]
    pub models: Vec<RawModel>,
    /// Accept `provider/model` names that are not listed under `models`.
    #[serde(default)]
    pub allow_provider_model: bool,
    #[serde(default)]
    pub max_body_bytes: Option<usize>,
    #[serde(default)]
    pub route_header: Option<String>,
    #[serde(default)]
    pub health: Option<RawHealth>,
    /// Virtual keys, mesh identities and teams; absent = no authentication.
    #[serde(default)]
    pub access: Option<super::access::RawAccess>,
    /// USD per million tokens, by upstream model.
    #[serde(default)]
    pub prices: Vec<super::pricing::RawPrice>,
    /// Refuse (400) request fields the chosen provider cannot honour instead of
    /// dropping them with a log line.
    #[serde(default)]
    pub strict: bool,
    /// Send every client the `x-llm-decision` response header (admin keys always get it).
    #[serde(default)]
    pub decision_header: bool,
    /// OpenTelemetry spans of every LLM call, exported with OTLP/HTTP.
    #[serde(default)]
    pub traces: Option<super::traces::RawTraces>,
    /// Batch the usage ledger and counters per worker and write them every this many
    /// ms (0: on every request).
    #[serde(default)]
    pub usage_flush_ms: Option<u64>,
    /// Client headers to forward beyond each provider kind's allow-list, by provider
    /// name (`*`: every provider).
    #[serde(default)]
    pub forward_headers: Option<super::forward::RawForward>,
    /// Limits, budgets and spend shared by a fleet of Envoys through a store (README
    /// "Fleet mode"); absent = this Envoy's shared data alone.
    #[serde(default)]
    pub fleet: Option<super::fleet::RawFleet>,
}

/// The raw document; an error names the path of the field (`models[1].targets[0].weight`)
/// rather than a line and column inside the embedded JSON string, which under Istio is
/// istiod's re-serialisation, not what the user wrote. Syntax errors keep their position.
pub(super) fn read(json: &[u8]) -> Result<RawConfig, ConfigError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let raw = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ConfigError {
                field: "(document)".into(),
                reason: inner.to_string(),
            };
        }
        let reason = super::error::without_position(inner.to_string());
        ConfigError {
            field: if path == "." {
                "(document)".into()
            } else {
                path
            },
            reason,
        }
    })?;
    de.end().map_err(|e| ConfigError {
        field: "(document)".into(),
        reason: e.to_string(),
    })?;
    Ok(raw)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub name: String,
    #[serde(default)]
    pub targets: Vec<RawTarget>,
    /// Serve this model through an Envoy cluster whose endpoints are the targets and
    /// whose per-attempt filter translates (failover by Envoy's retries and priorities).
    #[serde(default)]
    pub cluster: Option<String>,
    #[serde(default)]
    pub strategy: Option<Strategy>,
    /// For `sticky`: hash this request header; absent = hash the prompt's beginning.
    #[serde(default)]
    pub sticky_header: Option<String>,
    /// Requests and tokens per minute for this model, across all callers.
    #[serde(default)]
    pub rpm: Option<u64>,
    #[serde(default)]
    pub tpm: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub provider: String,
    pub model: String,
    #[serde(default)]
    pub weight: Option<u32>,
    /// Tokens the model can take (prompt + completion), for `context_window` routing.
    #[serde(default)]
    pub context_window: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Gateway,
    Upstream,
}

/// How a target is chosen among the healthy ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    Weighted,
    /// The first healthy target in list order (fallback order).
    Ordered,
    /// The target with the lowest moving average of time to first byte.
    LowestLatency,
    /// The same session (header, or prompt prefix) goes to the same target.
    Sticky,
    /// Skip targets whose context window cannot hold the estimated request.
    ContextWindow,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealth {
    #[serde(default)]
    pub failure_threshold: Option<u32>,
    #[serde(default)]
    pub cooldown_ms: Option<u64>,
}
