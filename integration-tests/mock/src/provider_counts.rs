//! The counting endpoints of Gemini (`…/models/{m}:countTokens`, AI Studio and Vertex
//! AI) and Bedrock (`…/model/{id}/count-tokens`): a prompt counted as the same prompt
//! would be charged by `generateContent` / `Converse`. Unknown fields are refused as
//! the real services refuse them (Google's proto JSON, Bedrock's validation).

use serde_json::{json, Map, Value};

use crate::reply::Usage;
use crate::{bedrock, gemini};

/// Members each service's count request may have.
const AI_STUDIO: &[&str] = &["contents", "generateContentRequest"];
const VERTEX: &[&str] = &[
    "model",
    "instances",
    "contents",
    "systemInstruction",
    "tools",
    "generationConfig",
];

fn unknown<'a>(obj: &'a Map<String, Value>, allowed: &[&str]) -> Option<&'a str> {
    obj.keys()
        .map(String::as_str)
        .find(|k| !allowed.contains(k))
}

/// `:countTokens`; `vertex` for `…/publishers/google/…` paths.
pub fn gemini(body: &[u8], vertex: bool) -> crate::reply::Reply {
    let bad = |m: &str| gemini::error_with(400, m, "INVALID_ARGUMENT");
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return bad("Invalid JSON payload received.");
    };
    let allowed = if vertex { VERTEX } else { AI_STUDIO };
    if let Some(k) = unknown(&obj, allowed) {
        return bad(&format!(
            "Invalid JSON payload received. Unknown name \"{k}\": Cannot find field."
        ));
    }
    // AI Studio counts a whole request given as `generateContentRequest` (system and tools).
    let req = match obj.get("generateContentRequest") {
        Some(inner) if inner.get("model").and_then(Value::as_str).is_none() => {
            return bad("generateContentRequest.model: model is required");
        }
        Some(inner) => inner.clone(),
        None => Value::Object(obj),
    };
    let Some(contents) = req.get("contents").and_then(Value::as_array) else {
        return bad("* CountTokensRequest.contents: contents is not specified\n");
    };
    let n = gemini::conversation(&req, contents).prompt_tokens;
    crate::reply::Reply::json(
        200,
        &json!({"totalTokens": n, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": n}]}),
    )
    .with_usage(counted(n))
}

/// What a count answered, recorded as its prompt (tests compare it with the client's count).
pub fn counted(n: u64) -> Usage {
    Usage {
        prompt_tokens: n,
        ..Usage::default()
    }
}

/// Whether `path` is Bedrock's `…/model/{id}/count-tokens`.
pub fn is_bedrock(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let mut parts = path.rsplitn(3, '/');
    parts.next() == Some("count-tokens")
        && parts.next().is_some_and(|m| !m.is_empty())
        && parts
            .next()
            .is_some_and(|p| p == "/model" || p.ends_with("/model"))
}

/// `count-tokens`: `{"input":{"converse":{messages, system, toolConfig, …}}}` →
/// `{"inputTokens": n}`.
pub fn bedrock(body: &[u8]) -> crate::reply::Reply {
    let bad = |m: &str| bedrock::error_with(400, "ValidationException", m);
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return bad("Unexpected token in the request body (mock).");
    };
    let Some(converse) = req.pointer("/input/converse").and_then(Value::as_object) else {
        return bad("input: exactly one of converse or invokeModel is required (mock).");
    };
    let allowed = [
        "messages",
        "system",
        "toolConfig",
        "additionalModelRequestFields",
    ];
    if let Some(k) = unknown(converse, &allowed) {
        return bad(&format!("input.converse: unknown field {k} (mock)."));
    }
    match bedrock::conversation(&Value::Object(converse.clone())) {
        Ok(conv) => crate::reply::Reply::json(200, &json!({"inputTokens": conv.prompt_tokens}))
            .with_usage(counted(conv.prompt_tokens)),
        Err(m) => bad(&m),
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::reply::Payload;

    fn body_json(r: &crate::reply::Reply) -> Value {
        match &r.payload {
            Payload::Whole(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    #[test]
    fn gemini_counts_like_generate_content() {
        let contents = json!([{"role": "user", "parts": [{"text": "one two three"}]}]);
        let whole = json!({"generateContentRequest": {"model": "models/g", "contents": contents,
            "systemInstruction": {"parts": [{"text": "be brief"}]}}});
        let r = gemini(whole.to_string().as_bytes(), false);
        let n = body_json(&r)["totalTokens"].as_u64().unwrap();
        let bare = gemini(json!({"contents": contents}).to_string().as_bytes(), false);
        assert_eq!(
            n,
            body_json(&bare)["totalTokens"].as_u64().unwrap() + crate::answer::MESSAGE_TOKENS + 2
        );
        // AI Studio has no top-level systemInstruction; Vertex AI has.
        let top = json!({"contents": contents, "systemInstruction": {"parts": [{"text": "x"}]}});
        assert_eq!(gemini(top.to_string().as_bytes(), false).status, 400);
        assert_eq!(gemini(top.to_string().as_bytes(), true).status, 200);
        let tool_config = json!({"contents": contents, "toolConfig": {}});
        assert_eq!(gemini(tool_config.to_string().as_bytes(), true).status, 400);
    }

    #[test]
    fn bedrock_counts_a_converse_input() {
        assert!(is_bedrock(
            "/model/us.anthropic.claude-x-v1%3A0/count-tokens"
        ));
        assert!(!is_bedrock("/model/m/converse"));
        let body = json!({"input": {"converse": {"messages": [{"role": "user", "content": [{"text": "a b"}]}]}}});
        let r = bedrock(body.to_string().as_bytes());
        assert_eq!(r.status, 200);
        assert!(body_json(&r)["inputTokens"].as_u64().unwrap() > 0);
        let extra = json!({"input": {"converse": {"messages": [], "inferenceConfig": {}}}});
        assert_eq!(bedrock(extra.to_string().as_bytes()).status, 400);
    }
}
