//! Per-worker state: what one Envoy worker (one Wasm VM, one thread) keeps between
//! requests. The root context owns it and lends it to every HTTP context, so nothing
//! here is a global: tests get a fresh one per exchange or share one on purpose.
//!
//! Not here, by choice: tiktoken's tables (`usage::tokenizer`) stay a lazily built
//! per-VM static. They are a pure function of data compiled into the binary (no
//! configuration, nothing to flush), built once off the request path, and read deep
//! inside the estimators, which would otherwise need a handle threaded through.

use std::cell::RefCell;
use std::rc::Rc;

use crate::fleet::outbox::Outbox;
use crate::host::Host;
use crate::usage::batch::{Pending, Usage};
use crate::usage::metrics::{NameCache, Names};

#[derive(Default)]
pub struct Worker {
    /// Usage and counters not yet written (`usage_flush_ms`).
    pending: RefCell<Pending>,
    /// Metric names per label set, with the host's histogram ids.
    names: RefCell<NameCache>,
    /// Fleet mode: reconciliations and spend for the store, sent by the reporting job.
    fleet: Rc<RefCell<Outbox>>,
}

impl Worker {
    /// The metric names of one label set, built once per worker.
    pub fn names(&self, model: &str, provider: &str, response_model: &str, key: &str) -> Rc<Names> {
        match self.names.try_borrow_mut() {
            Ok(mut cache) => cache.get(model, provider, response_model, key),
            // Unreachable (borrows never overlap); a name built afresh is still correct.
            Err(_) => Rc::new(Names::new(model, provider, response_model, key)),
        }
    }

    /// The fleet outbox (shared with the reporting job).
    pub fn fleet_outbox(&self) -> Rc<RefCell<Outbox>> {
        self.fleet.clone()
    }

    /// One request's usage into the batch.
    pub fn add_usage(&self, u: &Usage<'_>, now_ms: u64) {
        if let Ok(mut p) = self.pending.try_borrow_mut() {
            p.add_usage(u, now_ms);
        }
    }

    /// One increment of a rare counter into the batch.
    pub fn add_counter(&self, name: &str, delta: u64) {
        if let Ok(mut p) = self.pending.try_borrow_mut() {
            p.add_counter(name, delta);
        }
    }

    /// The oldest pending count has waited `flush_ms` or more.
    pub fn due(&self, now_ms: u64, flush_ms: u64) -> bool {
        self.pending
            .try_borrow()
            .is_ok_and(|p| p.due(now_ms, flush_ms))
    }

    /// Write everything pending (on an interval, a tick, a new configuration, teardown).
    pub fn flush(&self, host: &mut dyn Host) {
        let pending = match self.pending.try_borrow_mut() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => return,
        };
        pending.write(host);
    }
}
