#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! All wasm-host tests in one binary (each test binary links wasmtime, which is slow under the
//! workspace's fat-LTO release profile). Run one part with e.g.
//! `cargo test -p wasm-host --test suite gateway_fuzz`.

mod common;
mod emulator;
mod gateway_config;
mod gateway_credentials;
mod gateway_edges;
mod gateway_endings;
mod gateway_fuzz;
mod gateway_golden;
mod gateway_hostile_new;
mod gateway_json;
mod gateway_schema;
mod gateway_teardown;
mod gateway_workers;
