//! `POST /v1/responses`: OpenAI's Responses API, the gateway's third client dialect.
//!
//! * OpenAI-format providers that serve the Responses API (`openai` without a preset or
//!   with the `openai` preset, `azure`) get the client's body as it is (`model`
//!   rewritten); answers and events pass through, usage is read on the way
//!   ([`passthrough`]).
//! * Any other provider: the request becomes the internal chat request
//!   ([`to_chat`]), which that provider's chat translator sends; the chat-shaped
//!   answer becomes a `response` object ([`from_chat`]); stream events are written as
//!   Responses events ([`stream`]).
//!
//! The gateway keeps no state: `previous_response_id`, `conversation`, `store: true`
//! and `background` need a provider that keeps it, and are refused elsewhere.

pub mod chat_body;
pub mod from_chat;
pub mod names;
mod passthrough;
pub mod stream;
#[cfg(test)]
mod tests;
pub mod to_chat;

use std::sync::Arc;

use super::{ResponseMeta, ResponseOut, StreamMapper, UpstreamRequest};
use crate::api::responses::{Input, ResponsesRequest};
use crate::api::responses_echo::Echo;
use crate::config::{Provider, ProviderKind};
use crate::error::GatewayError;
use names::ToolNames;

/// What the answer's translation needs from the request (nothing, for other endpoints:
/// no allocation on their path).
#[derive(Debug, Default, Clone)]
pub struct Shape {
    names: Option<Arc<ToolNames>>,
    /// The request fields a written `response` object repeats.
    echo: Arc<Echo>,
}

impl Shape {
    /// `body`: the request's JSON text (the fields to echo are read from it as sent).
    pub fn of(req: &ResponsesRequest, body: &str) -> Shape {
        let names = to_chat::tool_names(req);
        Shape {
            names: (!names.is_empty()).then(|| Arc::new(names)),
            echo: Arc::new(Echo::of(body)),
        }
    }

    pub fn echo(&self) -> &Echo {
        &self.echo
    }

    pub fn names(&self) -> &ToolNames {
        static EMPTY: ToolNames = ToolNames::EMPTY;
        self.names.as_deref().unwrap_or(&EMPTY)
    }
}

/// Parse and check what every provider needs, before routing.
pub fn validate(req: &ResponsesRequest) -> Result<(), GatewayError> {
    if req.model.is_empty() {
        return Err(GatewayError::bad_field("model", "model must not be empty"));
    }
    let empty = match &req.input {
        None => true,
        Some(Input::Text(_)) => false,
        Some(Input::Items(items)) => items.is_empty(),
    };
    // With stored state the input may be empty (the provider has the conversation).
    if empty && req.previous_response_id.is_none() && req.conversation.is_none() {
        return Err(GatewayError::bad_field("input", "input: Field required"));
    }
    for (name, value, max) in [
        ("temperature", req.temperature, 2.0),
        ("top_p", req.top_p, 1.0),
    ] {
        if value.is_some_and(|v| !(0.0..=max).contains(&v)) {
            return Err(GatewayError::bad_field(
                name,
                format!("{name} must be between 0 and {max}"),
            ));
        }
    }
    if req.max_output_tokens == Some(0) {
        return Err(GatewayError::bad_field(
            "max_output_tokens",
            "max_output_tokens must be at least 1",
        ));
    }
    Ok(())
}

/// The provider serves the Responses API itself.
pub fn native(provider: &Provider) -> bool {
    match provider.kind {
        ProviderKind::OpenAi(_) => provider.preset.is_none_or(|p| p.serves_responses()),
        ProviderKind::Azure(_) => true,
        _ => false,
    }
}

/// Request fields that need state the gateway does not keep.
fn stateful(req: &ResponsesRequest) -> Option<&'static str> {
    if req.previous_response_id.is_some() {
        Some("previous_response_id")
    } else if req.conversation.is_some() {
        Some("conversation")
    } else if req.store == Some(true) {
        Some("store")
    } else if req.background == Some(true) {
        Some("background")
    } else {
        None
    }
}

/// The upstream request, and the request fields the provider cannot honour.
pub fn request(
    provider: &Provider,
    upstream_model: &str,
    req: &ResponsesRequest,
    shape: &Shape,
    raw: &[u8],
    now_ms: u64,
) -> Result<(UpstreamRequest, Vec<&'static str>), GatewayError> {
    if native(provider) {
        let up = passthrough::request(provider, upstream_model, &req.model, raw)?;
        return Ok((up, Vec::new()));
    }
    if let Some(field) = stateful(req) {
        return Err(GatewayError::bad_field(
            field,
            format!(
                "{field}: this model's provider ({}) keeps no response state, and neither does the gateway; send the whole conversation as input (and store: false)",
                provider.name
            ),
        ));
    }
    let built = to_chat::build(req, shape.names())?;
    let mut unhonoured = built.unhonoured;
    for field in super::unhonoured(provider, &built.chat) {
        if !unhonoured.contains(&field) {
            unhonoured.push(field);
        }
    }
    // OpenAI-format providers forward a client's chat body: this one is written here.
    let chat_bytes = match provider.kind {
        ProviderKind::OpenAi(_) => Some(chat_body::write(
            &built.chat,
            provider.preset.is_some_and(|p| p.legacy_max_tokens()),
        )?),
        _ => None,
    };
    let body_in = chat_bytes.as_deref().unwrap_or(raw);
    let mut up = super::request(provider, upstream_model, &built.chat, body_in, now_ms)?;
    if up.body.is_none() {
        up.body = chat_bytes;
    }
    Ok((up, unhonoured))
}

pub fn response(
    provider: &Provider,
    status: u16,
    body: &[u8],
    created: u64,
    meta: &ResponseMeta<'_>,
    shape: &Shape,
) -> Result<ResponseOut, GatewayError> {
    if native(provider) {
        return passthrough::response(status, body);
    }
    let out = super::response(provider, status, body, created, meta)?;
    let chat = out.body.as_deref().unwrap_or(body);
    let response = from_chat::response(chat, out.usage, created, shape.names(), shape.echo())?;
    Ok(ResponseOut {
        body: Some(response),
        usage: out.usage,
        finish_reasons: out.finish_reasons,
    })
}

pub fn stream(
    provider: &Provider,
    created: u64,
    meta: &ResponseMeta<'_>,
    shape: &Shape,
) -> Box<dyn StreamMapper> {
    if native(provider) {
        return passthrough::stream();
    }
    let to = super::dialect::Dialect::Responses {
        created,
        names: shape.names.clone().unwrap_or_default(),
        echo: shape.echo.clone(),
    };
    super::provider::of(provider).stream(to, meta)
}

/// `GET`/`DELETE /v1/responses/{id}` (and what lies under it): the upstream path, for
/// the first provider that keeps responses.
pub fn stored_path(provider: &Provider, rest: &str) -> String {
    crate::strs::concat(&[&passthrough::path(provider), rest])
}

/// The id of the response a native provider answered with (it may store it).
pub fn stored_id(provider: &Provider, body: &[u8]) -> Option<String> {
    if native(provider) {
        passthrough::response_id(body)
    } else {
        None
    }
}

pub fn stored_headers(provider: &Provider) -> Vec<(&'static str, String)> {
    passthrough::headers(provider)
}
