//! One request's state in the gateway (or per-attempt) position.

use std::rc::Rc;

use super::flight::Flight;
use super::inbound::Endpoint;
use crate::config::{Config, Target};
use crate::error::GatewayError;
use crate::host::Host;
use crate::state::Worker;

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
    pub(super) cfg: Rc<Config>,
    pub(super) worker: Rc<Worker>,
    pub(super) state: State,
    /// Index of the authenticated caller in `cfg.access.keys`.
    pub(super) caller: Option<usize>,
    pub(super) start_ms: u64,
    /// The request headers as read at the headers callback.
    pub(super) request_headers: crate::headers::Headers,
    /// Per-attempt position: the endpoint's provider and model.
    pub(super) target: Option<Target>,
    /// Local errors go out in this endpoint's shape.
    pub(super) endpoint: Endpoint,
    /// Bytes of request body Envoy holds for us (the last body callback's size).
    pub(super) body_size: usize,
    /// The client's endpoint as a metric label (`observe::endpoint_label`).
    pub(super) endpoint_label: &'static str,
    /// Routing and limit decision, for the access log and `x-llm-decision`.
    pub(super) decision: super::decision::Decision,
    /// The client's `x-request-id` and path, for the access log.
    pub(super) request_id: Option<String>,
    pub(super) client_path: String,
    /// This request's span, when `traces` is configured.
    pub(super) trace: Option<crate::telemetry::trace_context::TraceContext>,
    /// Fleet mode: hex SHA-256 of a key the configuration does not list (the store's
    /// runtime keys decide at admission).
    pub(super) runtime_key: Option<String>,
}

pub(super) enum State {
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
    /// Fleet mode: rewritten and paused until the store admits it (`fleet_admit`).
    Admitting(Box<Flight>),
    /// Fleet mode: answered by the gateway itself once the store admits it.
    Holding(Box<super::count_tokens::Held>),
    /// Fleet mode: `GET /v1/usage` waits for the store's totals (`fleet_usage`).
    Reporting {
        token: u32,
        now: u64,
    },
    /// Fleet mode: `GET /llm/state` waits for the store's windows and spend (`fleet_state`).
    ReadingLimits {
        token: u32,
        now: u64,
    },
    /// A stored-response call went to the provider (`stored_relay`); its answer is then
    /// held whole, or a stream, to be redacted.
    Stored,
    StoredHeld,
    StoredStream,
    /// The request is over (`on_log`); a forwarded one was accounted.
    Done,
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
            endpoint_label: "other",
            decision: Default::default(),
            request_id: None,
            client_path: String::new(),
            trace: None,
            runtime_key: None,
        }
    }

    pub(super) fn asked(&self) -> super::access_log::Asked<'_> {
        super::access_log::Asked {
            path: &self.client_path,
            request_id: self.request_id.as_deref(),
            decision: &self.decision,
        }
    }

    pub(super) fn reply_error(&mut self, host: &mut dyn Host, e: &GatewayError) -> Action {
        super::observe::refusal(host, self.endpoint_label, e);
        super::access_log::refusal(&self.asked(), host, e.status, e.code.unwrap_or(e.kind));
        let decision = super::access_log::header(&self.cfg, self.caller, &self.decision, None);
        let body = self.endpoint.error_body(e);
        let retry = e.retry_after.map(|s| s.to_string());
        let mut headers = vec![("content-type", "application/json")];
        if let Some(r) = &retry {
            headers.push(("retry-after", r.as_str()));
        }
        for (k, v) in &e.headers {
            headers.push((k, v.as_str()));
        }
        if let Some((k, v)) = &decision {
            headers.push((k, v.as_str()));
        }
        host.send_local_response(e.status, &headers, &body);
        self.state = State::Replied;
        Action::Pause
    }
}
