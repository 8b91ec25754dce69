//! OpenAI `chat.completion.chunk` events → Anthropic Messages events.
//!
//! Sits behind the provider's own chat stream mapper (so any provider works) and
//! writes the documented sequence: `message_start`; per content block
//! `content_block_start`, its deltas (`thinking_delta`, `text_delta`,
//! `input_json_delta`) and `content_block_stop`; then `message_delta` with
//! `stop_reason` and usage, and `message_stop`. OpenAI sends usage after the finish
//! chunk, so `message_delta` waits for `[DONE]`. `message_start` carries zero input
//! tokens (not known yet); the real count comes in `message_delta`, whose usage
//! clients take as cumulative totals.

use super::errors;
use super::from_openai::{message_id, stop_reason, usage};
use crate::api::anthropic_server::{
    BlockOut, DeltaOut, EventOut, MessageDeltaOut, MessageOut, UsageOut,
};
use crate::api::openai::{ErrorEnvelope, Usage};
use crate::api::openai_client::{Chunk, ChunkToolCall};
use crate::codec::sse::{self, SseParser};
use crate::translate::{StreamMapper, MAX_EVENT_BYTES};
use crate::usage::TokenUsage;

/// The content block being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    None,
    Thinking,
    Text,
    /// OpenAI tool-call index.
    Tool(u32),
}

const EMPTY_INPUT: &str = "{}";

pub struct ToAnthropicStream {
    inner: Box<dyn StreamMapper>,
    parser: SseParser,
    events: Vec<sse::Event>,
    started: bool,
    open: Open,
    /// Index of the open block (or of the next one when none is open).
    index: u32,
    stop_reason: Option<&'static str>,
    usage: Option<Usage>,
    done: bool,
    failed: bool,
}

impl ToAnthropicStream {
    pub fn new(inner: Box<dyn StreamMapper>) -> Self {
        ToAnthropicStream {
            inner,
            parser: SseParser::new(MAX_EVENT_BYTES),
            events: Vec::new(),
            started: false,
            open: Open::None,
            index: 0,
            stop_reason: None,
            usage: None,
            done: false,
            failed: false,
        }
    }

    fn write(out: &mut Vec<u8>, ev: &EventOut) {
        if let Ok(json) = serde_json::to_vec(ev) {
            out.extend_from_slice(b"event: ");
            out.extend_from_slice(ev.name().as_bytes());
            out.extend_from_slice(b"\ndata: ");
            out.extend_from_slice(&json);
            out.extend_from_slice(b"\n\n");
        }
    }

    fn start(&mut self, out: &mut Vec<u8>, id: &str, model: &str) {
        if self.started {
            return;
        }
        self.started = true;
        let id = message_id(id);
        let message = MessageOut {
            id: &id,
            kind: "message",
            role: "assistant",
            model,
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            usage: UsageOut::default(),
        };
        Self::write(out, &EventOut::MessageStart { message });
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if self.open != Open::None {
            Self::write(out, &EventOut::ContentBlockStop { index: self.index });
            self.open = Open::None;
            self.index += 1;
        }
    }

    /// Make `want` the open block, opening it with `block` if it is not.
    fn ensure(&mut self, out: &mut Vec<u8>, want: Open, block: BlockOut) {
        if self.open == want {
            return;
        }
        self.close(out);
        self.open = want;
        Self::write(
            out,
            &EventOut::ContentBlockStart {
                index: self.index,
                content_block: block,
            },
        );
    }

    fn delta(&self, out: &mut Vec<u8>, delta: DeltaOut) {
        Self::write(
            out,
            &EventOut::ContentBlockDelta {
                index: self.index,
                delta,
            },
        );
    }

    fn tool_call(&mut self, out: &mut Vec<u8>, call: &ChunkToolCall) {
        let empty: &serde_json::value::RawValue = match serde_json::from_str(EMPTY_INPUT) {
            Ok(v) => v,
            Err(_) => return,
        };
        let name = call.function.as_ref().and_then(|f| f.name.as_deref());
        // A call starts with its id (and name); later deltas of it carry only text.
        if let Some(id) = call.id.as_deref() {
            self.close(out);
            self.open = Open::Tool(call.index);
            Self::write(
                out,
                &EventOut::ContentBlockStart {
                    index: self.index,
                    content_block: BlockOut::ToolUse {
                        id,
                        name: name.unwrap_or(""),
                        input: empty,
                    },
                },
            );
        }
        let args = call.function.as_ref().and_then(|f| f.arguments.as_deref());
        if let Some(args) = args.filter(|a| !a.is_empty()) {
            // Deltas of a call that is no longer open cannot be placed; OpenAI sends
            // calls one after the other, so this does not happen in practice.
            if self.open == Open::Tool(call.index) {
                self.delta(out, DeltaOut::InputJsonDelta { partial_json: args });
            }
        }
    }

    fn finish_message(&mut self, out: &mut Vec<u8>) {
        self.start(out, "", "");
        self.close(out);
        let u = self
            .usage
            .as_ref()
            .map(TokenUsage::from_openai)
            .unwrap_or_default();
        Self::write(
            out,
            &EventOut::MessageDelta {
                delta: MessageDeltaOut {
                    stop_reason: Some(self.stop_reason.unwrap_or("end_turn")),
                    stop_sequence: None,
                },
                usage: usage(u),
            },
        );
        Self::write(out, &EventOut::MessageStop);
        self.done = true;
    }

    fn fail(&mut self, out: &mut Vec<u8>, kind: &'static str, message: &str) {
        self.failed = true;
        self.done = true;
        errors::write_event(out, kind, message);
    }

    fn handle(&mut self, data: &str, out: &mut Vec<u8>) {
        if data == "[DONE]" {
            return self.finish_message(out);
        }
        if data.starts_with("{\"error\"") {
            let (kind, message) = match serde_json::from_str::<ErrorEnvelope>(data) {
                Ok(env) => (
                    errors::kind(500, env.error.kind.as_deref().unwrap_or("")),
                    env.error.message.unwrap_or_default(),
                ),
                Err(_) => ("api_error", String::from("upstream stream error")),
            };
            return self.fail(out, kind, &message);
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(_) => return self.fail(out, "api_error", "upstream sent a malformed stream event"),
        };
        self.start(out, &chunk.id, &chunk.model);
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        let Some(choice) = chunk.choices.first() else {
            return;
        };
        let d = &choice.delta;
        if let Some(r) = d.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
            self.ensure(
                out,
                Open::Thinking,
                BlockOut::Thinking {
                    thinking: "",
                    signature: "",
                },
            );
            self.delta(out, DeltaOut::ThinkingDelta { thinking: r });
        }
        if let Some(t) = d.content.as_deref().filter(|t| !t.is_empty()) {
            self.ensure(out, Open::Text, BlockOut::Text { text: "" });
            self.delta(out, DeltaOut::TextDelta { text: t });
        }
        for call in d.tool_calls.iter().flatten() {
            self.tool_call(out, call);
        }
        if let Some(reason) = choice.finish_reason.as_deref() {
            self.close(out);
            self.stop_reason = Some(stop_reason(Some(reason)));
        }
    }

    fn consume(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        let mut events = std::mem::take(&mut self.events);
        let res = self.parser.push(bytes, &mut events);
        for ev in events.drain(..) {
            if self.done {
                break;
            }
            self.handle(&ev.data, out);
        }
        self.events = events;
        if res.is_err() && !self.done {
            self.fail(out, "api_error", "upstream stream event too large");
        }
    }
}

impl StreamMapper for ToAnthropicStream {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        let mut mid = Vec::with_capacity(chunk.len() + 64);
        self.inner.push(chunk, &mut mid);
        self.consume(&mid, out);
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        let mut mid = Vec::new();
        self.inner.finish(&mut mid);
        self.consume(&mid, out);
        let mut events = Vec::new();
        self.parser.finish(&mut events);
        for ev in events {
            if self.done {
                break;
            }
            self.handle(&ev.data, out);
        }
        if !self.done {
            self.fail(
                out,
                "api_error",
                "upstream stream ended before it was complete",
            );
        }
    }

    fn usage(&self) -> TokenUsage {
        self.inner.usage()
    }

    fn failed(&self) -> bool {
        self.failed || self.inner.failed()
    }

    fn relayed_chars(&self) -> u64 {
        self.inner.relayed_chars()
    }
}
