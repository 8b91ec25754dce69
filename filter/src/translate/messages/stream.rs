//! Stream events → Anthropic Messages events, for Anthropic-shaped clients of any
//! provider that does not speak Anthropic.
//!
//! Writes the documented sequence: `message_start`; per content block
//! `content_block_start`, its deltas (`thinking_delta`, `text_delta`,
//! `input_json_delta`) and `content_block_stop`; then `message_delta` with
//! `stop_reason` and usage, and `message_stop`. Providers report usage after the
//! finish, so `message_delta` waits for the end. `message_start` carries zero input
//! tokens (not known yet); the real count comes in `message_delta`, whose usage
//! clients take as cumulative totals.

use super::errors;
use super::from_openai::{message_id, stop_reason, usage};
use crate::api::anthropic_server::{
    BlockOut, DeltaOut, EventOut, MessageDeltaOut, MessageOut, UsageOut,
};
use crate::codec::sse_out;
use crate::translate::events::{Event, Identity, Writer};
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

/// The [`Writer`] for Anthropic Messages clients. Choices are not told apart: these
/// clients ask for one.
#[derive(Debug)]
pub struct MessagesWriter {
    started: bool,
    open: Open,
    /// Index of the open block (or of the next one when none is open).
    index: u32,
    stop_reason: Option<&'static str>,
    usage: Option<TokenUsage>,
}

impl Default for MessagesWriter {
    fn default() -> Self {
        MessagesWriter {
            started: false,
            open: Open::None,
            index: 0,
            stop_reason: None,
            usage: None,
        }
    }
}

fn write(out: &mut Vec<u8>, ev: &EventOut) {
    sse_out::write_named(out, ev.name(), ev);
}

impl MessagesWriter {
    pub fn new() -> Self {
        Self::default()
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
        write(out, &EventOut::MessageStart { message });
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if self.open != Open::None {
            write(out, &EventOut::ContentBlockStop { index: self.index });
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
        write(
            out,
            &EventOut::ContentBlockStart {
                index: self.index,
                content_block: block,
            },
        );
    }

    fn delta(&self, out: &mut Vec<u8>, delta: DeltaOut) {
        write(
            out,
            &EventOut::ContentBlockDelta {
                index: self.index,
                delta,
            },
        );
    }

    fn tool_call(&mut self, out: &mut Vec<u8>, index: u32, id: &str, name: &str) {
        let empty: &serde_json::value::RawValue = match serde_json::from_str(EMPTY_INPUT) {
            Ok(v) => v,
            Err(_) => return,
        };
        self.close(out);
        self.open = Open::Tool(index);
        write(
            out,
            &EventOut::ContentBlockStart {
                index: self.index,
                content_block: BlockOut::ToolUse {
                    id,
                    name,
                    input: empty,
                },
            },
        );
    }

    fn arguments(&self, out: &mut Vec<u8>, index: u32, args: &str) {
        // Deltas of a call that is no longer open cannot be placed; providers send
        // calls one after the other, so this does not happen in practice.
        if !args.is_empty() && self.open == Open::Tool(index) {
            self.delta(out, DeltaOut::InputJsonDelta { partial_json: args });
        }
    }

    fn finish_message(&mut self, out: &mut Vec<u8>) {
        self.start(out, "", "");
        self.close(out);
        // Missing counts are written as zero.
        let u = self.usage.unwrap_or_default();
        write(
            out,
            &EventOut::MessageDelta {
                delta: MessageDeltaOut {
                    stop_reason: Some(self.stop_reason.unwrap_or("end_turn")),
                    stop_sequence: None,
                },
                usage: usage(u),
            },
        );
        write(out, &EventOut::MessageStop);
    }
}

impl Writer for MessagesWriter {
    fn write(&mut self, ev: &Event<'_>, ident: &Identity, out: &mut Vec<u8>) {
        match *ev {
            Event::Start => self.start(out, &ident.id, &ident.model),
            Event::Role { .. } => {}
            Event::Reasoning { text, .. } => {
                if !text.is_empty() {
                    let block = BlockOut::Thinking {
                        thinking: "",
                        signature: "",
                    };
                    self.ensure(out, Open::Thinking, block);
                    self.delta(out, DeltaOut::ThinkingDelta { thinking: text });
                }
            }
            Event::Text { text, .. } => {
                if !text.is_empty() {
                    self.ensure(out, Open::Text, BlockOut::Text { text: "" });
                    self.delta(out, DeltaOut::TextDelta { text });
                }
            }
            Event::ToolCall {
                index,
                id,
                name,
                arguments,
                ..
            } => {
                self.tool_call(out, index, id, name);
                self.arguments(out, index, arguments);
            }
            Event::ToolArguments {
                index, arguments, ..
            } => self.arguments(out, index, arguments),
            Event::Finish { reason, .. } => {
                self.close(out);
                self.stop_reason = Some(stop_reason(Some(reason)));
            }
            Event::Usage(u) => self.usage = Some(u),
            Event::Done => self.finish_message(out),
            Event::Error(e) => {
                // The status is the stream's (200, already sent): only the kind says more.
                errors::write_event(out, errors::kind(500, e.kind), &e.message);
            }
        }
    }
}
