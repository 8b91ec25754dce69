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

/// Where the totals come from: this Envoy's shared data, or the fleet's store.
pub type Read<'r> = dyn FnMut(Scope, &str, Period) -> Totals + 'r;

fn line(read: &mut Read<'_>, scope: Scope, name: &str, p: Period) -> Line {
    let totals = read(scope, name, p);
    Line {
        cost_usd: totals.cost_nano_usd as f64 / 1e9,
        totals,
    }
}

fn entry<'a>(read: &mut Read<'_>, scope: Scope, name: &str, team: Option<&'a str>) -> Entry<'a> {
    Entry {
        team,
        day: line(read, scope, name, Period::Day),
        month: line(read, scope, name, Period::Month),
    }
}

/// The report from this Envoy's shared data.
pub fn render(x: &Exchange, host: &dyn Host) -> Result<Vec<u8>, GatewayError> {
    admin(x)?;
    let now = host.now_ms();
    render_with(x, now, &mut |scope, name, p| {
        periods::read(host, scope, name, p, now)
    })
}

/// Only an admin key reads the report.
pub fn admin(x: &Exchange) -> Result<(), GatewayError> {
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
    Ok(())
}

/// Every (scope, name) the report lists, in its order.
pub fn names(x: &Exchange) -> Vec<(Scope, &str)> {
    let Some(access) = &x.cfg.access else {
        return Vec::new();
    };
    let keys = access.keys.iter().map(|k| (Scope::Key, k.name.as_str()));
    let teams = access.teams.iter().map(|t| (Scope::Team, t.name.as_str()));
    let models = x.cfg.model_names.iter().map(|m| (Scope::Model, m.as_str()));
    keys.chain(teams).chain(models).collect()
}

/// The report with totals from `read`.
pub fn render_with(x: &Exchange, now: u64, read: &mut Read<'_>) -> Result<Vec<u8>, GatewayError> {
    let Some(access) = &x.cfg.access else {
        return Err(GatewayError::forbidden(
            "GET /v1/usage needs access control configured and an admin key",
        ));
    };
    let report = Report {
        object: "usage",
        day: period::iso_day(now),
        month: period::iso_month(now),
        keys: access
            .keys
            .iter()
            .map(|k| {
                let team = access.team_of(k).map(|t| t.name.as_str());
                (k.name.as_str(), entry(read, Scope::Key, &k.name, team))
            })
            .collect(),
        teams: access
            .teams
            .iter()
            .map(|t| (t.name.as_str(), entry(read, Scope::Team, &t.name, None)))
            .collect(),
        models: x
            .cfg
            .model_names
            .iter()
            .map(|m| (m.as_str(), entry(read, Scope::Model, m, None)))
            .collect(),
    };
    serde_json::to_vec(&report).map_err(|e| GatewayError::internal(format!("usage report: {e}")))
}
