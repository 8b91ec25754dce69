//! Azure OpenAI as a [`Translator`]: OpenAI's wire format on a deployment path, with
//! an `api-key` or Entra ID bearer token.

use crate::api::embeddings::EmbeddingsRequest;
use crate::api::openai::ChatRequest;
use crate::config::{forward, AzureSettings, Provider};
use crate::error::GatewayError;
use crate::translate::embeddings::Shape;
use crate::translate::openai::{self, OpenAiStream};
use crate::translate::provider::Translator;
use crate::translate::{ResponseMeta, ResponseOut, StreamMapper, StreamSettings, UpstreamRequest};

pub const CREDENTIALS: &[&str] = &["api-key", "authorization"];
const _: () = assert!(forward::refuses_all(CREDENTIALS));

impl Translator for AzureSettings {
    fn kind(&self) -> &'static str {
        "azure"
    }

    fn credential_headers(&self) -> &'static [&'static str] {
        CREDENTIALS
    }

    fn client_headers(&self) -> &'static [&'static str] {
        &["x-ms-client-request-id"]
    }

    fn request(
        &self,
        provider: &Provider,
        upstream_model: &str,
        req: &ChatRequest,
        raw: &[u8],
        _now_ms: u64,
    ) -> Result<UpstreamRequest, GatewayError> {
        super::request(provider, self, upstream_model, req, raw)
    }

    fn response(
        &self,
        status: u16,
        body: &[u8],
        _created: u64,
        _meta: &ResponseMeta<'_>,
    ) -> Result<ResponseOut, GatewayError> {
        openai::response(status, body)
    }

    fn error(&self, status: u16, body: &[u8], _meta: &ResponseMeta<'_>) -> GatewayError {
        openai::error(status, body)
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
            path: super::path(provider, self, upstream_model, "embeddings")?,
            headers: super::headers(provider, self),
            body: openai::rewrite_model(raw, &req.model, upstream_model)?,
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
        openai::embeddings::response(status, body)
    }
}
