//! Writing the OpenAI stream: `chat.completion.chunk` SSE events and the two ways a
//! stream ends (the optional usage chunk + `[DONE]`, or an error event + `[DONE]`).
//! The [`Writer`] for OpenAI clients of every provider that does not speak OpenAI.

use crate::api::openai::{ChatChunk, ChunkChoice, Delta, FunctionDelta, ToolCallDelta, Usage};
use crate::codec::sse;
use crate::error::GatewayError;
use crate::translate::events::{Event, Identity, Writer};
use crate::translate::StreamSettings;

/// Renders events as chunks; every chunk repeats the answer's id, model and creation time.
#[derive(Debug)]
pub struct ChunkWriter {
    settings: StreamSettings,
}

impl ChunkWriter {
    pub fn new(settings: StreamSettings) -> Self {
        ChunkWriter { settings }
    }

    /// A chunk with one choice.
    fn choice(
        &self,
        ident: &Identity,
        out: &mut Vec<u8>,
        index: u32,
        delta: Delta<'_>,
        finish: Option<&str>,
    ) {
        let choices = vec![ChunkChoice {
            index,
            delta,
            logprobs: None,
            finish_reason: finish,
        }];
        self.chunk(ident, out, choices, None);
    }

    /// A chunk with one tool-call delta; the call's first names its id and type.
    fn tool(
        &self,
        ident: &Identity,
        out: &mut Vec<u8>,
        choice: u32,
        index: u32,
        id: Option<&str>,
        function: FunctionDelta<'_>,
    ) {
        let call = ToolCallDelta {
            index,
            id,
            kind: id.map(|_| "function"),
            function,
        };
        let delta = Delta {
            tool_calls: Some(vec![call]),
            ..Delta::default()
        };
        self.choice(ident, out, choice, delta, None);
    }

    fn chunk(
        &self,
        ident: &Identity,
        out: &mut Vec<u8>,
        choices: Vec<ChunkChoice<'_>>,
        usage: Option<Usage>,
    ) {
        let c = ChatChunk {
            id: &ident.id,
            object: "chat.completion.chunk",
            created: self.settings.created,
            model: &ident.model,
            choices,
            usage,
        };
        if let Ok(json) = serde_json::to_vec(&c) {
            sse::write_data(out, &json);
        }
    }
}

impl Writer for ChunkWriter {
    fn write(&mut self, ev: &Event<'_>, ident: &Identity, out: &mut Vec<u8>) {
        match *ev {
            Event::Start => {}
            Event::Role { choice } => {
                let delta = Delta {
                    role: Some("assistant"),
                    content: Some(""),
                    ..Delta::default()
                };
                self.choice(ident, out, choice, delta, None);
            }
            Event::Text { choice, text } => {
                let delta = Delta {
                    content: Some(text),
                    ..Delta::default()
                };
                self.choice(ident, out, choice, delta, None);
            }
            Event::Reasoning { choice, text } => {
                let delta = Delta {
                    reasoning_content: Some(text),
                    ..Delta::default()
                };
                self.choice(ident, out, choice, delta, None);
            }
            Event::ToolCall {
                choice,
                index,
                id,
                name,
                arguments,
            } => {
                let function = FunctionDelta {
                    name: Some(name),
                    arguments,
                };
                self.tool(ident, out, choice, index, Some(id), function);
            }
            Event::ToolArguments {
                choice,
                index,
                arguments,
            } => {
                let function = FunctionDelta {
                    name: None,
                    arguments,
                };
                self.tool(ident, out, choice, index, None, function);
            }
            Event::Finish { choice, reason } => {
                self.choice(ident, out, choice, Delta::default(), Some(reason));
            }
            // The usage-only chunk (no choices) that `stream_options.include_usage` asks for.
            Event::Usage(usage) => {
                if self.settings.client_wants_usage {
                    self.chunk(ident, out, Vec::new(), Some(usage.to_openai()));
                }
            }
            Event::Done => out.extend_from_slice(sse::DONE),
            Event::Error(e) => write_error_end(out, e),
        }
    }
}

/// Ends a failed stream: the error as a `data:` event, then `[DONE]`.
pub fn write_error_end(out: &mut Vec<u8>, e: &GatewayError) {
    sse::write_data(out, &e.to_json());
    out.extend_from_slice(sse::DONE);
}
