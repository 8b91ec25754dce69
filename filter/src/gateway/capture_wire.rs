//! What content capture reads from requests and answers, in the client's dialect (chat
//! completions, Anthropic Messages, the Responses API): roles and text only. Parsed only
//! when `traces.capture_content` is on; anything else in the bodies is skipped.

use serde::de::IgnoredAny;
use serde::Deserialize;

/// A message's content: a string, or parts of which the text ones are read.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
    Other(IgnoredAny),
}

/// `{"type": "text" | "input_text" | "output_text", "text": …}`; other parts have no text.
#[derive(Debug, Deserialize)]
pub struct Part {
    #[serde(default)]
    pub text: Option<String>,
}

impl Content {
    /// The text parts, in order.
    pub fn texts(&self) -> Vec<&str> {
        match self {
            Content::Text(t) => vec![t.as_str()],
            Content::Parts(p) => p.iter().filter_map(|p| p.text.as_deref()).collect(),
            Content::Other(_) => Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Msg {
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub content: Option<Content>,
}

/// `/v1/chat/completions` (system messages are part of the history).
#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    #[serde(default)]
    pub messages: Vec<Msg>,
}

/// `/v1/messages`: the system prompt apart from the history.
#[derive(Debug, Deserialize)]
pub struct MessagesRequest {
    #[serde(default)]
    pub system: Option<Content>,
    #[serde(default)]
    pub messages: Vec<Msg>,
}

/// `/v1/responses`: `instructions` apart, `input` a string or items (messages among them).
#[derive(Debug, Deserialize)]
pub struct ResponsesRequest {
    #[serde(default)]
    pub instructions: Option<String>,
    #[serde(default)]
    pub input: Option<Input>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Input {
    Text(String),
    Items(Vec<Msg>),
    Other(IgnoredAny),
}

// ---------- answers ----------

#[derive(Debug, Deserialize)]
pub struct ChatAnswer {
    #[serde(default)]
    pub choices: Vec<ChatChoice>,
}

#[derive(Debug, Deserialize)]
pub struct ChatChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub message: Option<Msg>,
}

#[derive(Debug, Deserialize)]
pub struct MessagesAnswer {
    #[serde(default)]
    pub content: Option<Content>,
}

#[derive(Debug, Deserialize)]
pub struct ResponsesAnswer {
    #[serde(default)]
    pub output: Vec<Msg>,
}

// ---------- stream events ----------

/// A `chat.completion.chunk`: each choice's text delta.
#[derive(Debug, Deserialize)]
pub struct ChatChunk {
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
}

#[derive(Debug, Deserialize)]
pub struct ChunkChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub delta: Option<ChunkDelta>,
}

#[derive(Debug, Deserialize)]
pub struct ChunkDelta {
    #[serde(default)]
    pub content: Option<String>,
}

/// An Anthropic `content_block_delta` (`text_delta`) or a Responses
/// `response.output_text.delta`: the text of the event, by its type.
#[derive(Debug, Deserialize)]
pub struct DeltaEvent {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub delta: Option<Delta>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Delta {
    /// Responses: the delta is the text.
    Text(String),
    /// Messages: `{"type": "text_delta", "text": …}`.
    Block(Part),
    Other(IgnoredAny),
}
