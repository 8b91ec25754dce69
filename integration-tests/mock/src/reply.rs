//! A fully decided response, before faults shape how it goes over the wire.

use serde::Serialize;

/// Token usage the mock reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Part of `completion_tokens` spent thinking, where the wire format reports it apart.
    #[serde(skip_serializing_if = "is_zero")]
    pub reasoning_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A body sent at once, with content-length.
    Whole(Vec<u8>),
    /// Server-sent events, one body frame each, chunked transfer encoding.
    Events(Vec<String>),
    /// Binary stream messages (AWS event stream), one body frame each, chunked.
    Binary(Vec<Vec<u8>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub payload: Payload,
    pub usage: Option<Usage>,
}

impl Reply {
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            payload: Payload::Whole(body.to_string().into_bytes()),
            usage: None,
        }
    }

    pub fn events(events: Vec<String>, usage: Usage) -> Self {
        Self {
            status: 200,
            headers: vec![
                ("content-type".into(), "text/event-stream".into()),
                ("cache-control".into(), "no-cache".into()),
            ],
            payload: Payload::Events(events),
            usage: Some(usage),
        }
    }

    pub fn binary(frames: Vec<Vec<u8>>, usage: Usage) -> Self {
        Self {
            status: 200,
            headers: vec![(
                "content-type".into(),
                "application/vnd.amazon.eventstream".into(),
            )],
            payload: Payload::Binary(frames),
            usage: Some(usage),
        }
    }

    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
