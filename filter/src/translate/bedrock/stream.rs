//! Bedrock ConverseStream (binary AWS event stream) → stream [`Event`]s.

use serde::de::DeserializeOwned;

use crate::codec::eventstream::Message;
use crate::error::GatewayError;
use crate::translate::bedrock::options::JSON_TOOL;
use crate::translate::bedrock::wire as br;
use crate::translate::bedrock::{completion_id, exception_status, finish_reason, usage};
use crate::translate::events::{BlockTools, Decode, Event, Sink, Writer};
use crate::translate::ResponseMeta;
use crate::usage::TokenUsage;

pub struct BedrockEvents {
    /// Bedrock answers name neither: the id is made up, the model is the one asked.
    id: String,
    model: String,
    identified: bool,
    usage: TokenUsage,
    /// Bedrock content-block index → OpenAI tool-call index.
    tools: BlockTools,
    /// `messageStop` arrived (the finish is out); `metadata` may follow.
    stopped: bool,
    /// The content block of the forced `json_schema` tool: its input is text.
    json_block: Option<u32>,
}

impl BedrockEvents {
    pub fn new(meta: &ResponseMeta<'_>) -> Self {
        BedrockEvents {
            id: completion_id(meta),
            model: meta.model.to_string(),
            identified: false,
            usage: TokenUsage::default(),
            tools: BlockTools::default(),
            stopped: false,
            json_block: None,
        }
    }

    /// The usage (when known) and the end.
    fn close<W: Writer>(&mut self, sink: &mut Sink<'_, W>) {
        if self.usage.is_known() {
            sink.emit(Event::Usage(self.usage));
        }
        sink.emit(Event::Done);
    }

    fn handle<W: Writer>(&mut self, msg: &Message, sink: &mut Sink<'_, W>) -> Option<()> {
        match msg.header_str(":event-type").unwrap_or("") {
            "messageStart" => sink.emit(Event::Role { choice: 0 }),
            "contentBlockStart" => {
                let ev = parse::<br::ContentBlockStart, W>(msg, sink)?;
                match ev.start.tool_use {
                    Some(tu) if tu.name == JSON_TOOL => {
                        self.json_block = Some(ev.content_block_index);
                    }
                    Some(tu) => {
                        let tool = self.tools.add(ev.content_block_index);
                        sink.emit(Event::ToolCall {
                            choice: 0,
                            index: tool,
                            id: &tu.tool_use_id,
                            name: &tu.name,
                            arguments: "",
                        });
                    }
                    None => {}
                }
            }
            "contentBlockDelta" => {
                let ev = parse::<br::ContentBlockDelta, W>(msg, sink)?;
                let d = ev.delta;
                if let Some(text) = d.text.as_deref().filter(|t| !t.is_empty()) {
                    sink.emit(Event::Text { choice: 0, text });
                }
                if let Some(text) = d
                    .reasoning_content
                    .as_ref()
                    .and_then(|r| r.text.as_deref())
                    .filter(|t| !t.is_empty())
                {
                    sink.emit(Event::Reasoning { choice: 0, text });
                }
                if let (Some(tu), true) =
                    (&d.tool_use, self.json_block == Some(ev.content_block_index))
                {
                    if !tu.input.is_empty() {
                        sink.emit(Event::Text {
                            choice: 0,
                            text: &tu.input,
                        });
                    }
                } else if let (Some(tu), Some(tool)) =
                    (&d.tool_use, self.tools.get(ev.content_block_index))
                {
                    if !tu.input.is_empty() {
                        sink.emit(Event::ToolArguments {
                            choice: 0,
                            index: tool,
                            arguments: &tu.input,
                        });
                    }
                }
            }
            "messageStop" => {
                let ev = parse::<br::MessageStop, W>(msg, sink)?;
                let reason = match finish_reason(ev.stop_reason.as_deref()) {
                    // Only the json_schema tool was called: the answer is its text.
                    Some("tool_calls") if self.json_block.is_some() && self.tools.is_empty() => {
                        "stop"
                    }
                    reason => reason.unwrap_or("stop"),
                };
                sink.emit(Event::Finish { choice: 0, reason });
                self.stopped = true;
            }
            "metadata" => {
                let ev = parse::<br::Metadata, W>(msg, sink)?;
                if let Some(u) = &ev.usage {
                    self.usage = usage(u);
                }
                // Bedrock sends metadata last, after messageStop.
                if self.stopped {
                    self.close(sink);
                }
            }
            // contentBlockStop, and event types newer than this code.
            _ => {}
        }
        Some(())
    }
}

/// The payload of `msg`, or the stream fails.
fn parse<T: DeserializeOwned, W: Writer>(msg: &Message, sink: &mut Sink<'_, W>) -> Option<T> {
    match serde_json::from_slice(&msg.payload) {
        Ok(v) => Some(v),
        Err(_) => {
            sink.fail(GatewayError::bad_gateway(
                "upstream sent a malformed stream event",
            ));
            None
        }
    }
}

/// The gateway error for a mid-stream `exception` message.
fn exception(msg: &Message) -> GatewayError {
    let name = msg.header_str(":exception-type").unwrap_or("");
    let body: br::ErrorBody = serde_json::from_slice(&msg.payload).unwrap_or_default();
    let text = body
        .message
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("upstream stream exception {name}"));
    stream_error(name, text)
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

impl Decode for BedrockEvents {
    type Frame = Message;

    fn frame<W: Writer>(&mut self, msg: &Message, sink: &mut Sink<'_, W>) {
        if !self.identified {
            self.identified = true;
            sink.identify(&self.id, &self.model);
        }
        match msg.header_str(":message-type") {
            Some("event") | None => {
                let _ = self.handle(msg, sink);
            }
            Some("exception") => sink.fail(exception(msg)),
            Some(_) => {
                // `error` messages: `:error-code` / `:error-message` headers.
                let code = msg.header_str(":error-code").unwrap_or("error");
                let text = msg
                    .header_str(":error-message")
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("upstream stream error {code}"));
                sink.fail(stream_error(code, text));
            }
        }
    }

    fn ended<W: Writer>(&mut self, sink: &mut Sink<'_, W>) {
        if self.stopped {
            // No metadata event: the answer is complete, its usage unknown.
            return self.close(sink);
        }
        sink.fail(GatewayError::bad_gateway(
            "upstream stream ended before messageStop",
        ));
    }

    fn usage(&self) -> TokenUsage {
        self.usage
    }
}
