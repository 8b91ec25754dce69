//! `GET /llm/state`: what the dashboard shows besides usage — every model's targets with
//! their health and cool-down, every key's and model's rate limits with the current
//! minute's use, and every budget with its spend and headroom. In fleet mode the use and
//! spend are the store's (`fleet_state`); a figure it did not give is this Envoy's, and
//! each row says which (`source`).

use serde::Serialize;

use super::exchange::Exchange;
use super::state_limits::{self, BudgetLimit, Figures, FleetRows, RateLimit, Source};
use crate::error::GatewayError;
use crate::fleet::plan;
use crate::host::Host;
use crate::state;

#[derive(Serialize)]
struct Report<'a> {
    object: &'static str,
    now_ms: u64,
    targets: Vec<TargetState<'a>>,
    limits: Vec<KeyLimit<'a>>,
    model_limits: Vec<ModelLimit<'a>>,
    budgets: Vec<BudgetState<'a>>,
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

/// A rate limit and its use in the current one-minute window.
#[derive(Serialize)]
struct Use {
    rpm: Option<u64>,
    tpm: Option<u64>,
    requests: u64,
    tokens: u64,
    source: Source,
}

#[derive(Serialize)]
struct KeyLimit<'a> {
    key: &'a str,
    #[serde(flatten)]
    use_: Use,
}

#[derive(Serialize)]
struct ModelLimit<'a> {
    model: &'a str,
    #[serde(flatten)]
    use_: Use,
}

#[derive(Serialize)]
struct BudgetState<'a> {
    /// `key` or `team`.
    scope: &'static str,
    name: &'a str,
    /// `day` or `month`: the budget's period, the current one's spend.
    period: &'static str,
    limit_usd: f64,
    /// As `/v1/usage` reports this name's `cost_usd` for the period.
    spent_usd: f64,
    remaining_usd: f64,
    source: Source,
}

fn usd(nano: u64) -> f64 {
    nano as f64 / 1e9
}

fn rate_use(f: &Figures<'_>, l: &RateLimit<'_>) -> Use {
    let (counts, source) = f.window(l);
    Use {
        rpm: l.limits.rpm,
        tpm: l.limits.tpm,
        requests: counts.requests,
        tokens: counts.tokens,
        source,
    }
}

fn budget_state<'a>(f: &Figures<'_>, b: &BudgetLimit<'a>) -> BudgetState<'a> {
    let (spent, source) = f.spent(b);
    BudgetState {
        scope: b.scope.tag(),
        name: b.name,
        period: plan::period_tag(b.budget.period),
        limit_usd: usd(b.budget.nano_usd),
        spent_usd: usd(spent),
        remaining_usd: usd(b.budget.nano_usd.saturating_sub(spent)),
        source,
    }
}

fn targets<'a>(x: &'a Exchange, host: &dyn Host, now: u64) -> Vec<TargetState<'a>> {
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
    targets
}

/// The report from this Envoy's shared data.
pub fn render(x: &Exchange, host: &dyn Host) -> Result<Vec<u8>, GatewayError> {
    render_with(x, host, host.now_ms(), &FleetRows::default())
}

/// The report, with the store's rows where `fleet` has them.
pub fn render_with(
    x: &Exchange,
    host: &dyn Host,
    now: u64,
    fleet: &FleetRows,
) -> Result<Vec<u8>, GatewayError> {
    let f = Figures {
        host,
        now_ms: now,
        fleet,
    };
    let report = Report {
        object: "state",
        now_ms: now,
        targets: targets(x, host, now),
        limits: state_limits::key_limits(&x.cfg)
            .iter()
            .map(|l| KeyLimit {
                key: l.name,
                use_: rate_use(&f, l),
            })
            .collect(),
        model_limits: state_limits::model_limits(&x.cfg)
            .iter()
            .map(|l| ModelLimit {
                model: l.name,
                use_: rate_use(&f, l),
            })
            .collect(),
        budgets: state_limits::budgets(&x.cfg)
            .iter()
            .map(|b| budget_state(&f, b))
            .collect(),
    };
    serde_json::to_vec(&report).map_err(|e| GatewayError::internal(format!("state report: {e}")))
}
