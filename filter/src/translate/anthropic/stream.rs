//! Anthropic Messages SSE events → stream [`Event`]s.

use crate::codec::sse;
use crate::error::GatewayError;
use crate::translate::anthropic::finish_reason;
use crate::translate::anthropic::options::JSON_TOOL;
use crate::translate::anthropic::wire::{BlockDelta, StartBlock, StreamEvent};
use crate::translate::errors;
use crate::translate::events::{BlockTools, Decode, Event, Sink, Writer};
use crate::usage::TokenUsage;

#[derive(Debug, Default)]
pub struct AnthropicEvents {
    usage: TokenUsage,
    /// Anthropic content-block index → OpenAI tool-call index.
    tools: BlockTools,
    /// Content-block index of the json_schema tool, whose input is the answer text.
    json_block: Option<u32>,
}

impl AnthropicEvents {
    pub fn new() -> Self {
        Self::default()
    }

    fn block_start<W: Writer>(&mut self, index: u32, block: StartBlock, sink: &mut Sink<'_, W>) {
        match block {
            StartBlock::Text { text } if !text.is_empty() => {
                sink.emit(Event::Text {
                    choice: 0,
                    text: &text,
                });
            }
            StartBlock::ToolUse { name, .. } if name == JSON_TOOL => {
                self.json_block = Some(index);
            }
            StartBlock::Thinking { thinking } if !thinking.is_empty() => {
                sink.emit(Event::Reasoning {
                    choice: 0,
                    text: &thinking,
                });
            }
            StartBlock::ToolUse { id, name } => {
                let tool = self.tools.add(index);
                sink.emit(Event::ToolCall {
                    choice: 0,
                    index: tool,
                    id: &id,
                    name: &name,
                    arguments: "",
                });
            }
            _ => {}
        }
    }

    fn block_delta<W: Writer>(&mut self, index: u32, delta: BlockDelta, sink: &mut Sink<'_, W>) {
        match delta {
            BlockDelta::TextDelta { text } => sink.emit(Event::Text {
                choice: 0,
                text: &text,
            }),
            BlockDelta::InputJsonDelta { partial_json } if self.json_block == Some(index) => {
                if !partial_json.is_empty() {
                    sink.emit(Event::Text {
                        choice: 0,
                        text: &partial_json,
                    });
                }
            }
            BlockDelta::ThinkingDelta { thinking } => sink.emit(Event::Reasoning {
                choice: 0,
                text: &thinking,
            }),
            BlockDelta::InputJsonDelta { partial_json } => {
                if let Some(tool) = self.tools.get(index) {
                    if !partial_json.is_empty() {
                        sink.emit(Event::ToolArguments {
                            choice: 0,
                            index: tool,
                            arguments: &partial_json,
                        });
                    }
                }
            }
            BlockDelta::Other => {} // signatures have no OpenAI field
        }
    }
}

/// Usage a later event reports replaces what `message_start` said.
pub fn merge_usage(usage: &mut TokenUsage, u: &crate::translate::anthropic::wire::Usage) {
    if u.output_tokens.is_some() {
        usage.completion = u.output_tokens;
    }
    if u.input_tokens.is_some() {
        let later = TokenUsage::from_anthropic(u);
        usage.prompt = later.prompt;
        usage.cached_prompt = later.cached_prompt;
    }
}

impl Decode for AnthropicEvents {
    type Frame = sse::Event;

    fn frame<W: Writer>(&mut self, frame: &sse::Event, sink: &mut Sink<'_, W>) {
        let ev: StreamEvent = match serde_json::from_str(&frame.data) {
            Ok(ev) => ev,
            Err(_) => {
                return sink.fail(GatewayError::bad_gateway(
                    "upstream sent a malformed stream event",
                ))
            }
        };
        match ev {
            StreamEvent::MessageStart { message } => {
                sink.identify(&message.id, &message.model);
                self.usage = TokenUsage::from_anthropic(&message.usage);
                sink.emit(Event::Role { choice: 0 });
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => self.block_start(index, content_block, sink),
            StreamEvent::ContentBlockDelta { index, delta } => self.block_delta(index, delta, sink),
            StreamEvent::MessageDelta { delta, usage } => {
                if let Some(u) = usage {
                    merge_usage(&mut self.usage, &u);
                }
                let reason = match finish_reason(delta.stop_reason.as_deref()) {
                    // Only the json_schema tool was used: the answer just ended.
                    Some("tool_calls") if self.tools.is_empty() => "stop",
                    other => other.unwrap_or("stop"),
                };
                sink.emit(Event::Finish { choice: 0, reason });
            }
            StreamEvent::MessageStop => {
                sink.emit(Event::Usage(self.usage));
                sink.emit(Event::Done);
            }
            StreamEvent::Error { error } => {
                let e = errors::from_upstream(
                    // Anthropic only sends overloaded/api errors mid-stream.
                    if error.kind.as_deref() == Some("overloaded_error") {
                        529
                    } else {
                        500
                    },
                    error.kind.as_deref(),
                    error.message.as_deref(),
                    b"",
                );
                sink.fail(e);
            }
            StreamEvent::ContentBlockStop { .. } | StreamEvent::Ping | StreamEvent::Unknown => {}
        }
    }

    fn ended<W: Writer>(&mut self, sink: &mut Sink<'_, W>) {
        sink.fail(GatewayError::bad_gateway(
            "upstream stream ended before message_stop",
        ));
    }

    fn usage(&self) -> TokenUsage {
        self.usage
    }
}
