//! Errors for Anthropic-shaped clients: `{"type":"error","error":{"type","message"}}`,
//! with the HTTP status the gateway chose.

use crate::api::anthropic_server::{ErrorEnvelopeOut, ErrorOut};
use crate::codec::sse_out;
use crate::error::GatewayError;

/// Anthropic's error `type` for a status (and the OpenAI-style kind when it says more).
pub fn kind(status: u16, openai_kind: &str) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => match openai_kind {
            "overloaded_error" => "overloaded_error",
            "rate_limit_error" | "requests" | "tokens" => "rate_limit_error",
            "invalid_request_error" => "invalid_request_error",
            "authentication_error" => "authentication_error",
            _ => "api_error",
        },
    }
}

pub fn to_json(e: &GatewayError) -> Vec<u8> {
    body(kind(e.status, e.kind), &e.message)
}

pub fn body(kind: &'static str, message: &str) -> Vec<u8> {
    let env = ErrorEnvelopeOut {
        kind: "error",
        error: ErrorOut { kind, message },
    };
    serde_json::to_vec(&env).unwrap_or_else(|_| {
        br#"{"type":"error","error":{"type":"api_error","message":"internal error"}}"#.to_vec()
    })
}

/// An Anthropic `error` stream event (how a failed stream ends for these clients).
pub fn write_event(out: &mut Vec<u8>, kind: &'static str, message: &str) {
    sse_out::put_named(out, "error", &body(kind, message));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_kinds() {
        let e = GatewayError::unknown_model("x");
        let v: serde_json::Value = serde_json::from_slice(&to_json(&e)).unwrap_or_default();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "not_found_error");
        assert_eq!(kind(503, "overloaded_error"), "overloaded_error");
        assert_eq!(kind(502, "api_error"), "api_error");
        assert_eq!(kind(413, "invalid_request_error"), "request_too_large");
    }
}
