//! The OpenAI chat completion every provider's translator yields, as read back by the
//! writers of the other client dialects (Anthropic messages, Responses).

use serde::Deserialize;

use crate::api::openai::Usage;
use crate::error::GatewayError;
use crate::usage::TokenUsage;

/// The OpenAI-shaped answer a chat translator yields.
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

impl Completion {
    /// A translator's answer and its first choice: the other dialects' clients ask for
    /// one.
    pub fn read(body: &[u8]) -> Result<(Completion, CompletionChoice), GatewayError> {
        let mut c: Completion = serde_json::from_slice(body).map_err(|_| {
            GatewayError::bad_gateway("upstream returned a malformed chat completion")
        })?;
        let choice = std::mem::take(&mut c.choices)
            .into_iter()
            .next()
            .ok_or_else(|| {
                GatewayError::bad_gateway("upstream returned a chat completion without choices")
            })?;
        Ok((c, choice))
    }

    /// The usage a provider's translator read (`read`), else the completion's own.
    pub fn usage_over(&self, read: TokenUsage) -> TokenUsage {
        if read.is_known() {
            return read;
        }
        self.usage
            .as_ref()
            .map(TokenUsage::from_openai)
            .unwrap_or_default()
    }
}
