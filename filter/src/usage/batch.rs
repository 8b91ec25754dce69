//! Per-worker batching of the usage ledger and the usage counters (`usage_flush_ms`).
//! Written per request, they cost two shared-data calls and three to five metric calls, a
//! sizeable share of a translated request (measured with bench/icount.py; host call
//! costs in bench/hostcalls.md).
//! Batched, a worker adds into memory and writes the sums once per interval: at the
//! first request after the interval and on the root context's tick, so nothing waits
//! longer than about one interval after traffic stops. Limits and budgets do not read
//! these (they keep their own exact, per-request reservations), only `/v1/usage`'s
//! per-target totals and Prometheus do, and both tolerate a second of lag.

use std::rc::Rc;

use super::metrics::Names;
use crate::host::Host;
use crate::state::ledger::{self, Counters, FIELDS};
use rustc_hash::FxHashMap;

/// The per-request counters of one label set, in `Usage::counts` order.
pub const COUNTS: usize = 5;

/// One request's usage, as `account` records it.
pub struct Usage<'a> {
    pub names: &'a Rc<Names>,
    /// The ledger key (built only when the label set is first seen in an interval).
    pub ledger_key: &'a dyn Fn() -> String,
    pub row: &'a Counters,
    /// requests, prompt tokens, completion tokens, cost, estimated.
    pub counts: [u64; COUNTS],
}

/// Sums for one label set.
struct Row {
    /// Held so that the pointer keying this row cannot be reused while it is pending.
    names: Rc<Names>,
    ledger_key: String,
    ledger: Counters,
    counts: [u64; COUNTS],
}

/// What one worker holds until the next flush (owned by `state::Worker`).
#[derive(Default)]
pub struct Pending {
    /// When the oldest unwritten count was added.
    since_ms: Option<u64>,
    /// By the address of the label set's cached `Names`: one integer lookup per request
    /// instead of one lookup by a ~150-byte metric name per counter.
    rows: FxHashMap<usize, Row>,
    /// Rare counters (errors, fallbacks) by name.
    counters: FxHashMap<String, u64>,
}

fn add_all(into: &mut [u64], delta: &[u64]) {
    for (c, d) in into.iter_mut().zip(delta) {
        *c = c.saturating_add(*d);
    }
}

impl Pending {
    /// One request's ledger row and counters (starts the interval if nothing was pending).
    pub fn add_usage(&mut self, u: &Usage<'_>, now_ms: u64) {
        self.since_ms.get_or_insert(now_ms);
        let id = Rc::as_ptr(u.names) as usize;
        match self.rows.get_mut(&id) {
            Some(row) => {
                add_all(&mut row.ledger, u.row);
                add_all(&mut row.counts, &u.counts);
            }
            None => {
                self.rows.insert(
                    id,
                    Row {
                        names: u.names.clone(),
                        ledger_key: (u.ledger_key)(),
                        ledger: *u.row,
                        counts: u.counts,
                    },
                );
            }
        }
    }

    /// One increment of a rare counter (zeros too, so that every series exists from the
    /// first request on); written with the next flush.
    pub fn add_counter(&mut self, name: &str, delta: u64) {
        match self.counters.get_mut(name) {
            Some(c) => *c = c.saturating_add(delta),
            None => {
                self.counters.insert(name.to_string(), delta);
            }
        }
    }

    /// The oldest pending count has waited `flush_ms` or more.
    pub fn due(&self, now_ms: u64, flush_ms: u64) -> bool {
        self.since_ms
            .is_some_and(|s| now_ms.saturating_sub(s) >= flush_ms)
    }

    /// Write every count: one ledger update per label set, one increment per counter.
    pub fn write(self, host: &mut dyn Host) {
        for row in self.rows.values() {
            if row.ledger != [0; FIELDS] && !ledger::add(host, &row.ledger_key, &row.ledger) {
                log::warn!("llm-gateway: a usage ledger update was lost (shared data refused it)");
            }
            for (name, delta) in row.names.counted().into_iter().zip(row.counts) {
                host.counter_add(name, delta);
            }
        }
        for (name, delta) in &self.counters {
            host.counter_add(name, *delta);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::FakeHost;
    use crate::usage::metrics;

    #[test]
    fn sums_until_flushed_then_writes_once() {
        let mut h = FakeHost::default();
        let key = crate::state::keys::usage("m", "p", "u");
        let names = std::rc::Rc::new(metrics::Names::new(&metrics::Labels {
            operation: "chat",
            provider: "openai",
            llm_provider: "p",
            request_model: "m",
            response_model: "u",
            key: "k",
        }));
        let mut p = Pending::default();
        for (row, now) in [([1, 10, 5, 0, 7], 1_000), ([1, 3, 2, 1, 0], 1_400)] {
            p.add_usage(
                &Usage {
                    names: &names,
                    ledger_key: &|| crate::state::keys::usage("m", "p", "u"),
                    row: &row,
                    counts: [1, row[1], row[2], row[4], 0],
                },
                now,
            );
            p.add_counter("err", 1);
        }
        assert!(!p.due(1_999, 1_000));
        assert!(p.due(2_000, 1_000));
        assert_eq!(ledger::read(&h, &key), None);
        std::mem::take(&mut p).write(&mut h);
        assert_eq!(ledger::read(&h, &key), Some([2, 13, 7, 1, 7]));
        assert_eq!(h.counters.get(&names.requests), Some(&2));
        assert_eq!(h.counters.get(&names.prompt_tokens), Some(&13));
        assert_eq!(h.counters.get(&names.completion_tokens), Some(&7));
        assert_eq!(h.counters.get(&names.cost), Some(&7));
        // A zero delta still defines the series.
        assert_eq!(h.counters.get(&names.estimated), Some(&0));
        assert_eq!(h.counters.get("err"), Some(&2));
        assert!(!p.due(u64::MAX, 1_000));
        p.write(&mut h); // nothing pending: nothing written twice
        assert_eq!(ledger::read(&h, &key), Some([2, 13, 7, 1, 7]));
        assert_eq!(h.counters.get(&names.requests), Some(&2));
    }
}
