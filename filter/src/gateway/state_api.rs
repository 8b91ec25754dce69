//! `GET /llm/state`: what the dashboard shows besides usage — every model's targets with
//! their health and cool-down, and every key's rate limits with the current minute's use.

use serde::Serialize;

use super::exchange::Exchange;
use crate::error::GatewayError;
use crate::host::Host;
use crate::limits::rate;
use crate::state::{self, keys};

#[derive(Serialize)]
struct Report<'a> {
    object: &'static str,
    now_ms: u64,
    targets: Vec<TargetState<'a>>,
    limits: Vec<KeyLimit<'a>>,
}

#[derive(Serialize)]
struct TargetState<'a> {
    model: &'a str,
    provider: &'a str,
    upstream_model: &'a str,
    available: bool,
    consecutive_failures: u32,
    /// Seconds left in the cool-down (0 when available).
    cooldown_remaining_s: u64,
}

#[derive(Serialize)]
struct KeyLimit<'a> {
    key: &'a str,
    rpm: Option<u64>,
    tpm: Option<u64>,
    /// Use in the current one-minute window.
    requests: u64,
    tokens: u64,
}

pub fn render(x: &Exchange, host: &dyn Host) -> Result<Vec<u8>, GatewayError> {
    let now = host.now_ms();
    let mut targets = Vec::new();
    for model in &x.cfg.model_names {
        let Some(route) = x.cfg.models.get(model) else {
            continue;
        };
        for t in &route.targets {
            let provider = x.cfg.provider(t.provider).map_or("", |p| p.name.as_str());
            let h = state::health::read(host, provider, &t.model);
            targets.push(TargetState {
                model,
                provider,
                upstream_model: &t.model,
                available: h.available(now),
                consecutive_failures: h.consecutive_failures,
                cooldown_remaining_s: h.cooldown_until_ms.saturating_sub(now).div_ceil(1000),
            });
        }
    }
    let limits = x.cfg.access.as_ref().map_or_else(Vec::new, |a| {
        a.keys
            .iter()
            .filter(|k| k.rpm.is_some() || k.tpm.is_some())
            .map(|k| {
                let w = host
                    .shared_get(&keys::key_rate(&k.name))
                    .0
                    .map(|b| state::rate::decode(&b))
                    .filter(|w| w.id == rate::window_id(now))
                    .unwrap_or_default();
                KeyLimit {
                    key: &k.name,
                    rpm: k.rpm,
                    tpm: k.tpm,
                    requests: w.requests,
                    tokens: w.tokens,
                }
            })
            .collect()
    });
    let report = Report {
        object: "state",
        now_ms: now,
        targets,
        limits,
    };
    serde_json::to_vec(&report).map_err(|e| GatewayError::internal(format!("state report: {e}")))
}
