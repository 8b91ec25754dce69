//! The types every translator and the gateway share: what goes upstream, what comes
//! back, and the stream mapper's interface. Kept apart from the entry points in
//! `mod.rs` so that providers can use them without importing the dispatch.

use crate::api::openai::ChatResponse;
use crate::error::GatewayError;
use crate::translate::finish::FinishReasons;
use crate::usage::TokenUsage;

/// `{"type":"object","properties":{}}`: the schema of a tool declared without parameters.
/// Parsed once per VM, not on every request.
pub fn empty_schema() -> Result<&'static serde_json::value::RawValue, GatewayError> {
    static SCHEMA: std::sync::LazyLock<Option<Box<serde_json::value::RawValue>>> =
        std::sync::LazyLock::new(|| {
            serde_json::value::RawValue::from_string(
                r#"{"type":"object","properties":{}}"#.to_string(),
            )
            .ok()
        });
    SCHEMA
        .as_deref()
        .ok_or_else(|| GatewayError::internal("schema constant"))
}

/// What to send upstream, minus the parts the gateway handles for every provider
/// (authority, routing header, content-length, removing client credentials).
#[derive(Debug)]
pub struct UpstreamRequest {
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    /// `None`: forward the client's body unchanged.
    pub body: Option<Vec<u8>>,
}

/// A translated non-streaming answer.
#[derive(Debug, Default)]
pub struct ResponseOut {
    /// `None`: the upstream body is already what the client should get.
    pub body: Option<Vec<u8>>,
    pub usage: TokenUsage,
    pub finish_reasons: FinishReasons,
}

impl ResponseOut {
    /// A chat completion for the client, written into about the size of the provider's
    /// answer (`provider_len`): one allocation, no regrowth.
    pub fn chat(out: &ChatResponse<'_>, provider_len: usize, usage: TokenUsage) -> ResponseOut {
        let mut body = Vec::with_capacity(provider_len + 256);
        out.write_json(&mut body);
        ResponseOut {
            body: Some(body),
            usage,
            finish_reasons: FinishReasons::of(out.choices.iter().map(|c| c.finish_reason)),
        }
    }
}

/// What a stream mapper needs to know about the request.
#[derive(Debug, Clone, Copy)]
pub struct StreamSettings {
    /// The client asked for the final usage chunk (`stream_options.include_usage`).
    pub client_wants_usage: bool,
    pub created: u64,
}

/// Provider stream bytes in, OpenAI `chat.completion.chunk` SSE bytes out. Network
/// chunks may split events anywhere; the mapper holds partial events.
pub trait StreamMapper {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>);
    /// The upstream finished; flush what is held and close the OpenAI stream.
    fn finish(&mut self, out: &mut Vec<u8>);
    fn usage(&self) -> TokenUsage;
    /// The stream carried an error event or could not be understood.
    fn failed(&self) -> bool;
    /// Characters of answer (text, reasoning, tool arguments) passed on to the client so
    /// far: the completion estimate when the stream ends before its final usage.
    fn relayed_chars(&self) -> u64;
    /// The id of the response the stream creates, once seen (Responses API streams the
    /// provider stores): the gateway records whose it is.
    fn response_id(&self) -> Option<&str> {
        None
    }
    /// The finish reasons read so far (see [`FinishReasons`]).
    fn finish_reasons(&self) -> &FinishReasons {
        &crate::translate::finish::NONE
    }
}

/// What translators may read about an upstream answer besides its status and body.
pub struct ResponseMeta<'a> {
    /// The provider's model the request went to (Bedrock answers do not name it).
    pub model: &'a str,
    /// Response header lookup (Bedrock names its error type in `x-amzn-errortype`).
    pub header: &'a dyn Fn(&str) -> Option<String>,
}

pub use crate::codec::framed::MAX_EVENT_BYTES;

/// Content type of what the client receives for a successful stream.
pub const EVENT_STREAM: &str = "text/event-stream";
