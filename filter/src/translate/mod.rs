//! One folder per provider kind, each behind the [`Translator`] trait
//! (`provider.rs`). Translators are pure: they take the parsed OpenAI request (and its
//! raw bytes) and return data; they never touch the host. Adding a provider = its
//! folder with its `Translator` impl, one `ProviderKind` variant (and its arm in
//! [`provider::of`]), and its test data. The functions below are the entry points the
//! gateway calls: one dynamic call each.

pub mod anthropic;
pub mod azure;
pub mod bedrock;
#[cfg(test)]
mod cases;
pub mod chat_checks;
pub mod chunks;
pub mod embeddings;
mod embeddings_out;
pub mod errors;
pub mod events;
pub mod gemini;
pub mod messages;
pub mod openai;
pub mod provider;
mod request_parts;
mod unhonoured;
pub mod vertex;
pub mod work;
#[cfg(test)]
mod work_tests;

use crate::api::openai::ChatRequest;
use crate::config::Provider;
use crate::error::GatewayError;
use crate::usage::TokenUsage;
pub use provider::{of, Answer, Call, Facts, Translator};

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
}

/// What translators may read about an upstream answer besides its status and body.
pub struct ResponseMeta<'a> {
    /// The provider's model the request went to (Bedrock answers do not name it).
    pub model: &'a str,
    /// Response header lookup (Bedrock names its error type in `x-amzn-errortype`).
    pub header: &'a dyn Fn(&str) -> Option<String>,
}

pub use crate::codec::framed::MAX_EVENT_BYTES;

pub fn request(
    provider: &Provider,
    upstream_model: &str,
    req: &ChatRequest,
    raw: &[u8],
    now_ms: u64,
) -> Result<UpstreamRequest, GatewayError> {
    provider::of(provider).request(&Call::new(provider, upstream_model, raw, now_ms), req)
}

/// Request fields this provider cannot honour as given (the translator leaves them out
/// or clamps them). The gateway drops them with a log line, or refuses the request in
/// strict mode.
pub fn unhonoured(provider: &Provider, req: &ChatRequest) -> Vec<&'static str> {
    provider::of(provider).unhonoured(req)
}

pub fn response(
    provider: &Provider,
    status: u16,
    body: &[u8],
    created: u64,
    meta: &ResponseMeta<'_>,
) -> Result<ResponseOut, GatewayError> {
    provider::of(provider).response(&Answer::new(provider, status, body, created, meta))
}

pub fn stream(
    provider: &Provider,
    settings: StreamSettings,
    meta: &ResponseMeta<'_>,
) -> Box<dyn StreamMapper> {
    provider::of(provider).stream(events::Dialect::Chat(settings), meta)
}

/// Content type of a provider's successful stream (what the mapper reads).
pub fn stream_content_type(provider: &Provider) -> &'static str {
    provider::of(provider).stream_content_type()
}

/// Content type of what the client receives for a successful stream.
pub const EVENT_STREAM: &str = "text/event-stream";
