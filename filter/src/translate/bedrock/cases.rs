//! Bedrock's case table (harness: `translate/cases.rs`).

use crate::translate::cases::{self, Cases, ALL_OPTIONAL, BLANK_STOP, DEFAULTS, HOT};

const CASES: Cases = Cases {
    provider: r#"{"name":"bedrock","kind":"bedrock","cluster":"c","region":"us-east-1","api_key_env":"K"}"#,
    golden: &["bedrock", "embeddings"],
    unhonoured: &[
        (ALL_OPTIONAL, "seed frequency_penalty presence_penalty logprobs top_logprobs logit_bias user parallel_tool_calls response_format reasoning_effort"),
        (DEFAULTS, ""),
        (HOT, "temperature"),
        (BLANK_STOP, ""),
    ],
};

#[test]
fn bedrock_cases() {
    cases::run(&CASES);
}
