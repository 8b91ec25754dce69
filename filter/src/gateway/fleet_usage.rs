//! `GET /v1/usage` in fleet mode: the fleet's totals from the store, in the report
//! local mode renders (`usage_api::render_with`). The store out of reach: 503, whatever
//! the failure policy (this Envoy's own figures would pass for the fleet's).

use rustc_hash::FxHashMap;

use super::exchange::{Action, Exchange, State};
use super::fleet_call::{call, store_unavailable};
use super::usage_api;
use crate::background::Answer;
use crate::config::access::Period;
use crate::config::fleet::Fleet;
use crate::fleet::plan;
use crate::fleet::wire::{self, SpendAnswer, SpendRequest};
use crate::host::Host;
use crate::limits::period;
use crate::state::periods::Totals;

fn keys(x: &Exchange, now: u64) -> Vec<String> {
    usage_api::names(x)
        .into_iter()
        .flat_map(|(scope, name)| {
            [Period::Day, Period::Month].map(|p| plan::spend_of(scope, name, p, now))
        })
        .collect()
}

pub fn start(x: &mut Exchange, host: &mut dyn Host, fleet: &Fleet) -> Action {
    if let Err(e) = usage_api::admin(x) {
        return x.reply_error(host, &e);
    }
    let now = host.now_ms();
    let body = match serde_json::to_vec(&SpendRequest {
        keys: keys(x, now),
        ..SpendRequest::default()
    }) {
        Ok(b) => b,
        Err(_) => return x.reply_error(host, &store_unavailable()),
    };
    let token = call(host, fleet, wire::SPEND_PATH, &body);
    match token {
        Some(token) => {
            x.state = State::Reporting { token, now };
            Action::Pause
        }
        None => x.reply_error(host, &store_unavailable()),
    }
}

pub fn answer(x: &mut Exchange, host: &mut dyn Host, answer: Answer, now: u64) {
    let spend = match answer {
        Answer::Reply {
            status: 200, body, ..
        } => serde_json::from_slice::<SpendAnswer>(&body).ok(),
        _ => None,
    };
    let keys = keys(x, now);
    let Some(spend) = spend.filter(|s| s.spend.len() == keys.len()) else {
        x.reply_error(host, &store_unavailable());
        return;
    };
    let rows: FxHashMap<String, wire::Spend> = keys.into_iter().zip(spend.spend).collect();
    let rendered = usage_api::render_with(x, now, &mut |scope, name, p| {
        let s = rows
            .get(&plan::spend_of(scope, name, p, now))
            .copied()
            .unwrap_or_default();
        Totals {
            period: period::id(p, now),
            requests: s.requests,
            prompt_tokens: s.prompt_tokens,
            completion_tokens: s.completion_tokens,
            cost_nano_usd: s.cost_nano_usd,
            errors: s.errors,
        }
    });
    match rendered {
        Ok(body) => {
            host.send_local_response(200, &[("content-type", "application/json")], &body);
            x.state = State::Replied;
        }
        Err(e) => {
            x.reply_error(host, &e);
        }
    }
}
