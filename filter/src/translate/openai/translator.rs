//! OpenAI and OpenAI-compatible servers as a [`Translator`]: the body passes through
//! (`model` rewritten), answers and streams are already OpenAI's. Azure shares all
//! but the request.

use super::embeddings;
use super::stream::OpenAiEvents;
use crate::api::embeddings::EmbeddingsRequest;
use crate::api::openai::ChatRequest;
use crate::codec::framed::MAX_EVENT_BYTES;
use crate::codec::sse::SseParser;
use crate::config::forward;
use crate::error::GatewayError;
use crate::translate::dialect::{render, Dialect};
use crate::translate::embeddings::Shape;
use crate::translate::openai::settings::OpenAi;
use crate::translate::translator::{Answer, Answered, Call, Facts, Translator, Upstream};
use crate::translate::{ResponseMeta, StreamMapper, UpstreamRequest};

const FACTS: Facts = Facts {
    kind: "openai",
    credentials: &["authorization"],
    client_headers: &[],
    unmapped: &[],
};
const _: () = assert!(forward::refuses_all(FACTS.credentials));

impl Translator for OpenAi {
    fn semconv_name(&self, preset: Option<crate::config::Preset>) -> &'static str {
        use crate::config::Preset;
        match preset {
            None | Some(Preset::OpenAi) => "openai",
            Some(Preset::Mistral) => "mistral_ai",
            Some(Preset::Groq) => "groq",
            Some(Preset::DeepSeek) => "deepseek",
            Some(Preset::Together) => "together",
            Some(Preset::Vllm) => "vllm",
            Some(Preset::Ollama) => "ollama",
        }
    }

    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    fn request(&self, call: &Call<'_>, req: &ChatRequest) -> Upstream {
        super::request(call.provider, call.model, req, call.raw)
    }

    fn response(&self, a: &Answer<'_>) -> Answered {
        super::response(a.status, a.body)
    }

    fn error(&self, a: &Answer<'_>) -> GatewayError {
        super::error(a.status, a.body)
    }

    fn stream(&self, to: Dialect, _: &ResponseMeta<'_>) -> Box<dyn StreamMapper> {
        match to {
            // Chunks in, chunks out: relayed as they are.
            Dialect::Chat(settings) => super::stream::passthrough(settings),
            Dialect::Messages { .. } | Dialect::Responses { .. } => {
                render(SseParser::new(MAX_EVENT_BYTES), OpenAiEvents::new(), to)
            }
        }
    }

    fn embeddings_request(&self, call: &Call<'_>, req: &EmbeddingsRequest) -> Upstream {
        Ok(UpstreamRequest {
            path: format!("{}/embeddings", call.provider.base_path),
            headers: super::headers(call.provider),
            body: super::rewrite_model(call.raw, &req.model, call.model)?,
        })
    }

    fn embeddings_response(&self, a: &Answer<'_>, _: &Shape) -> Answered {
        embeddings::response(a.status, a.body)
    }
}
