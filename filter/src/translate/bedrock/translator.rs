//! AWS Bedrock (Converse; InvokeModel for embeddings) as a [`Translator`]: SigV4 or a
//! Bedrock API key; streams arrive as AWS event streams.

use super::settings::BedrockSettings;
use super::stream::BedrockEvents;
use super::{embeddings, options, EVENT_STREAM_TYPE};
use crate::api::embeddings::EmbeddingsRequest;
use crate::api::openai::ChatRequest;
use crate::codec::eventstream;
use crate::codec::framed::MAX_EVENT_BYTES;
use crate::config::{forward, Secret};
use crate::error::GatewayError;
use crate::translate::dialect::{render, Dialect};
use crate::translate::embeddings::Shape;
use crate::translate::translator::{Answer, Answered, Call, Facts, Translator, Upstream};

use crate::translate::unhonoured::{optional, too_hot};
use crate::translate::{ResponseMeta, StreamMapper};

const FACTS: Facts = Facts {
    kind: "bedrock",
    // SigV4 writes `authorization` and the `x-amz-` headers; an API key is a bearer token.
    credentials: &[
        "authorization",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-security-token",
    ],
    client_headers: &[],
    // Converse has no place for any of them.
    unmapped: &[
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
    ],
};
const _: () = assert!(forward::refuses_all(FACTS.credentials));

impl Translator for BedrockSettings {
    fn semconv_name(&self, _: Option<crate::config::Preset>) -> &'static str {
        "aws.bedrock"
    }

    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    fn secrets(&self) -> Vec<&Secret> {
        match &self.credentials {
            Some(c) => [&c.access_key_id, &c.secret_access_key]
                .into_iter()
                .chain(&c.session_token)
                .collect(),
            None => Vec::new(),
        }
    }

    fn request(&self, call: &Call<'_>, req: &ChatRequest) -> Upstream {
        super::request(call.provider, self, call.model, req, call.now_ms)
    }

    fn unhonoured(&self, req: &ChatRequest) -> Vec<&'static str> {
        self.unhonoured_at("", req)
    }

    fn unhonoured_at(&self, model: &str, req: &ChatRequest) -> Vec<&'static str> {
        let mut out = optional(req, &options::unmapped(model, FACTS.unmapped));
        // Converse's temperature range is [0, 1]: higher is clamped.
        if too_hot(req) {
            out.push("temperature");
        }
        for field in options::thinking_drops(model, req) {
            if !out.contains(&field) {
                out.push(field);
            }
        }
        out
    }

    fn response(&self, a: &Answer<'_>) -> Answered {
        super::response(a.status, a.body, a.created, a.meta)
    }

    fn error(&self, a: &Answer<'_>) -> GatewayError {
        super::error(a.status, a.body, a.meta)
    }

    fn stream(&self, to: Dialect, meta: &ResponseMeta<'_>) -> Box<dyn StreamMapper> {
        render(
            eventstream::Decoder::new(MAX_EVENT_BYTES),
            BedrockEvents::new(meta),
            to,
        )
    }

    fn stream_content_type(&self) -> &'static str {
        EVENT_STREAM_TYPE
    }

    fn embeddings_request(&self, call: &Call<'_>, req: &EmbeddingsRequest) -> Upstream {
        embeddings::request(call.provider, self, call.model, req, call.now_ms)
    }

    fn embeddings_response(&self, a: &Answer<'_>, shape: &Shape) -> Answered {
        embeddings::response(a, shape)
    }
}
