//! Gemini on Google AI Studio as a [`Translator`] (`x-goog-api-key`).

use super::stream::GeminiStream;
use super::{embeddings, response};
use crate::api::embeddings::EmbeddingsRequest;
use crate::api::openai::ChatRequest;
use crate::config::{forward, Provider};
use crate::error::GatewayError;
use crate::translate::embeddings::Shape;
use crate::translate::provider::Translator;
use crate::translate::unhonoured::optional;
use crate::translate::{ResponseMeta, ResponseOut, StreamMapper, StreamSettings, UpstreamRequest};

/// The Gemini kind has no settings of its own.
pub struct Gemini;

pub const CREDENTIALS: &[&str] = &["x-goog-api-key"];
const _: () = assert!(forward::refuses_all(CREDENTIALS));

/// OpenAI fields the Gemini body has no place for.
const UNMAPPED: &[&str] = &[
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "user",
    "parallel_tool_calls",
];

/// What the Gemini body builder leaves out (shared with Gemini on Vertex AI).
pub fn unhonoured(req: &ChatRequest) -> Vec<&'static str> {
    optional(req, UNMAPPED)
}

impl Translator for Gemini {
    fn kind(&self) -> &'static str {
        "gemini"
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
        super::request(provider, upstream_model, req)
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
        response::response(status, body, created)
    }

    fn error(&self, status: u16, body: &[u8], _meta: &ResponseMeta<'_>) -> GatewayError {
        response::error(status, body)
    }

    fn stream(&self, settings: StreamSettings, _meta: &ResponseMeta<'_>) -> Box<dyn StreamMapper> {
        Box::new(GeminiStream::new(settings))
    }

    fn embeddings_request(
        &self,
        provider: &Provider,
        upstream_model: &str,
        req: &EmbeddingsRequest,
        _raw: &[u8],
        _now_ms: u64,
    ) -> Result<UpstreamRequest, GatewayError> {
        embeddings::gemini_request(provider, upstream_model, req)
    }

    fn embeddings_response(
        &self,
        _provider: &Provider,
        status: u16,
        body: &[u8],
        meta: &ResponseMeta<'_>,
        shape: &Shape,
    ) -> Result<ResponseOut, GatewayError> {
        embeddings::gemini_response(status, body, meta, shape)
    }
}
