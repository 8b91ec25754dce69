//! The per-request flow in the gateway position, written against `Host` so it runs
//! natively in tests. The proxy-wasm glue calls one method per Envoy callback.

mod access;
mod account;
mod attempt;
mod charge;
mod inbound;
mod models_api;
mod redact;
mod request;
mod response;
mod retry_after;
mod usage_api;

use std::rc::Rc;

use crate::config::{Config, Role, Target};
use crate::error::GatewayError;
use crate::host::Host;
use crate::state::Worker;
use crate::translate::StreamMapper;
use crate::usage::TokenUsage;
use inbound::Endpoint;

/// What the glue tells Envoy after a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Continue,
    /// Stop iteration (headers) — the body callbacks still come.
    Pause,
    /// Stop and keep buffering the body until end of stream.
    Buffer,
}

pub struct Exchange {
    cfg: Rc<Config>,
    worker: Rc<Worker>,
    state: State,
    /// Index of the authenticated caller in `cfg.access.keys`.
    caller: Option<usize>,
    start_ms: u64,
    /// The request headers as read at the headers callback.
    request_headers: crate::headers::Headers,
    /// Per-attempt position: the endpoint's provider and model.
    target: Option<Target>,
    /// Local errors go out in this endpoint's shape.
    endpoint: Endpoint,
    /// Bytes of request body Envoy holds for us (the last body callback's size).
    body_size: usize,
}

enum State {
    /// Not a request for the gateway (passed through untouched).
    Ignored,
    ReadingBody(Endpoint),
    /// The body is too large: read to its end and dropped, then refused (see `drain`).
    Draining {
        seen: usize,
    },
    /// A local reply was sent.
    Replied,
    Forwarded(Box<Flight>),
}

/// A request that went upstream.
struct Flight {
    endpoint: Endpoint,
    model: String,
    target: Target,
    stream: bool,
    client_wants_usage: bool,
    status: u16,
    response: ResponseMode,
    usage: TokenUsage,
    error: bool,
    completed: bool,
    accounted: bool,
    admission: access::Admission,
    /// Prompt tokens estimated before the call (used only if the provider reports none).
    estimate: u64,
    /// The most usage the request can plausibly cost; reported beyond it is refused.
    usage_bound: crate::usage::plausible::Bound,
    /// `/v1/embeddings`: encoding and input count for translating the answer.
    embeddings: crate::translate::embeddings::Shape,
    first_byte_ms: Option<u64>,
    /// Through a failover cluster: (provider, model) that finally served, from the
    /// per-attempt filter's response headers.
    served: Option<(String, String)>,
    /// Attempts Envoy made (`x-envoy-attempt-count`); above 1 is a fallback.
    attempts: u32,
    /// The target's shared health when it was chosen: a success on a target that was
    /// healthy then needs no shared-data read to record.
    health_at_request: crate::routing::health::HealthState,
    /// The model routes by latency: keep its moving average up to date.
    track_latency: bool,
    /// Bytes of a buffered answer received so far (charged if it never completes).
    received_bytes: u64,
    /// A 2xx answer the client never got whole: Envoy replaced it with its own reply
    /// (upstream cut, over the buffer limit), or it ended before its content-length.
    undelivered_success: bool,
    /// The provider's response headers, kept for translating a buffered body.
    response_headers: crate::headers::Headers,
}

enum ResponseMode {
    Waiting,
    Buffering,
    Streaming(Box<dyn StreamMapper>),
    /// Nothing to translate (e.g. an upstream answer without a body).
    Passing,
}

impl Exchange {
    pub fn new(cfg: Rc<Config>, worker: Rc<Worker>) -> Self {
        Exchange {
            cfg,
            worker,
            state: State::Ignored,
            caller: None,
            start_ms: 0,
            request_headers: Default::default(),
            target: None,
            endpoint: Endpoint::Chat,
            body_size: 0,
        }
    }

    pub fn on_request_headers(&mut self, host: &mut dyn Host, end_of_stream: bool) -> Action {
        match self.cfg.role {
            Role::Gateway => request::on_headers(self, host, end_of_stream),
            Role::Upstream => attempt::on_headers(self, host, end_of_stream),
        }
    }

    pub fn on_request_body(&mut self, host: &mut dyn Host, size: usize, eos: bool) -> Action {
        self.body_size = size;
        match self.cfg.role {
            Role::Gateway => request::on_body(self, host, size, eos),
            Role::Upstream => attempt::on_body(self, host, size, eos),
        }
    }

    /// Trailers end the request (Envoy's decompressor adds some): the body held so far
    /// is all there is.
    pub fn on_request_trailers(&mut self, host: &mut dyn Host) -> Action {
        match self.state {
            State::ReadingBody(_) | State::Draining { .. } => {
                let size = self.body_size;
                self.on_request_body(host, size, true)
            }
            _ => Action::Continue,
        }
    }

    pub fn on_response_headers(&mut self, host: &mut dyn Host, end_of_stream: bool) -> Action {
        response::on_headers(self, host, end_of_stream)
    }

    pub fn on_response_body(&mut self, host: &mut dyn Host, size: usize, eos: bool) -> Action {
        response::on_body(self, host, size, eos)
    }

    /// The request is over (completed, failed or abandoned): account it exactly once.
    pub fn on_log(&mut self, host: &mut dyn Host) {
        if self.cfg.role == Role::Upstream {
            return; // the gateway position accounts the request once, whatever the attempts
        }
        if let State::Forwarded(flight) = &mut self.state {
            account::record(
                &self.cfg,
                &self.worker,
                self.caller,
                self.start_ms,
                flight,
                host,
            );
        }
    }

    fn reply_error(&mut self, host: &mut dyn Host, e: &GatewayError) -> Action {
        let body = self.endpoint.error_body(e);
        let retry = e.retry_after.map(|s| s.to_string());
        let mut headers = vec![("content-type", "application/json")];
        if let Some(r) = &retry {
            headers.push(("retry-after", r.as_str()));
        }
        for (k, v) in &e.headers {
            headers.push((k, v.as_str()));
        }
        host.send_local_response(e.status, &headers, &body);
        self.state = State::Replied;
        Action::Pause
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_access;
#[cfg(test)]
mod tests_bedrock;
#[cfg(test)]
mod tests_embeddings;
#[cfg(test)]
mod tests_endings;
#[cfg(test)]
mod tests_family;
#[cfg(test)]
mod tests_forward;
#[cfg(test)]
mod tests_json;
#[cfg(test)]
mod tests_messages;
#[cfg(test)]
mod tests_plausible;
#[cfg(test)]
mod tests_relay;
