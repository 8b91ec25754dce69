//! OpenAI's case table (harness: `translate/cases.rs`).

use crate::translate::cases::{self, Cases, ALL_OPTIONAL, DEFAULTS, HOT};

const CASES: Cases = Cases {
    provider: r#"{"name":"openai","kind":"openai","cluster":"c"}"#,
    golden: &["openai_family", "embeddings"],
    unhonoured: &[(ALL_OPTIONAL, ""), (DEFAULTS, ""), (HOT, "")],
};

#[test]
fn openai_cases() {
    cases::run(&CASES);
}
