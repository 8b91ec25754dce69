//! Provider error answers → the OpenAI error shape. Never fails.

use crate::api::openai::ErrorEnvelope;
use crate::error::{clip, head, GatewayError};

/// Status the client sees for an upstream status: 4xx and 5xx are kept, except
/// Anthropic's non-standard 529 (overloaded), which becomes 503 so that generic
/// clients and Envoy's retry policies understand it.
pub fn client_status(upstream: u16) -> u16 {
    match upstream {
        529 => 503,
        400..=599 => upstream,
        _ => 502,
    }
}

/// OpenAI `error.type` for a status, when the provider's own type is unknown.
fn kind_for_status(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// Map provider error type names (Anthropic's and OpenAI's vocabularies) to OpenAI's.
pub fn kind_from_provider(kind: Option<&str>, status: u16) -> &'static str {
    match kind {
        Some("invalid_request_error") => "invalid_request_error",
        Some("authentication_error") => "authentication_error",
        Some("permission_error") => "permission_error",
        Some("not_found_error") => "not_found_error",
        Some("rate_limit_error") | Some("requests") | Some("tokens") => "rate_limit_error",
        Some("overloaded_error") => "overloaded_error",
        Some("server_error") | Some("api_error") => "api_error",
        _ => kind_for_status(status),
    }
}

/// A failed answer whose body is `{"error":{"type","message"}}` (OpenAI's and
/// Anthropic's shape), or anything else.
pub fn from_error_object(status: u16, body: &[u8]) -> GatewayError {
    match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(env) => from_upstream(
            status,
            env.error.kind.as_deref(),
            env.error.message.as_deref(),
            body,
        ),
        Err(_) => from_upstream(status, None, None, body),
    }
}

/// Build the client-facing error for a failed upstream answer.
pub fn from_upstream(
    upstream_status: u16,
    kind: Option<&str>,
    message: Option<&str>,
    body: &[u8],
) -> GatewayError {
    let status = client_status(upstream_status);
    let message = match message {
        Some(m) if !m.is_empty() => clip_long(m),
        _ => {
            // Envoy's own local replies (connect failure, timeout) are short plain text.
            let text = String::from_utf8_lossy(body.get(..200.min(body.len())).unwrap_or(&[]));
            let text = text.trim();
            if text.is_empty() || text.starts_with('{') || text.starts_with('<') {
                format!("upstream returned status {upstream_status}")
            } else {
                format!("upstream returned status {upstream_status}: {}", clip(text))
            }
        }
    };
    GatewayError::upstream(status, kind_from_provider(kind, status), message)
}

/// A provider's own message, kept whole up to 1 KiB.
fn clip_long(s: &str) -> String {
    head(s, 1024).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(client_status(529), 503);
        assert_eq!(client_status(429), 429);
        assert_eq!(client_status(400), 400);
        assert_eq!(client_status(500), 500);
        assert_eq!(client_status(302), 502);
        assert_eq!(client_status(200), 502);
    }

    #[test]
    fn envoy_plain_text_is_kept_short() {
        let e = from_upstream(503, None, None, b"upstream connect error or disconnect/reset before headers. reset reason: connection failure");
        assert_eq!(e.status, 503);
        assert!(e.message.contains("connection failure"));
        let e = from_upstream(500, None, None, b"<html>oops</html>");
        assert_eq!(e.message, "upstream returned status 500");
    }
}
