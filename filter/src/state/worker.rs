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
use crate::telemetry::histogram::Record;
use crate::telemetry::series::{self, SeriesLabels};
use crate::telemetry::span::{Queue, Span};
use crate::usage::batch::{Pending, Usage};
use crate::usage::metrics::{Labels, NameCache, Names};

#[derive(Default)]
pub struct Worker {
    /// Usage and counters not yet written (`usage_flush_ms`).
    pending: RefCell<Pending>,
    /// Metric names per label set, with the host's histogram ids.
    names: RefCell<NameCache>,
    /// GenAI histograms not yet written (always batched: they are written on the tick).
    histograms: RefCell<series::Pending>,
    /// Finished spans for the root context's exporter (`traces`).
    spans: Rc<RefCell<Queue>>,
    /// Fleet mode: reconciliations and spend for the store, sent by the reporting job.
    fleet: Rc<RefCell<Outbox>>,
}

impl Worker {
    /// The metric names of one label set, built once per worker.
    pub fn names(&self, labels: &Labels<'_>) -> Rc<Names> {
        match self.names.try_borrow_mut() {
            Ok(mut cache) => cache.get(labels),
            // Unreachable (borrows never overlap); a name built afresh is still correct.
            Err(_) => Rc::new(Names::new(labels)),
        }
    }

    /// One request's GenAI histogram observations, into memory until the next tick.
    pub fn observe(&self, labels: &SeriesLabels<'_>, f: impl FnOnce(&mut Record)) {
        if let Ok(mut h) = self.histograms.try_borrow_mut() {
            h.observe(labels, f);
        }
    }

    /// The span queue the exporter drains.
    pub fn span_queue(&self) -> Rc<RefCell<Queue>> {
        self.spans.clone()
    }

    /// One finished span for export (dropped and counted beyond `cap` waiting).
    pub fn push_span(&self, span: Span, cap: usize) {
        if let Ok(mut q) = self.spans.try_borrow_mut() {
            q.push(span, cap);
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
        let dropped = self
            .spans
            .try_borrow_mut()
            .map(|mut q| std::mem::take(&mut q.dropped))
            .unwrap_or(0);
        if dropped > 0 {
            host.counter_add(crate::usage::metrics::SPANS_DROPPED, dropped);
        }
        let histograms = match self.histograms.try_borrow_mut() {
            Ok(mut h) => std::mem::take(&mut *h),
            Err(_) => return,
        };
        histograms.write(host);
    }
}
