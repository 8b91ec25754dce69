//! Gemini `streamGenerateContent?alt=sse` → OpenAI `chat.completion.chunk` events.
//! Every SSE event is a whole `GenerateContentResponse` holding the next piece of each
//! candidate; function calls arrive complete. Gemini has no end marker: the stream is
//! complete when the body ends after a finish reason.

use crate::api::openai::{Delta, FunctionDelta, ToolCallDelta};
use crate::codec::sse::{self, SseParser};
use crate::error::GatewayError;
use crate::translate::chunks::{self, ChunkWriter};
use crate::translate::gemini::response::{
    args_text, finish_reason, google_error, tool_call_id, usage,
};
use crate::translate::gemini::wire::GenerateContentResponse;
use crate::translate::{StreamMapper, StreamSettings, MAX_EVENT_BYTES};
use crate::usage::TokenUsage;

/// Candidates a stream may carry: OpenAI's largest `n`. Keeps the per-candidate lookup
/// bounded, so a stream's work stays linear in its size.
const MAX_CHOICES: usize = 128;

/// Per candidate (OpenAI choice) progress. The OpenAI index is the candidate's position
/// in `choices` (order of first appearance): Gemini's own indices may be sparse.
#[derive(Debug, Clone, Copy)]
struct ChoiceState {
    gemini_index: u32,
    calls: u32,
    finished: bool,
}

pub struct GeminiStream {
    parser: SseParser,
    settings: StreamSettings,
    chunks: ChunkWriter,
    usage: TokenUsage,
    choices: Vec<ChoiceState>,
    /// Tool calls handed out so far (for ids unique within the answer).
    calls: usize,
    started: bool,
    done: bool,
    failed: bool,
    events: Vec<sse::Event>,
}

impl GeminiStream {
    pub fn new(settings: StreamSettings) -> Self {
        GeminiStream {
            parser: SseParser::new(MAX_EVENT_BYTES),
            settings,
            chunks: ChunkWriter::new(String::new(), String::new(), settings.created),
            usage: TokenUsage::default(),
            choices: Vec::new(),
            calls: 0,
            started: false,
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

    /// The position (= OpenAI index) of candidate `gemini_index`, announcing the choice
    /// (role chunk) the first time; `None` past [`MAX_CHOICES`].
    fn choice(&mut self, gemini_index: u32, out: &mut Vec<u8>) -> Option<(usize, u32)> {
        if let Some(pos) = self
            .choices
            .iter()
            .position(|c| c.gemini_index == gemini_index)
        {
            return Some((pos, u32::try_from(pos).ok()?));
        }
        if self.choices.len() >= MAX_CHOICES {
            return None;
        }
        let pos = self.choices.len();
        let index = u32::try_from(pos).ok()?;
        let delta = Delta {
            role: Some("assistant"),
            content: Some(""),
            ..Delta::default()
        };
        self.chunks.choice(out, index, delta, None);
        self.choices.push(ChoiceState {
            gemini_index,
            calls: 0,
            finished: false,
        });
        Some((pos, index))
    }

    fn finish_choice(&mut self, pos: usize, reason: &str, out: &mut Vec<u8>) {
        let Some(state) = self.choices.get_mut(pos) else {
            return;
        };
        if state.finished {
            return;
        }
        state.finished = true;
        let has_calls = state.calls > 0;
        let index = u32::try_from(pos).unwrap_or(u32::MAX);
        self.chunks.choice(
            out,
            index,
            Delta::default(),
            Some(finish_reason(reason, has_calls)),
        );
    }

    fn handle(&mut self, data: &str, out: &mut Vec<u8>) {
        if data.trim().is_empty() {
            return;
        }
        let msg: GenerateContentResponse = match serde_json::from_str(data) {
            Ok(m) => m,
            Err(_) => {
                return self.fail(
                    out,
                    GatewayError::bad_gateway("upstream sent a malformed stream event"),
                )
            }
        };
        if let Some(e) = &msg.error {
            let e = google_error(e.code.unwrap_or(500), e, b"");
            return self.fail(out, e);
        }
        if !self.started {
            self.started = true;
            self.chunks.id = msg
                .response_id
                .clone()
                .unwrap_or_else(|| format!("chatcmpl-gemini-{}", self.settings.created));
            self.chunks.model = msg.model_version.clone().unwrap_or_default();
        }
        if let Some(u) = &msg.usage_metadata {
            self.usage = usage(u);
        }
        let candidates = msg.candidates.as_deref().unwrap_or(&[]);
        for (n, c) in candidates.iter().enumerate() {
            let gemini_index = c
                .index
                .unwrap_or_else(|| u32::try_from(n).unwrap_or(u32::MAX));
            let Some((pos, index)) = self.choice(gemini_index, out) else {
                return self.fail(
                    out,
                    GatewayError::bad_gateway("upstream stream has too many candidates"),
                );
            };
            let parts = c.content.as_ref().and_then(|c| c.parts.as_deref());
            for p in parts.unwrap_or(&[]) {
                if let Some(call) = &p.function_call {
                    let id = tool_call_id(self.calls, p.thought_signature.as_deref());
                    self.calls += 1;
                    let Some(state) = self.choices.get_mut(pos) else {
                        continue;
                    };
                    let tool_index = state.calls;
                    state.calls += 1;
                    let delta = Delta {
                        tool_calls: Some(vec![ToolCallDelta {
                            index: tool_index,
                            id: Some(&id),
                            kind: Some("function"),
                            function: FunctionDelta {
                                name: Some(&call.name),
                                arguments: args_text(call.args.as_deref()),
                            },
                        }]),
                        ..Delta::default()
                    };
                    self.chunks.choice(out, index, delta, None);
                } else if let Some(text) = p.text.as_deref().filter(|t| !t.is_empty()) {
                    let delta = if p.thought == Some(true) {
                        Delta {
                            reasoning_content: Some(text),
                            ..Delta::default()
                        }
                    } else {
                        Delta {
                            content: Some(text),
                            ..Delta::default()
                        }
                    };
                    self.chunks.choice(out, index, delta, None);
                }
            }
            if let Some(reason) = &c.finish_reason {
                self.finish_choice(pos, reason, out);
            }
        }
        let blocked = msg
            .prompt_feedback
            .as_ref()
            .is_some_and(|f| f.block_reason.is_some());
        if candidates.is_empty() && blocked {
            if let Some((pos, _)) = self.choice(0, out) {
                self.finish_choice(pos, "SAFETY", out);
            }
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

impl StreamMapper for GeminiStream {
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
        if self.done {
            return;
        }
        if !self.choices.iter().any(|c| c.finished) {
            return self.fail(
                out,
                GatewayError::bad_gateway("upstream stream ended before a finish reason"),
            );
        }
        if self.settings.client_wants_usage {
            self.chunks.usage(out, self.usage.to_openai());
        }
        out.extend_from_slice(sse::DONE);
        self.done = true;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_candidates_than_openai_allows_fail_the_stream() {
        let run = |n: usize| {
            let cands: Vec<String> = (0..n)
                .map(|k| {
                    format!(
                        r#"{{"content":{{"parts":[{{"text":"x"}}]}},"index":{}}}"#,
                        k * 1000
                    )
                })
                .collect();
            let ev = format!("data: {{\"candidates\":[{}]}}\n\n", cands.join(","));
            let mut m = GeminiStream::new(StreamSettings {
                client_wants_usage: false,
                created: 1,
            });
            let mut out = Vec::new();
            m.push(ev.as_bytes(), &mut out);
            (m.failed(), String::from_utf8(out).unwrap())
        };
        let (failed, out) = run(MAX_CHOICES);
        assert!(!failed);
        assert!(out.contains(r#""index":127,"#) && !out.contains(r#""index":1000,"#));
        assert!(run(MAX_CHOICES + 1).0);
    }
}
