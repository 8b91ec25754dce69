//! Anthropic `POST /v1/messages/count_tokens`: the Messages body (no `max_tokens`),
//! answered `{"input_tokens": n}` with the count the mock would charge as prompt tokens
//! (tool definitions add their words).

use serde_json::{json, Value};

use crate::answer;
use crate::anthropic::{conversation, error_with};
use crate::reply::Reply;

pub fn respond(body: &[u8]) -> Reply {
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return error_with(400, &format!("There was an error parsing the body: {e}")),
    };
    if req.get("model").and_then(Value::as_str).is_none() {
        return error_with(400, "model: Field required");
    }
    let Some(messages) = req.get("messages").and_then(Value::as_array) else {
        return error_with(400, "messages: Field required");
    };
    let conv = conversation(&req, messages);
    let tools: u64 = conv
        .tools
        .iter()
        .map(|t| answer::word_count(&t.schema.to_string()) + 1)
        .sum();
    Reply::json(200, &json!({"input_tokens": conv.prompt_tokens + tools}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_the_messages_prompt() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"one two three"}]}"#;
        let r = respond(body);
        let crate::reply::Payload::Whole(bytes) = &r.payload else {
            panic!("not a JSON answer")
        };
        let v: Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(v["input_tokens"], answer::MESSAGE_TOKENS + 3);
        let bad = respond(br#"{"messages":[]}"#);
        assert_eq!(bad.status, 400);
    }
}
