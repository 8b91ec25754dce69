//! Fleet mode: limits, budgets and the spend ledger shared by every Envoy through a
//! store (the `llm-store` adapter over Redis, README "Fleet mode"), reached only as an
//! Envoy cluster. A request's admission is one call (`admit`) that reserves atomically
//! in the store; reconciliations and spend are batched per worker (`outbox`) and sent
//! on a timer by a root-context job (`job`) whose batches the store applies once.
//!
//! Plain Rust: the gateway and the root context do the host calls.

pub mod dates;
pub mod job;
pub mod outbox;
pub mod plan;
pub mod reserved;
pub mod wire;
