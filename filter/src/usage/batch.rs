//! Per-worker batching of the usage ledger and the usage counters (`usage_flush_ms`).
//! Written per request, they cost two shared-data calls and three to five metric calls:
//! ~27k of the ~475k instructions Envoy spends on a translated request (bench/icount.py).
//! Batched, a worker adds into memory and writes the sums once per interval: at the
//! first request after the interval and on the root context's tick, so nothing waits
//! longer than about one interval after traffic stops. Limits and budgets do not read
//! these (they keep their own exact, per-request reservations), only `/v1/usage`'s
//! per-target totals and Prometheus do, and both tolerate a second of lag.

use std::cell::RefCell;

use super::ledger::{self, Counters, FIELDS};
use crate::fxhash::FxHashMap;
use crate::host::Host;

#[derive(Default)]
struct Pending {
    /// When the oldest unwritten count was added.
    since_ms: Option<u64>,
    ledger: FxHashMap<String, Counters>,
    counters: FxHashMap<String, u64>,
}

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
}

/// One request's ledger row (starts the interval if nothing was pending).
pub fn add_row(ledger_key: &str, delta: &Counters, now_ms: u64) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        p.since_ms.get_or_insert(now_ms);
        match p.ledger.get_mut(ledger_key) {
            Some(row) => {
                for (c, d) in row.iter_mut().zip(delta) {
                    *c = c.saturating_add(*d);
                }
            }
            None => {
                p.ledger.insert(ledger_key.to_string(), *delta);
            }
        }
    })
}

/// One counter increment (zeros too, so that every series exists from the first
/// request on); written with the next flush of the row added alongside.
pub fn add_counter(name: &str, delta: u64) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        match p.counters.get_mut(name) {
            Some(c) => *c = c.saturating_add(delta),
            None => {
                p.counters.insert(name.to_string(), delta);
            }
        }
    })
}

/// The oldest pending count has waited `flush_ms` or more.
pub fn due(now_ms: u64, flush_ms: u64) -> bool {
    PENDING.with(|p| {
        p.borrow()
            .since_ms
            .is_some_and(|s| now_ms.saturating_sub(s) >= flush_ms)
    })
}

/// Write every pending count: one ledger update per target, one increment per counter.
pub fn flush(host: &mut dyn Host) {
    let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    for (key, delta) in &pending.ledger {
        if delta != &[0; FIELDS] && !ledger::add(host, key, delta) {
            log::warn!("llm-gateway: a usage ledger update was lost (shared data refused it)");
        }
    }
    for (name, delta) in &pending.counters {
        host.counter_add(name, *delta);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::FakeHost;

    #[test]
    fn sums_until_flushed_then_writes_once() {
        let mut h = FakeHost::default();
        let key = ledger::usage_key("m", "p", "u");
        for (row, now) in [([1, 10, 5, 0, 7], 1_000), ([1, 3, 2, 1, 0], 1_400)] {
            add_row(&key, &row, now);
            add_counter("req", 1);
            add_counter("est", 0);
        }
        assert!(!due(1_999, 1_000));
        assert!(due(2_000, 1_000));
        assert_eq!(ledger::read(&h, &key), None);
        flush(&mut h);
        assert_eq!(ledger::read(&h, &key), Some([2, 13, 7, 1, 7]));
        assert_eq!(h.counters.get("req"), Some(&2));
        // A zero delta still defines the series.
        assert_eq!(h.counters.get("est"), Some(&0));
        assert!(!due(u64::MAX, 1_000));
        flush(&mut h); // nothing pending: nothing written twice
        assert_eq!(ledger::read(&h, &key), Some([2, 13, 7, 1, 7]));
        assert_eq!(h.counters.get("req"), Some(&2));
    }
}
