//! OpenAI Chat Completions: request parsing, responses, stream chunks, errors.

use serde_json::{json, Value};

use crate::answer::{self, Answer, Conversation, Finish, ToolChoice, ToolDef};
use crate::reply::{Reply, Usage};
use crate::{reasoning, sse};

/// Per-request values that make ids and timestamps.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub name: &'a str,
    pub n: u64,
    pub created: u64,
}

/// Answers a Chat Completions request body.
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
    if !req.is_object() {
        return error_with(400, "The request body must be a JSON object.", None);
    }
    let Some(model) = req.get("model").and_then(Value::as_str) else {
        return error_with(400, "you must provide a model parameter", Some("model"));
    };
    let Some(messages) = req.get("messages").and_then(Value::as_array) else {
        return error_with(400, "'messages' is a required property", Some("messages"));
    };
    let conv = conversation(&req, messages);
    let ans = answer::answer(&conv, ctx.name);
    let thinking = reasoning::tokens(req.get("reasoning_effort").and_then(Value::as_str));
    let usage = Usage {
        prompt_tokens: conv.prompt_tokens,
        completion_tokens: ans.completion_tokens() + thinking,
        reasoning_tokens: thinking,
    };
    let stream = req.get("stream").and_then(Value::as_bool) == Some(true);
    let reply = if stream {
        let include_usage = req
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true);
        Reply::events(stream_events(&ans, model, usage, include_usage, ctx), usage)
    } else {
        Reply::json(200, &completion(&ans, model, usage, ctx)).with_usage(usage)
    };
    reply.with_header("x-request-id", &format!("req_mock_{}", ctx.n))
}

/// Extracts the provider-independent view of a request.
pub fn conversation(req: &Value, messages: &[Value]) -> Conversation {
    let mut conv = Conversation::default();
    for msg in messages {
        let role = msg.get("role").and_then(Value::as_str).unwrap_or("");
        let content = content_parts(msg.get("content").unwrap_or(&Value::Null));
        conv.prompt_tokens +=
            answer::MESSAGE_TOKENS + content.words + content.images * answer::IMAGE_TOKENS;
        if role == "user" {
            conv.user_images += content.images;
            conv.last_user_text = content.text.clone();
        }
        conv.tool_result = (role == "tool").then_some(content.text);
    }
    conv.tools = req
        .get("tools")
        .and_then(Value::as_array)
        .map(|tools| tools.iter().filter_map(tool_def).collect())
        .unwrap_or_default();
    conv.tool_choice = match req.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => ToolChoice::None,
        Some(Value::String(s)) if s == "required" => ToolChoice::Required,
        Some(v @ Value::Object(_)) => match v.pointer("/function/name").and_then(Value::as_str) {
            Some(name) => ToolChoice::Named(name.to_string()),
            None => ToolChoice::Auto,
        },
        _ => ToolChoice::Auto,
    };
    conv.max_tokens = req
        .get("max_completion_tokens")
        .and_then(Value::as_u64)
        .or_else(|| req.get("max_tokens").and_then(Value::as_u64));
    conv.schema = req.pointer("/response_format/json_schema/schema").cloned();
    conv.stop = match req.get("stop") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    conv
}

struct Content {
    text: String,
    words: u64,
    images: u64,
}

fn content_parts(content: &Value) -> Content {
    let mut out = Content {
        text: String::new(),
        words: 0,
        images: 0,
    };
    match content {
        Value::String(s) => {
            out.words = answer::word_count(s);
            out.text = s.clone();
        }
        Value::Array(parts) => {
            for part in parts {
                match part.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let t = part.get("text").and_then(Value::as_str).unwrap_or("");
                        out.words += answer::word_count(t);
                        out.text.push_str(t);
                    }
                    Some("image_url") => out.images += 1,
                    _ => {}
                }
            }
        }
        _ => {}
    }
    out
}

fn tool_def(tool: &Value) -> Option<ToolDef> {
    let function = tool.get("function")?;
    Some(ToolDef {
        name: function.get("name")?.as_str()?.to_string(),
        schema: function.get("parameters").cloned().unwrap_or(Value::Null),
    })
}

fn finish_reason(ans: &Answer) -> &'static str {
    match ans {
        Answer::ToolCall { .. } => "tool_calls",
        Answer::Text {
            finish: Finish::MaxTokens,
            ..
        } => "length",
        Answer::Text { .. } => "stop",
    }
}

fn usage_json(usage: Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        "completion_tokens_details": reasoning::chat_details(usage),
    })
}

fn call_id(ctx: Ctx<'_>) -> String {
    format!("call_mock_{}", ctx.n)
}

/// The non-streaming `chat.completion` object.
pub fn completion(ans: &Answer, model: &str, usage: Usage, ctx: Ctx<'_>) -> Value {
    let message = match ans {
        Answer::Text { text, .. } => json!({"role": "assistant", "content": text, "refusal": null}),
        Answer::ToolCall { name, .. } => json!({
            "role": "assistant",
            "content": null,
            "refusal": null,
            "tool_calls": [{
                "id": call_id(ctx),
                "type": "function",
                "function": {"name": name, "arguments": ans.args_json()},
            }],
        }),
    };
    json!({
        "id": format!("chatcmpl-mock-{}", ctx.n),
        "object": "chat.completion",
        "created": ctx.created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish_reason(ans)}],
        "usage": usage_json(usage),
        "system_fingerprint": "fp_mock",
    })
}

/// The SSE events of a streamed answer, `data: [DONE]` included.
pub fn stream_events(
    ans: &Answer,
    model: &str,
    usage: Usage,
    include_usage: bool,
    ctx: Ctx<'_>,
) -> Vec<String> {
    let chunk = |choices: Value| {
        let mut c = json!({
            "id": format!("chatcmpl-mock-{}", ctx.n),
            "object": "chat.completion.chunk",
            "created": ctx.created,
            "model": model,
            "system_fingerprint": "fp_mock",
            "choices": choices,
        });
        if include_usage {
            if let Some(obj) = c.as_object_mut() {
                obj.insert("usage".into(), Value::Null);
            }
        }
        c
    };
    let delta = |delta: Value, finish: Value| {
        chunk(json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]))
    };
    let mut events = Vec::new();
    match ans {
        Answer::Text { text, .. } => {
            events.push(sse::data(&delta(
                json!({"role": "assistant", "content": "", "refusal": null}),
                Value::Null,
            )));
            for piece in answer::word_pieces(text) {
                events.push(sse::data(&delta(json!({"content": piece}), Value::Null)));
            }
        }
        Answer::ToolCall { name, .. } => {
            events.push(sse::data(&delta(
                json!({
                    "role": "assistant",
                    "content": null,
                    "refusal": null,
                    "tool_calls": [{
                        "index": 0,
                        "id": call_id(ctx),
                        "type": "function",
                        "function": {"name": name, "arguments": ""},
                    }],
                }),
                Value::Null,
            )));
            let args = ans.args_json();
            for piece in answer::split_even(&args, 3) {
                events.push(sse::data(&delta(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
                    Value::Null,
                )));
            }
        }
    }
    events.push(sse::data(&delta(
        json!({}),
        Value::from(finish_reason(ans)),
    )));
    if include_usage {
        let mut last = chunk(json!([]));
        if let Some(obj) = last.as_object_mut() {
            obj.insert("usage".into(), usage_json(usage));
        }
        events.push(sse::data(&last));
    }
    events.push(sse::done());
    events
}

/// `(type, code)` of OpenAI's error object for a status.
fn error_kind(status: u16) -> (&'static str, Value) {
    match status {
        401 => ("invalid_request_error", Value::from("invalid_api_key")),
        403 => (
            "invalid_request_error",
            Value::from("unsupported_country_region_territory"),
        ),
        404 => ("invalid_request_error", Value::from("model_not_found")),
        429 => ("requests", Value::from("rate_limit_exceeded")),
        s if s >= 500 => ("server_error", Value::Null),
        _ => ("invalid_request_error", Value::Null),
    }
}

fn default_message(status: u16) -> &'static str {
    match status {
        401 => "Incorrect API key provided (mock).",
        404 => "The model does not exist (mock).",
        429 => "Rate limit reached (mock).",
        503 => "The server is overloaded or not ready yet (mock).",
        s if s >= 500 => "The server had an error while processing your request (mock).",
        _ => "Invalid request (mock).",
    }
}

fn error_object(status: u16, message: &str, param: Option<&str>) -> Value {
    let (kind, code) = error_kind(status);
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

pub fn error_with(status: u16, message: &str, param: Option<&str>) -> Reply {
    Reply::json(status, &error_object(status, message, param))
}

/// The error response OpenAI sends with `status`.
pub fn error(status: u16) -> Reply {
    error_with(status, default_message(status), None)
}

/// An error sent inside an already started stream.
pub fn error_event(status: u16) -> String {
    sse::data(&error_object(status, default_message(status), None))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::reply::Payload;

    const CTX: Ctx<'static> = Ctx {
        name: "alpha",
        n: 7,
        created: 1000,
    };

    fn body_json(reply: &Reply) -> Value {
        match &reply.payload {
            Payload::Whole(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    fn events_json(reply: &Reply) -> Vec<Value> {
        match &reply.payload {
            Payload::Events(ev) => ev
                .iter()
                .map(|e| {
                    let d = e.strip_prefix("data: ").unwrap_or("").trim_end();
                    serde_json::from_str(d).unwrap_or_else(|_| Value::from(d))
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn non_stream_text() {
        let body = json!({"model":"gpt-x","messages":[
            {"role":"system","content":"be brief"},
            {"role":"user","content":[{"type":"text","text":"hello "},{"type":"text","text":"world"},{"type":"image_url","image_url":{"url":"data:"}}]}
        ]});
        let reply = respond(body.to_string().as_bytes(), CTX);
        assert_eq!(reply.status, 200);
        let v = body_json(&reply);
        assert_eq!(v["id"], "chatcmpl-mock-7");
        assert_eq!(v["model"], "gpt-x");
        assert_eq!(v["created"], 1000);
        assert_eq!(
            v["choices"][0]["message"]["content"],
            "mock alpha says: hello world [images: 1]"
        );
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
        // prompt: 2 + 3 + (2 words + 85) + 3 = 95; completion: 7 words
        assert_eq!(
            v["usage"],
            json!({"prompt_tokens":95,"completion_tokens":7,"total_tokens":102,
                   "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,
                       "accepted_prediction_tokens":0,"rejected_prediction_tokens":0}})
        );
        assert_eq!(
            reply.usage,
            Some(Usage {
                prompt_tokens: 95,
                completion_tokens: 7,
                reasoning_tokens: 0,
            })
        );
    }

    #[test]
    fn non_stream_tool_call_and_result() {
        let tools = json!([{"type":"function","function":{"name":"get","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}]);
        let body = json!({"model":"m","tools":tools,"messages":[{"role":"user","content":"hi"}]});
        let v = body_json(&respond(body.to_string().as_bytes(), CTX));
        let msg = &v["choices"][0]["message"];
        assert_eq!(msg["content"], Value::Null);
        assert_eq!(msg["tool_calls"][0]["id"], "call_mock_7");
        assert_eq!(msg["tool_calls"][0]["function"]["name"], "get");
        assert_eq!(
            msg["tool_calls"][0]["function"]["arguments"],
            r#"{"q":"mock"}"#
        );
        assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(v["usage"]["completion_tokens"], 5 + 12 / 4);

        let body = json!({"model":"m","tools":tools,"messages":[
            {"role":"user","content":"hi"},
            {"role":"assistant","content":null,"tool_calls":[]},
            {"role":"tool","tool_call_id":"call_mock_7","content":"sunny"}]});
        let v = body_json(&respond(body.to_string().as_bytes(), CTX));
        assert_eq!(
            v["choices"][0]["message"]["content"],
            "mock alpha got tool result: sunny"
        );
    }

    #[test]
    fn stream_text_with_usage() {
        let body = json!({"model":"m","stream":true,"stream_options":{"include_usage":true},
            "messages":[{"role":"user","content":"a b"}]});
        let reply = respond(body.to_string().as_bytes(), CTX);
        assert_eq!(
            reply.headers[0],
            ("content-type".to_string(), "text/event-stream".to_string())
        );
        let ev = events_json(&reply);
        // role, 5 words, finish, usage, DONE
        assert_eq!(ev.len(), 9);
        assert_eq!(
            ev[0]["choices"][0]["delta"],
            json!({"role":"assistant","content":"","refusal":null})
        );
        assert_eq!(ev[0]["object"], "chat.completion.chunk");
        assert_eq!(ev[0]["usage"], Value::Null);
        assert!(ev[0].as_object().is_some_and(|o| o.contains_key("usage")));
        let text: String = ev[1..6]
            .iter()
            .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, "mock alpha says: a b");
        assert_eq!(ev[6]["choices"][0]["delta"], json!({}));
        assert_eq!(ev[6]["choices"][0]["finish_reason"], "stop");
        assert_eq!(ev[7]["choices"], json!([]));
        assert_eq!(
            ev[7]["usage"],
            json!({"prompt_tokens":5,"completion_tokens":5,"total_tokens":10,
                   "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,
                       "accepted_prediction_tokens":0,"rejected_prediction_tokens":0}})
        );
        assert_eq!(ev[8], Value::from("[DONE]"));
    }

    #[test]
    fn reasoning_effort_reports_reasoning_tokens_inside_the_completion() {
        let body = json!({"model":"o4-mini","reasoning_effort":"low",
            "messages":[{"role":"user","content":"a b"}]});
        let reply = respond(body.to_string().as_bytes(), CTX);
        let v = body_json(&reply);
        let thinking = crate::reasoning::REASONING_TOKENS;
        assert_eq!(v["usage"]["completion_tokens"], 5 + thinking);
        assert_eq!(
            v["usage"]["completion_tokens_details"]["reasoning_tokens"],
            thinking
        );
        assert_eq!(reply.usage.map(|u| u.reasoning_tokens), Some(thinking));
        let body = json!({"model":"o4-mini","reasoning_effort":"none",
            "messages":[{"role":"user","content":"a b"}]});
        let v = body_json(&respond(body.to_string().as_bytes(), CTX));
        assert_eq!(
            v["usage"]["completion_tokens_details"]["reasoning_tokens"],
            0
        );
    }

    #[test]
    fn stream_without_usage_has_no_usage_key() {
        let body = json!({"model":"m","stream":true,"messages":[{"role":"user","content":"a"}]});
        let ev = events_json(&respond(body.to_string().as_bytes(), CTX));
        assert!(ev[0].as_object().is_some_and(|o| !o.contains_key("usage")));
        assert_eq!(ev.len(), 1 + 4 + 1 + 1);
    }

    #[test]
    fn stream_tool_call() {
        let body = json!({"model":"m","stream":true,
            "tools":[{"type":"function","function":{"name":"a","parameters":{}}},
                     {"type":"function","function":{"name":"b","parameters":{"properties":{"n":{"type":"number"},"s":{"type":"string"}},"required":["n","s"]}}}],
            "tool_choice":{"type":"function","function":{"name":"b"}},
            "messages":[{"role":"user","content":"x"}]});
        let ev = events_json(&respond(body.to_string().as_bytes(), CTX));
        let first = &ev[0]["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(first["id"], "call_mock_7");
        assert_eq!(first["function"], json!({"name":"b","arguments":""}));
        let args: String = ev[1..ev.len() - 2]
            .iter()
            .filter_map(|e| {
                e["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str()
            })
            .collect();
        assert_eq!(args, r#"{"n":1,"s":"mock"}"#);
        assert_eq!(ev.len(), 1 + 3 + 1 + 1);
        assert_eq!(
            ev[ev.len() - 2]["choices"][0]["finish_reason"],
            "tool_calls"
        );
    }

    #[test]
    fn errors() {
        let reply = respond(b"{not json", CTX);
        assert_eq!(reply.status, 400);
        assert_eq!(body_json(&reply)["error"]["type"], "invalid_request_error");
        assert_eq!(reply.usage, None);
        let v = body_json(&error(429));
        assert_eq!(v["error"]["code"], "rate_limit_exceeded");
        assert_eq!(v["error"]["param"], Value::Null);
        assert_eq!(body_json(&error(503))["error"]["type"], "server_error");
        assert_eq!(respond(b"{\"model\":\"m\"}", CTX).status, 400);
    }
}
