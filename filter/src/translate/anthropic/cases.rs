//! Anthropic's case table (harness: `translate/cases.rs`).

use crate::translate::cases::{self, Cases, ALL_OPTIONAL, BLANK_STOP, DEFAULTS, HOT, HOT_THINKING};

const CASES: Cases = Cases {
    provider: r#"{"name":"anthropic","kind":"anthropic","cluster":"c"}"#,
    golden: &["anthropic"],
    unhonoured: &[
        (
            ALL_OPTIONAL,
            "seed frequency_penalty presence_penalty logprobs top_logprobs logit_bias",
        ),
        (DEFAULTS, ""),
        (HOT, "temperature"),
        (HOT_THINKING, "temperature"),
        (BLANK_STOP, "stop"),
    ],
};

#[test]
fn anthropic_cases() {
    cases::run(&CASES);
}
