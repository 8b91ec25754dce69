//! Anthropic-shaped client, Anthropic provider: the body goes through with `model`
//! rewritten; answers and events go back unchanged while usage is read.

use super::super::{ResponseOut, StreamMapper, UpstreamRequest};
use super::{errors, native_body};
use crate::api::anthropic_server::MessagesRequest;
use crate::codec::framed::{FrameError, FrameHandler, Framed, MAX_EVENT_BYTES};
use crate::codec::sse::{self, SseParser};
use crate::config::{AnthropicSettings, Provider};
use crate::error::GatewayError;
use crate::translate::anthropic::stream::merge_usage;
use crate::translate::anthropic::wire::{BlockDelta, ErrorEnvelope, MessagesResponse, StreamEvent};
use crate::translate::events::Tally;
use crate::translate::translator::NativeMessages;
use crate::usage::TokenUsage;

pub fn request(
    provider: &Provider,
    native: NativeMessages<'_>,
    upstream_model: &str,
    req: &MessagesRequest,
    raw: &[u8],
) -> Result<UpstreamRequest, GatewayError> {
    match native {
        NativeMessages::Anthropic(settings) => {
            anthropic_request(provider, settings, upstream_model, req, raw)
        }
        NativeMessages::Vertex(settings) => {
            super::vertex::request(provider, settings, upstream_model, req, raw)
        }
    }
}

fn anthropic_request(
    provider: &Provider,
    settings: &AnthropicSettings,
    upstream_model: &str,
    req: &MessagesRequest,
    raw: &[u8],
) -> Result<UpstreamRequest, GatewayError> {
    let mut headers = vec![("anthropic-version", settings.version.clone())];
    if let Some(key) = &provider.api_key {
        headers.push(("x-api-key", key.expose().to_string()));
    }
    headers.extend(native_body::beta_header(req));
    let body = native_body::body(req, upstream_model, raw)?;
    let endpoint = if req.count_only {
        "messages/count_tokens"
    } else {
        "messages"
    };
    Ok(UpstreamRequest {
        path: format!("{}/{endpoint}", provider.base_path),
        headers,
        body,
    })
}

/// Anthropic's errors are already in the client's shape and keep their status (529
/// included); any other error body (empty, HTML, an Envoy text, Google's
/// `{"error":{"code","message","status"}}` from Vertex AI itself) is put into that shape.
pub fn response(status: u16, body: &[u8]) -> Result<ResponseOut, GatewayError> {
    if !(200..300).contains(&status) {
        let envelope = serde_json::from_slice::<ErrorEnvelope>(body).ok();
        if envelope.as_ref().is_some_and(|e| e.error.kind.is_some()) {
            return Ok(ResponseOut::default());
        }
        let message = envelope.as_ref().and_then(|e| e.error.message.as_deref());
        let mut e = super::super::errors::from_upstream(status, None, message, body);
        if status == 529 {
            e.status = 529;
        }
        return Err(e);
    }
    let msg: MessagesResponse = serde_json::from_slice(body).map_err(|_| {
        GatewayError::bad_gateway("upstream returned a malformed Anthropic message")
    })?;
    Ok(ResponseOut {
        body: None,
        usage: TokenUsage::from_anthropic(&msg.usage),
    })
}

/// Relays the events as they are, reading usage and answer characters on the way.
pub struct Passthrough {
    usage: TokenUsage,
    /// Characters of text, thinking and tool input relayed (see `StreamMapper`).
    relayed_chars: u64,
    done: bool,
    failed: bool,
}

pub fn stream() -> Box<dyn StreamMapper> {
    Box::new(Framed::new(
        SseParser::new(MAX_EVENT_BYTES),
        Passthrough {
            usage: TokenUsage::default(),
            relayed_chars: 0,
            done: false,
            failed: false,
        },
    ))
}

impl Passthrough {
    fn fail(&mut self, out: &mut Vec<u8>, kind: &'static str, message: &str) {
        self.failed = true;
        self.done = true;
        errors::write_event(out, kind, message);
    }
}

impl FrameHandler for Passthrough {
    type Frame = sse::Event;

    fn frame(&mut self, ev: &sse::Event, out: &mut Vec<u8>) {
        out.extend_from_slice(&ev.raw);
        match serde_json::from_str::<StreamEvent>(&ev.data) {
            Ok(StreamEvent::MessageStart { message }) => {
                self.usage = TokenUsage::from_anthropic(&message.usage);
            }
            Ok(StreamEvent::MessageDelta { usage: Some(u), .. }) => {
                merge_usage(&mut self.usage, &u);
            }
            Ok(StreamEvent::ContentBlockDelta { delta, .. }) => {
                let text = match &delta {
                    BlockDelta::TextDelta { text } => text,
                    BlockDelta::InputJsonDelta { partial_json } => partial_json,
                    BlockDelta::ThinkingDelta { thinking } => thinking,
                    BlockDelta::Other => "",
                };
                self.relayed_chars += text.chars().count() as u64;
            }
            Ok(StreamEvent::MessageStop) => self.done = true,
            Ok(StreamEvent::Error { .. }) => {
                self.failed = true;
                self.done = true;
            }
            Ok(_) => {}
            Err(_) => self.fail(out, "api_error", "upstream sent a malformed stream event"),
        }
    }

    fn done(&self) -> bool {
        self.done
    }

    fn broken(&mut self, error: &FrameError, out: &mut Vec<u8>) {
        self.fail(out, "api_error", &error.message());
    }

    fn ended(&mut self, out: &mut Vec<u8>) {
        self.fail(
            out,
            "api_error",
            "upstream stream ended before message_stop",
        );
    }
}

impl Tally for Passthrough {
    fn usage(&self) -> TokenUsage {
        self.usage
    }

    fn failed(&self) -> bool {
        self.failed
    }

    fn relayed_chars(&self) -> u64 {
        self.relayed_chars
    }
}
