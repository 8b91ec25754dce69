//! Vertex AI as two [`Translator`]s, one per publisher: Gemini models (the Gemini
//! body; answers as Gemini's) and Anthropic models (the Anthropic body via
//! `rawPredict`). Both authenticate with `Authorization: Bearer <token>`.

use super::settings::{VertexAnthropicSettings, VertexSettings};
use crate::api::embeddings::EmbeddingsRequest;
use crate::api::openai::ChatRequest;
use crate::codec::framed::MAX_EVENT_BYTES;
use crate::codec::sse::SseParser;
use crate::config::forward;
use crate::error::GatewayError;
use crate::translate::anthropic::{self, stream::AnthropicEvents};
use crate::translate::dialect::{render, Dialect};
use crate::translate::embeddings::Shape;
use crate::translate::gemini::settings::Gemini;
use crate::translate::gemini::{self, embeddings};
use crate::translate::translator::{
    Answer, Answered, Call, Facts, NativeMessages, Translator, Upstream,
};
use crate::translate::{ResponseMeta, StreamMapper};

const GEMINI: Facts = Facts {
    kind: "vertex",
    credentials: &["authorization"],
    client_headers: &[],
    unmapped: gemini::translator::UNMAPPED,
};
const ANTHROPIC: Facts = Facts {
    kind: "vertex_anthropic",
    unmapped: anthropic::translator::UNMAPPED,
    ..GEMINI
};
const _: () = assert!(forward::refuses_all(GEMINI.credentials));

impl Translator for VertexSettings {
    fn semconv_name(&self, _: Option<crate::config::Preset>) -> &'static str {
        "gcp.vertex_ai"
    }

    fn facts(&self) -> &'static Facts {
        &GEMINI
    }

    fn request(&self, call: &Call<'_>, req: &ChatRequest) -> Upstream {
        super::gemini_request(call.provider, self, call.model, req)
    }

    fn response(&self, a: &Answer<'_>) -> Answered {
        Gemini.response(a)
    }

    fn error(&self, a: &Answer<'_>) -> GatewayError {
        Gemini.error(a)
    }

    fn stream(&self, to: Dialect, meta: &ResponseMeta<'_>) -> Box<dyn StreamMapper> {
        Gemini.stream(to, meta)
    }

    fn embeddings_request(&self, call: &Call<'_>, req: &EmbeddingsRequest) -> Upstream {
        embeddings::vertex_request(call, self, req)
    }

    fn embeddings_response(&self, a: &Answer<'_>, shape: &Shape) -> Answered {
        embeddings::vertex_response(a, shape)
    }
}

impl Translator for VertexAnthropicSettings {
    fn semconv_name(&self, _: Option<crate::config::Preset>) -> &'static str {
        "gcp.vertex_ai"
    }

    fn facts(&self) -> &'static Facts {
        &ANTHROPIC
    }

    fn request(&self, call: &Call<'_>, req: &ChatRequest) -> Upstream {
        super::anthropic_request(call.provider, self, call.model, req)
    }

    fn unhonoured(&self, req: &ChatRequest) -> Vec<&'static str> {
        anthropic::translator::unhonoured(req)
    }

    fn response(&self, a: &Answer<'_>) -> Answered {
        super::anthropic_response(a.status, a.body, a.created)
    }

    fn error(&self, a: &Answer<'_>) -> GatewayError {
        super::anthropic_error(a.status, a.body)
    }

    fn stream(&self, to: Dialect, _: &ResponseMeta<'_>) -> Box<dyn StreamMapper> {
        render(SseParser::new(MAX_EVENT_BYTES), AnthropicEvents::new(), to)
    }

    fn messages_native(&self) -> Option<NativeMessages<'_>> {
        Some(NativeMessages::Vertex(self))
    }
}
