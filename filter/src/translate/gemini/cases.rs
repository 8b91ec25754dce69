//! Gemini's case table (harness: `translate/cases.rs`).

use crate::translate::cases::{self, Cases, ALL_OPTIONAL, BLANK_STOP, DEFAULTS, HOT};

const CASES: Cases = Cases {
    provider: r#"{"name":"gemini","kind":"gemini","cluster":"c"}"#,
    golden: &["gemini", "embeddings"],
    unhonoured: &[
        (
            ALL_OPTIONAL,
            "logprobs top_logprobs logit_bias user parallel_tool_calls",
        ),
        (DEFAULTS, ""),
        (HOT, ""),
        (BLANK_STOP, ""),
    ],
};

#[test]
fn gemini_cases() {
    cases::run(&CASES);
}
