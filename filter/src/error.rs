//! One error type for everything the client can be told. It knows its HTTP status,
//! its OpenAI error `type`, where it came from and whether a retry could help.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Client,
    Upstream,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    pub status: u16,
    /// OpenAI `error.type`, e.g. `invalid_request_error`.
    pub kind: &'static str,
    /// OpenAI `error.code`, e.g. `model_not_found`.
    pub code: Option<&'static str>,
    pub message: String,
    pub param: Option<String>,
    pub origin: Origin,
    /// Seconds, forwarded as `retry-after` when known.
    pub retry_after: Option<u64>,
    /// Extra response headers (e.g. `x-ratelimit-*` on a 429).
    pub headers: Vec<(&'static str, String)>,
}

impl GatewayError {
    fn new(status: u16, kind: &'static str, code: Option<&'static str>, message: String) -> Self {
        let origin = if status >= 500 {
            Origin::Upstream
        } else {
            Origin::Client
        };
        GatewayError {
            status,
            kind,
            code,
            message,
            param: None,
            origin,
            retry_after: None,
            headers: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_request_error", None, message.into())
    }

    pub fn bad_field(param: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::bad_request(message);
        e.param = Some(param.into());
        e
    }

    pub fn unknown_model(model: &str) -> Self {
        let mut e = Self::new(
            404,
            "invalid_request_error",
            Some("model_not_found"),
            format!(
                "The model `{}` does not exist or is not served by this gateway",
                clip(model)
            ),
        );
        e.param = Some("model".into());
        e
    }

    pub fn not_found(path: &str) -> Self {
        Self::new(
            404,
            "invalid_request_error",
            Some("unknown_url"),
            format!("Unknown request URL: {}", clip(path)),
        )
    }

    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "invalid_request_error",
            Some("method_not_allowed"),
            format!("Method {} is not allowed on this endpoint", clip(method)),
        )
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "invalid_request_error",
            Some("request_too_large"),
            format!("Request body exceeds the limit of {limit} bytes"),
        )
    }

    /// A compressed body the gateway cannot read (and must not forward with a header
    /// that no longer describes what it would send).
    pub fn unsupported_encoding(encoding: &str) -> Self {
        Self::new(
            415,
            "invalid_request_error",
            Some("unsupported_content_encoding"),
            format!(
                "content-encoding {} is not supported: send the body uncompressed",
                clip(encoding)
            ),
        )
    }

    /// An upstream answered with an error; `status` is what the client should see.
    pub fn upstream(status: u16, kind: &'static str, message: impl Into<String>) -> Self {
        let mut e = Self::new(status, kind, None, message.into());
        e.origin = Origin::Upstream;
        e
    }

    /// The upstream sent something we cannot understand.
    pub fn bad_gateway(message: impl Into<String>) -> Self {
        let mut e = Self::new(
            502,
            "api_error",
            Some("bad_upstream_response"),
            message.into(),
        );
        e.origin = Origin::Upstream;
        e
    }

    pub fn unauthorized() -> Self {
        Self::new(
            401,
            "invalid_request_error",
            Some("invalid_api_key"),
            "Missing or unknown API key: send Authorization: Bearer <key> or x-api-key".into(),
        )
    }

    pub fn model_not_allowed(model: &str) -> Self {
        let mut e = Self::new(
            403,
            "permission_error",
            Some("model_not_allowed"),
            format!("This key may not use the model `{}`", clip(model)),
        );
        e.param = Some("model".into());
        e
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "permission_error", Some("forbidden"), message.into())
    }

    pub fn rate_limited(message: impl Into<String>) -> Self {
        Self::new(
            429,
            "rate_limit_error",
            Some("rate_limit_exceeded"),
            message.into(),
        )
    }

    pub fn budget_exceeded(message: impl Into<String>) -> Self {
        Self::new(
            429,
            "insufficient_quota",
            Some("budget_exceeded"),
            message.into(),
        )
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn internal(message: impl Into<String>) -> Self {
        let mut e = Self::new(500, "api_error", None, message.into());
        e.origin = Origin::Internal;
        e
    }

    pub fn with_retry_after(mut self, seconds: Option<u64>) -> Self {
        self.retry_after = seconds;
        self
    }

    /// Retrying the same request elsewhere or later could succeed.
    pub fn retryable(&self) -> bool {
        self.status == 429 || self.status >= 500
    }

    /// The OpenAI error body: `{"error":{"message","type","param","code"}}`.
    pub fn to_json(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            message: &'a str,
            #[serde(rename = "type")]
            kind: &'a str,
            param: Option<&'a str>,
            code: Option<&'a str>,
        }
        let body = Body {
            error: Inner {
                message: &self.message,
                kind: self.kind,
                param: self.param.as_deref(),
                code: self.code,
            },
        };
        serde_json::to_vec(&body).unwrap_or_else(|_| {
            br#"{"error":{"message":"internal error","type":"api_error","param":null,"code":null}}"#
                .to_vec()
        })
    }
}

/// At most `max` bytes of `s`, cut at a character boundary.
pub fn head(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// Echoing client input into an error is useful but must stay short.
pub fn clip(s: &str) -> String {
    const MAX: usize = 128;
    if s.len() <= MAX {
        return s.to_string();
    }
    format!("{}…", head(s, MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_shape() {
        let e = GatewayError::unknown_model("nope");
        let v: serde_json::Value = serde_json::from_slice(&e.to_json()).unwrap();
        assert_eq!(v["error"]["code"], "model_not_found");
        assert_eq!(v["error"]["param"], "model");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(e.status, 404);
        assert!(!e.retryable());
    }

    #[test]
    fn clip_respects_char_boundaries() {
        let long = "é".repeat(200);
        let c = clip(&long);
        assert!(c.len() < 140);
        assert!(c.ends_with('…'));
    }
}
