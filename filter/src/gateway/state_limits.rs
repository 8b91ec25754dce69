//! The limits and budgets `GET /llm/state` reports, from the configuration, and where
//! their current use is kept: this Envoy's shared data, or the fleet's store.

use rustc_hash::FxHashMap;

use crate::config::access::Budget;
use crate::config::Config;
use crate::fleet::plan;
use crate::fleet::wire::{rate_key, Counts, Spend};
use crate::host::Host;
use crate::limits::rate::{self, Limits};
use crate::state::periods::{self, Scope};
use crate::state::{self, keys};

/// A rate-limited key or model.
pub struct RateLimit<'a> {
    /// `Scope::Key` or `Scope::Model`.
    pub scope: Scope,
    pub name: &'a str,
    pub limits: Limits,
}

/// A key's or team's budget.
pub struct BudgetLimit<'a> {
    /// `Scope::Key` or `Scope::Team`.
    pub scope: Scope,
    pub name: &'a str,
    pub budget: Budget,
}

/// Every key with an `rpm` or `tpm`, in configuration order.
pub fn key_limits(cfg: &Config) -> Vec<RateLimit<'_>> {
    let Some(access) = &cfg.access else {
        return Vec::new();
    };
    access
        .keys
        .iter()
        .filter(|k| k.rpm.is_some() || k.tpm.is_some())
        .map(|k| RateLimit {
            scope: Scope::Key,
            name: &k.name,
            limits: Limits {
                rpm: k.rpm,
                tpm: k.tpm,
            },
        })
        .collect()
}

/// Every model with an `rpm` or `tpm`, in configuration order.
pub fn model_limits(cfg: &Config) -> Vec<RateLimit<'_>> {
    cfg.model_names
        .iter()
        .filter_map(|name| {
            let route = cfg.models.get(name)?;
            (route.rpm.is_some() || route.tpm.is_some()).then_some(RateLimit {
                scope: Scope::Model,
                name,
                limits: Limits {
                    rpm: route.rpm,
                    tpm: route.tpm,
                },
            })
        })
        .collect()
}

/// Every key's budget, then every team's, in configuration order.
pub fn budgets(cfg: &Config) -> Vec<BudgetLimit<'_>> {
    let Some(access) = &cfg.access else {
        return Vec::new();
    };
    let keys = access.keys.iter().filter_map(|k| {
        k.budget.map(|budget| BudgetLimit {
            scope: Scope::Key,
            name: &k.name,
            budget,
        })
    });
    let teams = access.teams.iter().filter_map(|t| {
        t.budget.map(|budget| BudgetLimit {
            scope: Scope::Team,
            name: &t.name,
            budget,
        })
    });
    keys.chain(teams).collect()
}

impl RateLimit<'_> {
    /// The window's key in this Envoy's shared data.
    fn local_key(&self) -> String {
        match self.scope {
            Scope::Model => keys::model_rate(self.name),
            _ => keys::key_rate(self.name),
        }
    }

    /// The window's key in the store for the minute holding `now_ms` (as `fleet::plan`
    /// names it when admitting).
    pub fn store_key(&self, now_ms: u64) -> String {
        let window = rate::window_id(now_ms);
        match self.scope {
            Scope::Model => rate_key(window, "limit", &keys::model_rate(self.name)),
            _ => rate_key(window, "key", self.name),
        }
    }
}

impl BudgetLimit<'_> {
    pub fn store_key(&self, now_ms: u64) -> String {
        plan::spend_of(self.scope, self.name, self.budget.period, now_ms)
    }
}

/// Where a figure was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// This Envoy's shared data: local mode, or a figure the store did not give.
    Local,
    /// The fleet's store: every Envoy's use.
    Fleet,
}

/// The store's answer for the state report, by store key; empty outside fleet mode.
#[derive(Default)]
pub struct FleetRows {
    pub windows: FxHashMap<String, Counts>,
    pub spend: FxHashMap<String, Spend>,
}

/// Reads the current use of limits and budgets: the store's row when it gave one,
/// else this Envoy's.
pub struct Figures<'a> {
    pub host: &'a dyn Host,
    pub now_ms: u64,
    pub fleet: &'a FleetRows,
}

impl Figures<'_> {
    /// Requests and tokens in the current one-minute window.
    pub fn window(&self, limit: &RateLimit<'_>) -> (Counts, Source) {
        if let Some(c) = self.fleet.windows.get(&limit.store_key(self.now_ms)) {
            return (*c, Source::Fleet);
        }
        let w = self
            .host
            .shared_get(&limit.local_key())
            .0
            .map(|b| state::rate::decode(&b))
            .filter(|w| w.id == rate::window_id(self.now_ms))
            .unwrap_or_default();
        let counts = Counts {
            requests: w.requests,
            tokens: w.tokens,
        };
        (counts, Source::Local)
    }

    /// Nano-USD spent in the budget's current day or month.
    pub fn spent(&self, b: &BudgetLimit<'_>) -> (u64, Source) {
        if let Some(s) = self.fleet.spend.get(&b.store_key(self.now_ms)) {
            return (s.cost_nano_usd, Source::Fleet);
        }
        let t = periods::read(self.host, b.scope, b.name, b.budget.period, self.now_ms);
        (t.cost_nano_usd, Source::Local)
    }
}
