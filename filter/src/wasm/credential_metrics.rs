//! The refresh job's metrics as Envoy stats, labelled by provider
//! (`llmgw_credential_*{llm_provider="…"}`).

use proxy_wasm::types::MetricType;
use rustc_hash::FxHashMap;

use super::abi;
use crate::credential::RefreshMetrics;
use crate::usage::metrics::name;

#[derive(Default)]
pub struct EnvoyRefreshMetrics {
    ids: FxHashMap<String, u32>,
}

impl EnvoyRefreshMetrics {
    fn id(&mut self, kind: MetricType, base: &str, provider: &str) -> Option<u32> {
        let full = name(base, &[("llm_provider", provider)]);
        if let Some(id) = self.ids.get(&full) {
            return Some(*id);
        }
        let id = abi::define_metric(kind, &full)?;
        self.ids.insert(full, id);
        Some(id)
    }
}

impl RefreshMetrics for EnvoyRefreshMetrics {
    fn refreshed(&mut self, provider: &str) {
        if let Some(id) = self.id(
            MetricType::Counter,
            "llmgw.credential_refreshes_total",
            provider,
        ) {
            abi::increment_metric(id, 1);
        }
    }
    fn failed(&mut self, provider: &str) {
        if let Some(id) = self.id(
            MetricType::Counter,
            "llmgw.credential_refresh_failures_total",
            provider,
        ) {
            abi::increment_metric(id, 1);
        }
    }
    fn expires_in(&mut self, provider: &str, seconds: u64) {
        if let Some(id) = self.id(
            MetricType::Gauge,
            "llmgw.credential_expiry_seconds",
            provider,
        ) {
            abi::record_metric(id, seconds);
        }
    }
}
