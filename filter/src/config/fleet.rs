//! `fleet`: limits, budgets and the spend ledger shared by every Envoy of a fleet
//! through a store (the `llm-store` adapter over Redis), reached as an Envoy cluster.

use serde::Deserialize;

use super::error::{err, ConfigError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFleet {
    /// The Envoy cluster of the store adapter.
    pub cluster: String,
    /// `:authority` of the calls (default: the cluster name).
    #[serde(default)]
    pub authority: Option<String>,
    /// How long a request waits for its admission before the failure policy applies.
    #[serde(default)]
    pub timeout_ms: Option<u32>,
    #[serde(default)]
    pub failure: Option<FailurePolicy>,
    /// How often each worker reports reconciliations and spend to the store.
    #[serde(default)]
    pub flush_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailurePolicy {
    /// The store is unreachable: admit with this Envoy's own shared-data limits.
    FailOpen,
    /// The store is unreachable: refuse with 503.
    FailClosed,
}

#[derive(Debug, Clone)]
pub struct Fleet {
    pub cluster: String,
    pub authority: String,
    pub timeout_ms: u32,
    pub failure: FailurePolicy,
    pub flush_ms: u64,
}

pub const DEFAULT_TIMEOUT_MS: u32 = 250;
pub const DEFAULT_FLUSH_MS: u64 = 100;
const MAX_TIMEOUT_MS: u32 = 10_000;
const MAX_FLUSH_MS: u64 = 10_000;

pub fn convert(raw: RawFleet) -> Result<Fleet, ConfigError> {
    if raw.cluster.trim().is_empty() {
        return err("fleet.cluster", "must name the Envoy cluster of the store");
    }
    let timeout_ms = raw.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
    if timeout_ms == 0 || timeout_ms > MAX_TIMEOUT_MS {
        return err(
            "fleet.timeout_ms",
            "must be between 1 and 10000 (a request waits this long at most for its admission)",
        );
    }
    let flush_ms = raw.flush_ms.unwrap_or(DEFAULT_FLUSH_MS);
    if flush_ms == 0 || flush_ms > MAX_FLUSH_MS {
        return err(
            "fleet.flush_ms",
            "must be between 1 and 10000 (the fleet sees reconciliations and spend this late)",
        );
    }
    Ok(Fleet {
        authority: raw.authority.unwrap_or_else(|| raw.cluster.clone()),
        cluster: raw.cluster,
        timeout_ms,
        failure: raw.failure.unwrap_or(FailurePolicy::FailOpen),
        flush_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> RawFleet {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn defaults_and_bounds() {
        let f = convert(raw(r#"{"cluster":"llm_store"}"#)).unwrap();
        assert_eq!(f.authority, "llm_store");
        assert_eq!(f.failure, FailurePolicy::FailOpen);
        assert_eq!((f.timeout_ms, f.flush_ms), (250, 100));
        let f = convert(raw(
            r#"{"cluster":"s","failure":"fail_closed","timeout_ms":50}"#,
        ))
        .unwrap();
        assert_eq!(f.failure, FailurePolicy::FailClosed);
        let e = convert(raw(r#"{"cluster":"s","timeout_ms":0}"#)).unwrap_err();
        assert_eq!(e.field, "fleet.timeout_ms");
        let e = convert(raw(r#"{"cluster":" "}"#)).unwrap_err();
        assert_eq!(e.field, "fleet.cluster");
        assert!(serde_json::from_str::<RawFleet>(r#"{"cluster":"s","failure":"open"}"#).is_err());
    }
}
