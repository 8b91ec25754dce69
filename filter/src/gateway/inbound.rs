//! The endpoints the gateway serves, each parsed and translated its own way. Routing
//! (model → target) is the same for all of them and lives in `request.rs`.
//!
//! Adding an endpoint = one `Endpoint` variant with its path, one `Inbound` variant,
//! and the match arms here and in `response.rs`. Provider support for an endpoint is
//! dispatched inside its translate module (e.g. `translate::embeddings`).

use crate::api::anthropic_server::MessagesRequest;
use crate::api::embeddings::EmbeddingsRequest;
use crate::api::openai::ChatRequest;
use crate::api::responses::ResponsesRequest;
use crate::codec::json_depth;
use crate::config::{Provider, TokenEstimator};
use crate::error::GatewayError;
use crate::translate::{self, messages, responses, UpstreamRequest};
use crate::usage::{estimate, plausible};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Chat,
    Embeddings,
    /// Anthropic Messages for Anthropic-shaped clients (errors in Anthropic's shape).
    Messages,
    /// `/v1/messages/count_tokens`: a Messages body, answered with its token count.
    CountTokens,
    /// OpenAI's Responses API (`POST /v1/responses`).
    Responses,
}

impl Endpoint {
    pub fn from_path(path: &str) -> Option<Endpoint> {
        match path {
            "/v1/chat/completions" => Some(Endpoint::Chat),
            "/v1/embeddings" => Some(Endpoint::Embeddings),
            "/v1/messages" => Some(Endpoint::Messages),
            "/v1/messages/count_tokens" => Some(Endpoint::CountTokens),
            "/v1/responses" => Some(Endpoint::Responses),
            _ => None,
        }
    }

    /// Its clients are Anthropic-shaped (and keep Anthropic's 529).
    pub fn anthropic_shaped(self) -> bool {
        matches!(self, Endpoint::Messages | Endpoint::CountTokens)
    }

    /// The error body for this endpoint's clients.
    pub fn error_body(self, e: &GatewayError) -> Vec<u8> {
        match self {
            Endpoint::Messages | Endpoint::CountTokens => messages::errors::to_json(e),
            Endpoint::Chat | Endpoint::Embeddings | Endpoint::Responses => e.to_json(),
        }
    }

    /// A stream that fails before it started, as this endpoint's clients read it: an
    /// error event (and `[DONE]` for OpenAI clients), as a failed stream ends.
    pub fn stream_error_body(self, e: &GatewayError) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Endpoint::Messages | Endpoint::CountTokens => {
                let kind = messages::errors::kind(e.status, e.kind);
                messages::errors::write_event(&mut out, kind, &e.message);
            }
            Endpoint::Chat | Endpoint::Embeddings => {
                crate::translate::chunks::write_error_end(&mut out, e)
            }
            Endpoint::Responses => {
                let code = e.code.unwrap_or(e.kind);
                responses::stream::write_error(&mut out, code, &e.message)
            }
        }
        out
    }
}

pub enum Inbound {
    Chat(ChatRequest),
    Embeddings(EmbeddingsRequest),
    Messages(MessagesRequest),
    Responses(Box<ResponsesInbound>),
}

/// A Responses request, and what its answer's translation needs from it.
pub struct ResponsesInbound {
    pub req: ResponsesRequest,
    pub shape: responses::Shape,
}

fn json_error(e: serde_json::Error) -> GatewayError {
    if e.is_syntax() || e.is_eof() {
        return GatewayError::bad_request(format!("request body is not valid JSON: {e}"));
    }
    let message = format!("invalid request body: {e}");
    match duplicate_field(&message) {
        Some(name) => GatewayError::bad_field(name.to_string(), message),
        None => GatewayError::bad_request(message),
    }
}

/// The key serde refused as given twice (escaped or not): a provider could read either
/// copy, so the gateway reads neither and names it. serde's message is the only carrier.
fn duplicate_field(message: &str) -> Option<&str> {
    let rest = message.split_once("duplicate field `")?.1;
    Some(rest.split_once('`')?.0)
}

impl Inbound {
    pub fn parse(endpoint: Endpoint, raw: &[u8]) -> Result<Inbound, GatewayError> {
        // The passthrough paths forward bytes serde never reads, so the whole body is
        // checked once here; parsing from the checked `str` then spares serde checking
        // each string again (a second UTF-8 pass over most of the body). The same pass
        // bounds the depth: serde skips ignored and raw values unbounded, and they go upstream.
        let text = match json_depth::text_within(raw, json_depth::MAX_DEPTH) {
            Ok(text) => text,
            Err(json_depth::Refusal::NotUtf8) => {
                return Err(GatewayError::bad_request("request body is not valid UTF-8"))
            }
            Err(json_depth::Refusal::TooDeep) => {
                return Err(GatewayError::bad_request(format!(
                    "request body nests arrays and objects more than {} deep",
                    json_depth::MAX_DEPTH
                )))
            }
        };
        match endpoint {
            Endpoint::Chat => {
                let req: ChatRequest = serde_json::from_str(text).map_err(json_error)?;
                translate::chat_checks::validate(&req)?;
                Ok(Inbound::Chat(req))
            }
            Endpoint::Embeddings => {
                let req: EmbeddingsRequest = serde_json::from_str(text).map_err(json_error)?;
                translate::embeddings::validate(&req)?;
                Ok(Inbound::Embeddings(req))
            }
            Endpoint::Messages => messages::parse(raw).map(Inbound::Messages),
            Endpoint::CountTokens => messages::count_tokens::parse(raw).map(Inbound::Messages),
            Endpoint::Responses => {
                let req: ResponsesRequest = serde_json::from_str(text).map_err(json_error)?;
                responses::validate(&req)?;
                let shape = responses::Shape::of(&req, text);
                Ok(Inbound::Responses(Box::new(ResponsesInbound {
                    req,
                    shape,
                })))
            }
        }
    }

    pub fn endpoint(&self) -> Endpoint {
        match self {
            Inbound::Chat(_) => Endpoint::Chat,
            Inbound::Embeddings(_) => Endpoint::Embeddings,
            Inbound::Messages(r) if r.count_only => Endpoint::CountTokens,
            Inbound::Messages(_) => Endpoint::Messages,
            Inbound::Responses(_) => Endpoint::Responses,
        }
    }

    pub fn model(&self) -> &str {
        match self {
            Inbound::Chat(r) => &r.model,
            Inbound::Embeddings(r) => &r.model,
            Inbound::Messages(r) => &r.model,
            Inbound::Responses(r) => &r.req.model,
        }
    }

    pub fn is_stream(&self) -> bool {
        match self {
            Inbound::Chat(r) => r.is_stream(),
            Inbound::Embeddings(_) => false,
            Inbound::Messages(r) => r.is_stream(),
            Inbound::Responses(r) => r.req.is_stream(),
        }
    }

    pub fn wants_usage_chunk(&self) -> bool {
        match self {
            Inbound::Chat(r) => r.wants_usage_chunk(),
            Inbound::Embeddings(_) | Inbound::Messages(_) | Inbound::Responses(_) => false,
        }
    }

    /// Estimated prompt tokens, and completion tokens to reserve, for admission control.
    pub fn estimate(&self, raw: &[u8], estimator: TokenEstimator) -> (u64, u64) {
        let rough = (raw.len() as u64).div_ceil(4);
        match self {
            Inbound::Chat(r) => (
                estimate::prompt_tokens(r, estimator),
                estimate::completion_reserve(r),
            ),
            Inbound::Embeddings(r) => (estimate::embedding_tokens(r), 0),
            Inbound::Messages(r) => (
                rough,
                r.max_tokens
                    .map_or(estimate::DEFAULT_COMPLETION_RESERVE, u64::from),
            ),
            Inbound::Responses(r) => (
                rough,
                r.req
                    .max_output_tokens
                    .map_or(estimate::DEFAULT_COMPLETION_RESERVE, u64::from),
            ),
        }
    }

    /// The most usage this request can plausibly cost (`raw_len`: the body's size).
    pub fn usage_bound(&self, raw_len: usize) -> plausible::Bound {
        let (max, choices) = match self {
            Inbound::Chat(r) => (
                r.max_completion_tokens.or(r.max_tokens).map(u64::from),
                r.n.map_or(1, u64::from),
            ),
            // Embeddings produce no completion tokens.
            Inbound::Embeddings(_) => (Some(0), 1),
            Inbound::Messages(r) => (r.max_tokens.map(u64::from), 1),
            Inbound::Responses(r) => (r.req.max_output_tokens.map(u64::from), 1),
        };
        plausible::Bound::of(raw_len, max, choices)
    }

    /// What the embeddings answer translation needs (default for other endpoints).
    pub fn embeddings_shape(&self) -> translate::embeddings::Shape {
        match self {
            Inbound::Embeddings(r) => translate::embeddings::Shape::of(r),
            Inbound::Chat(_) | Inbound::Messages(_) | Inbound::Responses(_) => Default::default(),
        }
    }

    /// What the Responses answer translation needs (default for other endpoints).
    pub fn responses_shape(&self) -> responses::Shape {
        match self {
            Inbound::Responses(r) => r.shape.clone(),
            _ => Default::default(),
        }
    }

    /// The upstream request, and the request fields the provider cannot honour.
    pub fn translate(
        &self,
        provider: &Provider,
        upstream_model: &str,
        raw: &[u8],
        now_ms: u64,
    ) -> Result<(UpstreamRequest, Vec<&'static str>), GatewayError> {
        match self {
            Inbound::Chat(r) => Ok((
                translate::request(provider, upstream_model, r, raw, now_ms)?,
                translate::unhonoured_at(provider, upstream_model, r),
            )),
            Inbound::Embeddings(r) => Ok((
                translate::embeddings::request(provider, upstream_model, r, raw, now_ms)?,
                Vec::new(),
            )),
            Inbound::Messages(r) => messages::request(provider, upstream_model, r, raw, now_ms),
            Inbound::Responses(r) => {
                responses::request(provider, upstream_model, &r.req, &r.shape, raw, now_ms)
            }
        }
    }
}
