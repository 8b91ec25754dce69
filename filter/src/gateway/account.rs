//! When a request ends: usage into the shared ledgers (per target, and per key, team
//! and model for the current day and month), rate-limit reconciliation, metrics.

use super::{access, Flight};
use crate::config::Config;
use crate::host::Host;
use crate::usage::periods::{self, Scope, Totals};
use crate::usage::{ledger, metrics};

pub fn record(
    cfg: &Config,
    caller: Option<usize>,
    start_ms: u64,
    flight: &mut Flight,
    host: &mut dyn Host,
) {
    if flight.accounted {
        return;
    }
    flight.accounted = true;
    let Some(provider) = cfg.provider(flight.target.provider) else {
        return;
    };
    let now = host.now_ms();
    let ok = (200..300).contains(&flight.status);
    // A stream that never finished (upstream cut, client gone) is an error, but the
    // tokens seen so far still count.
    let error = flight.error || !flight.completed || !ok;
    let u = flight.usage;
    // Provider-reported usage wins; an answer without any is estimated, and says so.
    let estimated = ok && !flight.error && !u.is_known();
    let prompt = u
        .prompt
        .unwrap_or(if estimated { flight.estimate } else { 0 });
    let completion = u.completion.unwrap_or(0);
    let cached = u.cached_prompt.unwrap_or(0);
    let cost = cfg
        .price(&provider.name, &flight.target.model)
        .map(|p| p.cost_nano(prompt, cached, completion))
        .unwrap_or(0);

    let key = ledger::usage_key(&flight.model, &provider.name, &flight.target.model);
    ledger::add(host, &key, &[1, prompt, completion, u64::from(error), cost]);
    access::reconcile(
        host,
        &flight.admission,
        (u.is_known() || !ok).then_some(prompt + completion),
    );

    let delta = Totals {
        period: 0,
        requests: 1,
        prompt_tokens: prompt,
        completion_tokens: completion,
        cost_nano_usd: cost,
        errors: u64::from(error),
    };
    let key_name = access::key_name(cfg, caller);
    if let (Some(access_cfg), Some(name)) = (&cfg.access, key_name) {
        periods::add(host, Scope::Key, name, now, &delta);
        let team = caller
            .and_then(|i| access_cfg.key(i))
            .and_then(|k| access_cfg.team_of(k));
        if let Some(team) = team {
            periods::add(host, Scope::Team, &team.name, now, &delta);
        }
    }
    periods::add(host, Scope::Model, &flight.model, now, &delta);

    // For access logs: %FILTER_STATE(wasm.llm_prompt_tokens:PLAIN)% and friends.
    let usage_kind = if u.is_known() {
        "reported"
    } else if estimated {
        "estimated"
    } else {
        "none"
    };
    for (field, value) in [
        ("llm_provider", provider.name.clone()),
        ("llm_model", flight.target.model.clone()),
        ("llm_prompt_tokens", prompt.to_string()),
        ("llm_completion_tokens", completion.to_string()),
        ("llm_cost_usd", format!("{:.9}", cost as f64 / 1e9)),
        ("llm_key", key_name.unwrap_or("-").to_string()),
        ("llm_usage", usage_kind.to_string()),
    ] {
        host.set_log_field(field, &value);
    }

    let labels = [
        (metrics::MODEL, flight.model.as_str()),
        (metrics::PROVIDER, provider.name.as_str()),
        (metrics::RESPONSE_MODEL, flight.target.model.as_str()),
        (metrics::KEY, key_name.unwrap_or("none")),
    ];
    let name = |base: &str| metrics::name(base, &labels);
    // Zero deltas too: every series exists from the first request on.
    host.counter_add(&name(metrics::REQUESTS), 1);
    host.counter_add(&name(metrics::PROMPT_TOKENS), prompt);
    host.counter_add(&name(metrics::COMPLETION_TOKENS), completion);
    host.counter_add(&name(metrics::COST), cost);
    host.counter_add(&name(metrics::ESTIMATED), u64::from(estimated));
    if error {
        let kind = if !flight.completed {
            "incomplete"
        } else if flight.status == 429 {
            "rate_limited"
        } else if flight.status >= 500 || flight.status == 0 {
            "upstream"
        } else if flight.status >= 400 {
            "invalid_request"
        } else {
            "stream"
        };
        let mut l = labels.to_vec();
        l.push((metrics::ERROR_TYPE, kind));
        host.counter_add(&metrics::name(metrics::ERRORS, &l), 1);
    }

    host.histogram_record(&name(metrics::DURATION_MS), now.saturating_sub(start_ms));
    if ok {
        for (kind, n) in [("input", prompt), ("output", completion)] {
            let mut l = labels.to_vec();
            l.push((metrics::TOKEN_TYPE, kind));
            host.histogram_record(&metrics::name(metrics::TOKEN_USAGE, &l), n);
        }
    }
    if let Some(first) = flight.first_byte_ms {
        host.histogram_record(&name(metrics::TTFT_MS), first.saturating_sub(start_ms));
        if let Some(per) = now
            .saturating_sub(first)
            .saturating_mul(1000)
            .checked_div(completion)
        {
            host.histogram_record(&name(metrics::TPOT_US), per);
        }
    }
}
