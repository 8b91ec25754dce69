//! An OpenAI chat completion (what every provider's translator yields) → a Responses
//! `response` object, and the parts the stream writer shares with it: ids, status,
//! usage, and tool calls named as the client declared them.

use serde::Deserialize;

use super::names::{Called, ToolNames};
use crate::api::completion::Completion;
use crate::api::responses::{
    ErrorOut, IncompleteOut, InputDetails, ItemOut, OutputDetails, OutputTextOut, ResponseOut,
    SummaryOut, UsageOut,
};
use crate::api::responses_echo::{Echo, Echoed};
use crate::error::GatewayError;
use crate::usage::TokenUsage;

/// `resp_…`: the provider's answer id, under the Responses prefix.
pub fn response_id(id: &str) -> String {
    prefixed("resp_", id)
}

pub fn prefixed(prefix: &str, id: &str) -> String {
    // The provider's own prefix (OpenAI's, Anthropic's) gives way to the item's.
    let bare = ["chatcmpl-", "msg_", "resp_"]
        .iter()
        .find_map(|p| id.strip_prefix(p))
        .unwrap_or(id);
    if bare.is_empty() {
        return crate::strs::concat(&[prefix, "gateway"]);
    }
    crate::strs::concat(&[prefix, bare])
}

/// Missing counts are written as zero (the shape has no room for "unknown").
pub fn usage(u: TokenUsage) -> UsageOut {
    let input = u.prompt.unwrap_or(0);
    let output = u.completion.unwrap_or(0);
    UsageOut {
        input_tokens: input,
        input_tokens_details: InputDetails {
            cached_tokens: u.cached_prompt.unwrap_or(0),
        },
        output_tokens: output,
        output_tokens_details: OutputDetails {
            reasoning_tokens: u.reasoning.unwrap_or(0),
        },
        total_tokens: input.saturating_add(output),
    }
}

/// The response's `status` and `incomplete_details` for a chat finish reason.
pub fn status(finish_reason: Option<&str>) -> (&'static str, Option<IncompleteOut>) {
    match finish_reason {
        Some("length") => (
            "incomplete",
            Some(IncompleteOut {
                reason: "max_output_tokens",
            }),
        ),
        Some("content_filter") => (
            "incomplete",
            Some(IncompleteOut {
                reason: "content_filter",
            }),
        ),
        _ => ("completed", None),
    }
}

/// Who answered, and when.
#[derive(Clone, Copy)]
pub struct Head<'a> {
    pub id: &'a str,
    pub created: u64,
    pub model: &'a str,
    /// The request fields repeated in the object.
    pub echo: Echoed<'a>,
}

/// The `response` object around `output`.
pub fn envelope<'a>(
    head: Head<'a>,
    status: &'static str,
    incomplete: Option<IncompleteOut>,
    output: &'a [ItemOut<'a>],
    usage: Option<UsageOut>,
    error: Option<ErrorOut<'a>>,
) -> ResponseOut<'a> {
    ResponseOut {
        id: head.id,
        object: "response",
        created_at: head.created,
        status,
        error,
        incomplete_details: incomplete,
        model: head.model,
        output,
        previous_response_id: None,
        // Translated requests with `store: true` are refused: nothing is stored.
        store: false,
        echo: head.echo,
        usage,
    }
}

#[derive(Deserialize)]
struct CustomArgs {
    input: String,
}

/// A finished tool call as an output item, named as the client declared it.
pub fn call_item<'a>(
    names: &'a ToolNames,
    call_id: &'a str,
    flat_name: &'a str,
    arguments: &'a str,
    status: &'static str,
) -> ItemOut<'a> {
    match names.back(flat_name) {
        Called::Function { name, namespace } => ItemOut::FunctionCall {
            id: prefixed("fc_", call_id),
            status,
            call_id,
            name,
            namespace,
            arguments,
        },
        Called::Custom { name, .. } => ItemOut::CustomToolCall {
            id: prefixed("ctc_", call_id),
            status,
            call_id,
            name,
            input: serde_json::from_str::<CustomArgs>(arguments)
                .map_or_else(|_| arguments.to_string(), |a| a.input),
        },
    }
}

/// `usage_in` is what the provider's translator read (it wins over the body's own).
pub fn response(
    body: &[u8],
    usage_in: TokenUsage,
    created: u64,
    names: &ToolNames,
    echo: &Echo,
) -> Result<Vec<u8>, GatewayError> {
    let (c, choice) = Completion::read(body)?;
    let msg = &choice.message;
    let mut output = Vec::new();
    if let Some(r) = msg.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
        output.push(ItemOut::Reasoning {
            id: prefixed("rs_", &c.id),
            summary: vec![SummaryOut {
                kind: "summary_text",
                text: r,
            }],
        });
    }
    if let Some(t) = msg.content.as_deref().filter(|t| !t.is_empty()) {
        output.push(ItemOut::Message {
            id: prefixed("msg_", &c.id),
            status: "completed",
            role: "assistant",
            content: vec![OutputTextOut::new(t)],
        });
    }
    for call in msg.tool_calls.iter().flatten() {
        output.push(call_item(
            names,
            &call.id,
            &call.function.name,
            &call.function.arguments,
            "completed",
        ));
    }
    let u = c.usage_over(usage_in);
    let id = response_id(&c.id);
    let (status, incomplete) = status(choice.finish_reason.as_deref());
    let head = Head {
        id: &id,
        created,
        model: &c.model,
        echo: echo.fields(),
    };
    let out = envelope(head, status, incomplete, &output, Some(usage(u)), None);
    serde_json::to_vec(&out).map_err(|e| GatewayError::internal(format!("serialise: {e}")))
}
