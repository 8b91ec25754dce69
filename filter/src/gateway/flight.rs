//! A request that went upstream: what the client asked, where it went, what it was
//! admitted with, and the answer as it arrives.

use super::access::Admission;
use super::inbound::{Endpoint, Inbound};
use crate::config::Target;
use crate::headers::Headers;
use crate::routing::health::HealthState;
use crate::telemetry::chunk_gaps::ChunkGaps;
use crate::translate::embeddings::Shape;
use crate::translate::finish::FinishReasons;
use crate::translate::StreamMapper;
use crate::usage::plausible::Bound;
use crate::usage::TokenUsage;

pub struct Flight {
    pub ask: Ask,
    pub route: Route,
    pub bill: Bill,
    pub answer: Answer,
    /// Prompt and completion for the span (`traces.capture_content`).
    pub capture: Option<Box<super::capture::Capture>>,
}

/// What the client asked for.
pub struct Ask {
    pub endpoint: Endpoint,
    /// The model as requested (a virtual model, an alias or `provider/model`).
    pub model: String,
    pub stream: bool,
    pub client_wants_usage: bool,
    /// `/v1/embeddings`: encoding and input count for translating the answer.
    pub embeddings: Shape,
    /// `/v1/responses`: tool names to map back in the answer.
    pub responses: crate::translate::responses::Shape,
}

/// Where the request went, and what routing learns from the answer.
pub struct Route {
    pub target: Target,
    /// The target's shared health when it was chosen: a success on a target that was
    /// healthy then needs no shared-data read to record.
    pub health_at_request: HealthState,
    /// The model routes by latency: keep its moving average up to date.
    pub track_latency: bool,
}

/// What the request is charged against, fixed before the call.
pub struct Bill {
    pub admission: Admission,
    /// Prompt tokens estimated before the call (used only if the provider reports none).
    pub estimate: u64,
    /// The most usage the request can plausibly cost; reported beyond it is refused.
    pub usage_bound: Bound,
}

/// How far the answer got, as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Still arriving, or cut before its end.
    Open,
    /// Ended, and nothing in it failed (its status still says whether it succeeded).
    Clean,
    /// Ended in an error: a provider's error, a stream's error event, or one of ours.
    Failed,
}

/// The answer as it arrives.
pub struct Answer {
    pub status: u16,
    pub response: ResponseMode,
    pub usage: TokenUsage,
    pub finish: Finish,
    pub first_byte_ms: Option<u64>,
    /// Bytes of a buffered answer received so far (charged if it never completes).
    pub received_bytes: u64,
    /// A 2xx answer the client never got whole: Envoy replaced it with its own reply
    /// (upstream cut, over the buffer limit), or it ended before its content-length.
    pub undelivered_success: bool,
    /// The provider's response headers, kept for translating a buffered body.
    pub response_headers: Headers,
    /// Through a failover cluster: (provider, model) that finally served, from the
    /// per-attempt filter's response headers.
    pub served: Option<(String, String)>,
    /// Attempts Envoy made (`x-envoy-attempt-count`); above 1 is a fallback.
    pub attempts: u32,
    /// The Responses API: the created response's owner is in `response_owner`.
    pub owner_recorded: bool,
    /// A buffered answer's finish reasons (a stream's are its mapper's).
    pub finish_reasons: FinishReasons,
    /// A stream's time between output chunks.
    pub chunk_gaps: ChunkGaps,
}

pub enum ResponseMode {
    Waiting,
    Buffering,
    Streaming(Box<dyn StreamMapper>),
    /// Nothing to translate (e.g. an upstream answer without a body).
    Passing,
}

impl Flight {
    /// `req` (whose body was `raw_len` bytes) goes to `route.target` now.
    pub fn new(
        req: &Inbound,
        raw_len: usize,
        route: Route,
        admission: Admission,
        estimate: u64,
    ) -> Flight {
        Flight {
            ask: Ask {
                endpoint: req.endpoint(),
                model: req.model().to_string(),
                stream: req.is_stream(),
                client_wants_usage: req.wants_usage_chunk(),
                embeddings: req.embeddings_shape(),
                responses: req.responses_shape(),
            },
            route,
            bill: Bill {
                admission,
                estimate,
                usage_bound: req.usage_bound(raw_len),
            },
            answer: Answer {
                status: 0,
                response: ResponseMode::Waiting,
                usage: TokenUsage::default(),
                finish: Finish::Open,
                first_byte_ms: None,
                received_bytes: 0,
                undelivered_success: false,
                response_headers: Headers::default(),
                served: None,
                attempts: 1,
                owner_recorded: false,
                finish_reasons: FinishReasons::default(),
                chunk_gaps: ChunkGaps::default(),
            },
            capture: None,
        }
    }

    /// The answer ended; a failure recorded before stays.
    pub fn end(&mut self) {
        if self.answer.finish == Finish::Open {
            self.answer.finish = Finish::Clean;
        }
    }

    /// The answer ended in an error.
    pub fn fail(&mut self) {
        self.answer.finish = Finish::Failed;
    }

    /// How the answer's choices ended, as far as the client got them.
    pub fn finish_reasons(&self) -> &FinishReasons {
        match &self.answer.response {
            ResponseMode::Streaming(m) => m.finish_reasons(),
            _ => &self.answer.finish_reasons,
        }
    }
}
