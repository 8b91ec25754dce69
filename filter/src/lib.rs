//! An OpenAI-shaped LLM gateway as an Envoy proxy-wasm filter.
//!
//! Everything but `wasm/` is plain Rust that runs natively in tests; `wasm/` is the
//! only code that names `proxy_wasm`, and (but for its map format) it is compiled only
//! for wasm32. `unsafe` is allowed in `wasm/` (host calls) and `alloc.rs` only.

#![deny(unsafe_code)]
// Tests build and inspect JSON freely; the code under test does not (filter/clippy.toml).
#![cfg_attr(test, allow(clippy::disallowed_types))]
// Errors are built at most once per request, on the path that answers it; carrying
// them unboxed keeps every signature simple at no measurable cost.
#![allow(clippy::result_large_err)]

mod alloc;
pub mod api;
pub mod aws;
pub mod background;
pub mod codec;
pub mod config;
pub mod credential;
pub mod error;
pub mod fleet;
pub mod gateway;
pub mod headers;
pub mod host;
pub mod limits;
pub mod routing;
pub mod state;
pub mod strs;
pub mod telemetry;
pub mod translate;
pub mod usage;

mod wasm;

// One thread per Wasm VM: the small-block lists need no locking there (see alloc.rs).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: alloc::SmallBlocks = alloc::SmallBlocks::new();

// Native unit tests count allocations per thread to bound a translation's work.
#[cfg(all(test, not(target_arch = "wasm32")))]
#[global_allocator]
static COUNTING: alloc::Counting = alloc::Counting;
