//! Anthropic Messages: request parsing, responses, stream events, errors.

use serde_json::{json, Value};

use crate::answer::{self, Answer, Conversation, Finish, ToolChoice, ToolDef};
use crate::openai::Ctx;
use crate::reply::{Reply, Usage};
use crate::sse;

/// Answers a Messages request body.
pub fn respond(body: &[u8], ctx: Ctx<'_>) -> Reply {
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return error_with(400, &format!("There was an error parsing the body: {e}")),
    };
    if !req.is_object() {
        return error_with(400, "The request body must be a JSON object.");
    }
    let Some(model) = req.get("model").and_then(Value::as_str) else {
        return error_with(400, "model: Field required");
    };
    let Some(messages) = req.get("messages").and_then(Value::as_array) else {
        return error_with(400, "messages: Field required");
    };
    let Some(max_tokens) = req.get("max_tokens").and_then(Value::as_u64) else {
        return error_with(400, "max_tokens: Field required");
    };
    if let Err(msg) = roles(messages) {
        return error_with(400, &msg);
    }
    let mut conv = conversation(&req, messages);
    conv.max_tokens = Some(max_tokens);
    let thinking = match thinking(&req, max_tokens) {
        Ok(t) => t.map(|()| format!("mock {} thinks about: {}", ctx.name, conv.last_user_text)),
        Err(msg) => return error_with(400, msg),
    };
    let ans = answer::answer(&conv, ctx.name);
    let usage = Usage {
        prompt_tokens: conv.prompt_tokens,
        completion_tokens: ans.completion_tokens()
            + thinking.as_deref().map_or(0, answer::word_count),
        // Anthropic reports thinking inside output_tokens, without a count of its own.
        reasoning_tokens: 0,
    };
    let reply = if req.get("stream").and_then(Value::as_bool) == Some(true) {
        Reply::events(
            stream_events(&ans, thinking.as_deref(), model, usage, ctx),
            usage,
        )
    } else {
        Reply::json(200, &message(&ans, thinking.as_deref(), model, usage, ctx)).with_usage(usage)
    };
    reply.with_header("request-id", &format!("req_mock_{}", ctx.n))
}

/// The API's role rules: user and assistant turns, and system entries anywhere but first
/// (mid-conversation system messages).
fn roles(messages: &[Value]) -> Result<(), String> {
    for (i, m) in messages.iter().enumerate() {
        match m.get("role").and_then(Value::as_str) {
            Some("user" | "assistant") => {}
            Some("system") if i > 0 => {}
            Some("system") => {
                return Err(format!(
                    "messages.{i}: a system message may not be the first message"
                ))
            }
            _ => {
                return Err(format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant'"
                ))
            }
        }
    }
    Ok(())
}

/// `Ok(Some(()))` when extended thinking is on; the API's own checks otherwise.
fn thinking(req: &Value, max_tokens: u64) -> Result<Option<()>, &'static str> {
    let Some(t) = req.get("thinking").filter(|t| !t.is_null()) else {
        return Ok(None);
    };
    if t.get("type").and_then(Value::as_str) != Some("enabled") {
        return Ok(None);
    }
    let Some(budget) = t.get("budget_tokens").and_then(Value::as_u64) else {
        return Err("thinking.enabled.budget_tokens: Field required");
    };
    if budget < 1024 {
        return Err(
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        );
    }
    if max_tokens <= budget {
        return Err("`max_tokens` must be greater than `thinking.budget_tokens`");
    }
    if req
        .get("temperature")
        .is_some_and(|v| v.as_f64() != Some(1.0))
    {
        return Err("`temperature` may only be set to 1 when thinking is enabled");
    }
    if matches!(
        req.pointer("/tool_choice/type").and_then(Value::as_str),
        Some("any" | "tool")
    ) {
        return Err("Thinking may not be enabled when tool_choice forces tool use.");
    }
    Ok(Some(()))
}

/// Extracts the provider-independent view of a request (without `max_tokens`).
pub fn conversation(req: &Value, messages: &[Value]) -> Conversation {
    let mut conv = Conversation::default();
    if let Some(system) = req.get("system").filter(|s| !s.is_null()) {
        let content = blocks(system);
        conv.prompt_tokens +=
            answer::MESSAGE_TOKENS + content.words + content.images * answer::IMAGE_TOKENS;
    }
    for msg in messages {
        let role = msg.get("role").and_then(Value::as_str).unwrap_or("");
        let content = blocks(msg.get("content").unwrap_or(&Value::Null));
        conv.prompt_tokens +=
            answer::MESSAGE_TOKENS + content.words + content.images * answer::IMAGE_TOKENS;
        if role == "user" {
            conv.user_images += content.top_images;
            conv.last_user_text = content.text;
            conv.tool_result = content
                .only_tool_results
                .then_some(content.last_tool_result);
        }
    }
    conv.tools = req
        .get("tools")
        .and_then(Value::as_array)
        .map(|tools| tools.iter().filter_map(tool_def).collect())
        .unwrap_or_default();
    conv.tool_choice = match req.pointer("/tool_choice/type").and_then(Value::as_str) {
        Some("none") => ToolChoice::None,
        Some("any") => ToolChoice::Required,
        Some("tool") => match req.pointer("/tool_choice/name").and_then(Value::as_str) {
            Some(name) => ToolChoice::Named(name.to_string()),
            None => ToolChoice::Required,
        },
        _ => ToolChoice::Auto,
    };
    conv.stop = req
        .get("stop_sequences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    conv
}

#[derive(Default)]
struct Blocks {
    /// Concatenated top-level text blocks.
    text: String,
    /// Words in all text, tool results included.
    words: u64,
    /// Images anywhere, tool results included.
    images: u64,
    /// Images at the top level.
    top_images: u64,
    /// Non-empty and every block is a `tool_result`.
    only_tool_results: bool,
    last_tool_result: String,
}

fn blocks(content: &Value) -> Blocks {
    let mut out = Blocks::default();
    match content {
        Value::String(s) => {
            out.words = answer::word_count(s);
            out.text = s.clone();
        }
        Value::Array(list) => {
            out.only_tool_results = !list.is_empty();
            for block in list {
                let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
                out.only_tool_results &= kind == "tool_result";
                match kind {
                    "text" => {
                        let t = block.get("text").and_then(Value::as_str).unwrap_or("");
                        out.words += answer::word_count(t);
                        out.text.push_str(t);
                    }
                    "image" => {
                        out.images += 1;
                        out.top_images += 1;
                    }
                    "tool_result" => {
                        let inner = blocks(block.get("content").unwrap_or(&Value::Null));
                        out.words += inner.words;
                        out.images += inner.images;
                        out.last_tool_result = inner.text;
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    out
}

fn tool_def(tool: &Value) -> Option<ToolDef> {
    Some(ToolDef {
        name: tool.get("name")?.as_str()?.to_string(),
        schema: tool.get("input_schema").cloned().unwrap_or(Value::Null),
    })
}

/// `(stop_reason, stop_sequence)`
fn stop(ans: &Answer) -> (&'static str, Value) {
    match ans {
        Answer::ToolCall { .. } => ("tool_use", Value::Null),
        Answer::Text { finish, .. } => match finish {
            Finish::Stop => ("end_turn", Value::Null),
            Finish::MaxTokens => ("max_tokens", Value::Null),
            Finish::StopSequence(s) => ("stop_sequence", Value::from(s.as_str())),
        },
    }
}

fn tool_id(ctx: Ctx<'_>) -> String {
    format!("toolu_mock_{}", ctx.n)
}

fn message_id(ctx: Ctx<'_>) -> String {
    format!("msg_mock_{}", ctx.n)
}

/// The non-streaming `message` object.
pub fn message(
    ans: &Answer,
    thinking: Option<&str>,
    model: &str,
    usage: Usage,
    ctx: Ctx<'_>,
) -> Value {
    let block = match ans {
        Answer::Text { text, .. } => json!({"type": "text", "text": text}),
        Answer::ToolCall { name, args } => {
            json!({"type": "tool_use", "id": tool_id(ctx), "name": name, "input": args})
        }
    };
    let (stop_reason, stop_sequence) = stop(ans);
    json!({
        "id": message_id(ctx),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": match thinking {
            Some(t) => json!([
                {"type": "thinking", "thinking": t, "signature": signature(ctx)},
                block
            ]),
            None => json!([block]),
        },
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": {
            "input_tokens": usage.prompt_tokens,
            "output_tokens": usage.completion_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    })
}

/// The documented event sequence of a streamed answer.
fn signature(ctx: Ctx<'_>) -> String {
    format!("sig_mock_{}", ctx.n)
}

/// A thinking block at index 0: start, one delta per word, the signature, stop.
fn thinking_events(text: &str, ctx: Ctx<'_>) -> Vec<String> {
    let mut events = vec![sse::named(
        "content_block_start",
        &json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
    )];
    for piece in answer::word_pieces(text) {
        events.push(sse::named(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "thinking_delta", "thinking": piece}}),
        ));
    }
    events.push(sse::named(
        "content_block_delta",
        &json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "signature_delta", "signature": signature(ctx)}}),
    ));
    events.push(sse::named(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    ));
    events
}

pub fn stream_events(
    ans: &Answer,
    thinking: Option<&str>,
    model: &str,
    usage: Usage,
    ctx: Ctx<'_>,
) -> Vec<String> {
    let index = u32::from(thinking.is_some());
    let mut events = vec![sse::named(
        "message_start",
        &json!({"type": "message_start", "message": {
            "id": message_id(ctx),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": {
                "input_tokens": usage.prompt_tokens,
                "output_tokens": 1,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }}),
    )];
    let start_block = match ans {
        Answer::Text { .. } => json!({"type": "text", "text": ""}),
        Answer::ToolCall { name, .. } => {
            json!({"type": "tool_use", "id": tool_id(ctx), "name": name, "input": {}})
        }
    };
    if let Some(t) = thinking {
        events.extend(thinking_events(t, ctx));
    }
    events.push(sse::named(
        "content_block_start",
        &json!({"type": "content_block_start", "index": index, "content_block": start_block}),
    ));
    events.push(sse::named("ping", &json!({"type": "ping"})));
    let deltas: Vec<Value> = match ans {
        Answer::Text { text, .. } => answer::word_pieces(text)
            .into_iter()
            .map(|piece| json!({"type": "text_delta", "text": piece}))
            .collect(),
        Answer::ToolCall { .. } => {
            let args = ans.args_json();
            std::iter::once("")
                .chain(answer::split_even(&args, 2))
                .map(|piece| json!({"type": "input_json_delta", "partial_json": piece}))
                .collect()
        }
    };
    for delta in deltas {
        events.push(sse::named(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
        ));
    }
    events.push(sse::named(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": index}),
    ));
    let (stop_reason, stop_sequence) = stop(ans);
    events.push(sse::named(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
            "usage": {"output_tokens": usage.completion_tokens},
        }),
    ));
    events.push(sse::named("message_stop", &json!({"type": "message_stop"})));
    events
}

fn error_kind(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("invalid_request_error", "Invalid request (mock)."),
        401 => ("authentication_error", "invalid x-api-key"),
        403 => (
            "permission_error",
            "Your API key does not have permission (mock).",
        ),
        404 => ("not_found_error", "Not found (mock)."),
        413 => (
            "request_too_large",
            "Request exceeds the maximum allowed size (mock).",
        ),
        429 => ("rate_limit_error", "Rate limit exceeded (mock)."),
        529 => ("overloaded_error", "Overloaded"),
        s if s >= 500 => ("api_error", "Internal server error"),
        _ => ("invalid_request_error", "Invalid request (mock)."),
    }
}

fn error_object(status: u16, message: &str) -> Value {
    let (kind, _) = error_kind(status);
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

pub fn error_with(status: u16, message: &str) -> Reply {
    Reply::json(status, &error_object(status, message))
}

/// The error response Anthropic sends with `status`.
pub fn error(status: u16) -> Reply {
    error_with(status, error_kind(status).1)
}

/// An `event: error` sent inside an already started stream.
pub fn error_event(status: u16) -> String {
    sse::named("error", &error_object(status, error_kind(status).1))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::reply::Payload;

    const CTX: Ctx<'static> = Ctx {
        name: "claude",
        n: 3,
        created: 0,
    };

    fn body_json(reply: &Reply) -> Value {
        match &reply.payload {
            Payload::Whole(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    /// `(event name, data)` pairs.
    fn events(reply: &Reply) -> Vec<(String, Value)> {
        let Payload::Events(ev) = &reply.payload else {
            return Vec::new();
        };
        ev.iter()
            .map(|e| {
                let mut lines = e.lines();
                let name = lines
                    .next()
                    .and_then(|l| l.strip_prefix("event: "))
                    .unwrap_or("");
                let data = lines
                    .next()
                    .and_then(|l| l.strip_prefix("data: "))
                    .unwrap_or("");
                assert!(e.ends_with("\n\n"));
                (
                    name.to_string(),
                    serde_json::from_str(data).unwrap_or(Value::Null),
                )
            })
            .collect()
    }

    #[test]
    fn non_stream_text() {
        let body = json!({"model":"claude-x","max_tokens":100,"system":[{"type":"text","text":"be nice"}],
            "messages":[{"role":"user","content":[{"type":"text","text":"hi there"},{"type":"image","source":{}}]}]});
        let reply = respond(body.to_string().as_bytes(), CTX);
        assert_eq!(reply.status, 200);
        let v = body_json(&reply);
        assert_eq!(v["id"], "msg_mock_3");
        assert_eq!(v["model"], "claude-x");
        assert_eq!(
            v["content"],
            json!([{"type":"text","text":"mock claude says: hi there [images: 1]"}])
        );
        assert_eq!(v["stop_reason"], "end_turn");
        assert_eq!(v["stop_sequence"], Value::Null);
        // system 2+3, user 2+85+3
        assert_eq!(
            v["usage"],
            json!({"input_tokens":95,"output_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":0})
        );
    }

    #[test]
    fn thinking_blocks_and_checks() {
        let body = json!({"model":"m","max_tokens":3000,"thinking":{"type":"enabled","budget_tokens":1024},
            "messages":[{"role":"user","content":"why"}]});
        let v = body_json(&respond(body.to_string().as_bytes(), CTX));
        assert_eq!(
            v["content"][0],
            json!({"type":"thinking","thinking":"mock claude thinks about: why","signature":"sig_mock_3"})
        );
        assert_eq!(v["content"][1]["text"], "mock claude says: why");
        assert_eq!(v["usage"]["output_tokens"], 4 + 5);
        let mut stream = body.clone();
        stream["stream"] = json!(true);
        let ev = events(&respond(stream.to_string().as_bytes(), CTX));
        assert_eq!(ev[1].1["content_block"]["type"], "thinking");
        assert!(ev
            .iter()
            .any(|(_, e)| e["delta"]["type"] == "signature_delta"));
        let text_start = ev
            .iter()
            .find(|(_, e)| e["content_block"]["type"] == "text")
            .map(|(_, e)| e["index"].clone());
        assert_eq!(text_start, Some(json!(1)));
        for bad in [
            json!({"type":"enabled","budget_tokens":3000}),
            json!({"type":"enabled","budget_tokens":100}),
            json!({"type":"enabled"}),
        ] {
            let mut b = body.clone();
            b["thinking"] = bad;
            assert_eq!(respond(b.to_string().as_bytes(), CTX).status, 400);
        }
        let mut b = body.clone();
        b["temperature"] = json!(0.5);
        assert_eq!(respond(b.to_string().as_bytes(), CTX).status, 400);
    }

    #[test]
    fn max_tokens_and_stop_sequence() {
        let body =
            json!({"model":"m","max_tokens":2,"messages":[{"role":"user","content":"a b c"}]});
        let v = body_json(&respond(body.to_string().as_bytes(), CTX));
        assert_eq!(v["content"][0]["text"], "mock claude");
        assert_eq!(v["stop_reason"], "max_tokens");
        assert_eq!(v["usage"]["output_tokens"], 2);
        let body = json!({"model":"m","max_tokens":50,"stop_sequences":["b"],"messages":[{"role":"user","content":"a b c"}]});
        let v = body_json(&respond(body.to_string().as_bytes(), CTX));
        assert_eq!(v["content"][0]["text"], "mock claude says: a ");
        assert_eq!(v["stop_reason"], "stop_sequence");
        assert_eq!(v["stop_sequence"], "b");
    }

    #[test]
    fn tool_use_and_result() {
        let tools = json!([{"name":"w","input_schema":{"type":"object","properties":{"c":{"type":"string"},"d":{"type":"boolean"}},"required":["c"]}}]);
        let body = json!({"model":"m","max_tokens":10,"tools":tools,"messages":[{"role":"user","content":"x"}]});
        let v = body_json(&respond(body.to_string().as_bytes(), CTX));
        assert_eq!(
            v["content"],
            json!([{"type":"tool_use","id":"toolu_mock_3","name":"w","input":{"c":"mock"}}])
        );
        assert_eq!(v["stop_reason"], "tool_use");
        let body = json!({"model":"m","max_tokens":10,"tools":tools,"messages":[
            {"role":"user","content":"x"},
            {"role":"assistant","content":[{"type":"tool_use","id":"toolu_mock_3","name":"w","input":{"c":"mock"}}]},
            {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_mock_3","content":[{"type":"text","text":"rainy"}]}]}]});
        let v = body_json(&respond(body.to_string().as_bytes(), CTX));
        assert_eq!(
            v["content"][0]["text"],
            "mock claude got tool result: rainy"
        );
        let body = json!({"model":"m","max_tokens":10,"tools":tools,"tool_choice":{"type":"none"},"messages":[{"role":"user","content":"x"}]});
        let v = body_json(&respond(body.to_string().as_bytes(), CTX));
        assert_eq!(v["stop_reason"], "end_turn");
    }

    #[test]
    fn stream_text_sequence() {
        let body = json!({"model":"m","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"yo"}]});
        let ev = events(&respond(body.to_string().as_bytes(), CTX));
        let names: Vec<&str> = ev.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "message_start",
                "content_block_start",
                "ping",
                "content_block_delta",
                "content_block_delta",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        for (name, data) in &ev {
            assert_eq!(data["type"], name.as_str());
        }
        assert_eq!(ev[0].1["message"]["usage"]["input_tokens"], 4);
        assert_eq!(ev[0].1["message"]["usage"]["output_tokens"], 1);
        assert_eq!(ev[0].1["message"]["content"], json!([]));
        assert_eq!(ev[1].1["content_block"], json!({"type":"text","text":""}));
        let text: String = ev[3..7]
            .iter()
            .filter_map(|(_, d)| d["delta"]["text"].as_str())
            .collect();
        assert_eq!(text, "mock claude says: yo");
        assert_eq!(
            ev[8].1["delta"],
            json!({"stop_reason":"end_turn","stop_sequence":null})
        );
        assert_eq!(ev[8].1["usage"], json!({"output_tokens":4}));
    }

    #[test]
    fn stream_tool_sequence() {
        let body = json!({"model":"m","max_tokens":10,"stream":true,
            "tools":[{"name":"a","input_schema":{}},{"name":"b","input_schema":{"properties":{"k":{"type":"integer"}}}}],
            "tool_choice":{"type":"tool","name":"b"},
            "messages":[{"role":"user","content":"yo"}]});
        let ev = events(&respond(body.to_string().as_bytes(), CTX));
        assert_eq!(
            ev[1].1["content_block"],
            json!({"type":"tool_use","id":"toolu_mock_3","name":"b","input":{}})
        );
        assert_eq!(ev[2].0, "ping");
        let parts: Vec<&str> = ev[3..6]
            .iter()
            .filter_map(|(_, d)| d["delta"]["partial_json"].as_str())
            .collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "");
        assert_eq!(parts.concat(), r#"{"k":1}"#);
        assert_eq!(ev[6].0, "content_block_stop");
        assert_eq!(ev[7].1["delta"]["stop_reason"], "tool_use");
        assert_eq!(ev.len(), 9);
    }

    #[test]
    fn errors() {
        let reply = respond(br#"{"model":"m","messages":[]}"#, CTX);
        assert_eq!(reply.status, 400);
        assert_eq!(body_json(&reply)["error"]["type"], "invalid_request_error");
        assert_eq!(body_json(&reply)["type"], "error");
        assert_eq!(body_json(&error(529))["error"]["type"], "overloaded_error");
        assert_eq!(body_json(&error(429))["error"]["type"], "rate_limit_error");
        assert_eq!(body_json(&error(500))["error"]["type"], "api_error");
        assert_eq!(
            body_json(&error(401))["error"]["type"],
            "authentication_error"
        );
        assert!(error_event(529).starts_with("event: error\ndata: {"));
    }
}
