//! Work the root context does off the request path, on a timer: fetching credentials,
//! exporting telemetry, talking to a shared store. Each piece is a [`Job`]; the root
//! context ticks the jobs and routes the answers of the HTTP calls they start
//! (`dispatch_http_call` to an Envoy cluster) back to the job that started them.
//!
//! Plain Rust: `wasm/root.rs` is the only caller that talks to Envoy, so every job is
//! tested natively with [`Jobs`] and a fake [`Calls`].

mod call;
mod jobs;

pub use call::{Answer, Call, Calls, Job};
pub use jobs::Jobs;
