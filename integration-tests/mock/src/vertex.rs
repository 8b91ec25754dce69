//! Anthropic models on Vertex AI: `…/publishers/anthropic/models/{model}:rawPredict`
//! and `:streamRawPredict`. The body is a Messages body without `model` (it is in the
//! path) and with `anthropic_version`; answers and stream events are Anthropic's.
//! Platform errors (quota, auth, unknown model) come in Google's shape.

use serde_json::Value;

use crate::openai::Ctx;
use crate::reply::Reply;
use crate::{anthropic, count_tokens, gemini};

pub const VERSION: &str = "vertex-2023-10-16";

pub fn respond(body: &[u8], path: &str, ctx: Ctx<'_>) -> Reply {
    let mut req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return anthropic::respond(body, ctx),
    };
    let Some(obj) = req.as_object_mut() else {
        return anthropic::respond(body, ctx);
    };
    if obj.contains_key("model") {
        return invalid("model: Extra inputs are not permitted");
    }
    match obj.get("anthropic_version").and_then(Value::as_str) {
        None => return invalid("anthropic_version: Field required"),
        Some(v) if v != VERSION => {
            return invalid(&format!("anthropic_version: Input should be '{VERSION}'"))
        }
        Some(_) => {}
    }
    obj.remove("anthropic_version");
    let model = gemini::model_and_method(path).map(|(m, _)| m).unwrap_or("");
    obj.insert("model".into(), Value::from(model));
    anthropic::respond(req.to_string().as_bytes(), ctx)
}

/// `count-tokens:rawPredict`: the Messages body with `model` in it and Vertex's
/// `anthropic_version`, counted as Anthropic's `count_tokens` counts.
pub fn count(body: &[u8]) -> Reply {
    let mut req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return invalid("There was an error parsing the body"),
    };
    let Some(obj) = req.as_object_mut() else {
        return invalid("body: Input should be an object");
    };
    if obj.get("anthropic_version").and_then(Value::as_str) != Some(VERSION) {
        return invalid(&format!("anthropic_version: Input should be '{VERSION}'"));
    }
    obj.remove("anthropic_version");
    let reply = count_tokens::respond(req.to_string().as_bytes());
    let n = match &reply.payload {
        crate::reply::Payload::Whole(b) => serde_json::from_slice::<Value>(b)
            .ok()
            .and_then(|v| v.get("input_tokens").and_then(Value::as_u64)),
        _ => None,
    };
    match n {
        Some(n) => reply.with_usage(crate::provider_counts::counted(n)),
        None => reply,
    }
}

fn invalid(message: &str) -> Reply {
    Reply::json(
        400,
        &serde_json::json!({"type": "error", "error": {"type": "invalid_request_error", "message": message}}),
    )
}

/// Vertex's own errors for quota and access; the model's (Anthropic-shaped) otherwise.
pub fn error(status: u16) -> Reply {
    match status {
        401 | 403 | 404 | 429 => gemini::error(status),
        _ => anthropic::error(status),
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::reply::Payload;
    use serde_json::json;

    const CTX: Ctx<'static> = Ctx {
        name: "vx",
        n: 2,
        created: 0,
    };
    const PATH: &str =
        "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-x@2025:rawPredict";

    fn body_json(reply: &Reply) -> Value {
        match &reply.payload {
            Payload::Whole(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
            Payload::Events(_) | Payload::Binary(_) => Value::Null,
        }
    }

    #[test]
    fn counts_with_the_model_in_the_body() {
        let body = json!({"anthropic_version": VERSION, "model": "claude-x@2025",
                          "messages": [{"role": "user", "content": "one two"}]});
        let v = body_json(&count(body.to_string().as_bytes()));
        assert_eq!(v["input_tokens"], crate::answer::MESSAGE_TOKENS + 2);
        let unversioned = json!({"model": "m", "messages": []});
        assert_eq!(count(unversioned.to_string().as_bytes()).status, 400);
    }

    #[test]
    fn model_from_path_and_version_required() {
        let body = json!({"anthropic_version": VERSION, "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]});
        let v = body_json(&respond(body.to_string().as_bytes(), PATH, CTX));
        assert_eq!(v["model"], "claude-x@2025");
        assert_eq!(v["content"][0]["text"], "mock vx says: hi");
        let body = json!({"max_tokens": 9, "messages": []});
        let v = body_json(&respond(body.to_string().as_bytes(), PATH, CTX));
        assert_eq!(v["error"]["message"], "anthropic_version: Field required");
        let body =
            json!({"model": "m", "anthropic_version": VERSION, "max_tokens": 9, "messages": []});
        let reply = respond(body.to_string().as_bytes(), PATH, CTX);
        assert_eq!(reply.status, 400);
        assert_eq!(
            body_json(&error(429))["error"]["status"],
            "RESOURCE_EXHAUSTED"
        );
        assert_eq!(body_json(&error(529))["error"]["type"], "overloaded_error");
    }
}
