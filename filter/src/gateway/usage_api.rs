//! `GET /v1/usage`: the shared-data ledger for the current day and month, per key,
//! team and model. Admin keys only.

use std::collections::BTreeMap;

use serde::Serialize;

use super::exchange::Exchange;
use crate::config::access::Period;
use crate::error::GatewayError;
use crate::host::Host;
use crate::limits::period;
use crate::state::periods::{self, Scope, Totals};

#[derive(Serialize)]
struct Report<'a> {
    object: &'static str,
    /// The current UTC day and month, ISO 8601 (`2026-11-21`, `2026-11`).
    day: String,
    month: String,
    keys: BTreeMap<&'a str, Entry<'a>>,
    teams: BTreeMap<&'a str, Entry<'a>>,
    models: BTreeMap<&'a str, Entry<'a>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    team: Option<&'a str>,
    day: Line,
    month: Line,
}

#[derive(Serialize)]
struct Line {
    #[serde(flatten)]
    totals: Totals,
    cost_usd: f64,
}

fn line(host: &dyn Host, scope: Scope, name: &str, p: Period, now: u64) -> Line {
    let totals = periods::read(host, scope, name, p, now);
    Line {
        cost_usd: totals.cost_nano_usd as f64 / 1e9,
        totals,
    }
}

fn entry<'a>(
    host: &dyn Host,
    scope: Scope,
    name: &str,
    team: Option<&'a str>,
    now: u64,
) -> Entry<'a> {
    Entry {
        team,
        day: line(host, scope, name, Period::Day, now),
        month: line(host, scope, name, Period::Month, now),
    }
}

pub fn render(x: &Exchange, host: &dyn Host) -> Result<Vec<u8>, GatewayError> {
    let Some(access) = &x.cfg.access else {
        return Err(GatewayError::forbidden(
            "GET /v1/usage needs access control configured and an admin key",
        ));
    };
    let admin = x
        .caller
        .and_then(|i| access.key(i))
        .is_some_and(|k| k.admin);
    if !admin {
        return Err(GatewayError::forbidden("GET /v1/usage needs an admin key"));
    }
    let now = host.now_ms();
    let report = Report {
        object: "usage",
        day: period::iso_day(now),
        month: period::iso_month(now),
        keys: access
            .keys
            .iter()
            .map(|k| {
                let team = access.team_of(k).map(|t| t.name.as_str());
                (k.name.as_str(), entry(host, Scope::Key, &k.name, team, now))
            })
            .collect(),
        teams: access
            .teams
            .iter()
            .map(|t| {
                (
                    t.name.as_str(),
                    entry(host, Scope::Team, &t.name, None, now),
                )
            })
            .collect(),
        models: x
            .cfg
            .model_names
            .iter()
            .map(|m| (m.as_str(), entry(host, Scope::Model, m, None, now)))
            .collect(),
    };
    serde_json::to_vec(&report).map_err(|e| GatewayError::internal(format!("usage report: {e}")))
}
