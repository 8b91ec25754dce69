//! Envoy metric names. Labels are encoded in the name and pulled out again by the
//! `stats_config.stats_tags` rules shipped in `envoy-config/` (Envoy's tag extraction),
//! so Prometheus sees `llmgw_requests_total{llm_model=…,llm_provider=…,llm_upstream_model=…}`.

/// Dots separate labels in Envoy stat names, so label values must not contain any.
pub fn label(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn name(counter: &str, model: &str, provider: &str, upstream_model: &str) -> String {
    format!(
        "llmgw.model.{}.provider.{}.upstream_model.{}.{counter}",
        label(model),
        label(provider),
        label(upstream_model)
    )
}

pub const REQUESTS: &str = "requests_total";
pub const PROMPT_TOKENS: &str = "prompt_tokens_total";
pub const COMPLETION_TOKENS: &str = "completion_tokens_total";
pub const ERRORS: &str = "errors_total";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_have_no_stray_dots() {
        assert_eq!(
            name(REQUESTS, "gpt-4.1", "oa", "anthropic.claude:v1"),
            "llmgw.model.gpt-4_1.provider.oa.upstream_model.anthropic_claude_v1.requests_total"
        );
    }
}
