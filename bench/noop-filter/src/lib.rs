//! A do-nothing filter with the gateway's callback shape (see Cargo.toml).
//!
//! Built with `PROBE=<kind>` in the environment it also makes one kind of host call
//! `PROBE_CALLS` times per request (`bench/hostcalls.py`): its instruction count minus the
//! plain no-op's, divided by ten, is what one such call costs in Envoy and V8.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel};

mod probe;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root) });
}}

struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn create_http_context(&self, _id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Noop))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Noop;

impl Context for Noop {}

impl HttpContext for Noop {
    fn on_http_request_headers(&mut self, _n: usize, end_of_stream: bool) -> Action {
        probe::on_request_headers();
        if end_of_stream {
            Action::Continue
        } else {
            Action::Pause
        }
    }

    fn on_http_request_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            return Action::Pause;
        }
        if let Ok(Some(body)) =
            proxy_wasm::hostcalls::get_buffer(BufferType::HttpRequestBody, 0, size)
        {
            let _ = proxy_wasm::hostcalls::set_buffer(BufferType::HttpRequestBody, 0, size, &body);
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _n: usize, _end_of_stream: bool) -> Action {
        probe::on_response_headers();
        Action::Continue
    }

    fn on_http_response_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            return Action::Pause;
        }
        if let Ok(Some(body)) =
            proxy_wasm::hostcalls::get_buffer(BufferType::HttpResponseBody, 0, size)
        {
            probe::on_response_body(size, &body);
        }
        Action::Continue
    }
}
