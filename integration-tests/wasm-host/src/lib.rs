//! A proxy-wasm host for tests: runs a plugin `.wasm` (proxy-wasm ABI 0.2.1, as built with the
//! Rust SDK 0.2.x for `wasm32-wasip1`) in wasmtime and emulates what Envoy does around it.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! let host = wasm_host::Host::new()?;
//! let mut vm = host.vm("target/wasm32-wasip1/release/llm_gateway.wasm", "{}", &[])?;
//! assert!(vm.configure());
//! let mut req = vm.request()?;
//! req.send_request_headers(&[(":method", "POST"), (":path", "/v1/chat/completions")], false)?;
//! req.send_request_body(b"{}", true)?;
//! println!("{:?}", req.local_reply());
//! req.finish()?;
//! # Ok(())
//! # }
//! ```
//!
//! Envoy behaviour reproduced on purpose (proxy-wasm-cpp-host `exports.cc`, Envoy
//! `extensions/common/wasm/context.cc`):
//! * a header map is only reachable while Envoy holds its pointer: request headers during
//!   `on_http_request_headers` and afterwards only if that callback paused; response headers
//!   likewise. Reading an unavailable map with `proxy_get_header_map_value` is BadArgument
//!   (the Rust SDK panics), writing it is silently ignored (the emulator records a warning).
//! * body buffers: in a body callback the buffer is the current chunk, or everything buffered
//!   so far plus the chunk after a `Pause`. `proxy_get_buffer_bytes` clips the range;
//!   `proxy_set_buffer_bytes` on a body: start 0 drains `size` bytes then prepends, start ≥ length
//!   appends, anything else BadArgument; outside body callbacks BadArgument (SDK panic).
//! * empty results (body, property, shared-data value) come back as a null pointer, which the
//!   SDK turns into `None`.
//! * `proxy_send_local_response` acts after the callback returns, and the reply passes through
//!   the plugin's own `on_http_response_headers`/`_body` when no upstream response started.
//! * `Pause` from a headers callback needs `allow_on_headers_stop_iteration` (on by default
//!   here, as in the project's config); without it the body never comes and the emulator fails
//!   the call.
//! * shared data CAS: one global counter, cas 0 writes unconditionally, a mismatch is
//!   `CasMismatch`; counters defined with the same name are one stat across VMs; incrementing a
//!   counter by ≤ 0 is BadArgument.
//! * a trap kills the VM: the error carries the panic message the SDK's hook logged at
//!   critical level, and every later call on that VM fails.

mod abi;
mod bench;
mod headers;
mod host;
mod imports;
mod stream;
mod vm;

pub use abi::LogLevel;
pub use bench::{bench_requests, BenchReport, Scenario};
pub use headers::HeaderMap;
pub use host::{Host, LogEntry, MetricKind, Wasm};
pub use stream::{Action, ForeignCall, LocalReply, Request};
pub use vm::{HttpCall, Vm, VmConfig};

/// Path of the release build of the gateway filter, relative to the workspace root.
pub const FILTER_WASM: &str = "target/wasm32-wasip1/release/llm_gateway.wasm";

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> std::path::PathBuf {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .nth(2)
        .map_or_else(|| here.to_path_buf(), std::path::Path::to_path_buf)
}

/// Absolute path of the release gateway filter (`$LLM_GATEWAY_WASM` overrides it).
pub fn filter_wasm_path() -> std::path::PathBuf {
    match std::env::var_os("LLM_GATEWAY_WASM") {
        Some(p) => std::path::PathBuf::from(p),
        None => workspace_root().join(FILTER_WASM),
    }
}
