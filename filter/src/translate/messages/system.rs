//! `role: "system"` entries inside `messages` (Claude Code sends one whenever it does not
//! recognise the model name; Anthropic calls them mid-conversation system messages).
//!
//! * Anthropic provider, client sent the `mid-conversation-system-*` beta: the entries go
//!   through as sent, and that beta with them.
//! * Anthropic provider otherwise: each entry's blocks are appended, in order, to the
//!   top-level `system` (where Anthropic keeps instructions; it precedes every turn, so
//!   the instructions keep their relative order) and the entry leaves `messages`.
//! * Every other provider: an OpenAI `system` message at the entry's place
//!   ([`super::to_openai`]); each chat translator keeps it where that provider keeps
//!   instructions.

// The client's Anthropic body passes through with every field it has, known or not; only
// `system` and `messages` are rewritten (filter/clippy.toml).
#![allow(clippy::disallowed_types)]

use serde_json::{Map, Value};

use crate::api::anthropic_server::MessagesRequest;
use crate::error::GatewayError;

/// The prefix of Anthropic's beta for system messages inside `messages`.
const BETA_PREFIX: &str = "mid-conversation-system-";

pub fn present(req: &MessagesRequest) -> bool {
    req.messages.iter().any(|m| m.role == "system")
}

/// The client's `mid-conversation-system-*` betas (comma-separated), if it sent any.
pub fn betas(anthropic_beta: Option<&str>) -> Option<String> {
    let found: Vec<&str> = anthropic_beta?
        .split(',')
        .map(str::trim)
        .filter(|b| b.starts_with(BETA_PREFIX))
        .collect();
    (!found.is_empty()).then(|| found.join(","))
}

fn invalid(e: serde_json::Error) -> GatewayError {
    GatewayError::bad_request(format!("invalid request body: {e}"))
}

/// `raw` with `model` set to `upstream_model` and every system entry of `messages` moved
/// to the end of the top-level `system`, in order. Rare (only requests that carry such
/// entries), so the body is rebuilt as a JSON tree rather than spliced.
pub fn hoisted(raw: &[u8], upstream_model: &str) -> Result<Vec<u8>, GatewayError> {
    let mut body: Map<String, Value> = serde_json::from_slice(raw).map_err(invalid)?;
    let messages = match body.remove("messages") {
        Some(Value::Array(m)) => m,
        _ => {
            return Err(GatewayError::bad_field(
                "messages",
                "messages: must be a list",
            ))
        }
    };
    let mut system = match body.remove("system") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if s.is_empty() => Vec::new(),
        Some(Value::String(s)) => vec![text_block(s)],
        Some(Value::Array(blocks)) => blocks,
        Some(_) => {
            return Err(GatewayError::bad_field(
                "system",
                "system: must be a string or a list of text blocks",
            ))
        }
    };
    let mut kept = Vec::with_capacity(messages.len());
    for (i, m) in messages.into_iter().enumerate() {
        if m.get("role").and_then(Value::as_str) != Some("system") {
            kept.push(m);
            continue;
        }
        match m.get("content") {
            Some(Value::String(s)) if !s.trim().is_empty() => system.push(text_block(s.clone())),
            Some(Value::String(_)) => {}
            Some(Value::Array(blocks)) => {
                for (j, b) in blocks.iter().enumerate() {
                    if b.get("type").and_then(Value::as_str) != Some("text") {
                        let param = format!("messages.{i}.content.{j}");
                        return Err(GatewayError::bad_field(
                            param.clone(),
                            format!("{param}: a system message may only hold text blocks"),
                        ));
                    }
                }
                system.extend(blocks.iter().cloned());
            }
            _ => {
                let param = format!("messages.{i}.content");
                return Err(GatewayError::bad_field(
                    param.clone(),
                    format!("{param}: must be a string or a list of text blocks"),
                ));
            }
        }
    }
    if kept.is_empty() {
        return Err(GatewayError::bad_field(
            "messages",
            "messages: at least one user or assistant message is required",
        ));
    }
    body.insert("model".into(), Value::String(upstream_model.into()));
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    body.insert("messages".into(), Value::Array(kept));
    serde_json::to_vec(&body).map_err(|e| GatewayError::internal(format!("serialise: {e}")))
}

fn text_block(text: String) -> Value {
    let mut b = Map::new();
    b.insert("type".into(), Value::String("text".into()));
    b.insert("text".into(), Value::String(text));
    Value::Object(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hoist(body: Value) -> Result<Value, GatewayError> {
        let raw = serde_json::to_vec(&body).unwrap();
        hoisted(&raw, "claude-up").map(|b| serde_json::from_slice(&b).unwrap())
    }

    #[test]
    fn system_entries_move_to_the_top_level_system_in_order() {
        let out = hoist(json!({
            "model": "alias", "max_tokens": 10,
            "system": [{"type": "text", "text": "base", "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "system", "content": "first"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": "more"},
                {"role": "system", "content": [{"type": "text", "text": "second"}]}
            ],
            "thinking": {"type": "adaptive"}
        }))
        .unwrap();
        assert_eq!(out["model"], "claude-up");
        assert_eq!(
            out["system"],
            json!([
                {"type": "text", "text": "base", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "first"},
                {"type": "text", "text": "second"}
            ])
        );
        assert_eq!(
            out["messages"],
            json!([
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": "more"}
            ])
        );
        assert_eq!(out["thinking"], json!({"type": "adaptive"}));
    }

    #[test]
    fn a_string_system_becomes_the_first_block() {
        let out = hoist(json!({
            "model": "a", "max_tokens": 1, "system": "base",
            "messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": "later"}]
        }))
        .unwrap();
        assert_eq!(
            out["system"],
            json!([{"type": "text", "text": "base"}, {"type": "text", "text": "later"}])
        );
    }

    #[test]
    fn refused_shapes() {
        let image = hoist(json!({"model": "a", "max_tokens": 1, "messages": [
            {"role": "user", "content": "hi"},
            {"role": "system", "content": [{"type": "image", "source": {}}]}
        ]}))
        .unwrap_err();
        assert_eq!(image.param.as_deref(), Some("messages.1.content.0"));
        let only_system = hoist(json!({"model": "a", "max_tokens": 1, "messages": [
            {"role": "system", "content": "x"}
        ]}))
        .unwrap_err();
        assert_eq!(only_system.param.as_deref(), Some("messages"));
    }

    #[test]
    fn betas_keep_only_the_system_message_beta() {
        assert_eq!(
            betas(Some(
                "claude-code-20250219, mid-conversation-system-2026-04-07,effort-2025-11-24"
            ))
            .as_deref(),
            Some("mid-conversation-system-2026-04-07")
        );
        assert_eq!(betas(Some("claude-code-20250219")), None);
        assert_eq!(betas(None), None);
    }
}
