//! OpenAI Chat Completions as the gateway speaks it as a client, for Anthropic-shaped
//! clients: the request it writes and the answer it reads back (stream chunks are read
//! as events in `translate::openai::stream`).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::openai::Usage;

// ---------- request (written) ----------

#[derive(Debug, Serialize)]
pub struct ChatRequestOut<'a> {
    pub model: &'a str,
    pub messages: Vec<MessageOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ToolOut<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoiceOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptionsOut>,
}

#[derive(Debug, Serialize)]
pub struct StreamOptionsOut {
    pub include_usage: bool,
}

#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum MessageOut<'a> {
    System {
        content: String,
    },
    User {
        content: UserContentOut<'a>,
    },
    Assistant {
        content: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tool_calls: Option<Vec<ToolCallOut<'a>>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: String,
    },
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum UserContentOut<'a> {
    Text(String),
    Parts(Vec<PartOut<'a>>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PartOut<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: ImageUrlOut },
}

#[derive(Debug, Serialize)]
pub struct ImageUrlOut {
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct ToolCallOut<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionCallOut<'a>,
}

#[derive(Debug, Serialize)]
pub struct FunctionCallOut<'a> {
    pub name: &'a str,
    pub arguments: &'a str,
}

#[derive(Debug, Serialize)]
pub struct ToolOut<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionDefOut<'a>,
}

#[derive(Debug, Serialize)]
pub struct FunctionDefOut<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub parameters: &'a RawValue,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ToolChoiceOut<'a> {
    Mode(&'static str),
    Named {
        #[serde(rename = "type")]
        kind: &'static str,
        function: NamedOut<'a>,
    },
}

#[derive(Debug, Serialize)]
pub struct NamedOut<'a> {
    pub name: &'a str,
}

// ---------- answer (read) ----------

#[derive(Debug, Deserialize)]
pub struct Completion {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    pub choices: Vec<CompletionChoice>,
    #[serde(default)]
    pub usage: Option<Usage>,
}

impl Completion {
    /// The usage a provider's translator read (`read`), else the completion's own.
    pub fn usage_over(&self, read: crate::usage::TokenUsage) -> crate::usage::TokenUsage {
        if read.is_known() {
            return read;
        }
        self.usage
            .as_ref()
            .map(crate::usage::TokenUsage::from_openai)
            .unwrap_or_default()
    }
}

#[derive(Debug, Deserialize)]
pub struct CompletionChoice {
    pub message: CompletionMessage,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CompletionMessage {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub reasoning_content: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<CompletionToolCall>>,
}

#[derive(Debug, Deserialize)]
pub struct CompletionToolCall {
    #[serde(default)]
    pub id: String,
    pub function: CompletionFunction,
}

#[derive(Debug, Deserialize)]
pub struct CompletionFunction {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub arguments: String,
}
