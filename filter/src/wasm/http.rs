//! HTTP context: each callback hands over to `gateway::Exchange`.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action as WasmAction;

use super::envoy_host::{EnvoyHost, Metrics};
use crate::config::Config;
use crate::error::GatewayError;
use crate::gateway::{Action, Exchange};
use crate::host::Host;
use crate::state::Worker;

pub struct Http {
    exchange: Option<Exchange>,
    host: EnvoyHost,
}

impl Http {
    pub fn new(cfg: Option<Rc<Config>>, worker: Rc<Worker>, metrics: Metrics) -> Self {
        Http {
            exchange: cfg.map(|cfg| Exchange::new(cfg, worker)),
            host: EnvoyHost::new(metrics),
        }
    }
}

fn to_wasm(a: Action) -> WasmAction {
    match a {
        Action::Continue => WasmAction::Continue,
        Action::Pause | Action::Buffer => WasmAction::Pause,
    }
}

impl Context for Http {
    /// The answer to a call this request made (fleet admission, fleet usage).
    fn on_http_call_response(
        &mut self,
        token: u32,
        _headers: usize,
        body_size: usize,
        _trailers: usize,
    ) {
        let answer = super::callout::answer(body_size);
        if let Some(x) = &mut self.exchange {
            x.on_call_answer(&mut self.host, token, answer);
        }
    }
}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _n: usize, end_of_stream: bool) -> WasmAction {
        let Some(x) = &mut self.exchange else {
            let e = GatewayError::internal("gateway is not configured");
            self.host.send_local_response(
                500,
                &[("content-type", "application/json")],
                &e.to_json(),
            );
            return WasmAction::Pause;
        };
        to_wasm(x.on_request_headers(&mut self.host, end_of_stream))
    }

    fn on_http_request_body(&mut self, size: usize, end_of_stream: bool) -> WasmAction {
        match &mut self.exchange {
            Some(x) => to_wasm(x.on_request_body(&mut self.host, size, end_of_stream)),
            None => WasmAction::Continue,
        }
    }

    fn on_http_request_trailers(&mut self, _n: usize) -> WasmAction {
        match &mut self.exchange {
            Some(x) => to_wasm(x.on_request_trailers(&mut self.host)),
            None => WasmAction::Continue,
        }
    }

    fn on_http_response_headers(&mut self, _n: usize, end_of_stream: bool) -> WasmAction {
        match &mut self.exchange {
            Some(x) => to_wasm(x.on_response_headers(&mut self.host, end_of_stream)),
            None => WasmAction::Continue,
        }
    }

    fn on_http_response_body(&mut self, size: usize, end_of_stream: bool) -> WasmAction {
        match &mut self.exchange {
            Some(x) => to_wasm(x.on_response_body(&mut self.host, size, end_of_stream)),
            None => WasmAction::Continue,
        }
    }

    fn on_log(&mut self) {
        if let Some(x) = &mut self.exchange {
            x.on_log(&mut self.host);
        }
    }
}
