//! OpenAI-shaped upstream streams: passed through to OpenAI clients ([`passthrough`]),
//! or read as [`Event`]s for clients of another dialect ([`OpenAiEvents`]).

use serde::Deserialize;

use super::error;
use crate::api::openai::{ChunkProbe, Usage};
use crate::codec::sse;
use crate::error::GatewayError;
use crate::translate::chunks;
use crate::translate::events::{Decode, Event, Sink, Writer};
use crate::translate::relay::{self, Read, Relay, Seen};
use crate::translate::{StreamMapper, StreamSettings};
use crate::usage::TokenUsage;

fn malformed() -> GatewayError {
    GatewayError::bad_gateway("upstream sent a malformed stream event")
}

enum Probed<'a> {
    Done,
    Chunk(ChunkProbe<'a>),
    Failed(GatewayError),
}

/// What every OpenAI chunk tells the gateway: how it ends, its usage, how much answer
/// it carries. The probe reads no more than that, so passing through stays cheap.
fn probe<'a>(read: &mut Read, data: &'a str) -> Probed<'a> {
    if data == "[DONE]" {
        return Probed::Done;
    }
    let probe = match serde_json::from_str::<ChunkProbe<'_>>(data) {
        Ok(p) => p,
        Err(_) => return Probed::Failed(malformed()),
    };
    if probe.error.is_some() {
        // In the gateway's own error shape, like every other provider's.
        return Probed::Failed(error(500, data.as_bytes()));
    }
    read.relayed_chars += probe.answer_chars();
    for c in probe.choices.iter().flatten() {
        if let Some(r) = &c.finish_reason {
            read.finish.set(c.index, r);
        }
    }
    if let Some(u) = &probe.usage {
        read.usage = TokenUsage::from_openai(u);
    }
    Probed::Chunk(probe)
}

/// Passes events through unchanged, reading usage on the way and hiding the usage
/// chunk from clients that did not ask for it. Ends like every other stream mapper:
/// `[DONE]`, or an error event and `[DONE]` (for an upstream error event, an event that
/// is not JSON, or a body that ends without `[DONE]`); nothing after that is relayed.
pub struct Passthrough {
    settings: StreamSettings,
}

pub fn passthrough(settings: StreamSettings) -> Box<dyn StreamMapper> {
    relay::stream(Passthrough { settings })
}

impl Relay for Passthrough {
    const ENDED: &'static str = "upstream stream ended before [DONE]";

    fn frame(&mut self, ev: &sse::Event, seen: &mut Seen, out: &mut Vec<u8>) {
        match probe(&mut seen.read, &ev.data) {
            Probed::Done => {
                seen.done = true;
                out.extend_from_slice(&ev.raw);
            }
            Probed::Failed(e) => {
                seen.fail();
                chunks::write_error_end(out, &e);
            }
            Probed::Chunk(probe) => {
                // The usage-only chunk the gateway asked for on the client's behalf stays hidden.
                if !probe.usage_only() || self.settings.client_wants_usage {
                    out.extend_from_slice(&ev.raw);
                }
            }
        }
    }

    fn write_failure(&mut self, message: &str, out: &mut Vec<u8>) {
        chunks::write_error_end(out, &GatewayError::bad_gateway(message));
    }
}

/// An OpenAI chunk as read for events: the first choice's delta.
#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: ChunkDelta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ChunkDelta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ChunkToolCall>>,
}

#[derive(Debug, Deserialize)]
struct ChunkToolCall {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<ChunkFunction>,
}

#[derive(Debug, Deserialize)]
struct ChunkFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

/// OpenAI chunks → events (for Anthropic-shaped clients). Only the first choice is
/// read: those clients ask for one. Usage and relayed characters are read as for
/// passthrough, so accounting does not depend on the client's dialect.
#[derive(Debug, Default)]
pub struct OpenAiEvents {
    read: Read,
}

impl OpenAiEvents {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Decode for OpenAiEvents {
    type Frame = sse::Event;

    fn frame<W: Writer>(&mut self, ev: &sse::Event, sink: &mut Sink<'_, W>) {
        let data = ev.data.as_str();
        match probe(&mut self.read, data) {
            Probed::Done => return sink.emit(Event::Done),
            Probed::Failed(e) => return sink.fail(e),
            Probed::Chunk(_) => {}
        }
        // `"error": null` passes the probe but is no chunk either.
        if data.starts_with("{\"error\"") {
            return sink.fail(GatewayError::bad_gateway("upstream stream error"));
        }
        let Ok(chunk) = serde_json::from_str::<Chunk>(data) else {
            return sink.fail(malformed());
        };
        sink.identify(&chunk.id, &chunk.model);
        sink.start();
        if let Some(u) = &chunk.usage {
            sink.emit(Event::Usage(TokenUsage::from_openai(u)));
        }
        let Some(choice) = chunk.choices.first() else {
            return;
        };
        let d = &choice.delta;
        if let Some(text) = d.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
            sink.emit(Event::Reasoning { choice: 0, text });
        }
        if let Some(text) = d.content.as_deref().filter(|t| !t.is_empty()) {
            sink.emit(Event::Text { choice: 0, text });
        }
        for call in d.tool_calls.iter().flatten() {
            let name = call.function.as_ref().and_then(|f| f.name.as_deref());
            let arguments = call.function.as_ref().and_then(|f| f.arguments.as_deref());
            let arguments = arguments.unwrap_or("");
            // A call starts with its id (and name); later deltas of it carry only text.
            match call.id.as_deref() {
                Some(id) => sink.emit(Event::ToolCall {
                    choice: 0,
                    index: call.index,
                    id,
                    name: name.unwrap_or(""),
                    arguments,
                }),
                None if !arguments.is_empty() => sink.emit(Event::ToolArguments {
                    choice: 0,
                    index: call.index,
                    arguments,
                }),
                None => {}
            }
        }
        if let Some(reason) = choice.finish_reason.as_deref() {
            sink.emit(Event::Finish { choice: 0, reason });
        }
    }

    fn ended<W: Writer>(&mut self, sink: &mut Sink<'_, W>) {
        sink.fail(GatewayError::bad_gateway(
            "upstream stream ended before [DONE]",
        ));
    }

    fn usage(&self) -> TokenUsage {
        self.read.usage
    }

    fn relayed_chars(&self, _counted: u64) -> u64 {
        self.read.relayed_chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passthrough_keeps_each_choices_finish_reason() {
        let mut m = passthrough(StreamSettings {
            client_wants_usage: false,
            created: 0,
        });
        let mut out = Vec::new();
        for data in [
            r#"{"choices":[{"index":1,"delta":{"content":"b"},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":1,"delta":{},"finish_reason":"length"}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            "[DONE]",
        ] {
            m.push(format!("data: {data}\n\n").as_bytes(), &mut out);
        }
        m.finish(&mut out);
        assert!(!m.failed());
        assert_eq!(m.finish_reasons().list(), ["stop", "length"]);
    }
}
