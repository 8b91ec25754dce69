//! `POST /v1/messages` for Anthropic-shaped clients (coding agents, the `anthropic` SDK).
//!
//! * An Anthropic provider gets the client's body as it is (`model` rewritten); the
//!   answer and its events pass through, usage is read on the way. Claude on Vertex AI
//!   too, in `rawPredict`'s body ([`vertex`]).
//! * Any other provider: the Anthropic request becomes the internal chat request
//!   ([`to_openai`], built in code), which then goes through that provider's own chat
//!   translator (written as OpenAI JSON only for OpenAI-format providers);
//!   the OpenAI-shaped answer that translator yields becomes an Anthropic message
//!   ([`from_openai`]); the provider's stream events are written as Anthropic events
//!   ([`stream`]).
//!
//! Errors on this endpoint use Anthropic's shape ([`errors`]).

mod checks;
pub mod count_tokens;
mod count_upstream;
pub mod errors;
pub mod from_openai;
mod native_body;
mod passthrough;
mod reasoning;
pub mod stream;
pub mod system;
pub mod to_openai;
mod vertex;

use super::{ResponseMeta, ResponseOut, StreamMapper, UpstreamRequest};
use crate::api::anthropic_server::MessagesRequest;
use crate::api::openai_build;
use crate::config::Provider;
use crate::error::GatewayError;

/// Parse and check what every provider needs, before routing.
pub fn parse(raw: &[u8]) -> Result<MessagesRequest, GatewayError> {
    checks::checked(raw, true)
}

/// The upstream request, and the request fields the provider cannot honour.
pub fn request(
    provider: &Provider,
    upstream_model: &str,
    req: &MessagesRequest,
    raw: &[u8],
    now_ms: u64,
) -> Result<(UpstreamRequest, Vec<&'static str>), GatewayError> {
    if req.count_only {
        return Ok((
            count_tokens::request(provider, upstream_model, req, raw, now_ms)?,
            Vec::new(),
        ));
    }
    if let Some(native) = super::provider::of(provider).messages_native() {
        let up = passthrough::request(provider, native, upstream_model, req, raw)?;
        return Ok((up, Vec::new()));
    }
    let to_openai::Built {
        chat,
        mut unhonoured,
    } = to_openai::build(provider, upstream_model, req)?;
    unhonoured.extend(super::unhonoured_at(provider, upstream_model, &chat));
    // Translators read the client's bytes only to splice in another `model` or usage
    // options; `chat` already has both, so the OpenAI-format ones answer "unchanged"
    // (`None`) and only then is the request written as JSON.
    let mut up = super::request(provider, upstream_model, &chat, &[], now_ms)?;
    if up.body.is_none() {
        let body = openai_build::to_vec(&chat)
            .map_err(|e| GatewayError::internal(format!("translated request: {e}")))?;
        up.body = Some(body);
    }
    Ok((up, unhonoured))
}

pub fn response(
    provider: &Provider,
    status: u16,
    body: &[u8],
    created: u64,
    meta: &ResponseMeta<'_>,
) -> Result<ResponseOut, GatewayError> {
    if super::provider::of(provider).messages_native().is_some() {
        return passthrough::response(status, body);
    }
    let out = super::response(provider, status, body, created, meta)?;
    let openai = out.body.as_deref().unwrap_or(body);
    let message = from_openai::message(openai, out.usage)?;
    Ok(ResponseOut {
        body: Some(message),
        usage: out.usage,
        finish_reasons: out.finish_reasons,
    })
}

pub fn stream(provider: &Provider, created: u64, meta: &ResponseMeta<'_>) -> Box<dyn StreamMapper> {
    if super::provider::of(provider).messages_native().is_some() {
        return passthrough::stream();
    }
    super::provider::of(provider).stream(super::dialect::Dialect::Messages { created }, meta)
}
