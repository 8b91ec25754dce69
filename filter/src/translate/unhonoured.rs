//! The request fields a provider cannot honour as the client gave them: the parts
//! every translator's `Translator::unhonoured` is made of. The translators leave such
//! fields out (or clamp them to the provider's range), and the gateway logs the list,
//! or refuses the request in strict mode (`gateway/request.rs`).

use super::request_parts::TEMPERATURE_MAX_UNIT;
use crate::api::openai::ChatRequest;

type IsSet = fn(&ChatRequest) -> bool;

/// Optional OpenAI fields some translators have no place for, and when a request sets
/// them to something that matters (a zero penalty or `parallel_tool_calls: true` asks
/// for the default, which every provider gives). In the order the list is reported.
const OPTIONAL: &[(&str, IsSet)] = &[
    ("seed", |r| r.seed.is_some()),
    ("frequency_penalty", |r| {
        r.frequency_penalty.is_some_and(|v| v != 0.0)
    }),
    ("presence_penalty", |r| {
        r.presence_penalty.is_some_and(|v| v != 0.0)
    }),
    ("logprobs", |r| r.logprobs == Some(true)),
    ("top_logprobs", |r| r.top_logprobs.is_some()),
    ("logit_bias", |r| r.logit_bias.is_some()),
    ("user", |r| r.user.is_some()),
    ("parallel_tool_calls", |r| {
        r.parallel_tool_calls == Some(false)
    }),
    ("response_format", |r| {
        r.response_format.as_ref().is_some_and(|f| f.kind != "text")
    }),
    ("reasoning_effort", |r| r.reasoning_effort.is_some()),
];

/// Which of [`OPTIONAL`] the request sets, among those a translator does not map
/// (`unmapped`), in [`OPTIONAL`]'s order.
pub fn optional(req: &ChatRequest, unmapped: &[&str]) -> Vec<&'static str> {
    OPTIONAL
        .iter()
        // Most requests set none of these: the cheap test first.
        .filter(|(name, is_set)| is_set(req) && unmapped.contains(name))
        .map(|(name, _)| *name)
        .collect()
}

/// Temperature above 1, which providers whose range is [0, 1] clamp.
pub fn too_hot(req: &ChatRequest) -> bool {
    req.temperature.is_some_and(|t| t > TEMPERATURE_MAX_UNIT)
}
