//! Fleet mode in the request flow: admission is one call to the store, made once the
//! request is rewritten (the request waits, paused, for the answer); reconciliation and
//! spend go to the worker's outbox when the request ends. The store unreachable, slow
//! (`fleet.timeout_ms`) or answering nonsense: the failure policy decides, and
//! `llmgw.store_degraded_total` counts the decision.

use super::access::{self, Admission};
use super::count_tokens::Held;
use super::exchange::{Exchange, State};
use super::fleet_call::{call, store_unavailable};
use super::flight::Flight;
use crate::background::Answer;
use crate::config::access::{Budget, Period};
use crate::config::fleet::{FailurePolicy, Fleet};
use crate::config::{Config, Target};
use crate::error::GatewayError;
use crate::fleet::plan::{self, Plan};
use crate::fleet::reserved::Reserved;
use crate::fleet::wire::{self, AdmitAnswer, KeyRecord, Reason, Spend};
use crate::host::Host;
use crate::limits::rate;
use crate::state::periods::{Scope, Totals};
use crate::state::Worker;
use crate::usage::metrics;

pub const DEGRADED: &str = "llmgw.store_degraded_total";

/// Fleet mode, a key the configuration does not list, on an endpoint that is admitted:
/// its hex SHA-256, for the store to look up. Runtime keys serve model calls only (not
/// `/v1/models` or `/v1/usage`, which are answered without the store).
pub fn runtime_key(
    x: &Exchange,
    authorization: Option<&str>,
    x_api_key: Option<&str>,
    path: &str,
) -> Option<String> {
    x.cfg.fleet.as_ref()?;
    super::inbound::Endpoint::from_path(path)?;
    let key = crate::limits::auth::presented_key(authorization, x_api_key)?;
    let mut hex = String::with_capacity(64);
    for b in crate::limits::auth::hash(&key) {
        for nibble in [b >> 4, b & 15] {
            hex.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    Some(hex)
}

/// Start the fleet admission. The allow-list is checked here (it is configuration);
/// a request with nothing to count fleet-wide makes no call.
pub fn start(
    x: &Exchange,
    host: &mut dyn Host,
    fleet: &Fleet,
    model: &str,
    target: &Target,
    estimate: u64,
) -> Result<Admission, GatewayError> {
    access::check_models(&x.cfg, x.caller, host, model)?;
    let runtime = x.runtime_key.as_deref().map(|sha| (sha, model));
    let plan = plan::plan(&x.cfg, x.caller, runtime, target, estimate, x.start_ms);
    if plan.is_empty() {
        return Ok(Admission::default());
    }
    let body = serde_json::to_vec(&plan.request)
        .map_err(|e| GatewayError::internal(format!("fleet admission: {e}")))?;
    let token = call(host, fleet, wire::ADMIT_PATH, &body);
    let reserved = Reserved {
        plan,
        estimate,
        pending: token,
        held: false,
        key: None,
    };
    match token {
        Some(_) => Ok(Admission {
            fleet: Some(reserved),
            ..Admission::default()
        }),
        None => degraded(x, host, fleet, model, target, estimate, "not_started"),
    }
}

/// The store is out of reach: the policy decides.
fn degraded(
    x: &Exchange,
    host: &mut dyn Host,
    fleet: &Fleet,
    model: &str,
    target: &Target,
    estimate: u64,
    why: &str,
) -> Result<Admission, GatewayError> {
    let policy = match fleet.failure {
        FailurePolicy::FailOpen => "fail_open",
        FailurePolicy::FailClosed => "fail_closed",
    };
    host.counter_add(&metrics::name(DEGRADED, &[(metrics::REASON, policy)]), 1);
    log::warn!("llm-gateway: fleet store unavailable ({why}): {policy}");
    // Only the store knows a runtime key: without it, it cannot be let in.
    if x.runtime_key.is_some() {
        return Err(store_unavailable());
    }
    match fleet.failure {
        FailurePolicy::FailOpen => {
            access::admit(&x.cfg, x.caller, x.start_ms, host, model, target, estimate)
        }
        FailurePolicy::FailClosed => Err(store_unavailable()),
    }
}

enum Outcome {
    Admitted(Vec<wire::Counts>, Option<KeyRecord>),
    Refused(GatewayError, &'static str),
    Failed(&'static str),
}

/// The windows of the answer, in its order: a runtime key's own first.
fn limits(plan: &Plan, key: Option<&KeyRecord>) -> Vec<rate::Limits> {
    let own = key
        .filter(|k| k.rpm.is_some() || k.tpm.is_some())
        .map(|k| rate::Limits {
            rpm: k.rpm,
            tpm: k.tpm,
        });
    own.into_iter().chain(plan.limits.iter().copied()).collect()
}

fn key_budget(key: Option<&KeyRecord>) -> Option<Budget> {
    let k = key?;
    Some(Budget {
        nano_usd: k.budget_nano_usd?,
        period: if k.budget_period.as_deref() == Some("month") {
            Period::Month
        } else {
            Period::Day
        },
    })
}

fn outcome(plan: &Plan, model: &str, answer: Answer, now: u64) -> Outcome {
    let body = match answer {
        Answer::Reply {
            status: 200, body, ..
        } => body,
        Answer::Reply { .. } => return Outcome::Failed("status"),
        Answer::Failed => return Outcome::Failed("unreachable"),
    };
    let Ok(a) = serde_json::from_slice::<AdmitAnswer>(&body) else {
        return Outcome::Failed("bad_answer");
    };
    if a.admitted {
        return Outcome::Admitted(a.rates, a.key);
    }
    let Some(refused) = a.refused else {
        return Outcome::Failed("bad_answer");
    };
    let key = a.key.as_ref();
    match refused.reason {
        Reason::Unauthorized => Outcome::Refused(GatewayError::unauthorized(), "unauthorized"),
        Reason::Model => {
            Outcome::Refused(GatewayError::model_not_allowed(model), "model_not_allowed")
        }
        Reason::Budget => match plan.budgets.get(refused.index) {
            Some(b) => Outcome::Refused(access::budget_error(b.team, b.budget, now), "budget"),
            // A runtime key's budget comes last.
            None => match key_budget(key).filter(|_| refused.index == plan.budgets.len()) {
                Some(b) => Outcome::Refused(access::budget_error(false, b, now), "budget"),
                None => Outcome::Failed("bad_answer"),
            },
        },
        reason => {
            let all = limits(plan, key);
            let Some(limits) = all.get(refused.index) else {
                return Outcome::Failed("bad_answer");
            };
            let counts = a.rates.get(refused.index).copied().unwrap_or_default();
            let status = status(plan, *limits, counts, now);
            let refusal = if reason == Reason::Rpm {
                rate::Refusal::Requests
            } else {
                rate::Refusal::Tokens
            };
            let (e, why) = access::rate_error(refusal, &status);
            Outcome::Refused(e, why)
        }
    }
}

fn status(plan: &Plan, limits: rate::Limits, counts: wire::Counts, now: u64) -> rate::Status {
    rate::Status {
        limits,
        window: rate::Window {
            id: plan.window,
            requests: counts.requests,
            tokens: counts.tokens,
        },
        reset_ms: rate::reset_ms(now),
    }
}

impl Exchange {
    /// The answer to a call this request made: only the fleet admission makes one.
    pub fn on_call_answer(&mut self, host: &mut dyn Host, token: u32, answer: Answer) {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Admitting(flight) => self.admission_answer(host, token, answer, flight),
            State::Holding(held) if held.reserved.pending == Some(token) => {
                self.held_answer(host, answer, *held)
            }
            State::Reporting { token: t, now } if t == token => {
                super::fleet_usage::answer(self, host, answer, now);
            }
            State::ReadingLimits { token: t, now } if t == token => {
                super::fleet_state::answer(self, host, answer, now);
            }
            other => self.state = other,
        }
    }

    fn admission_answer(
        &mut self,
        host: &mut dyn Host,
        token: u32,
        answer: Answer,
        mut flight: Box<Flight>,
    ) {
        let (Some(fleet), Some(reserved)) =
            (self.cfg.fleet.clone(), flight.bill.admission.fleet.take())
        else {
            return;
        };
        if reserved.pending != Some(token) {
            flight.bill.admission.fleet = Some(reserved);
            self.state = State::Admitting(flight);
            return;
        }
        let now = self.start_ms;
        let key = access::key_name(&self.cfg, self.caller).map(str::to_string);
        let model = flight.ask.model.clone();
        match outcome(&reserved.plan, &model, answer, now) {
            Outcome::Admitted(counts, key) => {
                flight.bill.admission.status =
                    limits(&reserved.plan, key.as_ref()).first().map(|l| {
                        status(
                            &reserved.plan,
                            *l,
                            counts.first().copied().unwrap_or_default(),
                            now,
                        )
                    });
                flight.bill.admission.fleet = Some(Reserved {
                    pending: None,
                    held: true,
                    key,
                    ..reserved
                });
                self.forward_admitted(host, flight);
            }
            Outcome::Refused(e, reason) => {
                access::refusal(host, reason, key.as_deref());
                self.reply_error(host, &e);
            }
            Outcome::Failed(why) => {
                let target = flight.route.target.clone();
                match degraded(self, host, &fleet, &model, &target, reserved.estimate, why) {
                    Ok(admission) => {
                        flight.bill.admission = admission;
                        self.forward_admitted(host, flight);
                    }
                    Err(e) => {
                        self.reply_error(host, &e);
                    }
                }
            }
        }
    }

    fn held_answer(&mut self, host: &mut dyn Host, answer: Answer, held: Held) {
        let Some(fleet) = self.cfg.fleet.clone() else {
            return;
        };
        let key = access::key_name(&self.cfg, self.caller).map(str::to_string);
        let admitted = match outcome(&held.reserved.plan, &held.model, answer, self.start_ms) {
            Outcome::Admitted(..) => Ok(()),
            Outcome::Refused(e, reason) => {
                access::refusal(host, reason, key.as_deref());
                Err(e)
            }
            Outcome::Failed(why) => degraded(
                self,
                host,
                &fleet,
                &held.model,
                &held.target,
                held.reserved.estimate,
                why,
            )
            .map(|_| ()),
        };
        match admitted {
            Ok(()) => {
                super::count_tokens::send(host, &held.local);
                self.state = State::Replied;
            }
            Err(e) => {
                self.reply_error(host, &e);
            }
        }
    }

    fn forward_admitted(&mut self, host: &mut dyn Host, flight: Box<Flight>) {
        self.state = State::Forwarded(flight);
        host.resume_request();
    }
}

/// A request that ended: its reconciliation and spend, for the store.
pub fn account(
    cfg: &Config,
    worker: &Worker,
    caller: Option<usize>,
    flight: &Flight,
    actual_tokens: Option<u64>,
    delta: &Totals,
    now: u64,
) {
    if cfg.fleet.is_none() {
        return;
    }
    let outbox = worker.fleet_outbox();
    let Ok(mut outbox) = outbox.try_borrow_mut() else {
        return;
    };
    if let (Some(r), Some(actual)) = (&flight.bill.admission.fleet, actual_tokens) {
        if r.held {
            let d = i64::try_from(actual).unwrap_or(i64::MAX)
                - i64::try_from(r.estimate).unwrap_or(i64::MAX);
            for check in &r.plan.request.rates {
                outbox.add_rate(check.key.clone(), 0, d);
            }
            if let Some(k) = r
                .key
                .as_ref()
                .filter(|k| k.rpm.is_some() || k.tpm.is_some())
            {
                outbox.add_rate(wire::rate_key(r.plan.window, "key", &k.name), 0, d);
            }
        }
    }
    let spend = Spend {
        requests: delta.requests,
        prompt_tokens: delta.prompt_tokens,
        completion_tokens: delta.completion_tokens,
        cost_nano_usd: delta.cost_nano_usd,
        errors: delta.errors,
    };
    let Some(access_cfg) = &cfg.access else {
        return;
    };
    let mut add = |scope: Scope, name: &str| {
        for p in [Period::Day, Period::Month] {
            outbox.add_spend(plan::spend_of(scope, name, p, now), &spend);
        }
    };
    if let Some(k) = flight
        .bill
        .admission
        .fleet
        .as_ref()
        .and_then(|r| r.key.as_ref())
    {
        add(Scope::Key, &k.name);
    }
    if let Some(k) = caller.and_then(|i| access_cfg.key(i)) {
        add(Scope::Key, &k.name);
        if let Some(team) = access_cfg.team_of(k) {
            add(Scope::Team, &team.name);
        }
    }
    add(Scope::Model, &flight.ask.model);
}
