//! OpenAI Chat Completions wire format (requests we accept, answers we produce).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::text::{Text, TextOut};

// ---------- request ----------

/// Fields the gateway reads. Unknown fields are ignored here; the OpenAI passthrough
/// forwards the original bytes, so nothing is lost for OpenAI-format upstreams.
/// `Default` is for requests the gateway builds itself (`openai_build`, `responses`).
#[derive(Debug, Default, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub stop: Option<Stop>,
    #[serde(default)]
    pub tools: Option<Vec<Tool>>,
    #[serde(default)]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub n: Option<u32>,
    #[serde(default)]
    pub response_format: Option<ResponseFormat>,
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    // Read only to tell the client when a provider cannot honour them.
    #[serde(default)]
    pub seed: Option<i64>,
    #[serde(default)]
    pub frequency_penalty: Option<f64>,
    #[serde(default)]
    pub presence_penalty: Option<f64>,
    #[serde(default)]
    pub logprobs: Option<bool>,
    #[serde(default)]
    pub top_logprobs: Option<u32>,
    #[serde(default)]
    pub logit_bias: Option<serde::de::IgnoredAny>,
}

impl ChatRequest {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    pub fn wants_usage_chunk(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }
}

/// `{"type":"text"|"json_object"|"json_schema","json_schema":{…}}`. A flat struct:
/// a tagged enum would buffer its content, and `RawValue` cannot be read from a buffer.
#[derive(Debug, Deserialize)]
pub struct ResponseFormat {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub json_schema: Option<JsonSchemaFormat>,
}

#[derive(Debug, Deserialize)]
pub struct JsonSchemaFormat {
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
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: Option<bool>,
}

/// Tagged by `role`; `Deserialize` is hand-written in `openai_de.rs` (no buffering).
#[derive(Debug)]
pub enum Message {
    System {
        content: Content,
    },
    Developer {
        content: Content,
    },
    User {
        content: Content,
    },
    Assistant {
        content: Option<Content>,
        tool_calls: Option<Vec<ToolCall>>,
    },
    Tool {
        content: Content,
        tool_call_id: String,
    },
}

/// A string or an array of parts (`Deserialize` in `openai_de.rs`).
#[derive(Debug)]
pub enum Content {
    /// Kept as the client's JSON literal: most requests' bytes, passed through verbatim.
    Text(Text),
    Parts(Vec<ContentPart>),
}

/// Tagged by `type` (`Deserialize` in `openai_de.rs`).
#[derive(Debug)]
pub enum ContentPart {
    Text {
        text: Text,
    },
    ImageUrl {
        image_url: ImageUrl,
    },
    /// Audio, files, refusals…: accepted by the parser, refused by translators that
    /// cannot carry them.
    Unsupported,
}

#[derive(Debug, Deserialize)]
pub struct ImageUrl {
    pub url: String,
    #[serde(default)]
    pub detail: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub function: FunctionCall,
}

#[derive(Debug, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    pub arguments: String,
}

#[derive(Debug, Deserialize)]
pub struct Tool {
    #[serde(rename = "type")]
    pub kind: String,
    pub function: FunctionDef,
}

#[derive(Debug, Deserialize)]
pub struct FunctionDef {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<Box<RawValue>>,
}

/// A mode (`"auto"`…) or a named function (`Deserialize` in `openai_de.rs`).
#[derive(Debug)]
pub enum ToolChoice {
    Mode(String),
    Named(NamedToolChoice),
}

#[derive(Debug, Deserialize)]
pub struct NamedToolChoice {
    #[serde(rename = "type")]
    pub kind: String,
    pub function: NamedFunction,
}

#[derive(Debug, Deserialize)]
pub struct NamedFunction {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

impl Stop {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s],
            Stop::Many(v) => v,
        }
    }
}

// ---------- response ----------

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// Written only when the provider reported a reasoning count (missing is not zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    #[serde(default)]
    pub cached_tokens: u64,
}

#[derive(Debug, Serialize)]
pub struct ChatResponse<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub created: u64,
    pub model: &'a str,
    pub choices: Vec<Choice<'a>>,
    pub usage: Usage,
}

#[derive(Debug, Serialize)]
pub struct Choice<'a> {
    pub index: u32,
    pub message: ResponseMessage<'a>,
    pub logprobs: Option<()>,
    pub finish_reason: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct ResponseMessage<'a> {
    pub role: &'static str,
    pub content: Option<TextOut<'a>>,
    /// Thinking text (DeepSeek's field name, which most OpenAI SDK users read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallOut<'a>>>,
}

#[derive(Debug, Serialize)]
pub struct ToolCallOut<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionOut<'a>,
}

#[derive(Debug, Serialize)]
pub struct FunctionOut<'a> {
    pub name: &'a str,
    pub arguments: &'a str,
}

/// What the gateway reads from an OpenAI-format answer: enough to account it.
#[derive(Debug, Deserialize)]
pub struct UsageProbe<'a> {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub usage: Option<Usage>,
    #[serde(default, borrow)]
    pub choices: Option<Vec<ChoiceEnd<'a>>>,
}

/// How a choice of an OpenAI-format answer ended (the rest of it is skipped).
#[derive(Debug, Deserialize)]
pub struct ChoiceEnd<'a> {
    #[serde(default, borrow)]
    pub finish_reason: Option<std::borrow::Cow<'a, str>>,
}

/// What the gateway reads from an OpenAI stream chunk it passes through: the usage,
/// an error, and how much answer it carries. Strings borrow unless they hold escapes.
#[derive(Debug, Deserialize)]
pub struct ChunkProbe<'a> {
    #[serde(default)]
    pub usage: Option<Usage>,
    #[serde(default, borrow)]
    pub choices: Option<Vec<ChoiceProbe<'a>>>,
    #[serde(default)]
    pub error: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
pub struct ChoiceProbe<'a> {
    #[serde(default)]
    pub index: u32,
    #[serde(default, borrow)]
    pub delta: Option<DeltaProbe<'a>>,
    #[serde(default, borrow)]
    pub finish_reason: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub struct DeltaProbe<'a> {
    #[serde(default, borrow)]
    pub content: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    pub reasoning_content: Option<std::borrow::Cow<'a, str>>,
    /// What some OpenAI-compatible servers call `reasoning_content`.
    #[serde(default, borrow)]
    pub reasoning: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    pub tool_calls: Option<Vec<ToolCallProbe<'a>>>,
}

#[derive(Debug, Deserialize)]
pub struct ToolCallProbe<'a> {
    #[serde(default, borrow)]
    pub function: Option<FunctionProbe<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct FunctionProbe<'a> {
    #[serde(default, borrow)]
    pub arguments: Option<std::borrow::Cow<'a, str>>,
}

impl ChunkProbe<'_> {
    /// Characters of text, reasoning and tool arguments in this chunk.
    pub fn answer_chars(&self) -> u64 {
        let text = |t: &Option<std::borrow::Cow<'_, str>>| {
            t.as_deref().map_or(0, |t| t.chars().count() as u64)
        };
        let deltas = self
            .choices
            .iter()
            .flatten()
            .filter_map(|c| c.delta.as_ref());
        deltas
            .map(|d| {
                let args: u64 = d
                    .tool_calls
                    .iter()
                    .flatten()
                    .filter_map(|c| c.function.as_ref())
                    .map(|f| text(&f.arguments))
                    .sum();
                text(&d.content) + text(&d.reasoning_content) + text(&d.reasoning) + args
            })
            .sum()
    }

    /// The chunk only carries usage (`choices: []`).
    pub fn usage_only(&self) -> bool {
        self.usage.is_some() && self.choices.as_ref().is_some_and(|c| c.is_empty())
    }
}

/// OpenAI-format error body as sent by OpenAI-compatible upstreams.
#[derive(Debug, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

// ---------- streaming ----------

#[derive(Debug, Serialize)]
pub struct ChatChunk<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub created: u64,
    pub model: &'a str,
    pub choices: Vec<ChunkChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

#[derive(Debug, Serialize)]
pub struct ChunkChoice<'a> {
    pub index: u32,
    pub delta: Delta<'a>,
    pub logprobs: Option<()>,
    pub finish_reason: Option<&'a str>,
}

#[derive(Debug, Default, Serialize)]
pub struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta<'a>>>,
}

#[derive(Debug, Serialize)]
pub struct ToolCallDelta<'a> {
    pub index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    pub function: FunctionDelta<'a>,
}

#[derive(Debug, Serialize)]
pub struct FunctionDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    pub arguments: &'a str,
}
