//! Writing the OpenAI stream: `chat.completion.chunk` SSE events and the two ways a
//! stream ends (the optional usage chunk + `[DONE]`, or an error event + `[DONE]`).
//! Shared by the stream mappers that answer OpenAI clients from another provider.

use crate::api::openai::{ChatChunk, ChunkChoice, Delta, Usage};
use crate::codec::sse;
use crate::error::GatewayError;

/// What every chunk of one answer repeats: its id, model and creation time.
#[derive(Debug, Default)]
pub struct ChunkWriter {
    pub id: String,
    pub model: String,
    pub created: u64,
    /// Characters of text, reasoning and tool arguments written so far: what an
    /// abandoned stream is charged for.
    pub relayed_chars: u64,
}

impl ChunkWriter {
    pub fn new(id: String, model: String, created: u64) -> Self {
        ChunkWriter {
            id,
            model,
            created,
            relayed_chars: 0,
        }
    }

    /// A chunk with one choice.
    pub fn choice<'a>(
        &mut self,
        out: &mut Vec<u8>,
        index: u32,
        delta: Delta<'a>,
        finish: Option<&'a str>,
    ) {
        self.relayed_chars += delta_chars(&delta);
        self.write(
            out,
            vec![ChunkChoice {
                index,
                delta,
                logprobs: None,
                finish_reason: finish,
            }],
            None,
        );
    }

    /// The usage-only chunk (no choices) that `stream_options.include_usage` asks for.
    pub fn usage(&self, out: &mut Vec<u8>, usage: Usage) {
        self.write(out, Vec::new(), Some(usage));
    }

    fn write(&self, out: &mut Vec<u8>, choices: Vec<ChunkChoice<'_>>, usage: Option<Usage>) {
        let c = ChatChunk {
            id: &self.id,
            object: "chat.completion.chunk",
            created: self.created,
            model: &self.model,
            choices,
            usage,
        };
        if let Ok(json) = serde_json::to_vec(&c) {
            sse::write_data(out, &json);
        }
    }
}

/// Characters of answer in a delta: text, reasoning and tool-call arguments.
fn delta_chars(d: &Delta<'_>) -> u64 {
    let text = |t: Option<&str>| t.map_or(0, |t| t.chars().count() as u64);
    let args: u64 = d
        .tool_calls
        .iter()
        .flatten()
        .map(|c| text(Some(c.function.arguments)))
        .sum();
    text(d.content) + text(d.reasoning_content) + args
}

/// Ends a failed stream: the error as a `data:` event, then `[DONE]`.
pub fn write_error_end(out: &mut Vec<u8>, e: &GatewayError) {
    sse::write_data(out, &e.to_json());
    out.extend_from_slice(sse::DONE);
}
