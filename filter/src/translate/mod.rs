//! One folder per provider kind, each behind the [`Translator`] trait
//! (`translator.rs`). Translators are pure: they take the parsed OpenAI request (and its
//! raw bytes) and return data; they never touch the host. Adding a provider = its
//! folder (its raw fields and settings in `settings.rs`, its `Translator` impl, its
//! cases), one line in the registry (`config/kinds.rs`), and its test data. The
//! functions below are the entry points the gateway calls: one dynamic call each.

pub mod anthropic;
pub mod azure;
pub mod bedrock;
pub mod blocks;
#[cfg(test)]
mod cases;
pub mod chat_checks;
pub mod chunks;
pub mod dialect;
pub mod embeddings;
mod embeddings_out;
pub mod errors;
pub mod events;
pub mod finish;
pub mod gemini;
pub mod messages;
pub mod openai;
pub mod provider;
pub mod relay;
mod request_parts;
pub mod responses;
pub mod translator;
pub mod turns;
mod types;
mod unhonoured;
pub mod vertex;
pub mod work;
#[cfg(test)]
mod work_tests;

use crate::api::openai::ChatRequest;
use crate::config::Provider;
use crate::error::GatewayError;
pub use provider::of;
pub use translator::{Answer, Call, Facts, Translator};
pub use types::{
    empty_schema, ResponseMeta, ResponseOut, StreamMapper, StreamSettings, UpstreamRequest,
    EVENT_STREAM, MAX_EVENT_BYTES,
};

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

/// [`unhonoured`] for a request to the provider's `upstream_model`.
pub fn unhonoured_at(
    provider: &Provider,
    upstream_model: &str,
    req: &ChatRequest,
) -> Vec<&'static str> {
    provider::of(provider).unhonoured_at(upstream_model, req)
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
    provider::of(provider).stream(dialect::Dialect::Chat(settings), meta)
}

/// Content type of a provider's successful stream (what the mapper reads).
pub fn stream_content_type(provider: &Provider) -> &'static str {
    provider::of(provider).stream_content_type()
}
