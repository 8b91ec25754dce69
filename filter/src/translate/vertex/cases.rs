//! Vertex AI's case tables, one per publisher (harness: `translate/cases.rs`).

use crate::translate::cases::{self, Cases, ALL_OPTIONAL, DEFAULTS, HOT};

const GEMINI: Cases = Cases {
    provider: r#"{"name":"vertex","kind":"vertex","cluster":"c","project":"p","location":"l"}"#,
    golden: &["vertex", "embeddings"],
    unhonoured: &[
        (
            ALL_OPTIONAL,
            "logprobs top_logprobs logit_bias user parallel_tool_calls",
        ),
        (DEFAULTS, ""),
    ],
};

const ANTHROPIC: Cases = Cases {
    provider: r#"{"name":"vertex_anthropic","kind":"vertex_anthropic","cluster":"c","project":"p","location":"l"}"#,
    golden: &["vertex"],
    unhonoured: &[
        (
            ALL_OPTIONAL,
            "seed frequency_penalty presence_penalty logprobs top_logprobs logit_bias",
        ),
        (DEFAULTS, ""),
        (HOT, "temperature"),
    ],
};

#[test]
fn vertex_cases() {
    cases::run(&GEMINI);
}

#[test]
fn vertex_anthropic_cases() {
    cases::run(&ANTHROPIC);
}
