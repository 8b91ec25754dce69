//! AWS Bedrock (Converse, InvokeModel for embeddings) as a [`Translator`]: SigV4 or a
//! Bedrock API key; streams arrive as AWS event streams.

use super::stream::BedrockStream;
use super::{embeddings, EVENT_STREAM_TYPE};
use crate::api::embeddings::EmbeddingsRequest;
use crate::api::openai::ChatRequest;
use crate::config::{forward, BedrockSettings, Provider};
use crate::error::GatewayError;
use crate::translate::embeddings::Shape;
use crate::translate::provider::Translator;
use crate::translate::unhonoured::{optional, too_hot};
use crate::translate::{ResponseMeta, ResponseOut, StreamMapper, StreamSettings, UpstreamRequest};

/// SigV4 writes `authorization` and the `x-amz-` headers; an API key is a bearer token.
pub const CREDENTIALS: &[&str] = &[
    "authorization",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
];
const _: () = assert!(forward::refuses_all(CREDENTIALS));

/// OpenAI fields Converse has no place for.
const UNMAPPED: &[&str] = &[
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "user",
    "parallel_tool_calls",
    "response_format",
    "reasoning_effort",
];

impl Translator for BedrockSettings {
    fn kind(&self) -> &'static str {
        "bedrock"
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
        now_ms: u64,
    ) -> Result<UpstreamRequest, GatewayError> {
        super::request(provider, self, upstream_model, req, now_ms)
    }

    fn unhonoured(&self, req: &ChatRequest) -> Vec<&'static str> {
        let mut out = optional(req, UNMAPPED);
        // Converse's temperature range is [0, 1]: higher is clamped.
        if too_hot(req) {
            out.push("temperature");
        }
        out
    }

    fn response(
        &self,
        status: u16,
        body: &[u8],
        created: u64,
        meta: &ResponseMeta<'_>,
    ) -> Result<ResponseOut, GatewayError> {
        super::response(status, body, created, meta)
    }

    fn error(&self, status: u16, body: &[u8], meta: &ResponseMeta<'_>) -> GatewayError {
        super::error(status, body, meta)
    }

    fn stream(&self, settings: StreamSettings, meta: &ResponseMeta<'_>) -> Box<dyn StreamMapper> {
        Box::new(BedrockStream::new(settings, meta))
    }

    fn stream_content_type(&self) -> &'static str {
        EVENT_STREAM_TYPE
    }

    fn embeddings_request(
        &self,
        provider: &Provider,
        upstream_model: &str,
        req: &EmbeddingsRequest,
        _raw: &[u8],
        now_ms: u64,
    ) -> Result<UpstreamRequest, GatewayError> {
        embeddings::request(provider, self, upstream_model, req, now_ms)
    }

    fn embeddings_response(
        &self,
        _provider: &Provider,
        status: u16,
        body: &[u8],
        meta: &ResponseMeta<'_>,
        shape: &Shape,
    ) -> Result<ResponseOut, GatewayError> {
        embeddings::response(status, body, meta, shape)
    }
}
