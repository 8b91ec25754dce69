//! OpenAI chat completion → Anthropic message (non-streaming).
//!
//! `reasoning_content` → a `thinking` block (empty signature: there is none to give),
//! `content` → a `text` block, `tool_calls` → `tool_use` blocks (arguments parsed back
//! into the input object), `finish_reason` → `stop_reason`, usage → Anthropic usage
//! (`input_tokens` excludes cache reads, which go to `cache_read_input_tokens`).

use serde_json::value::RawValue;

use crate::api::anthropic_server::{BlockOut, MessageOut, UsageOut};
use crate::api::completion::Completion;
use crate::error::GatewayError;
use crate::usage::TokenUsage;

pub fn stop_reason(finish_reason: Option<&str>) -> &'static str {
    match finish_reason {
        Some("length") => "max_tokens",
        Some("tool_calls" | "function_call") => "tool_use",
        Some("content_filter") => "refusal",
        _ => "end_turn",
    }
}

pub fn usage(u: TokenUsage) -> UsageOut {
    let cached = u.cached_prompt;
    UsageOut {
        input_tokens: u.prompt.unwrap_or(0).saturating_sub(cached.unwrap_or(0)),
        output_tokens: u.completion.unwrap_or(0),
        cache_read_input_tokens: cached,
    }
}

/// Anthropic message ids start with `msg_`.
pub fn message_id(openai_id: &str) -> String {
    if openai_id.starts_with("msg_") {
        openai_id.to_string()
    } else if openai_id.is_empty() {
        "msg_gateway".to_string()
    } else {
        format!("msg_{openai_id}")
    }
}

/// Tool arguments (a JSON text) as the tool_use input object.
pub fn tool_input(arguments: &str) -> Result<Box<RawValue>, GatewayError> {
    let text = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    let raw = RawValue::from_string(text.to_string()).map_err(|_| bad_arguments())?;
    if !raw.get().trim_start().starts_with('{') {
        return Err(bad_arguments());
    }
    Ok(raw)
}

fn bad_arguments() -> GatewayError {
    GatewayError::bad_gateway("upstream returned tool call arguments that are not a JSON object")
}

/// `usage` is what the provider's translator read (it wins over the body's own).
pub fn message(body: &[u8], usage_in: TokenUsage) -> Result<Vec<u8>, GatewayError> {
    let (c, choice) = Completion::read(body)?;
    let msg = &choice.message;
    let mut inputs = Vec::new();
    for call in msg.tool_calls.iter().flatten() {
        inputs.push(tool_input(&call.function.arguments)?);
    }
    let mut content = Vec::new();
    if let Some(r) = msg.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
        content.push(BlockOut::Thinking {
            thinking: r,
            signature: "",
        });
    }
    if let Some(t) = msg.content.as_deref().filter(|t| !t.is_empty()) {
        content.push(BlockOut::Text { text: t });
    }
    for (call, input) in msg.tool_calls.iter().flatten().zip(&inputs) {
        content.push(BlockOut::ToolUse {
            id: &call.id,
            name: &call.function.name,
            input,
        });
    }
    let u = c.usage_over(usage_in);
    let id = message_id(&c.id);
    let out = MessageOut {
        id: &id,
        kind: "message",
        role: "assistant",
        model: &c.model,
        content,
        stop_reason: Some(stop_reason(choice.finish_reason.as_deref())),
        stop_sequence: None,
        usage: usage(u),
    };
    serde_json::to_vec(&out).map_err(|e| GatewayError::internal(format!("serialise: {e}")))
}
