//! What one request asks the store to check and reserve: the caller's rate window and
//! budgets (key, team), and every model limit on the upstream model it reaches. The
//! same checks as the local admission (`gateway/access.rs`), as data.

use super::dates;
use super::wire::{rate_key, spend_key, AdmitRequest, BudgetCheck, RateCheck, RuntimeKey};
use crate::config::access::{Budget, Period};
use crate::config::{Config, Target};
use crate::limits::rate::{self, Limits};
use crate::state::periods::Scope;

/// A budget as the store checks it, and how to name it in a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetOf {
    pub team: bool,
    pub budget: Budget,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub request: AdmitRequest,
    /// The limits of each entry of `request.rates`, for `x-ratelimit-*` headers.
    pub limits: Vec<Limits>,
    pub budgets: Vec<BudgetOf>,
    /// The minute the windows belong to.
    pub window: u64,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.request.rates.is_empty()
            && self.request.budgets.is_empty()
            && self.request.runtime_key.is_none()
    }
}

pub fn period_tag(p: Period) -> &'static str {
    match p {
        Period::Day => "day",
        Period::Month => "month",
    }
}

/// The store's spend row of `name` for the period of `p` holding `now_ms`.
pub fn spend_of(scope: Scope, name: &str, p: Period, now_ms: u64) -> String {
    spend_key(period_tag(p), &dates::of(p, now_ms), scope.tag(), name)
}

/// The checks for `caller` reaching `target` with `estimate` tokens, at `now_ms`.
pub fn plan(
    cfg: &Config,
    caller: Option<usize>,
    runtime_key: Option<(&str, &str)>,
    target: &Target,
    estimate: u64,
    now_ms: u64,
) -> Plan {
    let window = rate::window_id(now_ms);
    let mut p = Plan {
        window,
        ..Plan::default()
    };
    // (sha256, model): the store adds the key's own window and budget.
    p.request.runtime_key = runtime_key.map(|(sha256, model)| RuntimeKey {
        sha256: sha256.to_string(),
        model: model.to_string(),
        window,
        tokens: estimate,
        day: dates::day(now_ms),
        month: dates::month(now_ms),
    });
    let access = cfg.access.as_ref();
    let key = access.and_then(|a| caller.and_then(|i| a.key(i)).map(|k| (a, k)));
    if let Some((access, k)) = key {
        let mut budget = |scope: Scope, name: &str, b: Budget, team: bool| {
            p.request.budgets.push(BudgetCheck {
                key: spend_of(scope, name, b.period, now_ms),
                limit_nano_usd: b.nano_usd,
            });
            p.budgets.push(BudgetOf { team, budget: b });
        };
        if let Some(b) = k.budget {
            budget(Scope::Key, &k.name, b, false);
        }
        if let Some(team) = access.team_of(k) {
            if let Some(b) = team.budget {
                budget(Scope::Team, &team.name, b, true);
            }
        }
        if k.rpm.is_some() || k.tpm.is_some() {
            p.request.rates.push(RateCheck {
                key: rate_key(window, "key", &k.name),
                rpm: k.rpm,
                tpm: k.tpm,
                tokens: estimate,
            });
            p.limits.push(Limits {
                rpm: k.rpm,
                tpm: k.tpm,
            });
        }
    }
    for limit in cfg.model_limits.covering(target.provider, &target.model) {
        p.request.rates.push(RateCheck {
            key: rate_key(window, "limit", &limit.key),
            rpm: limit.limits.rpm,
            tpm: limit.limits.tpm,
            tokens: estimate,
        });
        p.limits.push(limit.limits);
    }
    p
}
