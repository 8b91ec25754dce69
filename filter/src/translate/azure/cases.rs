//! Azure OpenAI's case table (harness: `translate/cases.rs`).

use crate::translate::cases::{self, Cases, ALL_OPTIONAL, DEFAULTS};

const CASES: Cases = Cases {
    provider: r#"{"name":"azure","kind":"azure","cluster":"c","host":"r.openai.azure.com"}"#,
    golden: &["openai_family"],
    unhonoured: &[(ALL_OPTIONAL, ""), (DEFAULTS, "")],
};

#[test]
fn azure_cases() {
    cases::run(&CASES);
}
