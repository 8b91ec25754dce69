//! When a request ends: usage into the shared ledgers (per target, and per key, team
//! and model for the current day and month), rate-limit reconciliation, metrics.

use super::access;
use super::charge::{self, Charge, Ending};
use super::flight::{Finish, Flight, ResponseMode};
use super::{observe, spans};
use crate::config::Config;
use crate::host::Host;
use crate::state::periods::{self, Scope, Totals};
use crate::state::{keys, ledger, Worker};
use crate::telemetry::semconv;
use crate::telemetry::series::SeriesLabels;
use crate::telemetry::trace_context::TraceContext;
use crate::usage::{batch, metrics};

#[allow(clippy::too_many_arguments)]
pub fn record(
    cfg: &Config,
    worker: &Worker,
    caller: Option<usize>,
    start_ms: u64,
    flight: &Flight,
    request_part: &str,
    trace: Option<(&TraceContext, &str)>,
    host: &mut dyn Host,
) {
    let Some(provider) = cfg.provider(flight.route.target.provider) else {
        return;
    };
    // Through a failover cluster the per-attempt filter names who finally served.
    let (served_provider, served_model) = match &flight.answer.served {
        Some((p, m)) => (p.as_str(), m.as_str()),
        None => (provider.name.as_str(), flight.route.target.model.as_str()),
    };
    let now = host.now_ms();
    // Usage beyond what the request could cost is refused: an upstream error, charged
    // like an answer without usage (what the client received) instead of filling the ledgers.
    let implausible = !flight
        .bill
        .usage_bound
        .admits(&flight.answer.usage, flight.route.target.context_window);
    if implausible {
        log::warn!(
            "llm-gateway: refused implausible usage from provider {served_provider} model \
             {served_model}: prompt_tokens={:?} completion_tokens={:?} cached_tokens={:?} \
             (this request allows at most {} and {})",
            flight.answer.usage.prompt,
            flight.answer.usage.completion,
            flight.answer.usage.cached_prompt,
            flight.bill.usage_bound.prompt,
            flight.bill.usage_bound.completion
        );
    }
    // Only a whole, successful answer is a success: a cut, abandoned or failed one is
    // an error in every counter, and its usage says how it was counted.
    let delivered =
        (200..300).contains(&flight.answer.status) && flight.answer.finish == Finish::Clean;
    let ok = delivered && !implausible;
    let error = !ok;
    let u = if implausible {
        Default::default()
    } else {
        flight.answer.usage
    };
    let Charge {
        prompt,
        completion,
        basis,
    } = charge::charge(&Ending {
        usage: u,
        accepted: (200..300).contains(&flight.answer.status) || flight.answer.undelivered_success,
        complete: delivered,
        prompt_estimate: flight.bill.estimate,
        relayed_chars: match &flight.answer.response {
            ResponseMode::Streaming(m) => Some(m.relayed_chars()),
            _ => None,
        },
        received_bytes: flight.answer.received_bytes,
    });
    let estimated = basis.estimated();
    let usage_label = if implausible {
        "implausible"
    } else {
        basis.label()
    };
    let cached = u.cached_prompt.unwrap_or(0);
    let cost = cfg
        .price(served_provider, served_model)
        .map(|p| p.cost_nano(prompt, cached, completion))
        .unwrap_or(0);

    let ledger_key = || keys::usage(&flight.ask.model, served_provider, served_model);
    let row = [1, prompt, completion, u64::from(error), cost];
    let batched = cfg.usage_flush_ms > 0;
    if !batched {
        ledger::add(host, &ledger_key(), &row);
    }
    let actual_tokens = (u.is_known() || !ok).then_some(prompt.saturating_add(completion));
    access::reconcile(host, &flight.bill.admission, actual_tokens);

    let delta = Totals {
        period: 0,
        requests: 1,
        prompt_tokens: prompt,
        completion_tokens: completion,
        cost_nano_usd: cost,
        errors: u64::from(error),
    };
    super::fleet_admit::account(cfg, worker, caller, flight, actual_tokens, &delta, now);
    let key_name = access::key_name(cfg, caller);
    // Per-period totals feed budgets and `/v1/usage`, which exist only with access control.
    if let Some(access_cfg) = &cfg.access {
        if let Some(name) = key_name {
            periods::add(host, Scope::Key, name, now, &delta);
            let team = caller
                .and_then(|i| access_cfg.key(i))
                .and_then(|k| access_cfg.team_of(k));
            if let Some(team) = team {
                periods::add(host, Scope::Team, &team.name, now, &delta);
            }
        }
        periods::add(host, Scope::Model, &flight.ask.model, now, &delta);
    }

    // For access logs: one filter-state value, %FILTER_STATE(wasm.llm:PLAIN)% (one host
    // call instead of one per field).
    let mut value = log_value(
        served_provider,
        served_model,
        key_name.unwrap_or("-"),
        [prompt, completion, cost],
        usage_label,
        flight.answer.attempts,
    );
    super::access_log::push_finish_part(&mut value, flight.finish_reasons());
    value.push_str(request_part);
    host.set_log_field("llm", &value);

    // The conventions' provider name of whoever served (through a failover cluster, the
    // provider the per-attempt filter named).
    let otel_provider = cfg
        .provider_index(served_provider)
        .and_then(|i| cfg.provider(i))
        .unwrap_or(provider);
    let labels = metrics::Labels {
        operation: observe::operation(flight.ask.endpoint),
        provider: semconv::provider_name(otel_provider),
        llm_provider: served_provider,
        request_model: &flight.ask.model,
        response_model: served_model,
        key: key_name.unwrap_or("none"),
    };
    let names = worker.names(&labels);
    // Zero deltas too: every series exists from the first request on (the host defines
    // the metric and skips the increment).
    let counts = [1, prompt, completion, cost, u64::from(estimated)];
    if batched {
        let usage = batch::Usage {
            names: &names,
            ledger_key: &ledger_key,
            row: &row,
            counts,
        };
        worker.add_usage(&usage, now);
    } else {
        for (name, delta) in names.counted().into_iter().zip(counts) {
            host.counter_add(name, delta);
        }
    }
    let mut count = |name: &str, delta: u64| {
        if batched {
            worker.add_counter(name, delta);
        } else {
            host.counter_add(name, delta);
        }
    };
    if flight.answer.attempts > 1 {
        count(&names.fallbacks, 1);
    }
    let error_type = error.then(|| {
        if flight.answer.finish == Finish::Open || flight.answer.undelivered_success {
            "incomplete"
        } else if implausible {
            "implausible_usage"
        } else if flight.answer.status == 429 {
            "rate_limited"
        } else if flight.answer.status >= 500 || flight.answer.status == 0 {
            "upstream"
        } else if flight.answer.status >= 400 {
            "invalid_request"
        } else {
            "stream"
        }
    });
    if let Some(kind) = error_type {
        count(&metrics::error_name(&labels, kind), 1);
    }
    if batched && worker.due(now, cfg.usage_flush_ms) {
        worker.flush(host);
    }

    observe_histograms(
        worker,
        flight,
        &labels,
        error_type,
        start_ms,
        now,
        [prompt, completion],
        ok,
    );
    if let (Some((ctx, decision)), Some(t)) = (trace, &cfg.traces) {
        if !ctx.sampled {
            return;
        }
        let outcome = spans::Outcome {
            labels: &labels,
            error_type,
            tokens: [prompt, completion],
            start_ms,
            end_ms: now,
        };
        spans::push(worker, t.max_queue, ctx, decision, flight, &outcome);
    }
}

/// The GenAI histograms (kept per worker, see `telemetry`), in microseconds.
#[allow(clippy::too_many_arguments)]
fn observe_histograms(
    worker: &Worker,
    flight: &Flight,
    l: &metrics::Labels<'_>,
    error_type: Option<&str>,
    start_ms: u64,
    now: u64,
    [prompt, completion]: [u64; 2],
    ok: bool,
) {
    use crate::telemetry::histogram as h;
    let series = SeriesLabels {
        of: l,
        error_type: error_type.unwrap_or(""),
    };
    let us = |ms: u64| ms.saturating_mul(1000);
    worker.observe(&series, |r| {
        r.observe(h::DURATION, us(now.saturating_sub(start_ms)));
        if ok {
            r.observe(h::INPUT_TOKENS, prompt);
            r.observe(h::OUTPUT_TOKENS, completion);
        }
        // Streams only, as the conventions ask.
        if let Some(first) = flight.answer.first_byte_ms.filter(|_| flight.ask.stream) {
            r.observe(h::FIRST_CHUNK, us(first.saturating_sub(start_ms)));
            if let Some(per) = us(now.saturating_sub(first)).checked_div(completion) {
                r.observe(h::PER_OUTPUT_TOKEN, per);
            }
            flight.answer.chunk_gaps.record_into(r);
        }
    });
}

/// `provider=… model=… key=… prompt_tokens=N completion_tokens=N cost_usd=D.DDDDDDDDD
/// usage=… attempts=N`, built without `format!` (integer arithmetic for the cost: float
/// formatting is dear in Wasm).
fn log_value(
    provider: &str,
    model: &str,
    key: &str,
    [prompt, completion, cost]: [u64; 3],
    usage: &str,
    attempts: u32,
) -> String {
    use crate::strs::{push_u64, push_u64_09};
    // Room for the request part that follows (path, request id, model, decision).
    let mut s = String::with_capacity(320 + provider.len() + model.len() + key.len());
    for (label, value) in [("provider=", provider), (" model=", model), (" key=", key)] {
        s.push_str(label);
        s.push_str(value);
    }
    s.push_str(" prompt_tokens=");
    push_u64(&mut s, prompt);
    s.push_str(" completion_tokens=");
    push_u64(&mut s, completion);
    s.push_str(" cost_usd=");
    push_u64(&mut s, cost / 1_000_000_000);
    s.push('.');
    push_u64_09(&mut s, cost % 1_000_000_000);
    s.push_str(" usage=");
    s.push_str(usage);
    s.push_str(" attempts=");
    push_u64(&mut s, u64::from(attempts));
    s
}

#[cfg(test)]
mod tests {
    use super::log_value;

    #[test]
    fn log_value_reads_as_before() {
        assert_eq!(
            log_value(
                "anthropic",
                "claude-x",
                "-",
                [25, 12, 1_234_567_890],
                "reported",
                2
            ),
            "provider=anthropic model=claude-x key=- prompt_tokens=25 completion_tokens=12 \
             cost_usd=1.234567890 usage=reported attempts=2"
        );
        assert_eq!(
            log_value("p", "m", "k", [0, 0, 7], "none", 1),
            "provider=p model=m key=k prompt_tokens=0 completion_tokens=0 cost_usd=0.000000007 usage=none attempts=1"
        );
    }
}
