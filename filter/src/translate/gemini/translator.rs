//! Gemini on Google AI Studio as a [`Translator`] (`x-goog-api-key`). Gemini on
//! Vertex AI shares its answers.

use super::stream::GeminiEvents;
use super::{embeddings, response};
use crate::api::embeddings::EmbeddingsRequest;
use crate::api::openai::ChatRequest;
use crate::codec::framed::MAX_EVENT_BYTES;
use crate::codec::sse::SseParser;
use crate::config::forward;
use crate::error::GatewayError;
use crate::translate::dialect::{render, Dialect};
use crate::translate::embeddings::Shape;
use crate::translate::gemini::settings::Gemini;
use crate::translate::translator::{Answer, Answered, Call, Facts, Translator, Upstream};
use crate::translate::{ResponseMeta, StreamMapper};

const FACTS: Facts = Facts {
    kind: "gemini",
    credentials: &["x-goog-api-key"],
    client_headers: &[],
    unmapped: UNMAPPED,
};
const _: () = assert!(forward::refuses_all(FACTS.credentials));

/// OpenAI fields the Gemini body has no place for (on Vertex AI too).
pub const UNMAPPED: &[&str] = &[
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "user",
    "parallel_tool_calls",
];

impl Translator for Gemini {
    fn semconv_name(&self, _: Option<crate::config::Preset>) -> &'static str {
        "gcp.gemini"
    }

    fn token_header(&self) -> (&'static str, &'static str) {
        ("x-goog-api-key", "")
    }

    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    fn request(&self, call: &Call<'_>, req: &ChatRequest) -> Upstream {
        super::request(call.provider, call.model, req)
    }

    fn response(&self, a: &Answer<'_>) -> Answered {
        response::response(a.status, a.body, a.created)
    }

    fn error(&self, a: &Answer<'_>) -> GatewayError {
        response::error(a.status, a.body)
    }

    fn stream(&self, to: Dialect, _: &ResponseMeta<'_>) -> Box<dyn StreamMapper> {
        render(
            SseParser::new(MAX_EVENT_BYTES),
            GeminiEvents::new(to.created()),
            to,
        )
    }

    fn embeddings_request(&self, call: &Call<'_>, req: &EmbeddingsRequest) -> Upstream {
        embeddings::gemini_request(call, req)
    }

    fn embeddings_response(&self, a: &Answer<'_>, shape: &Shape) -> Answered {
        embeddings::gemini_response(a, shape)
    }
}
