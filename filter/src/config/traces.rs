//! `traces`: export each LLM call as an OpenTelemetry span (OTLP/HTTP JSON) to a
//! collector behind an Envoy cluster. Absent: no tracing, nothing on the request path.

use serde::Deserialize;

use super::error::ConfigError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTraces {
    /// The Envoy cluster of the OTLP/HTTP collector.
    pub cluster: String,
    /// `:authority` of the export call (default: the cluster name).
    #[serde(default)]
    pub authority: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub service_name: Option<String>,
    /// How often a worker sends what it holds.
    #[serde(default)]
    pub flush_ms: Option<u64>,
    /// Spans a worker holds at most; beyond, new spans are dropped (and counted).
    #[serde(default)]
    pub max_queue: Option<usize>,
    /// Spans per export call at most.
    #[serde(default)]
    pub max_batch: Option<usize>,
    /// An export call that has not answered by then is given up (its spans dropped).
    #[serde(default)]
    pub timeout_ms: Option<u32>,
    /// Prompts and completions on the spans (`gen_ai.input.messages`, …). Off by default:
    /// they may hold personal data.
    #[serde(default)]
    pub capture_content: bool,
    /// Each captured attribute's size at most (bytes of its JSON).
    #[serde(default)]
    pub capture_max_bytes: Option<usize>,
    /// Share of new traces recorded (0 to 1); a caller's trace keeps the caller's choice.
    #[serde(default)]
    pub sample_ratio: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Traces {
    pub cluster: String,
    pub authority: String,
    pub path: String,
    pub service_name: String,
    pub flush_ms: u64,
    pub max_queue: usize,
    pub max_batch: usize,
    pub timeout_ms: u32,
    /// `capture_content`: each content attribute's size cap in bytes; `None`: off.
    pub capture_max_bytes: Option<usize>,
    pub sample_ratio: f64,
}

fn err<T>(field: &str, reason: &str) -> Result<T, ConfigError> {
    Err(ConfigError {
        field: format!("traces.{field}"),
        reason: reason.to_string(),
    })
}

pub fn build(raw: Option<RawTraces>) -> Result<Option<Traces>, ConfigError> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.cluster.is_empty() {
        return err("cluster", "must name the collector's Envoy cluster");
    }
    let path = raw.path.unwrap_or_else(|| "/v1/traces".into());
    if !path.starts_with('/') {
        return err("path", "must start with /");
    }
    let flush_ms = raw.flush_ms.unwrap_or(1000);
    if !(100..=60_000).contains(&flush_ms) {
        return err("flush_ms", "must be between 100 and 60000");
    }
    let max_queue = raw.max_queue.unwrap_or(2048);
    if !(1..=100_000).contains(&max_queue) {
        return err("max_queue", "must be between 1 and 100000");
    }
    let max_batch = raw.max_batch.unwrap_or(512);
    if !(1..=10_000).contains(&max_batch) {
        return err("max_batch", "must be between 1 and 10000");
    }
    let timeout_ms = raw.timeout_ms.unwrap_or(5000);
    if !(10..=60_000).contains(&timeout_ms) {
        return err("timeout_ms", "must be between 10 and 60000");
    }
    let capture_max_bytes = raw.capture_max_bytes.unwrap_or(8192);
    if !(256..=1_048_576).contains(&capture_max_bytes) {
        return err("capture_max_bytes", "must be between 256 and 1048576");
    }
    if raw.capture_max_bytes.is_some() && !raw.capture_content {
        return err(
            "capture_max_bytes",
            "applies only with capture_content: true",
        );
    }
    let sample_ratio = raw.sample_ratio.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&sample_ratio) {
        return err("sample_ratio", "must be between 0 and 1");
    }
    Ok(Some(Traces {
        sample_ratio,
        capture_max_bytes: raw.capture_content.then_some(capture_max_bytes),
        authority: raw.authority.unwrap_or_else(|| raw.cluster.clone()),
        cluster: raw.cluster,
        path,
        service_name: raw.service_name.unwrap_or_else(|| "llm-gateway".into()),
        flush_ms,
        max_queue,
        max_batch,
        timeout_ms,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(json: &str) -> Result<Option<Traces>, ConfigError> {
        build(Some(serde_json::from_str(json).unwrap()))
    }

    #[test]
    fn sample_ratio_defaults_to_all_and_is_a_share() {
        let all = built(r#"{"cluster":"otel"}"#).unwrap().unwrap();
        assert_eq!(all.sample_ratio, 1.0);
        let some = built(r#"{"cluster":"otel","sample_ratio":0.1}"#)
            .unwrap()
            .unwrap();
        assert_eq!(some.sample_ratio, 0.1);
        for bad in ["-0.1", "1.5"] {
            let e = built(&format!(r#"{{"cluster":"otel","sample_ratio":{bad}}}"#)).unwrap_err();
            assert_eq!(e.field, "traces.sample_ratio", "{bad}");
        }
    }
}
