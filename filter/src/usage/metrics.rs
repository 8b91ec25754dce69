//! Envoy metric names. Labels are encoded in the name as `.<label>.<value>` pairs and
//! pulled out again by the `stats_config.stats_tags` rules shipped in `envoy-config/`
//! (one regex per label), so Prometheus sees e.g.
//! `llmgw_requests_total{gen_ai_request_model="…",gen_ai_provider_name="…",…}`.
//! Names and labels follow the OpenTelemetry GenAI semantic conventions where one exists.

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

pub fn name(base: &str, labels: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(base.len() + 96);
    out.push_str(base);
    for (k, v) in labels {
        out.push('.');
        out.push_str(k);
        out.push('.');
        out.push_str(&label(v));
    }
    out
}

// Counters.
pub const REQUESTS: &str = "llmgw.requests_total";
pub const PROMPT_TOKENS: &str = "llmgw.prompt_tokens_total";
pub const COMPLETION_TOKENS: &str = "llmgw.completion_tokens_total";
pub const ERRORS: &str = "llmgw.errors_total";
pub const COST: &str = "llmgw.cost_nano_usd_total";
pub const REFUSALS: &str = "llmgw.limit_refusals_total";
pub const ESTIMATED: &str = "llmgw.estimated_usage_total";

// Histograms (OpenTelemetry GenAI names; integer units in the name since Envoy
// histograms take integers).
pub const TOKEN_USAGE: &str = "gen_ai.client.token.usage";
pub const DURATION_MS: &str = "gen_ai.client.operation.duration_ms";
pub const TTFT_MS: &str = "gen_ai.server.time_to_first_token_ms";
pub const TPOT_US: &str = "gen_ai.server.time_per_output_token_us";

// Labels.
pub const MODEL: &str = "gen_ai_request_model";
pub const PROVIDER: &str = "gen_ai_provider_name";
pub const RESPONSE_MODEL: &str = "gen_ai_response_model";
pub const TOKEN_TYPE: &str = "gen_ai_token_type";
pub const ERROR_TYPE: &str = "error_type";
pub const KEY: &str = "llm_key";
pub const REASON: &str = "reason";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_have_no_stray_dots() {
        assert_eq!(
            name(REQUESTS, &[(MODEL, "gpt-4.1"), (PROVIDER, "anthropic.claude:v1")]),
            "llmgw.requests_total.gen_ai_request_model.gpt-4_1.gen_ai_provider_name.anthropic_claude_v1"
        );
    }
}
