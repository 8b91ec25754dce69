//! Anthropic Messages API as a [`Translator`]; it also serves `/v1/messages` as it is.

use super::options;
use super::stream::AnthropicStream;
use crate::api::openai::ChatRequest;
use crate::config::{forward, AnthropicSettings, Provider};
use crate::error::GatewayError;
use crate::translate::provider::Translator;
use crate::translate::request_parts::blank_stop;
use crate::translate::unhonoured::{optional, too_hot};
use crate::translate::{ResponseMeta, ResponseOut, StreamMapper, StreamSettings, UpstreamRequest};

pub const CREDENTIALS: &[&str] = &["x-api-key", "anthropic-version"];
const _: () = assert!(forward::refuses_all(CREDENTIALS));

/// OpenAI fields Anthropic's request has no place for.
const UNMAPPED: &[&str] = &[
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "logprobs",
    "top_logprobs",
    "logit_bias",
];

/// What the Anthropic request builder leaves out or clamps (shared with Vertex AI's
/// Anthropic models, which get the same body).
pub fn unhonoured(req: &ChatRequest) -> Vec<&'static str> {
    let mut out = optional(req, UNMAPPED);
    // Temperature above 1 is clamped to 1; extended thinking takes none at all.
    if too_hot(req) || options::drops_temperature(req) {
        out.push("temperature");
    }
    if options::drops_top_p(req) {
        out.push("top_p");
    }
    // Anthropic refuses blank stop sequences: they are dropped.
    if blank_stop(req) {
        out.push("stop");
    }
    out
}

impl Translator for AnthropicSettings {
    fn kind(&self) -> &'static str {
        "anthropic"
    }

    fn credential_headers(&self) -> &'static [&'static str] {
        CREDENTIALS
    }

    fn request(
        &self,
        provider: &Provider,
        upstream_model: &str,
        req: &ChatRequest,
        _raw: &[u8],
        _now_ms: u64,
    ) -> Result<UpstreamRequest, GatewayError> {
        super::request(provider, self, upstream_model, req)
    }

    fn unhonoured(&self, req: &ChatRequest) -> Vec<&'static str> {
        unhonoured(req)
    }

    fn response(
        &self,
        status: u16,
        body: &[u8],
        created: u64,
        _meta: &ResponseMeta<'_>,
    ) -> Result<ResponseOut, GatewayError> {
        super::response(status, body, created)
    }

    fn error(&self, status: u16, body: &[u8], _meta: &ResponseMeta<'_>) -> GatewayError {
        super::error(status, body)
    }

    fn stream(&self, settings: StreamSettings, _meta: &ResponseMeta<'_>) -> Box<dyn StreamMapper> {
        Box::new(AnthropicStream::new(settings))
    }

    fn messages_native(&self) -> Option<&AnthropicSettings> {
        Some(self)
    }
}
