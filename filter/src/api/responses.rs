//! OpenAI Responses API (`POST /v1/responses`) as the gateway serves it: the request it
//! reads, the `response` object and stream events it writes.
//!
//! Input items, tools and parts are flat structs (only the fields of their `type` are
//! set): items without a `type` are messages, and tagged enums would buffer their
//! content, which `RawValue` (a tool's exact schema text) cannot be read from.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

// ---------- request ----------

#[derive(Debug, Deserialize)]
pub struct ResponsesRequest {
    pub model: String,
    #[serde(default)]
    pub input: Option<Input>,
    #[serde(default)]
    pub instructions: Option<String>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub tools: Option<Vec<Tool>>,
    #[serde(default)]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub text: Option<TextConfig>,
    #[serde(default)]
    pub reasoning: Option<Reasoning>,
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub safety_identifier: Option<String>,
    #[serde(default)]
    pub prompt_cache_key: Option<String>,
    /// State kept by the provider: only providers that serve the Responses API have it.
    #[serde(default)]
    pub previous_response_id: Option<String>,
    #[serde(default)]
    pub conversation: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    pub store: Option<bool>,
    #[serde(default)]
    pub background: Option<bool>,
    /// Accepted for every provider; what they cannot give is left out of the answer.
    #[serde(default)]
    pub include: Option<Vec<String>>,
    #[serde(default)]
    pub metadata: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    pub client_metadata: Option<serde::de::IgnoredAny>,
}

impl ResponsesRequest {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }
}

/// `input`: a string (one user message) or a list of items.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Input {
    Text(String),
    Items(Vec<Item>),
}

/// One input item, flat: `type` absent or `message` (with `role` and `content`),
/// `function_call`, `function_call_output`, `custom_tool_call`,
/// `custom_tool_call_output`, `reasoning`, `item_reference`, …
#[derive(Debug, Deserialize)]
pub struct Item {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub content: Option<Content>,
    #[serde(default)]
    pub call_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
    /// `custom_tool_call`: the free-form input.
    #[serde(default)]
    pub input: Option<String>,
    #[serde(default)]
    pub output: Option<Content>,
}

/// Message content or a tool output: a string or a list of parts.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
}

/// `input_text`, `output_text`, `input_image`, `refusal`, `summary_text`, `input_file`, …
#[derive(Debug, Deserialize)]
pub struct Part {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub file_id: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
}

/// A tool, flat: `function` (`name`, `parameters`, …), `custom` (free-form input),
/// `namespace` (`tools` inside), or a hosted tool (`web_search`, `file_search`, …).
#[derive(Debug, Deserialize)]
pub struct Tool {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<Box<RawValue>>,
    #[serde(default)]
    pub strict: Option<bool>,
    #[serde(default)]
    pub tools: Option<Vec<Tool>>,
}

/// `"auto" | "none" | "required"` or `{"type": "function", "name": …}` (other objects:
/// hosted tools, `allowed_tools`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ToolChoice {
    Mode(String),
    Object(ToolChoiceObject),
}

#[derive(Debug, Deserialize)]
pub struct ToolChoiceObject {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TextConfig {
    #[serde(default)]
    pub format: Option<TextFormat>,
}

/// `{"type": "text" | "json_object" | "json_schema", name, schema, strict, description}`.
#[derive(Debug, Deserialize)]
pub struct TextFormat {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub schema: Option<Box<RawValue>>,
    #[serde(default)]
    pub strict: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct Reasoning {
    #[serde(default)]
    pub effort: Option<String>,
    #[serde(default)]
    pub summary: Option<serde::de::IgnoredAny>,
}

// ---------- answer (written) ----------

/// The `response` object.
#[derive(Debug, Serialize)]
pub struct ResponseOut<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub created_at: u64,
    pub status: &'static str,
    pub error: Option<ErrorOut<'a>>,
    pub incomplete_details: Option<IncompleteOut>,
    pub model: &'a str,
    pub output: &'a [ItemOut<'a>],
    pub previous_response_id: Option<()>,
    pub store: bool,
    /// The request fields OpenAI repeats (`instructions`, `tools`, `temperature` …).
    #[serde(flatten)]
    pub echo: crate::api::responses_echo::Echoed<'a>,
    pub usage: Option<UsageOut>,
}

#[derive(Debug, Serialize)]
pub struct ErrorOut<'a> {
    pub code: &'a str,
    pub message: &'a str,
}

#[derive(Debug, Serialize)]
pub struct IncompleteOut {
    pub reason: &'static str,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct UsageOut {
    pub input_tokens: u64,
    pub input_tokens_details: InputDetails,
    pub output_tokens: u64,
    pub output_tokens_details: OutputDetails,
    pub total_tokens: u64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct InputDetails {
    pub cached_tokens: u64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct OutputDetails {
    pub reasoning_tokens: u64,
}

/// One output item. Tagged by `type`; written only.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemOut<'a> {
    Reasoning {
        id: String,
        summary: Vec<SummaryOut<'a>>,
    },
    Message {
        id: String,
        status: &'static str,
        role: &'static str,
        content: Vec<OutputTextOut<'a>>,
    },
    FunctionCall {
        id: String,
        status: &'static str,
        call_id: &'a str,
        name: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<&'a str>,
        arguments: &'a str,
    },
    CustomToolCall {
        id: String,
        status: &'static str,
        call_id: &'a str,
        name: &'a str,
        input: String,
    },
}

#[derive(Debug, Serialize)]
pub struct SummaryOut<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: &'a str,
}

#[derive(Debug, Serialize)]
pub struct OutputTextOut<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: &'a str,
    pub annotations: [(); 0],
    pub logprobs: [(); 0],
}

impl<'a> OutputTextOut<'a> {
    pub fn new(text: &'a str) -> Self {
        OutputTextOut {
            kind: "output_text",
            text,
            annotations: [],
            logprobs: [],
        }
    }
}

// ---------- read from OpenAI Responses upstreams (passthrough) ----------

/// What the gateway reads from a Responses answer or a stream event's `response`.
#[derive(Debug, Deserialize)]
pub struct ResponseProbe {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub created_at: Option<u64>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub usage: Option<UsageProbe>,
    /// `completed`, `incomplete` (see `incomplete_details`), `failed`, …
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub incomplete_details: Option<IncompleteProbe>,
}

#[derive(Debug, Deserialize)]
pub struct IncompleteProbe {
    #[serde(default)]
    pub reason: Option<String>,
}

impl ResponseProbe {
    /// The chat finish reason of a finished response (`from_chat::status` reversed):
    /// none for one that failed or is still running.
    pub fn finish_reason(&self) -> Option<&'static str> {
        match self.status.as_deref()? {
            "completed" => Some("stop"),
            "incomplete" => Some(
                match self
                    .incomplete_details
                    .as_ref()
                    .and_then(|d| d.reason.as_deref())
                {
                    Some("content_filter") => "content_filter",
                    _ => "length",
                },
            ),
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct UsageProbe {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub input_tokens_details: Option<InputDetailsProbe>,
    #[serde(default)]
    pub output_tokens_details: Option<OutputDetailsProbe>,
}

#[derive(Debug, Deserialize)]
pub struct InputDetailsProbe {
    #[serde(default)]
    pub cached_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct OutputDetailsProbe {
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

/// A Responses stream event as the passthrough reads it.
#[derive(Debug, Deserialize)]
pub struct EventProbe<'a> {
    #[serde(rename = "type", default, borrow)]
    pub kind: std::borrow::Cow<'a, str>,
    #[serde(default)]
    pub sequence_number: Option<u64>,
    #[serde(default, borrow)]
    pub delta: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    pub response: Option<ResponseProbe>,
}
