//! Fault specs: how the next provider response should misbehave.

use std::collections::VecDeque;

use hyper::HeaderMap;
use serde::{Deserialize, Serialize};

/// One fault, applied to one provider request. All fields combine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Answer with this status and the provider's error body for it (or, with `body`,
    /// that body). A 2xx status without `body` keeps the normal answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Send exactly this body (content-type application/json).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// With `body`: this content-type instead of application/json (empty: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Wait this long before sending headers (or before a reset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Streams: send this many SSE events, then close the connection abruptly.
    /// Whole bodies: send content-length and half of the body, then close.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_after_events: Option<usize>,
    /// Close the connection without any response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<bool>,
    /// Write the body in network chunks of this many bytes, flushing each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_bytes: Option<usize>,
    /// Wait this long between body frames (SSE events, or chunks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_delay_ms: Option<u64>,
    /// Streams: send this many events, then the provider's in-stream error event, then end
    /// the stream normally (no `[DONE]` / `message_stop`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_after_events: Option<usize>,
    /// Status whose error kind the in-stream error event carries
    /// (default 529 for Anthropic, 500 for OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_status: Option<u16>,
    /// Apply to the next K requests (queue only; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
}

impl FaultSpec {
    pub fn is_reset(&self) -> bool {
        self.reset == Some(true)
    }

    /// Fields set in `other` replace those of `self`.
    pub fn overridden_by(mut self, other: FaultSpec) -> FaultSpec {
        macro_rules! take {
            ($($f:ident),*) => { $( if other.$f.is_some() { self.$f = other.$f; } )* };
        }
        take!(
            status,
            body,
            content_type,
            delay_ms,
            cut_after_events,
            reset,
            chunk_bytes,
            event_delay_ms,
            error_after_events,
            error_status
        );
        self
    }

    /// True when nothing is set (apart from `repeat`).
    pub fn is_empty(&self) -> bool {
        FaultSpec {
            repeat: None,
            ..self.clone()
        } == FaultSpec::default()
    }
}

/// Faults requested through `x-mock-*` request headers.
pub fn from_headers(headers: &HeaderMap) -> FaultSpec {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let num = |name: &str| get(name).and_then(|v| v.parse::<u64>().ok());
    FaultSpec {
        status: get("x-mock-status").and_then(|v| v.parse().ok()),
        body: get("x-mock-body").map(str::to_string),
        content_type: get("x-mock-content-type").map(str::to_string),
        delay_ms: num("x-mock-delay-ms"),
        cut_after_events: num("x-mock-cut-after-events").map(|n| n as usize),
        reset: get("x-mock-reset").map(|v| v == "1" || v.eq_ignore_ascii_case("true")),
        chunk_bytes: num("x-mock-chunk-bytes").map(|n| n as usize),
        event_delay_ms: num("x-mock-event-delay-ms"),
        error_after_events: num("x-mock-error-after-events").map(|n| n as usize),
        error_status: get("x-mock-error-status").and_then(|v| v.parse().ok()),
        repeat: None,
    }
}

/// Parses the body of `POST /__mock/faults`: an array of specs, or a single spec.
pub fn parse_list(body: &[u8]) -> Result<Vec<FaultSpec>, serde_json::Error> {
    match serde_json::from_slice::<serde_json::Value>(body)? {
        list @ serde_json::Value::Array(_) => serde_json::from_value(list),
        one => Ok(vec![serde_json::from_value(one)?]),
    }
}

/// The fault script: a FIFO queue plus a default for when it is empty.
#[derive(Debug, Default)]
pub struct Faults {
    queue: VecDeque<(FaultSpec, u32)>,
    default: Option<FaultSpec>,
}

impl Faults {
    pub fn push(&mut self, specs: Vec<FaultSpec>) {
        for spec in specs {
            let times = spec.repeat.unwrap_or(1).max(1);
            self.queue.push_back((spec, times));
        }
    }

    pub fn set_default(&mut self, spec: Option<FaultSpec>) {
        self.default = spec;
    }

    /// The fault for the next provider request (consumes one queue entry).
    pub fn next(&mut self) -> Option<FaultSpec> {
        let Some((spec, left)) = self.queue.front_mut() else {
            return self.default.clone();
        };
        let spec = spec.clone();
        if *left > 1 {
            *left -= 1;
        } else {
            self.queue.pop_front();
        }
        Some(spec)
    }

    pub fn clear(&mut self) {
        self.queue.clear();
        self.default = None;
    }

    /// `{"queue":[spec with remaining count as "repeat"...],"default":spec|null}`
    pub fn to_json(&self) -> serde_json::Value {
        let queue: Vec<FaultSpec> = self
            .queue
            .iter()
            .map(|(s, left)| FaultSpec {
                repeat: Some(*left),
                ..s.clone()
            })
            .collect();
        serde_json::json!({"queue": queue, "default": self.default})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_repeat_and_default() {
        let mut f = Faults::default();
        let specs =
            parse_list(br#"[{"status":503,"repeat":2},{"reset":true}]"#).unwrap_or_default();
        assert_eq!(specs.len(), 2);
        f.push(specs);
        f.set_default(Some(FaultSpec {
            delay_ms: Some(5),
            ..FaultSpec::default()
        }));
        assert_eq!(f.next().and_then(|s| s.status), Some(503));
        assert_eq!(f.next().and_then(|s| s.status), Some(503));
        assert!(f.next().is_some_and(|s| s.is_reset()));
        assert_eq!(f.next().and_then(|s| s.delay_ms), Some(5));
        f.clear();
        assert_eq!(f.next(), None);
    }

    #[test]
    fn parse_single_and_reject_unknown() {
        assert_eq!(
            parse_list(br#"{"cut_after_events":3}"#)
                .map(|v| v.len())
                .ok(),
            Some(1)
        );
        assert!(parse_list(br#"[{"stauts":500}]"#).is_err());
    }

    #[test]
    fn headers_override() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-mock-status",
            hyper::header::HeaderValue::from_static("429"),
        );
        h.insert("x-mock-reset", hyper::header::HeaderValue::from_static("1"));
        h.insert(
            "x-mock-chunk-bytes",
            hyper::header::HeaderValue::from_static("7"),
        );
        let queued = FaultSpec {
            status: Some(500),
            delay_ms: Some(10),
            ..FaultSpec::default()
        };
        let merged = queued.overridden_by(from_headers(&h));
        assert_eq!(merged.status, Some(429));
        assert_eq!(merged.delay_ms, Some(10));
        assert_eq!(merged.chunk_bytes, Some(7));
        assert!(merged.is_reset());
        assert!(FaultSpec::default().is_empty());
        assert!(!merged.is_empty());
    }
}
