//! proxy-wasm glue: the root context (configuration) and the HTTP context, each
//! callback a few lines that hand over to `gateway::Exchange` through `EnvoyHost`.

mod abi;
mod envoy_host;
mod http;
mod root;

use proxy_wasm::types::LogLevel;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| Box::new(root::Root::default()));
}}
