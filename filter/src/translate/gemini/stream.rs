//! Gemini `streamGenerateContent?alt=sse` → stream [`Event`]s.
//! Every SSE event is a whole `GenerateContentResponse` holding the next piece of each
//! candidate; function calls arrive complete. Gemini has no end marker: the stream is
//! complete when the body ends after a finish reason.

use crate::codec::sse;
use crate::error::GatewayError;
use crate::translate::events::{Decode, Event, Sink, Writer};
use crate::translate::gemini::response::{
    args_text, finish_reason, google_error, tool_call_id, usage,
};
use crate::translate::gemini::wire::GenerateContentResponse;
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

pub struct GeminiEvents {
    /// For the answer id when Gemini gives none.
    created: u64,
    usage: TokenUsage,
    choices: Vec<ChoiceState>,
    /// Tool calls handed out so far (for ids unique within the answer).
    calls: usize,
    started: bool,
}

impl GeminiEvents {
    pub fn new(created: u64) -> Self {
        GeminiEvents {
            created,
            usage: TokenUsage::default(),
            choices: Vec::new(),
            calls: 0,
            started: false,
        }
    }

    /// The position (= OpenAI index) of candidate `gemini_index`, announcing the choice
    /// (`Role`) the first time; `None` past [`MAX_CHOICES`].
    fn choice<W: Writer>(
        &mut self,
        gemini_index: u32,
        sink: &mut Sink<'_, W>,
    ) -> Option<(usize, u32)> {
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
        sink.emit(Event::Role { choice: index });
        self.choices.push(ChoiceState {
            gemini_index,
            calls: 0,
            finished: false,
        });
        Some((pos, index))
    }

    fn finish_choice<W: Writer>(&mut self, pos: usize, reason: &str, sink: &mut Sink<'_, W>) {
        let Some(state) = self.choices.get_mut(pos) else {
            return;
        };
        if state.finished {
            return;
        }
        state.finished = true;
        let has_calls = state.calls > 0;
        let index = u32::try_from(pos).unwrap_or(u32::MAX);
        sink.emit(Event::Finish {
            choice: index,
            reason: finish_reason(reason, has_calls),
        });
    }
}

impl Decode for GeminiEvents {
    type Frame = sse::Event;

    fn frame<W: Writer>(&mut self, frame: &sse::Event, sink: &mut Sink<'_, W>) {
        let data = &frame.data;
        if data.trim().is_empty() {
            return;
        }
        let msg: GenerateContentResponse = match serde_json::from_str(data) {
            Ok(m) => m,
            Err(_) => {
                return sink.fail(GatewayError::bad_gateway(
                    "upstream sent a malformed stream event",
                ))
            }
        };
        if let Some(e) = &msg.error {
            return sink.fail(google_error(e.code.unwrap_or(500), e, b""));
        }
        if !self.started {
            self.started = true;
            let model = msg.model_version.as_deref().unwrap_or_default();
            match &msg.response_id {
                Some(id) => sink.identify(id, model),
                None => sink.identify(&format!("chatcmpl-gemini-{}", self.created), model),
            }
        }
        if let Some(u) = &msg.usage_metadata {
            self.usage = usage(u);
        }
        let candidates = msg.candidates.as_deref().unwrap_or(&[]);
        for (n, c) in candidates.iter().enumerate() {
            let gemini_index = c
                .index
                .unwrap_or_else(|| u32::try_from(n).unwrap_or(u32::MAX));
            let Some((pos, index)) = self.choice(gemini_index, sink) else {
                return sink.fail(GatewayError::bad_gateway(
                    "upstream stream has too many candidates",
                ));
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
                    sink.emit(Event::ToolCall {
                        choice: index,
                        index: tool_index,
                        id: &id,
                        name: &call.name,
                        arguments: args_text(call.args.as_deref()),
                    });
                } else if let Some(text) = p.text.as_deref().filter(|t| !t.is_empty()) {
                    sink.emit(if p.thought == Some(true) {
                        Event::Reasoning {
                            choice: index,
                            text,
                        }
                    } else {
                        Event::Text {
                            choice: index,
                            text,
                        }
                    });
                }
            }
            if let Some(reason) = &c.finish_reason {
                self.finish_choice(pos, reason, sink);
            }
        }
        let blocked = msg
            .prompt_feedback
            .as_ref()
            .is_some_and(|f| f.block_reason.is_some());
        if candidates.is_empty() && blocked {
            if let Some((pos, _)) = self.choice(0, sink) {
                self.finish_choice(pos, "SAFETY", sink);
            }
        }
    }

    /// Gemini has no end marker: the body ending after a finish reason ends the answer.
    fn ended<W: Writer>(&mut self, sink: &mut Sink<'_, W>) {
        if !self.choices.iter().any(|c| c.finished) {
            return sink.fail(GatewayError::bad_gateway(
                "upstream stream ended before a finish reason",
            ));
        }
        sink.emit(Event::Usage(self.usage));
        sink.emit(Event::Done);
    }

    fn usage(&self) -> TokenUsage {
        self.usage
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
            let mut m = crate::translate::events::mapper(
                sse::SseParser::new(crate::codec::framed::MAX_EVENT_BYTES),
                GeminiEvents::new(1),
                crate::translate::chunks::ChunkWriter::new(crate::translate::StreamSettings {
                    client_wants_usage: false,
                    created: 1,
                }),
            );
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
