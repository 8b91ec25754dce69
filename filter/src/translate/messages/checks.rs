//! The checks every `/v1/messages` body gets before routing (what Anthropic itself
//! refuses), shared by messages and token counting.

use crate::api::anthropic_server::MessagesRequest;
use crate::error::GatewayError;

/// `max_tokens` is required to ask for a message, not to count its tokens.
pub fn checked(raw: &[u8], needs_max_tokens: bool) -> Result<MessagesRequest, GatewayError> {
    let req: MessagesRequest = serde_json::from_slice(raw).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            GatewayError::bad_request(format!("request body is not valid JSON: {e}"))
        } else {
            GatewayError::bad_request(format!("invalid request body: {e}"))
        }
    })?;
    if req.model.is_empty() {
        return Err(GatewayError::bad_field("model", "model: must not be empty"));
    }
    if req.messages.is_empty() {
        return Err(GatewayError::bad_field(
            "messages",
            "messages: at least one message is required",
        ));
    }
    match req.max_tokens {
        None if !needs_max_tokens => {}
        None => {
            return Err(GatewayError::bad_field(
                "max_tokens",
                "max_tokens: Field required",
            ))
        }
        Some(0) => {
            return Err(GatewayError::bad_field(
                "max_tokens",
                "max_tokens: must be at least 1",
            ))
        }
        Some(_) => {}
    }
    for (i, m) in req.messages.iter().enumerate() {
        if !matches!(m.role.as_str(), "user" | "assistant" | "system") {
            return Err(GatewayError::bad_field(
                format!("messages.{i}.role"),
                format!("messages.{i}.role: must be \"user\", \"assistant\" or \"system\""),
            ));
        }
    }
    if !req.messages.iter().any(|m| m.role != "system") {
        return Err(GatewayError::bad_field(
            "messages",
            "messages: at least one user or assistant message is required",
        ));
    }
    Ok(req)
}
