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

impl Msg {
    pub fn texts(&self) -> Vec<&str> {
        self.content
            .as_ref()
            .map(Content::texts)
            .unwrap_or_default()
    }
}

/// A request of any of the three dialects: chat completions (`messages`, system
/// messages in the history), Anthropic Messages (`system` apart) and the Responses API
/// (`instructions` apart, `input` a string or items, messages among them).
#[derive(Debug, Deserialize)]
pub struct Request {
    #[serde(default)]
    pub messages: Vec<Msg>,
    #[serde(default)]
    pub system: Option<Content>,
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

/// A buffered answer of any dialect: chat `choices`, Messages `content`, Responses
/// `output` items (messages among them).
#[derive(Debug, Deserialize)]
pub struct Answer {
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub content: Option<Content>,
    #[serde(default)]
    pub output: Vec<Msg>,
}

#[derive(Debug, Deserialize)]
pub struct Choice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub message: Option<Msg>,
}

// ---------- stream events ----------

/// A stream event of any dialect: a `chat.completion.chunk` (each choice's text
/// delta), an Anthropic `content_block_delta` (`text_delta`) or a Responses
/// `response.output_text.delta` (the text, by the event's type).
#[derive(Debug, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub delta: Option<Delta>,
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

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Delta {
    /// Responses: the delta is the text.
    Text(String),
    /// Messages: `{"type": "text_delta", "text": …}`.
    Block(Part),
    Other(IgnoredAny),
}
