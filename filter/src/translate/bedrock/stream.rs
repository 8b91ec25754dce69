//! Bedrock ConverseStream (binary AWS event stream) → OpenAI `chat.completion.chunk` SSE.

use serde::de::DeserializeOwned;

use crate::api::openai::{Delta, FunctionDelta, ToolCallDelta};
use crate::codec::eventstream::{Decoder, Message};
use crate::codec::sse;
use crate::error::GatewayError;
use crate::translate::bedrock::wire as br;
use crate::translate::bedrock::{completion_id, exception_status, finish_reason, usage};
use crate::translate::chunks::{self, ChunkWriter};
use crate::translate::{ResponseMeta, StreamMapper, StreamSettings, MAX_EVENT_BYTES};
use crate::usage::TokenUsage;

pub struct BedrockStream {
    decoder: Decoder,
    settings: StreamSettings,
    chunks: ChunkWriter,
    usage: TokenUsage,
    /// Bedrock content-block index → OpenAI tool-call index.
    tools: Vec<(u32, u32)>,
    /// `messageStop` arrived (the finish chunk is out); `metadata` may follow.
    stopped: bool,
    done: bool,
    failed: bool,
}

impl BedrockStream {
    pub fn new(settings: StreamSettings, meta: &ResponseMeta<'_>) -> Self {
        BedrockStream {
            decoder: Decoder::new(MAX_EVENT_BYTES),
            settings,
            chunks: ChunkWriter::new(
                completion_id(meta),
                meta.model.to_string(),
                settings.created,
            ),
            usage: TokenUsage::default(),
            tools: Vec::new(),
            stopped: false,
            done: false,
            failed: false,
        }
    }

    fn fail(&mut self, out: &mut Vec<u8>, e: GatewayError) {
        self.failed = true;
        self.done = true;
        chunks::write_error_end(out, &e);
    }

    /// The usage chunk (when asked for and known) and `[DONE]`.
    fn close(&mut self, out: &mut Vec<u8>) {
        if self.settings.client_wants_usage && self.usage.is_known() {
            self.chunks.usage(out, self.usage.to_openai());
        }
        out.extend_from_slice(sse::DONE);
        self.done = true;
    }

    /// Deltas follow their block's start: searching from the newest block finds it at once.
    fn tool_index(&self, block: u32) -> Option<u32> {
        self.tools
            .iter()
            .rev()
            .find(|(b, _)| *b == block)
            .map(|(_, t)| *t)
    }

    fn parse<T: DeserializeOwned>(&mut self, msg: &Message, out: &mut Vec<u8>) -> Option<T> {
        match serde_json::from_slice(&msg.payload) {
            Ok(v) => Some(v),
            Err(_) => {
                self.fail(
                    out,
                    GatewayError::bad_gateway("upstream sent a malformed stream event"),
                );
                None
            }
        }
    }

    fn handle(&mut self, msg: &Message, out: &mut Vec<u8>) {
        match msg.header_str(":message-type") {
            Some("event") | None => {}
            Some("exception") => return self.exception(msg, out),
            Some(_) => {
                // `error` messages: `:error-code` / `:error-message` headers.
                let code = msg.header_str(":error-code").unwrap_or("error");
                let text = msg
                    .header_str(":error-message")
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("upstream stream error {code}"));
                return self.fail(out, stream_error(code, text));
            }
        }
        match msg.header_str(":event-type").unwrap_or("") {
            "messageStart" => {
                let delta = Delta {
                    role: Some("assistant"),
                    content: Some(""),
                    ..Delta::default()
                };
                self.chunks.choice(out, 0, delta, None);
            }
            "contentBlockStart" => {
                let Some(ev) = self.parse::<br::ContentBlockStart>(msg, out) else {
                    return;
                };
                if let Some(tu) = ev.start.tool_use {
                    let tool = u32::try_from(self.tools.len()).unwrap_or(u32::MAX);
                    self.tools.push((ev.content_block_index, tool));
                    let delta = Delta {
                        tool_calls: Some(vec![ToolCallDelta {
                            index: tool,
                            id: Some(&tu.tool_use_id),
                            kind: Some("function"),
                            function: FunctionDelta {
                                name: Some(&tu.name),
                                arguments: "",
                            },
                        }]),
                        ..Delta::default()
                    };
                    self.chunks.choice(out, 0, delta, None);
                }
            }
            "contentBlockDelta" => {
                let Some(ev) = self.parse::<br::ContentBlockDelta>(msg, out) else {
                    return;
                };
                let d = ev.delta;
                if let Some(text) = d.text.as_deref().filter(|t| !t.is_empty()) {
                    let delta = Delta {
                        content: Some(text),
                        ..Delta::default()
                    };
                    self.chunks.choice(out, 0, delta, None);
                }
                if let Some(text) = d
                    .reasoning_content
                    .as_ref()
                    .and_then(|r| r.text.as_deref())
                    .filter(|t| !t.is_empty())
                {
                    let delta = Delta {
                        reasoning_content: Some(text),
                        ..Delta::default()
                    };
                    self.chunks.choice(out, 0, delta, None);
                }
                if let (Some(tu), Some(tool)) =
                    (&d.tool_use, self.tool_index(ev.content_block_index))
                {
                    if !tu.input.is_empty() {
                        let delta = Delta {
                            tool_calls: Some(vec![ToolCallDelta {
                                index: tool,
                                id: None,
                                kind: None,
                                function: FunctionDelta {
                                    name: None,
                                    arguments: &tu.input,
                                },
                            }]),
                            ..Delta::default()
                        };
                        self.chunks.choice(out, 0, delta, None);
                    }
                }
            }
            "messageStop" => {
                let Some(ev) = self.parse::<br::MessageStop>(msg, out) else {
                    return;
                };
                let reason = finish_reason(ev.stop_reason.as_deref()).unwrap_or("stop");
                self.chunks.choice(out, 0, Delta::default(), Some(reason));
                self.stopped = true;
            }
            "metadata" => {
                let Some(ev) = self.parse::<br::Metadata>(msg, out) else {
                    return;
                };
                if let Some(u) = &ev.usage {
                    self.usage = usage(u);
                }
                // Bedrock sends metadata last, after messageStop.
                if self.stopped {
                    self.close(out);
                }
            }
            // contentBlockStop, and event types newer than this code.
            _ => {}
        }
    }

    fn exception(&mut self, msg: &Message, out: &mut Vec<u8>) {
        let name = msg.header_str(":exception-type").unwrap_or("");
        let body: br::ErrorBody = serde_json::from_slice(&msg.payload).unwrap_or_default();
        let text = body
            .message
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| format!("upstream stream exception {name}"));
        self.fail(out, stream_error(name, text));
    }
}

/// The gateway error for a mid-stream `exception` or `error` message named `name`.
fn stream_error(name: &str, text: String) -> GatewayError {
    match exception_status(name) {
        Some((status, kind, code)) => {
            let mut e = GatewayError::upstream(status, kind, text);
            e.code = Some(code);
            e
        }
        None => GatewayError::upstream(502, "api_error", text),
    }
}

impl StreamMapper for BedrockStream {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        let mut messages = Vec::new();
        let res = self.decoder.push(chunk, &mut messages);
        for msg in &messages {
            if self.done {
                return;
            }
            self.handle(msg, out);
        }
        if let Err(e) = res {
            if !self.done {
                self.fail(
                    out,
                    GatewayError::bad_gateway(format!("upstream event stream is corrupt: {e}")),
                );
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        if self.decoder.pending() > 0 {
            return self.fail(
                out,
                GatewayError::bad_gateway("upstream stream ended in the middle of a message"),
            );
        }
        if self.stopped {
            // No metadata event: the answer is complete, its usage unknown.
            return self.close(out);
        }
        self.fail(
            out,
            GatewayError::bad_gateway("upstream stream ended before messageStop"),
        );
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
