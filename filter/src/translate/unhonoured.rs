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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, Config};
    use crate::translate::unhonoured;

    fn cfg() -> Config {
        config::parse(
            br#"{"providers":[
            {"name":"openai","kind":"openai","cluster":"c"},
            {"name":"azure","kind":"azure","cluster":"c","host":"r.openai.azure.com"},
            {"name":"anthropic","kind":"anthropic","cluster":"c"},
            {"name":"vertex_anthropic","kind":"vertex_anthropic","cluster":"c","project":"p","location":"l"},
            {"name":"gemini","kind":"gemini","cluster":"c"},
            {"name":"vertex","kind":"vertex","cluster":"c","project":"p","location":"l"},
            {"name":"bedrock","kind":"bedrock","cluster":"c","region":"us-east-1","api_key_env":"K"}],
            "allow_provider_model":true}"#,
            &|_| Some("k".to_string()),
        )
        .unwrap()
    }

    fn lists(body: &str) -> Vec<(String, Vec<&'static str>)> {
        let req: ChatRequest = serde_json::from_str(body).unwrap();
        cfg()
            .providers
            .iter()
            .map(|p| (p.name.clone(), unhonoured(p, &req)))
            .collect()
    }

    fn expect(body: &str, want: &[(&str, &[&str])]) {
        let got = lists(body);
        for (name, fields) in want {
            let (_, g) = got.iter().find(|(n, _)| n == name).unwrap();
            assert_eq!(g, fields, "{name}: {body}");
        }
    }

    #[test]
    fn every_provider_reports_what_it_leaves_out() {
        let all = r#"{"model":"m","messages":[{"role":"user","content":"x"}],
            "seed":1,"frequency_penalty":0.5,"presence_penalty":0.5,"logprobs":true,
            "top_logprobs":2,"logit_bias":{"1":2},"user":"u","parallel_tool_calls":false,
            "response_format":{"type":"json_object"},"reasoning_effort":"low"}"#;
        let anthropic: &[&str] = &[
            "seed",
            "frequency_penalty",
            "presence_penalty",
            "logprobs",
            "top_logprobs",
            "logit_bias",
        ];
        let gemini: &[&str] = &[
            "logprobs",
            "top_logprobs",
            "logit_bias",
            "user",
            "parallel_tool_calls",
        ];
        expect(
            all,
            &[
                ("openai", &[]),
                ("azure", &[]),
                ("anthropic", anthropic),
                ("vertex_anthropic", anthropic),
                ("gemini", gemini),
                ("vertex", gemini),
                (
                    "bedrock",
                    &[
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
                ),
            ],
        );
        // Defaults ask for nothing a provider could fail to honour.
        let defaults = r#"{"model":"m","messages":[{"role":"user","content":"x"}],
            "frequency_penalty":0,"presence_penalty":0,"logprobs":false,
            "parallel_tool_calls":true,"response_format":{"type":"text"},"temperature":1}"#;
        assert!(lists(defaults).iter().all(|(_, l)| l.is_empty()));
    }

    #[test]
    fn temperature_above_one_is_clamped_where_the_range_is_unit() {
        let hot = r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1.5}"#;
        expect(
            hot,
            &[
                ("openai", &[]),
                ("gemini", &[]),
                ("anthropic", &["temperature"]),
                ("vertex_anthropic", &["temperature"]),
                ("bedrock", &["temperature"]),
            ],
        );
        // With thinking, Anthropic takes no temperature at all: reported once.
        let thinking = r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1.5,"reasoning_effort":"low"}"#;
        expect(thinking, &[("anthropic", &["temperature"])]);
    }

    #[test]
    fn blank_stop_sequences_are_reported_for_anthropic() {
        let body = r#"{"model":"m","messages":[{"role":"user","content":"x"}],"stop":["x"," \n"]}"#;
        expect(
            body,
            &[("anthropic", &["stop"]), ("gemini", &[]), ("bedrock", &[])],
        );
    }
}
