//! Anthropic Messages SSE events → OpenAI `chat.completion.chunk` events.

use crate::api::openai::{Delta, FunctionDelta, ToolCallDelta};
use crate::codec::sse::{self, SseParser};
use crate::error::GatewayError;
use crate::translate::anthropic::finish_reason;
use crate::translate::anthropic::options::JSON_TOOL;
use crate::translate::anthropic::wire::{BlockDelta, StartBlock, StreamEvent};
use crate::translate::chunks::{self, ChunkWriter};
use crate::translate::{errors, StreamMapper, StreamSettings, MAX_EVENT_BYTES};
use crate::usage::TokenUsage;

pub struct AnthropicStream {
    parser: SseParser,
    settings: StreamSettings,
    chunks: ChunkWriter,
    usage: TokenUsage,
    /// Anthropic content-block index → OpenAI tool-call index.
    tools: Vec<(u32, u32)>,
    /// Content-block index of the json_schema tool, whose input is the answer text.
    json_block: Option<u32>,
    done: bool,
    failed: bool,
    events: Vec<sse::Event>,
}

impl AnthropicStream {
    pub fn new(settings: StreamSettings) -> Self {
        AnthropicStream {
            parser: SseParser::new(MAX_EVENT_BYTES),
            settings,
            chunks: ChunkWriter::new(String::new(), String::new(), settings.created),
            usage: TokenUsage::default(),
            tools: Vec::new(),
            json_block: None,
            done: false,
            failed: false,
            events: Vec::new(),
        }
    }

    fn fail(&mut self, out: &mut Vec<u8>, e: GatewayError) {
        self.failed = true;
        self.done = true;
        chunks::write_error_end(out, &e);
    }

    /// Deltas follow their block's start: searching from the newest block finds it at once.
    fn tool_index(&self, block: u32) -> Option<u32> {
        self.tools
            .iter()
            .rev()
            .find(|(b, _)| *b == block)
            .map(|(_, t)| *t)
    }

    fn handle(&mut self, data: &str, out: &mut Vec<u8>) {
        let ev: StreamEvent = match serde_json::from_str(data) {
            Ok(ev) => ev,
            Err(_) => {
                return self.fail(
                    out,
                    GatewayError::bad_gateway("upstream sent a malformed stream event"),
                )
            }
        };
        match ev {
            StreamEvent::MessageStart { message } => {
                self.chunks.id = message.id;
                self.chunks.model = message.model;
                self.usage = TokenUsage::from_anthropic(&message.usage);
                let delta = Delta {
                    role: Some("assistant"),
                    content: Some(""),
                    ..Delta::default()
                };
                self.chunks.choice(out, 0, delta, None);
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                StartBlock::Text { text } if !text.is_empty() => {
                    let delta = Delta {
                        content: Some(&text),
                        ..Delta::default()
                    };
                    self.chunks.choice(out, 0, delta, None);
                }
                StartBlock::ToolUse { name, .. } if name == JSON_TOOL => {
                    self.json_block = Some(index);
                }
                StartBlock::Thinking { thinking } if !thinking.is_empty() => {
                    let delta = Delta {
                        reasoning_content: Some(&thinking),
                        ..Delta::default()
                    };
                    self.chunks.choice(out, 0, delta, None);
                }
                StartBlock::ToolUse { id, name } => {
                    let tool = u32::try_from(self.tools.len()).unwrap_or(u32::MAX);
                    self.tools.push((index, tool));
                    let delta = Delta {
                        tool_calls: Some(vec![ToolCallDelta {
                            index: tool,
                            id: Some(&id),
                            kind: Some("function"),
                            function: FunctionDelta {
                                name: Some(&name),
                                arguments: "",
                            },
                        }]),
                        ..Delta::default()
                    };
                    self.chunks.choice(out, 0, delta, None);
                }
                _ => {}
            },
            StreamEvent::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } => {
                    let delta = Delta {
                        content: Some(&text),
                        ..Delta::default()
                    };
                    self.chunks.choice(out, 0, delta, None);
                }
                BlockDelta::InputJsonDelta { partial_json } if self.json_block == Some(index) => {
                    if !partial_json.is_empty() {
                        let delta = Delta {
                            content: Some(&partial_json),
                            ..Delta::default()
                        };
                        self.chunks.choice(out, 0, delta, None);
                    }
                }
                BlockDelta::ThinkingDelta { thinking } => {
                    let delta = Delta {
                        reasoning_content: Some(&thinking),
                        ..Delta::default()
                    };
                    self.chunks.choice(out, 0, delta, None);
                }
                BlockDelta::InputJsonDelta { partial_json } => {
                    if let Some(tool) = self.tool_index(index) {
                        if partial_json.is_empty() {
                            return;
                        }
                        let delta = Delta {
                            tool_calls: Some(vec![ToolCallDelta {
                                index: tool,
                                id: None,
                                kind: None,
                                function: FunctionDelta {
                                    name: None,
                                    arguments: &partial_json,
                                },
                            }]),
                            ..Delta::default()
                        };
                        self.chunks.choice(out, 0, delta, None);
                    }
                }
                BlockDelta::Other => {} // signatures have no OpenAI field
            },
            StreamEvent::MessageDelta { delta, usage } => {
                if let Some(u) = usage {
                    if u.output_tokens.is_some() {
                        self.usage.completion = u.output_tokens;
                    }
                    if u.input_tokens.is_some() {
                        let later = TokenUsage::from_anthropic(&u);
                        self.usage.prompt = later.prompt;
                        self.usage.cached_prompt = later.cached_prompt;
                    }
                }
                let reason = match finish_reason(delta.stop_reason.as_deref()) {
                    // Only the json_schema tool was used: the answer just ended.
                    Some("tool_calls") if self.tools.is_empty() => "stop",
                    other => other.unwrap_or("stop"),
                };
                self.chunks.choice(out, 0, Delta::default(), Some(reason));
            }
            StreamEvent::MessageStop => {
                if self.settings.client_wants_usage {
                    let usage = self.usage.to_openai();
                    self.chunks.usage(out, usage);
                }
                out.extend_from_slice(sse::DONE);
                self.done = true;
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
                self.fail(out, e);
            }
            StreamEvent::ContentBlockStop { .. } | StreamEvent::Ping | StreamEvent::Unknown => {}
        }
    }

    fn drain(&mut self, out: &mut Vec<u8>) {
        for ev in std::mem::take(&mut self.events) {
            if self.done {
                break;
            }
            self.handle(&ev.data, out);
        }
    }
}

impl StreamMapper for AnthropicStream {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        let mut events = std::mem::take(&mut self.events);
        let res = self.parser.push(chunk, &mut events);
        self.events = events;
        self.drain(out);
        if res.is_err() && !self.done {
            self.fail(
                out,
                GatewayError::bad_gateway("upstream stream event too large"),
            );
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
                GatewayError::bad_gateway("upstream stream ended before message_stop"),
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
        self.chunks.relayed_chars
    }
}
