//! Anthropic-shaped client, Anthropic provider: the body goes through with `model`
//! rewritten; answers and events go back unchanged while usage is read.

use super::super::{ResponseOut, StreamMapper, UpstreamRequest};
use super::{errors, native_body};
use crate::api::anthropic_server::MessagesRequest;
use crate::codec::sse;
use crate::config::{AnthropicSettings, Provider};
use crate::error::GatewayError;
use crate::translate::anthropic::finish_reason;
use crate::translate::anthropic::stream::merge_usage;
use crate::translate::anthropic::wire::{BlockDelta, ErrorEnvelope, MessagesResponse, StreamEvent};
use crate::translate::finish::FinishReasons;
use crate::translate::relay::{self, Relay, Seen};
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
        finish_reasons: FinishReasons::of([finish_reason(msg.stop_reason.as_deref())]),
    })
}

/// Relays the events as they are, reading usage and answer characters on the way.
struct Passthrough;

pub fn stream() -> Box<dyn StreamMapper> {
    relay::stream(Passthrough)
}

impl Relay for Passthrough {
    const ENDED: &'static str = "upstream stream ended before message_stop";

    fn frame(&mut self, ev: &sse::Event, seen: &mut Seen, out: &mut Vec<u8>) {
        out.extend_from_slice(&ev.raw);
        match serde_json::from_str::<StreamEvent>(&ev.data) {
            Ok(StreamEvent::MessageStart { message }) => {
                seen.read.usage = TokenUsage::from_anthropic(&message.usage);
            }
            Ok(StreamEvent::MessageDelta { delta, usage }) => {
                if let Some(u) = &usage {
                    merge_usage(&mut seen.read.usage, u);
                }
                if let Some(r) = finish_reason(delta.stop_reason.as_deref()) {
                    seen.read.finish.set(0, r);
                }
            }
            Ok(StreamEvent::ContentBlockDelta { delta, .. }) => {
                let text = match &delta {
                    BlockDelta::TextDelta { text } => text,
                    BlockDelta::InputJsonDelta { partial_json } => partial_json,
                    BlockDelta::ThinkingDelta { thinking } => thinking,
                    BlockDelta::Other => "",
                };
                seen.read.relayed_chars += text.chars().count() as u64;
            }
            Ok(StreamEvent::MessageStop) => seen.done = true,
            Ok(StreamEvent::Error { .. }) => seen.fail(),
            Ok(_) => {}
            Err(_) => {
                seen.fail();
                self.write_failure("upstream sent a malformed stream event", out);
            }
        }
    }

    fn write_failure(&mut self, message: &str, out: &mut Vec<u8>) {
        errors::write_event(out, "api_error", message);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn anthropic_stop_reasons_become_openai_finish_reasons() {
        let mut m = super::stream();
        let mut out = Vec::new();
        let ev = r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":3}}"#;
        m.push(
            format!("event: message_delta\ndata: {ev}\n\n").as_bytes(),
            &mut out,
        );
        assert_eq!(m.finish_reasons().list(), ["tool_calls"]);
        let body = br#"{"id":"m","model":"c","content":[],"stop_reason":"max_tokens","usage":{"input_tokens":1,"output_tokens":2}}"#;
        let out = super::response(200, body).unwrap();
        assert_eq!(out.finish_reasons.list(), ["length"]);
    }
}
