//! State that outlives one request, in one place.
//!
//! Shared data (every worker of one Envoy reads and writes it): the keys (`keys`), their
//! byte encodings (`words` and each value's module), the one compare-and-swap helper
//! (`cas`), and the reads and writes of target health and latency, the usage ledger,
//! per-period totals and rate-limit windows. Per-worker state (batched usage, metric
//! names) is one `Worker`, owned by the root context.

pub mod cas;
pub mod health;
pub mod keys;
pub mod ledger;
pub mod periods;
pub mod rate;
pub mod words;
pub mod worker;

pub use worker::Worker;
