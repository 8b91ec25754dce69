//! Reasoning tokens as OpenAI reports them: a part of the completion, counted apart.

use serde_json::{json, Value};

use crate::reply::Usage;

/// What the mock "thinks" when a request asks for reasoning.
pub const REASONING_TOKENS: u64 = 4;

/// Chat's `reasoning_effort` / Responses' `reasoning.effort`: any effort but `none` thinks.
pub fn tokens(effort: Option<&str>) -> u64 {
    match effort {
        Some(e) if e != "none" => REASONING_TOKENS,
        _ => 0,
    }
}

/// Chat's `usage.completion_tokens_details`, as OpenAI sends it on every answer.
pub fn chat_details(u: Usage) -> Value {
    json!({
        "reasoning_tokens": u.reasoning_tokens,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    })
}
