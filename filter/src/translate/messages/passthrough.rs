//! Anthropic-shaped client, Anthropic provider: the body goes through with `model`
//! rewritten; answers and events go back unchanged while usage is read.

use super::super::openai::rewrite_model;
use super::super::{ResponseOut, StreamMapper, UpstreamRequest, MAX_EVENT_BYTES};
use super::{errors, system};
use crate::api::anthropic_server::MessagesRequest;
use crate::codec::sse::{self, SseParser};
use crate::config::{AnthropicSettings, Provider};
use crate::error::GatewayError;
use crate::translate::anthropic::wire::{BlockDelta, ErrorEnvelope, MessagesResponse, StreamEvent};
use crate::usage::TokenUsage;

pub fn request(
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
    let body = match (system::present(req), &req.system_message_betas) {
        (false, _) => rewrite_model(raw, &req.model, upstream_model)?,
        (true, Some(betas)) => {
            headers.push(("anthropic-beta", betas.clone()));
            rewrite_model(raw, &req.model, upstream_model)?
        }
        (true, None) => Some(system::hoisted(raw, upstream_model)?),
    };
    Ok(UpstreamRequest {
        path: format!("{}/messages", provider.base_path),
        headers,
        body,
    })
}

/// Anthropic's errors are already in the client's shape and keep their status (529
/// included); any other error body (empty, HTML, an Envoy text) is put into that shape.
pub fn response(status: u16, body: &[u8]) -> Result<ResponseOut, GatewayError> {
    if !(200..300).contains(&status) {
        if serde_json::from_slice::<ErrorEnvelope>(body).is_ok() {
            return Ok(ResponseOut::default());
        }
        let mut e = super::super::errors::from_upstream(status, None, None, body);
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

pub struct PassthroughStream {
    parser: SseParser,
    events: Vec<sse::Event>,
    usage: TokenUsage,
    /// Characters of text, thinking and tool input relayed (see `StreamMapper`).
    relayed_chars: u64,
    done: bool,
    failed: bool,
}

impl PassthroughStream {
    pub fn new() -> Self {
        PassthroughStream {
            parser: SseParser::new(MAX_EVENT_BYTES),
            events: Vec::new(),
            usage: TokenUsage::default(),
            relayed_chars: 0,
            done: false,
            failed: false,
        }
    }

    fn fail(&mut self, out: &mut Vec<u8>, kind: &'static str, message: &str) {
        self.failed = true;
        self.done = true;
        errors::write_event(out, kind, message);
    }

    fn drain(&mut self, out: &mut Vec<u8>) {
        for ev in std::mem::take(&mut self.events) {
            if self.done {
                break;
            }
            out.extend_from_slice(&ev.raw);
            match serde_json::from_str::<StreamEvent>(&ev.data) {
                Ok(StreamEvent::MessageStart { message }) => {
                    self.usage = TokenUsage::from_anthropic(&message.usage);
                }
                Ok(StreamEvent::MessageDelta { usage: Some(u), .. }) => {
                    if u.output_tokens.is_some() {
                        self.usage.completion = u.output_tokens;
                    }
                    if u.input_tokens.is_some() {
                        let later = TokenUsage::from_anthropic(&u);
                        self.usage.prompt = later.prompt;
                        self.usage.cached_prompt = later.cached_prompt;
                    }
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
    }
}

impl StreamMapper for PassthroughStream {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        let mut events = std::mem::take(&mut self.events);
        let res = self.parser.push(chunk, &mut events);
        self.events = events;
        self.drain(out);
        if res.is_err() && !self.done {
            self.fail(out, "api_error", "upstream stream event too large");
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        let mut events = std::mem::take(&mut self.events);
        self.parser.finish(&mut events);
        self.events = events;
        self.drain(out);
        if !self.done {
            self.fail(
                out,
                "api_error",
                "upstream stream ended before message_stop",
            );
        }
    }

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
