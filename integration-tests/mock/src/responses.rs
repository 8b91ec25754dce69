//! OpenAI Responses API (`POST …/responses`, `GET`/`DELETE …/responses/{id}`): request
//! parsing, the `response` object, its stream events (with sequence numbers), errors.
//! Stateless: a stored response is answered with a canned object naming its id.

use serde_json::{json, Value};

use crate::answer::{self, Answer, Conversation, Finish, ToolChoice, ToolDef};
use crate::openai::{error_with, Ctx};
use crate::reply::{Reply, Usage};
use crate::{reasoning, sse};

/// Answers a Responses request body.
pub fn respond(body: &[u8], ctx: Ctx<'_>) -> Reply {
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return error_with(
                400,
                &format!("We could not parse the JSON body of your request. ({e})"),
                None,
            )
        }
    };
    let Some(model) = req.get("model").and_then(Value::as_str) else {
        return error_with(400, "Missing required parameter: 'model'.", Some("model"));
    };
    let conv = conversation(&req);
    let ans = answer::answer(&conv, ctx.name);
    let thinking = reasoning::tokens(req.pointer("/reasoning/effort").and_then(Value::as_str));
    let usage = Usage {
        prompt_tokens: conv.prompt_tokens,
        completion_tokens: ans.completion_tokens() + thinking,
        reasoning_tokens: thinking,
    };
    let reply = if req.get("stream").and_then(Value::as_bool) == Some(true) {
        Reply::events(stream_events(&ans, model, usage, ctx), usage)
    } else {
        Reply::json(200, &response(&ans, model, usage, ctx, true)).with_usage(usage)
    };
    reply.with_header("x-request-id", &format!("req_mock_{}", ctx.n))
}

/// `GET …/responses/{id}` and `DELETE …/responses/{id}`.
pub fn stored(method: &hyper::Method, path: &str) -> Reply {
    let id = path
        .split('?')
        .next()
        .unwrap_or("")
        .rsplit_once("/responses/")
        .map_or("", |(_, id)| id);
    if *method == hyper::Method::DELETE {
        return Reply::json(
            200,
            &json!({"id": id, "object": "response", "deleted": true}),
        );
    }
    Reply::json(
        200,
        &json!({"id": id, "object": "response", "created_at": 0, "status": "completed",
                "model": "mock", "output": [], "error": null, "incomplete_details": null,
                "usage": null}),
    )
}

fn text_of(content: &Value) -> (String, u64) {
    let mut text = String::new();
    let mut images = 0;
    match content {
        Value::String(s) => text.push_str(s),
        Value::Array(parts) => {
            for p in parts {
                match p.get("type").and_then(Value::as_str) {
                    Some("input_image") => images += 1,
                    _ => text.push_str(p.get("text").and_then(Value::as_str).unwrap_or("")),
                }
            }
        }
        _ => {}
    }
    (text, images)
}

/// Extracts the provider-independent view of a Responses request.
pub fn conversation(req: &Value) -> Conversation {
    let mut conv = Conversation::default();
    if let Some(i) = req.get("instructions").and_then(Value::as_str) {
        conv.prompt_tokens += answer::MESSAGE_TOKENS + answer::word_count(i);
    }
    let items = match req.get("input") {
        Some(Value::String(s)) => vec![json!({"role": "user", "content": s})],
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    for item in &items {
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("message");
        let (text, images) = match kind {
            "message" => text_of(item.get("content").unwrap_or(&Value::Null)),
            "function_call_output" => text_of(item.get("output").unwrap_or(&Value::Null)),
            "function_call" => (
                item.get("arguments")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                0,
            ),
            _ => (String::new(), 0),
        };
        conv.prompt_tokens +=
            answer::MESSAGE_TOKENS + answer::word_count(&text) + images * answer::IMAGE_TOKENS;
        let role = item.get("role").and_then(Value::as_str).unwrap_or("");
        if kind == "message" && role == "user" {
            conv.user_images += images;
            conv.last_user_text = text.clone();
        }
        conv.tool_result = (kind == "function_call_output").then_some(text);
    }
    conv.tools = req
        .get("tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
                .filter_map(|t| {
                    Some(ToolDef {
                        name: t.get("name")?.as_str()?.to_string(),
                        schema: t.get("parameters").cloned().unwrap_or(Value::Null),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    conv.tool_choice = match req.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => ToolChoice::None,
        Some(Value::String(s)) if s == "required" => ToolChoice::Required,
        Some(v @ Value::Object(_)) => match v.get("name").and_then(Value::as_str) {
            Some(name) => ToolChoice::Named(name.to_string()),
            None => ToolChoice::Auto,
        },
        _ => ToolChoice::Auto,
    };
    conv.max_tokens = req.get("max_output_tokens").and_then(Value::as_u64);
    if req.pointer("/text/format/type").and_then(Value::as_str) == Some("json_schema") {
        conv.schema = req.pointer("/text/format/schema").cloned();
    }
    conv
}

fn usage_json(u: Usage) -> Value {
    json!({
        "input_tokens": u.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": u.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
        "total_tokens": u.prompt_tokens + u.completion_tokens,
    })
}

fn item(ans: &Answer, ctx: Ctx<'_>, done: bool) -> Value {
    let status = if done { "completed" } else { "in_progress" };
    match ans {
        Answer::Text { text, .. } => json!({
            "id": format!("msg_mock_{}", ctx.n), "type": "message", "status": status,
            "role": "assistant",
            "content": if done {
                json!([{"type": "output_text", "text": text, "annotations": [], "logprobs": []}])
            } else {
                json!([])
            },
        }),
        Answer::ToolCall { name, .. } => json!({
            "id": format!("fc_mock_{}", ctx.n), "type": "function_call", "status": status,
            "call_id": format!("call_mock_{}", ctx.n), "name": name,
            "arguments": if done { ans.args_json() } else { String::new() },
        }),
    }
}

/// The `response` object (`done`: with its output and usage).
pub fn response(ans: &Answer, model: &str, usage: Usage, ctx: Ctx<'_>, done: bool) -> Value {
    let incomplete = matches!(
        ans,
        Answer::Text {
            finish: Finish::MaxTokens,
            ..
        }
    );
    let status = match (done, incomplete) {
        (false, _) => "in_progress",
        (true, true) => "incomplete",
        (true, false) => "completed",
    };
    json!({
        "id": format!("resp_mock_{}", ctx.n), "object": "response", "created_at": ctx.created,
        "status": status, "error": null,
        "incomplete_details": if done && incomplete { json!({"reason": "max_output_tokens"}) } else { Value::Null },
        "model": model,
        "output": if done { json!([item(ans, ctx, true)]) } else { json!([]) },
        "parallel_tool_calls": true, "store": false, "tools": [], "tool_choice": "auto",
        "text": {"format": {"type": "text"}}, "truncation": "disabled",
        "usage": if done { usage_json(usage) } else { Value::Null },
        "metadata": {},
    })
}

/// The SSE events of a streamed answer, numbered.
pub fn stream_events(ans: &Answer, model: &str, usage: Usage, ctx: Ctx<'_>) -> Vec<String> {
    let mut events = Vec::new();
    let mut push = |kind: &str, mut body: Value| {
        if let Some(obj) = body.as_object_mut() {
            obj.insert("type".into(), json!(kind));
            obj.insert("sequence_number".into(), json!(events.len()));
        }
        events.push(sse::named(kind, &body));
    };
    let pending = response(ans, model, usage, ctx, false);
    push("response.created", json!({"response": pending}));
    push("response.in_progress", json!({"response": pending}));
    push(
        "response.output_item.added",
        json!({"output_index": 0, "item": item(ans, ctx, false)}),
    );
    let item_id = item(ans, ctx, false).get("id").cloned().unwrap_or_default();
    match ans {
        Answer::Text { text, .. } => {
            let part = |t: &str| json!({"type": "output_text", "text": t, "annotations": [], "logprobs": []});
            push(
                "response.content_part.added",
                json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": part("")}),
            );
            for piece in answer::word_pieces(text) {
                push(
                    "response.output_text.delta",
                    json!({"item_id": item_id, "output_index": 0, "content_index": 0, "delta": piece, "logprobs": []}),
                );
            }
            push(
                "response.output_text.done",
                json!({"item_id": item_id, "output_index": 0, "content_index": 0, "text": text, "logprobs": []}),
            );
            push(
                "response.content_part.done",
                json!({"item_id": item_id, "output_index": 0, "content_index": 0, "part": part(text)}),
            );
        }
        Answer::ToolCall { name, .. } => {
            let args = ans.args_json();
            for piece in answer::split_even(&args, 3) {
                push(
                    "response.function_call_arguments.delta",
                    json!({"item_id": item_id, "output_index": 0, "delta": piece}),
                );
            }
            push(
                "response.function_call_arguments.done",
                json!({"item_id": item_id, "output_index": 0, "name": name, "arguments": args}),
            );
        }
    }
    push(
        "response.output_item.done",
        json!({"output_index": 0, "item": item(ans, ctx, true)}),
    );
    let done = response(ans, model, usage, ctx, true);
    let kind = if done.get("status") == Some(&json!("incomplete")) {
        "response.incomplete"
    } else {
        "response.completed"
    };
    push(kind, json!({"response": done}));
    events
}

/// A `response.failed` event (what an upstream error inside a stream looks like) after
/// `seq` events of the response of request `ctx`.
pub fn failed_event(ctx: Ctx<'_>, seq: usize, status: u16) -> String {
    sse::named(
        "response.failed",
        &json!({"type": "response.failed", "sequence_number": seq,
                "response": {"id": format!("resp_mock_{}", ctx.n), "object": "response", "status": "failed",
                             "created_at": ctx.created,
                             "error": {"code": "server_error", "message": format!("mock failure ({status})")},
                             "output": [], "usage": null}}),
    )
}

/// A `response.failed` event for a response the mock cannot name.
pub fn error_event(status: u16) -> String {
    sse::named(
        "response.failed",
        &json!({"type": "response.failed", "sequence_number": 999,
                "response": {"id": "resp_mock_failed", "object": "response", "status": "failed",
                             "error": {"code": "server_error", "message": format!("mock failure ({status})")},
                             "output": [], "usage": null}}),
    )
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    const CTX: Ctx<'static> = Ctx {
        name: "p",
        n: 3,
        created: 0,
    };

    #[test]
    fn text_tool_and_schema_answers() {
        let body = br#"{"model":"m","instructions":"be nice","input":[{"role":"user","content":[{"type":"input_text","text":"hi there"}]}]}"#;
        let r = respond(body, CTX);
        assert_eq!(r.usage.map(|u| u.prompt_tokens), Some(3 + 2 + 3 + 2));
        let body = br#"{"model":"m","stream":true,"input":"x","tools":[{"type":"function","name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}]}"#;
        let r = respond(body, CTX);
        let crate::reply::Payload::Events(events) = r.payload else {
            panic!("not a stream")
        };
        assert!(events[0].starts_with("event: response.created\n"));
        assert!(events
            .last()
            .is_some_and(|e| e.contains("\"arguments\":\"{\\\"a\\\":\\\"mock\\\"}\"")));
        let conv = conversation(
            &json!({"input":"x","text":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"n":{"type":"integer"}}}}}}),
        );
        assert_eq!(
            answer::answer(&conv, "p"),
            Answer::Text {
                text: "{\"n\":1}".into(),
                finish: Finish::Stop
            }
        );
    }
}
