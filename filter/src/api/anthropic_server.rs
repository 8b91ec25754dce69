//! Anthropic Messages as the gateway serves it (`POST /v1/messages`): the requests of
//! Anthropic-shaped clients, and the answers, stream events and errors it sends them.
//!
//! Content that may be a string or a list of blocks, and tool inputs, are kept as
//! `RawValue` and read in a second step: serde's untagged enums buffer their content,
//! and `RawValue` (which keeps a tool input's exact JSON text) cannot be read from a
//! buffer.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

// ---------- request ----------

#[derive(Debug, Deserialize)]
pub struct MessagesRequest {
    pub model: String,
    pub messages: Vec<Message>,
    /// A string or a list of text blocks.
    #[serde(default)]
    pub system: Option<Box<RawValue>>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub top_k: Option<u32>,
    #[serde(default)]
    pub tools: Option<Vec<Tool>>,
    #[serde(default)]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub thinking: Option<Thinking>,
    /// `{"effort": "low" | "medium" | "high" | "max"}` (Claude Code sends it).
    #[serde(default)]
    pub output_config: Option<OutputConfig>,
    /// Read only to tell the client when a provider cannot honour it.
    #[serde(default)]
    pub context_management: Option<serde::de::IgnoredAny>,
    /// The client's `anthropic-beta` header, whole (not the body): Anthropic providers
    /// get it as sent.
    #[serde(skip)]
    pub client_betas: Option<String>,
    /// `POST /v1/messages/count_tokens`: the same body, answered with its token count.
    #[serde(skip)]
    pub count_only: bool,
    /// The client's `mid-conversation-system-*` betas (from its `anthropic-beta` header,
    /// not the body): Anthropic providers then get `role: "system"` entries as sent.
    #[serde(skip)]
    pub system_message_betas: Option<String>,
}

impl MessagesRequest {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub role: String,
    /// A string or a list of blocks (see [`Block`]).
    pub content: Box<RawValue>,
}

/// One content block, flat: only the fields of its `type` are set.
#[derive(Debug, Deserialize)]
pub struct Block {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub source: Option<ImageSource>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub input: Option<Box<RawValue>>,
    #[serde(default)]
    pub tool_use_id: Option<String>,
    /// `tool_result` content: a string or a list of blocks.
    #[serde(default)]
    pub content: Option<Box<RawValue>>,
    #[serde(default)]
    pub is_error: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct ImageSource {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub data: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Tool {
    /// Absent or `custom` for client tools; server tools name a versioned type.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub input_schema: Option<Box<RawValue>>,
}

#[derive(Debug, Deserialize)]
pub struct ToolChoice {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub disable_parallel_tool_use: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct OutputConfig {
    #[serde(default)]
    pub effort: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Thinking {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub budget_tokens: Option<u32>,
}

// ---------- answer ----------

#[derive(Debug, Serialize)]
pub struct MessageOut<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub role: &'static str,
    pub model: &'a str,
    pub content: Vec<BlockOut<'a>>,
    pub stop_reason: Option<&'static str>,
    pub stop_sequence: Option<&'a str>,
    pub usage: UsageOut,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockOut<'a> {
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    Text {
        text: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a RawValue,
    },
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct UsageOut {
    pub input_tokens: u64,
    pub output_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
}

// ---------- stream events ----------

/// Every event the gateway writes; the SSE `event:` name is the `type`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventOut<'a> {
    MessageStart {
        message: MessageOut<'a>,
    },
    ContentBlockStart {
        index: u32,
        content_block: BlockOut<'a>,
    },
    ContentBlockDelta {
        index: u32,
        delta: DeltaOut<'a>,
    },
    ContentBlockStop {
        index: u32,
    },
    MessageDelta {
        delta: MessageDeltaOut,
        usage: UsageOut,
    },
    MessageStop,
    Error {
        error: ErrorOut<'a>,
    },
}

impl EventOut<'_> {
    pub fn name(&self) -> &'static str {
        match self {
            EventOut::MessageStart { .. } => "message_start",
            EventOut::ContentBlockStart { .. } => "content_block_start",
            EventOut::ContentBlockDelta { .. } => "content_block_delta",
            EventOut::ContentBlockStop { .. } => "content_block_stop",
            EventOut::MessageDelta { .. } => "message_delta",
            EventOut::MessageStop => "message_stop",
            EventOut::Error { .. } => "error",
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeltaOut<'a> {
    TextDelta { text: &'a str },
    ThinkingDelta { thinking: &'a str },
    InputJsonDelta { partial_json: &'a str },
}

#[derive(Debug, Serialize)]
pub struct MessageDeltaOut {
    pub stop_reason: Option<&'static str>,
    pub stop_sequence: Option<()>,
}

// ---------- errors ----------

/// `{"type":"error","error":{"type","message"}}`
#[derive(Debug, Serialize)]
pub struct ErrorEnvelopeOut<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub error: ErrorOut<'a>,
}

#[derive(Debug, Serialize)]
pub struct ErrorOut<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub message: &'a str,
}
