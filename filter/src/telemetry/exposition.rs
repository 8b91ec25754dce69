//! The GenAI histograms in the Prometheus text format (`GET /llm/metrics`), with HELP and
//! TYPE lines, cumulative buckets and label values exactly as stored.

use super::histogram::{decimal, Record, INSTRUMENTS};
use super::series::{self, LABEL_NAMES};
use crate::host::Host;
use crate::strs::push_u64;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn render(host: &dyn Host) -> Vec<u8> {
    render_series(&series::read_all(host)).into_bytes()
}

fn render_series(all: &[(String, Record)]) -> String {
    let mut out = String::with_capacity(4096);
    let mut done: Vec<&str> = Vec::new();
    for inst in &INSTRUMENTS {
        if done.contains(&inst.name) {
            continue;
        }
        done.push(inst.name);
        out.push_str("# HELP ");
        out.push_str(inst.name);
        out.push(' ');
        out.push_str(inst.help);
        out.push_str("\n# TYPE ");
        out.push_str(inst.name);
        out.push_str(" histogram\n");
        // Every slot of this metric name (the token histogram has one per token type).
        for (i, slot) in INSTRUMENTS.iter().enumerate() {
            if slot.name != inst.name {
                continue;
            }
            for (line, rec) in all {
                let (buckets, sum) = rec.instrument(i);
                let count: u64 = buckets.iter().sum();
                if count == 0 {
                    continue;
                }
                let labels = labels(line, slot.token_type);
                let mut cumulative = 0u64;
                for (b, n) in buckets.iter().enumerate() {
                    cumulative = cumulative.saturating_add(*n);
                    out.push_str(slot.name);
                    out.push_str("_bucket{");
                    out.push_str(&labels);
                    out.push_str(",le=\"");
                    match slot.bounds.get(b) {
                        Some(bound) => decimal(&mut out, *bound, slot.scale),
                        None => out.push_str("+Inf"),
                    }
                    out.push_str("\"} ");
                    push_u64(&mut out, cumulative);
                    out.push('\n');
                }
                for (suffix, write) in [("_sum{", true), ("_count{", false)] {
                    out.push_str(slot.name);
                    out.push_str(suffix);
                    out.push_str(&labels);
                    out.push_str("} ");
                    if write {
                        decimal(&mut out, sum, slot.scale);
                    } else {
                        push_u64(&mut out, count);
                    }
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// `name="value",…` for one stored line (empty values left out).
fn labels(line: &str, token_type: Option<&str>) -> String {
    let mut s = String::with_capacity(line.len() + 160);
    let pairs = LABEL_NAMES
        .iter()
        .copied()
        .zip(series::values(line))
        .chain(token_type.map(|t| ("gen_ai_token_type", t)));
    for (name, value) in pairs {
        if value.is_empty() {
            continue;
        }
        if !s.is_empty() {
            s.push(',');
        }
        s.push_str(name);
        s.push_str("=\"");
        // Stored values hold no quote, backslash or newline (`metrics::label`).
        s.push_str(value);
        s.push('"');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::histogram::{DURATION, INPUT_TOKENS, OUTPUT_TOKENS};

    #[test]
    fn renders_cumulative_buckets_with_exact_labels() {
        let mut rec = Record::default();
        rec.observe(DURATION, 15_000);
        rec.observe(DURATION, 1_500_000);
        rec.observe(INPUT_TOKENS, 10);
        rec.observe(OUTPUT_TOKENS, 3);
        let line = "chat\u{1f}aws.bedrock\u{1f}br\u{1f}claude\u{1f}anthropic.claude-3-5-sonnet-20240620-v1:0\u{1f}";
        let text = render_series(&[(line.to_string(), rec)]);
        let l = "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"aws.bedrock\",llm_provider=\"br\",\
                 gen_ai_request_model=\"claude\",gen_ai_response_model=\"anthropic.claude-3-5-sonnet-20240620-v1:0\"";
        for want in [
            "# TYPE gen_ai_client_operation_duration_seconds histogram".to_string(),
            format!("gen_ai_client_operation_duration_seconds_bucket{{{l},le=\"0.01\"}} 0"),
            format!("gen_ai_client_operation_duration_seconds_bucket{{{l},le=\"0.02\"}} 1"),
            format!("gen_ai_client_operation_duration_seconds_bucket{{{l},le=\"2.56\"}} 2"),
            format!("gen_ai_client_operation_duration_seconds_bucket{{{l},le=\"+Inf\"}} 2"),
            format!("gen_ai_client_operation_duration_seconds_sum{{{l}}} 1.515"),
            format!("gen_ai_client_operation_duration_seconds_count{{{l}}} 2"),
            format!("gen_ai_client_token_usage_sum{{{l},gen_ai_token_type=\"input\"}} 10"),
            format!("gen_ai_client_token_usage_sum{{{l},gen_ai_token_type=\"output\"}} 3"),
        ] {
            assert!(text.lines().any(|x| x == want), "missing {want} in\n{text}");
        }
        // no observation, no series; one TYPE line per metric name
        assert!(!text.contains("time_to_first_chunk_seconds_bucket"));
        assert_eq!(text.matches("# TYPE gen_ai_client_token_usage ").count(), 1);
    }

    #[test]
    fn error_type_is_a_label_only_when_set() {
        let mut rec = Record::default();
        rec.observe(DURATION, 1);
        let text = render_series(&[(
            "chat\u{1f}openai\u{1f}o\u{1f}m\u{1f}m\u{1f}upstream".into(),
            rec,
        )]);
        assert!(
            text.contains(",error_type=\"upstream\",le=\"0.01\"} 1"),
            "{text}"
        );
    }
}
