//! proxy-wasm glue: the root context (configuration) and the HTTP context, each
//! callback a few lines that hand over to `gateway::Exchange` through `EnvoyHost`.
//! With `alloc.rs`, the only place `unsafe` is allowed: the host calls in `abi.rs`.
//! Only `map` (the header map format) is compiled natively, for its tests.

#![allow(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod abi;
#[cfg(target_arch = "wasm32")]
mod callout;
#[cfg(target_arch = "wasm32")]
mod credential_metrics;
#[cfg(target_arch = "wasm32")]
mod envoy_host;
#[cfg(target_arch = "wasm32")]
mod http;
mod map;
#[cfg(target_arch = "wasm32")]
mod root;

#[cfg(target_arch = "wasm32")]
proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_| Box::new(root::Root::default()));
}}
