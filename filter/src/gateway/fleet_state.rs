//! `GET /llm/state` in fleet mode: the limits' windows and the budgets' spend are the
//! fleet's, read from the store in one call (`POST /v1/spend` with `rates`). Whatever the
//! store does not give (out of reach, or a store that predates `rates`) is this Envoy's
//! own figure, labelled `local` row by row: the targets' health is this Envoy's anyway.

use super::exchange::{Action, Exchange, State};
use super::fleet_call::call;
use super::state_api;
use super::state_limits::{self, FleetRows};
use crate::background::Answer;
use crate::config::fleet::Fleet;
use crate::fleet::wire::{self, SpendAnswer, SpendRequest};
use crate::host::Host;

/// The store keys of every budget and every rate window the report lists, in its order.
fn request(x: &Exchange, now: u64) -> SpendRequest {
    let rates = state_limits::key_limits(&x.cfg)
        .into_iter()
        .chain(state_limits::model_limits(&x.cfg))
        .map(|l| l.store_key(now))
        .collect();
    let keys = state_limits::budgets(&x.cfg)
        .iter()
        .map(|b| b.store_key(now))
        .collect();
    SpendRequest { keys, rates }
}

fn reply(x: &mut Exchange, host: &mut dyn Host, now: u64, rows: &FleetRows) -> Action {
    match state_api::render_with(x, host, now, rows) {
        Ok(body) => {
            host.send_local_response(
                200,
                &[
                    ("content-type", "application/json"),
                    ("cache-control", "no-store"),
                ],
                &body,
            );
            x.state = State::Replied;
        }
        Err(e) => {
            x.reply_error(host, &e);
        }
    }
    Action::Pause
}

/// Ask the store (the caller is an admin: `ops` checked); nothing to ask or no call
/// possible: this Envoy's figures.
pub fn start(x: &mut Exchange, host: &mut dyn Host, fleet: &Fleet) -> Action {
    let now = host.now_ms();
    let req = request(x, now);
    if req.keys.is_empty() && req.rates.is_empty() {
        return reply(x, host, now, &FleetRows::default());
    }
    let token = serde_json::to_vec(&req)
        .ok()
        .and_then(|body| call(host, fleet, wire::SPEND_PATH, &body));
    match token {
        Some(token) => {
            x.state = State::ReadingLimits { token, now };
            Action::Pause
        }
        None => reply(x, host, now, &FleetRows::default()),
    }
}

/// The store's rows, each list taken only when it answers every key asked.
fn rows(req: SpendRequest, answer: Option<SpendAnswer>) -> FleetRows {
    let Some(a) = answer else {
        return FleetRows::default();
    };
    let mut rows = FleetRows::default();
    if a.spend.len() == req.keys.len() {
        rows.spend = req.keys.into_iter().zip(a.spend).collect();
    }
    if a.rates.len() == req.rates.len() {
        rows.windows = req.rates.into_iter().zip(a.rates).collect();
    }
    rows
}

pub fn answer(x: &mut Exchange, host: &mut dyn Host, answer: Answer, now: u64) {
    let parsed = match answer {
        Answer::Reply {
            status: 200, body, ..
        } => serde_json::from_slice::<SpendAnswer>(&body).ok(),
        _ => None,
    };
    if parsed.is_none() {
        log::warn!("llm-gateway: fleet store unavailable for /llm/state: this Envoy's figures");
    }
    let rows = rows(request(x, now), parsed);
    reply(x, host, now, &rows);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::wire::{Counts, Spend};

    fn req() -> SpendRequest {
        SpendRequest {
            keys: vec!["spend:a".into()],
            rates: vec!["rate:1:key:k".into(), "rate:1:limit:m".into()],
        }
    }

    #[test]
    fn a_store_without_rates_gives_spend_only() {
        let a = SpendAnswer {
            spend: vec![Spend {
                cost_nano_usd: 7,
                ..Spend::default()
            }],
            rates: Vec::new(),
        };
        let r = rows(req(), Some(a));
        assert_eq!(r.spend.get("spend:a").map(|s| s.cost_nano_usd), Some(7));
        assert!(r.windows.is_empty());
    }

    #[test]
    fn rows_are_taken_by_position_when_complete() {
        let c = |n| Counts {
            requests: n,
            tokens: n * 10,
        };
        let a = SpendAnswer {
            spend: Vec::new(),
            rates: vec![c(1), c(2)],
        };
        let r = rows(req(), Some(a));
        assert!(r.spend.is_empty(), "a short spend list is not used");
        assert_eq!(r.windows.get("rate:1:limit:m"), Some(&c(2)));
        assert_eq!(r.windows.get("rate:1:key:k"), Some(&c(1)));
        assert!(rows(req(), None).windows.is_empty());
    }
}
