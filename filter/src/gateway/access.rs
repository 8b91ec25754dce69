//! Access control in the request flow: authenticate, check the model allow-list,
//! budgets and rate limits before the call; reconcile after it.

use crate::config::access::{Budget, Period};
use crate::config::{Config, Target};
use crate::error::GatewayError;
use crate::host::Host;
use crate::limits::{auth, period, rate};
use crate::state::periods::{self, Scope};
use crate::state::{self, keys};
use crate::usage::metrics;

/// Envoy attribute holding the mesh peer identity (Istio: the SPIFFE id).
const PEER_PRINCIPAL: [&str; 2] = ["connection", "uri_san_peer_certificate"];

/// One rate-limit reservation to replace by the real count after the answer.
#[derive(Debug, Clone)]
pub struct Reservation {
    key: String,
    window: u64,
    tokens: u64,
}

#[derive(Debug, Default)]
pub struct Admission {
    pub reservations: Vec<Reservation>,
    /// For `x-ratelimit-*` headers: the caller's limits, else the model's.
    pub status: Option<rate::Status>,
    /// Fleet mode: what the store reserved (reconciled through the worker's outbox).
    pub fleet: Option<crate::fleet::reserved::Reserved>,
}

/// Who is calling, when access control is configured. `Ok(None)`: open gateway.
pub fn authenticate(
    cfg: &Config,
    host: &mut dyn Host,
    authorization: Option<&str>,
    x_api_key: Option<&str>,
) -> Result<Option<usize>, GatewayError> {
    let Some(access) = &cfg.access else {
        return Ok(None);
    };
    let key = auth::presented_key(authorization, x_api_key);
    let principal = if key.is_none() {
        host.property(&PEER_PRINCIPAL)
            .map(|p| String::from_utf8_lossy(&p).into_owned())
    } else {
        None
    };
    match auth::identify(access, key.as_deref(), principal.as_deref()) {
        Some(i) => Ok(Some(i)),
        None => {
            refusal(host, "unauthorized", None);
            Err(GatewayError::unauthorized())
        }
    }
}

pub(super) fn refusal(host: &mut dyn Host, reason: &str, key: Option<&str>) {
    let name = metrics::name(
        metrics::LIMIT_REFUSALS,
        &[
            (metrics::REASON, reason),
            (metrics::KEY, key.unwrap_or("none")),
        ],
    );
    host.counter_add(&name, 1);
}

pub fn key_name(cfg: &Config, caller: Option<usize>) -> Option<&str> {
    let access = cfg.access.as_ref()?;
    access.key(caller?).map(|k| k.name.as_str())
}

/// Everything checked once the model and the target are known, before the call.
/// `now`: the request's start (windows are a minute or longer; a host call saved).
pub fn admit(
    cfg: &Config,
    caller: Option<usize>,
    now: u64,
    host: &mut dyn Host,
    model: &str,
    target: &Target,
    estimate: u64,
) -> Result<Admission, GatewayError> {
    let key = cfg
        .access
        .as_ref()
        .and_then(|a| caller.and_then(|i| a.key(i)).map(|k| (a, k)));
    check_models(cfg, caller, host, model)?;
    if let Some((access, k)) = key {
        if let Some(b) = k.budget {
            check_budget(host, Scope::Key, &k.name, b, now, &k.name)?;
        }
        if let Some(team) = access.team_of(k) {
            if let Some(b) = team.budget {
                check_budget(host, Scope::Team, &team.name, b, now, &k.name)?;
            }
        }
    }
    let mut admission = Admission::default();
    if let Some((_, k)) = key {
        let limits = rate::Limits {
            rpm: k.rpm,
            tpm: k.tpm,
        };
        if limits.rpm.is_some() || limits.tpm.is_some() {
            let status = reserve(
                host,
                &mut admission,
                &keys::key_rate(&k.name),
                limits,
                now,
                estimate,
            )
            .map_err(|e| {
                refusal(host, e.1, Some(&k.name));
                e.0
            })?;
            admission.status = Some(status);
        }
    }
    // Every model limit on the upstream model this request reaches, whichever name it
    // used (the alias, another alias, `provider/model`).
    for limit in cfg.model_limits.covering(target.provider, &target.model) {
        match reserve(
            host,
            &mut admission,
            &limit.key,
            limit.limits,
            now,
            estimate,
        ) {
            Ok(status) => {
                admission.status.get_or_insert(status);
            }
            Err((e, reason)) => {
                // Earlier reservations must not count a request that never ran.
                release(host, &admission);
                refusal(host, reason, key.map(|(_, k)| k.name.as_str()));
                return Err(e);
            }
        }
    }
    Ok(admission)
}

/// A request that reaches a provider without generating (a stored response read or
/// deleted): one request against the caller's own `rpm`, no tokens, so that no key
/// can call the provider's account without bound.
pub fn count_request(
    cfg: &Config,
    caller: Option<usize>,
    now: u64,
    host: &mut dyn Host,
) -> Result<(), GatewayError> {
    let Some(k) = cfg
        .access
        .as_ref()
        .and_then(|a| caller.and_then(|i| a.key(i)))
    else {
        return Ok(());
    };
    let limits = rate::Limits {
        rpm: k.rpm,
        tpm: None,
    };
    if limits.rpm.is_none() {
        return Ok(());
    }
    let mut admission = Admission::default();
    reserve(
        host,
        &mut admission,
        &keys::key_rate(&k.name),
        limits,
        now,
        0,
    )
    .map(|_| ())
    .map_err(|(e, reason)| {
        refusal(host, reason, Some(&k.name));
        e
    })
}

/// The caller's model allow-list.
pub(super) fn check_models(
    cfg: &Config,
    caller: Option<usize>,
    host: &mut dyn Host,
    model: &str,
) -> Result<(), GatewayError> {
    let key = cfg
        .access
        .as_ref()
        .and_then(|a| caller.and_then(|i| a.key(i)));
    if let Some(k) = key {
        if let Some(models) = &k.models {
            if !models.iter().any(|m| m == model) {
                refusal(host, "model_not_allowed", Some(&k.name));
                return Err(GatewayError::model_not_allowed(model));
            }
        }
    }
    Ok(())
}

fn check_budget(
    host: &mut dyn Host,
    scope: Scope,
    name: &str,
    budget: Budget,
    now: u64,
    key: &str,
) -> Result<(), GatewayError> {
    let spent = periods::read(host, scope, name, budget.period, now).cost_nano_usd;
    if spent < budget.nano_usd {
        return Ok(());
    }
    refusal(host, "budget", Some(key));
    Err(budget_error(scope == Scope::Team, budget, now))
}

/// 429 for a spent budget, retry after the period ends.
pub(super) fn budget_error(team: bool, budget: Budget, now: u64) -> GatewayError {
    let what = if team { "team" } else { "key" };
    let period_name = match budget.period {
        Period::Day => "day",
        Period::Month => "month",
    };
    GatewayError::budget_exceeded(format!(
        "The {what} budget of {:.2} USD for this {period_name} is spent",
        budget.nano_usd as f64 / 1e9
    ))
    .with_retry_after(Some(period::seconds_left(budget.period, now)))
}

fn reserve(
    host: &mut dyn Host,
    admission: &mut Admission,
    key: &str,
    limits: rate::Limits,
    now: u64,
    estimate: u64,
) -> Result<rate::Status, (GatewayError, &'static str)> {
    let mut outcome: Result<rate::Window, rate::Refusal> = Err(rate::Refusal::Requests);
    let mut seen = rate::Window::default();
    let written = state::rate::update(host, key, |current| {
        seen = current;
        outcome = rate::admit(current, now, limits, estimate);
        outcome.as_ref().ok().copied()
    });
    let reset_ms = rate::reset_ms(now);
    match outcome {
        Ok(w) if written => {
            admission.reservations.push(Reservation {
                key: key.to_string(),
                window: w.id,
                tokens: estimate,
            });
            Ok(rate::Status {
                limits,
                window: w,
                reset_ms,
            })
        }
        // Shared data failed us: let the request through rather than block traffic.
        Ok(w) => Ok(rate::Status {
            limits,
            window: w,
            reset_ms,
        }),
        Err(refusal) => {
            let status = rate::Status {
                limits,
                window: if seen.id == rate::window_id(now) {
                    seen
                } else {
                    rate::Window::default()
                },
                reset_ms,
            };
            Err(rate_error(refusal, &status))
        }
    }
}

/// 429 for a window at its limit, with `x-ratelimit-*` headers; and the metric's reason.
pub(super) fn rate_error(
    refusal: rate::Refusal,
    status: &rate::Status,
) -> (GatewayError, &'static str) {
    let (what, reason) = match refusal {
        rate::Refusal::Requests => ("requests", "rpm"),
        rate::Refusal::Tokens => ("tokens", "tpm"),
    };
    let mut e = GatewayError::rate_limited(format!(
        "Rate limit reached: {what} per minute. Retry after the window resets."
    ))
    .with_retry_after(Some(status.reset_ms.div_ceil(1000)));
    for (k, v) in headers(status) {
        e = e.with_header(k, v);
    }
    (e, reason)
}

fn release(host: &mut dyn Host, admission: &Admission) {
    for r in &admission.reservations {
        let tokens = -i64::try_from(r.tokens).unwrap_or(i64::MAX);
        state::rate::adjust(host, &r.key, r.window, -1, tokens);
    }
}

/// Replace the token estimates by what was really used (None: keep the estimate).
pub fn reconcile(host: &mut dyn Host, admission: &Admission, actual_tokens: Option<u64>) {
    let Some(actual) = actual_tokens else { return };
    for r in &admission.reservations {
        let delta =
            i64::try_from(actual).unwrap_or(i64::MAX) - i64::try_from(r.tokens).unwrap_or(i64::MAX);
        if delta == 0 {
            continue;
        }
        state::rate::adjust(host, &r.key, r.window, 0, delta);
    }
}

/// `x-ratelimit-*` headers in OpenAI's format.
pub fn headers(s: &rate::Status) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let reset = format!("{}s", s.reset_ms.div_ceil(1000));
    if let (Some(l), Some(r)) = (s.limits.rpm, s.remaining_requests()) {
        out.push(("x-ratelimit-limit-requests", l.to_string()));
        out.push(("x-ratelimit-remaining-requests", r.to_string()));
        out.push(("x-ratelimit-reset-requests", reset.clone()));
    }
    if let (Some(l), Some(r)) = (s.limits.tpm, s.remaining_tokens()) {
        out.push(("x-ratelimit-limit-tokens", l.to_string()));
        out.push(("x-ratelimit-remaining-tokens", r.to_string()));
        out.push(("x-ratelimit-reset-tokens", reset));
    }
    out
}
