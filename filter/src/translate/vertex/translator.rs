//! Vertex AI as two [`Translator`]s, one per publisher: Gemini models (the Gemini
//! body and answers) and Anthropic models (the Anthropic body via `rawPredict`). Both
//! authenticate with `Authorization: Bearer <token>`.

use crate::api::embeddings::EmbeddingsRequest;
use crate::api::openai::ChatRequest;
use crate::config::{forward, Provider, VertexAnthropicSettings, VertexSettings};
use crate::error::GatewayError;
use crate::translate::anthropic::{self, stream::AnthropicStream};
use crate::translate::embeddings::Shape;
use crate::translate::gemini::{self, embeddings, response, stream::GeminiStream};
use crate::translate::provider::Translator;
use crate::translate::{ResponseMeta, ResponseOut, StreamMapper, StreamSettings, UpstreamRequest};

pub const CREDENTIALS: &[&str] = &["authorization"];
const _: () = assert!(forward::refuses_all(CREDENTIALS));

impl Translator for VertexSettings {
    fn kind(&self) -> &'static str {
        "vertex"
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
        super::gemini_request(provider, self, upstream_model, req)
    }

    fn unhonoured(&self, req: &ChatRequest) -> Vec<&'static str> {
        gemini::translator::unhonoured(req)
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
        embeddings::vertex_request(provider, self, upstream_model, req)
    }

    fn embeddings_response(
        &self,
        _provider: &Provider,
        status: u16,
        body: &[u8],
        meta: &ResponseMeta<'_>,
        shape: &Shape,
    ) -> Result<ResponseOut, GatewayError> {
        embeddings::vertex_response(status, body, meta, shape)
    }
}

impl Translator for VertexAnthropicSettings {
    fn kind(&self) -> &'static str {
        "vertex_anthropic"
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
        super::anthropic_request(provider, self, upstream_model, req)
    }

    fn unhonoured(&self, req: &ChatRequest) -> Vec<&'static str> {
        anthropic::translator::unhonoured(req)
    }

    fn response(
        &self,
        status: u16,
        body: &[u8],
        created: u64,
        _meta: &ResponseMeta<'_>,
    ) -> Result<ResponseOut, GatewayError> {
        super::anthropic_response(status, body, created)
    }

    fn error(&self, status: u16, body: &[u8], _meta: &ResponseMeta<'_>) -> GatewayError {
        super::anthropic_error(status, body)
    }

    fn stream(&self, settings: StreamSettings, _meta: &ResponseMeta<'_>) -> Box<dyn StreamMapper> {
        Box::new(AnthropicStream::new(settings))
    }
}
