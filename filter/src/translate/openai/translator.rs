//! OpenAI and OpenAI-compatible servers as a [`Translator`]: the body passes through
//! (`model` rewritten), answers and streams are already OpenAI's.

use super::{embeddings, OpenAiStream};
use crate::api::embeddings::EmbeddingsRequest;
use crate::api::openai::ChatRequest;
use crate::config::{forward, Provider};
use crate::error::GatewayError;
use crate::translate::embeddings::Shape;
use crate::translate::provider::Translator;
use crate::translate::{ResponseMeta, ResponseOut, StreamMapper, StreamSettings, UpstreamRequest};

/// The OpenAI kind has no settings of its own.
pub struct OpenAi;

pub const CREDENTIALS: &[&str] = &["authorization"];
const _: () = assert!(forward::refuses_all(CREDENTIALS));

impl Translator for OpenAi {
    fn kind(&self) -> &'static str {
        "openai"
    }

    fn credential_headers(&self) -> &'static [&'static str] {
        CREDENTIALS
    }

    fn request(
        &self,
        provider: &Provider,
        upstream_model: &str,
        req: &ChatRequest,
        raw: &[u8],
        _now_ms: u64,
    ) -> Result<UpstreamRequest, GatewayError> {
        super::request(provider, upstream_model, req, raw)
    }

    fn response(
        &self,
        status: u16,
        body: &[u8],
        _created: u64,
        _meta: &ResponseMeta<'_>,
    ) -> Result<ResponseOut, GatewayError> {
        super::response(status, body)
    }

    fn error(&self, status: u16, body: &[u8], _meta: &ResponseMeta<'_>) -> GatewayError {
        super::error(status, body)
    }

    fn stream(&self, settings: StreamSettings, _meta: &ResponseMeta<'_>) -> Box<dyn StreamMapper> {
        Box::new(OpenAiStream::new(settings))
    }

    fn embeddings_request(
        &self,
        provider: &Provider,
        upstream_model: &str,
        req: &EmbeddingsRequest,
        raw: &[u8],
        _now_ms: u64,
    ) -> Result<UpstreamRequest, GatewayError> {
        Ok(UpstreamRequest {
            path: format!("{}/embeddings", provider.base_path),
            headers: super::headers(provider),
            body: super::rewrite_model(raw, &req.model, upstream_model)?,
        })
    }

    fn embeddings_response(
        &self,
        _provider: &Provider,
        status: u16,
        body: &[u8],
        _meta: &ResponseMeta<'_>,
        _shape: &Shape,
    ) -> Result<ResponseOut, GatewayError> {
        embeddings::response(status, body)
    }
}
