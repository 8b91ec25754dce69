//! Anthropic Messages API as a [`Translator`]; it also serves `/v1/messages` as it is.

use super::options;
use super::settings::AnthropicSettings;
use super::stream::AnthropicEvents;
use crate::api::openai::ChatRequest;
use crate::codec::framed::MAX_EVENT_BYTES;
use crate::codec::sse::SseParser;
use crate::config::forward;
use crate::error::GatewayError;
use crate::translate::dialect::{render, Dialect};
use crate::translate::translator::{
    Answer, Answered, Call, Facts, NativeMessages, Translator, Upstream,
};

use crate::translate::request_parts::blank_stop;
use crate::translate::unhonoured::{optional, too_hot};
use crate::translate::{ResponseMeta, StreamMapper};

const FACTS: Facts = Facts {
    kind: "anthropic",
    credentials: &["x-api-key", "anthropic-version"],
    client_headers: &[],
    unmapped: UNMAPPED,
};
const _: () = assert!(forward::refuses_all(FACTS.credentials));

/// OpenAI fields Anthropic's request has no place for.
pub const UNMAPPED: &[&str] = &[
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
    fn semconv_name(&self, _: Option<crate::config::Preset>) -> &'static str {
        "anthropic"
    }

    fn token_header(&self) -> (&'static str, &'static str) {
        ("x-api-key", "")
    }

    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    fn request(&self, call: &Call<'_>, req: &ChatRequest) -> Upstream {
        super::request(call.provider, self, call.model, req)
    }

    fn unhonoured(&self, req: &ChatRequest) -> Vec<&'static str> {
        unhonoured(req)
    }

    fn response(&self, a: &Answer<'_>) -> Answered {
        super::response(a.status, a.body, a.created)
    }

    fn error(&self, a: &Answer<'_>) -> GatewayError {
        super::error(a.status, a.body)
    }

    fn stream(&self, to: Dialect, _: &ResponseMeta<'_>) -> Box<dyn StreamMapper> {
        render(SseParser::new(MAX_EVENT_BYTES), AnthropicEvents::new(), to)
    }

    fn messages_native(&self) -> Option<NativeMessages<'_>> {
        Some(NativeMessages::Anthropic(self))
    }
}
