//! When a request ends: usage into the shared ledger and into Envoy metrics.

use super::Flight;
use crate::config::Config;
use crate::host::Host;
use crate::usage::{ledger, metrics};

pub fn record(cfg: &Config, flight: &mut Flight, host: &mut dyn Host) {
    if flight.accounted {
        return;
    }
    flight.accounted = true;
    let Some(provider) = cfg.provider(flight.target.provider) else {
        return;
    };
    // A stream that never finished (upstream cut, client gone) is an error, but the
    // tokens seen so far still count.
    let error = flight.error || !flight.completed || !(200..300).contains(&flight.status);
    let prompt = flight.usage.prompt.unwrap_or(0);
    let completion = flight.usage.completion.unwrap_or(0);
    let key = ledger::usage_key(&flight.model, &provider.name, &flight.target.model);
    ledger::add(host, &key, &[1, prompt, completion, u64::from(error)]);

    let name = |c: &str| metrics::name(c, &flight.model, &provider.name, &flight.target.model);
    // Zero deltas too: every series exists from the first request on.
    host.counter_add(&name(metrics::REQUESTS), 1);
    host.counter_add(&name(metrics::PROMPT_TOKENS), prompt);
    host.counter_add(&name(metrics::COMPLETION_TOKENS), completion);
    host.counter_add(&name(metrics::ERRORS), u64::from(error));
}
