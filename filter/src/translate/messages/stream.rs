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
use crate::error::GatewayError;
use crate::translate::blocks::{Block, BlockWriter, Kind};
use crate::usage::TokenUsage;

const EMPTY_INPUT: &str = "{}";

/// The [`Writer`] for Anthropic Messages clients.
#[derive(Debug, Default)]
pub struct MessagesWriter {
    started: bool,
    open: Option<Kind>,
    /// Index of the open block (or of the next one when none is open).
    index: u32,
    stop_reason: Option<&'static str>,
    usage: Option<TokenUsage>,
}

fn write(out: &mut Vec<u8>, ev: &EventOut) {
    sse_out::write_named(out, ev.name(), ev);
}

impl MessagesWriter {
    pub fn new() -> Self {
        Self::default()
    }
}

impl BlockWriter for MessagesWriter {
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

    fn open_kind(&self) -> Option<Kind> {
        self.open
    }

    fn open(&mut self, out: &mut Vec<u8>, block: Block<'_>) {
        let empty: &serde_json::value::RawValue = match serde_json::from_str(EMPTY_INPUT) {
            Ok(v) => v,
            Err(_) => return,
        };
        let (kind, content_block) = match block {
            Block::Reasoning => (
                Kind::Reasoning,
                BlockOut::Thinking {
                    thinking: "",
                    signature: "",
                },
            ),
            Block::Text => (Kind::Text, BlockOut::Text { text: "" }),
            Block::Call { index, id, name } => (
                Kind::Call(index),
                BlockOut::ToolUse {
                    id,
                    name,
                    input: empty,
                },
            ),
        };
        self.close(out);
        self.open = Some(kind);
        write(
            out,
            &EventOut::ContentBlockStart {
                index: self.index,
                content_block,
            },
        );
    }

    fn delta(&mut self, out: &mut Vec<u8>, text: &str) {
        let delta = match self.open {
            Some(Kind::Reasoning) => DeltaOut::ThinkingDelta { thinking: text },
            Some(Kind::Text) => DeltaOut::TextDelta { text },
            Some(Kind::Call(_)) => DeltaOut::InputJsonDelta { partial_json: text },
            None => return,
        };
        write(
            out,
            &EventOut::ContentBlockDelta {
                index: self.index,
                delta,
            },
        );
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if self.open.take().is_some() {
            write(out, &EventOut::ContentBlockStop { index: self.index });
            self.index += 1;
        }
    }

    fn finished(&mut self, reason: &str) {
        self.stop_reason = Some(stop_reason(Some(reason)));
    }

    fn usage(&mut self, usage: TokenUsage) {
        self.usage = Some(usage);
    }

    fn done(&mut self, out: &mut Vec<u8>) {
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

    fn fail(&mut self, out: &mut Vec<u8>, e: &GatewayError) {
        // The status is the stream's (200, already sent): only the kind says more.
        errors::write_event(out, errors::kind(500, e.kind), &e.message);
    }
}
