#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::disallowed_types
)]

use serde_json::{json, Value};

use super::*;
use crate::config::{self, Config};

fn cfg() -> Config {
    config::parse(
        br#"{"providers":[
            {"name":"oa","kind":"openai","cluster":"c","api_key_env":"K"},
            {"name":"an","kind":"anthropic","cluster":"c","api_key_env":"K"},
            {"name":"groq","kind":"openai","preset":"groq","cluster":"c","api_key_env":"K"},
            {"name":"az","kind":"azure","cluster":"c","host":"x.openai.azure.com","api_key_env":"K"}],
            "allow_provider_model":true}"#,
        &|k| (k == "K").then(|| "test-key".to_string()),
    )
    .unwrap()
}

fn parse(v: &Value) -> (ResponsesRequest, Shape, Vec<u8>) {
    let raw = serde_json::to_vec(v).unwrap();
    let req: ResponsesRequest = serde_json::from_slice(&raw).unwrap();
    validate(&req).unwrap();
    let shape = Shape::of(&req, std::str::from_utf8(&raw).unwrap());
    (req, shape, raw)
}

fn body(up: &UpstreamRequest, raw: &[u8]) -> Value {
    serde_json::from_slice(up.body.as_deref().unwrap_or(raw)).unwrap()
}

#[test]
fn native_providers_get_the_body_with_the_model_rewritten() {
    let cfg = cfg();
    let v = json!({"model":"alias","input":"hi","previous_response_id":"resp_1","store":true});
    let (req, shape, raw) = parse(&v);
    let (up, unhonoured) = request(&cfg.providers[0], "gpt-4o", &req, &shape, &raw, 0).unwrap();
    assert_eq!(up.path, "/v1/responses");
    assert!(unhonoured.is_empty());
    let mut want = v.clone();
    want["model"] = json!("gpt-4o");
    assert_eq!(body(&up, &raw), want);
    let (up, _) = request(&cfg.providers[3], "dep", &req, &shape, &raw, 0).unwrap();
    assert_eq!(up.path, "/openai/v1/responses");
    assert_eq!(up.headers[0].0, "api-key");
}

#[test]
fn state_is_refused_where_the_provider_keeps_none() {
    let cfg = cfg();
    for (field, v) in [
        (
            "previous_response_id",
            json!({"model":"m","input":"x","previous_response_id":"r"}),
        ),
        ("store", json!({"model":"m","input":"x","store":true})),
        (
            "conversation",
            json!({"model":"m","input":"x","conversation":"c"}),
        ),
    ] {
        let (req, shape, raw) = parse(&v);
        let e = request(&cfg.providers[1], "claude", &req, &shape, &raw, 0).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.param.as_deref(), Some(field));
        assert!(
            e.message.contains("keeps no response state"),
            "{}",
            e.message
        );
    }
    // store: false asks for nothing.
    let (req, shape, raw) = parse(&json!({"model":"m","input":"x","store":false}));
    assert!(request(&cfg.providers[1], "claude", &req, &shape, &raw, 0).is_ok());
}

#[test]
fn items_tools_and_options_become_a_chat_request() {
    let cfg = cfg();
    let v = json!({
        "model": "m", "instructions": "Be brief.", "stream": true,
        "input": [
            {"role": "developer", "content": "dev note"},
            {"role": "user", "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image", "image_url": "https://x/y.png", "detail": "low"}]},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "calling"}]},
            {"type": "function_call", "call_id": "c1", "name": "lookup", "namespace": "crm", "arguments": "{\"q\":1}"},
            {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** patch"},
            {"type": "function_call_output", "call_id": "c1", "output": "found"},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "ok"}]},
            {"type": "web_search_call", "id": "ws_1", "status": "completed"}
        ],
        "tools": [
            {"type": "namespace", "name": "crm", "description": "CRM", "tools": [
                {"type": "function", "name": "lookup", "parameters": {"type": "object"}}]},
            {"type": "custom", "name": "apply_patch", "description": "patch files"},
            {"type": "web_search"}
        ],
        "tool_choice": "auto", "parallel_tool_calls": false,
        "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": true}},
        "reasoning": {"effort": "low", "summary": "auto"},
        "max_output_tokens": 99, "temperature": 0.5, "top_p": 0.9,
        "safety_identifier": "u1", "prompt_cache_key": "conv-1",
        "metadata": {"a": "b"}, "include": ["reasoning.encrypted_content"], "store": false
    });
    let (req, shape, raw) = parse(&v);
    let (up, unhonoured) = request(&cfg.providers[2], "llama", &req, &shape, &raw, 0).unwrap();
    assert_eq!(up.path, "/openai/v1/chat/completions");
    assert_eq!(unhonoured, vec!["web_search"]);
    let want = json!({
        "model": "llama",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "dev note"},
            {"role": "user", "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}]},
            {"role": "assistant", "content": "calling", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "crm__lookup", "arguments": "{\"q\":1}"}},
                {"id": "c2", "type": "function", "function": {"name": "apply_patch", "arguments": "{\"input\":\"*** patch\"}"}}]},
            {"role": "tool", "content": "found", "tool_call_id": "c1"},
            {"role": "tool", "content": "ok", "tool_call_id": "c2"}
        ],
        "stream": true, "stream_options": {"include_usage": true},
        "max_completion_tokens": 99, "temperature": 0.5, "top_p": 0.9,
        "tools": [
            {"type": "function", "function": {"name": "crm__lookup", "parameters": {"type": "object"}}},
            {"type": "function", "function": {"name": "apply_patch", "description": "patch files",
             "parameters": {"type":"object","properties":{"input":{"type":"string","description":"The tool's free-form input"}},"required":["input"],"additionalProperties":false}}}
        ],
        "tool_choice": "auto", "parallel_tool_calls": false, "user": "u1",
        "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": true}},
        "reasoning_effort": "low"
    });
    assert_eq!(body(&up, &raw), want);
}

#[test]
fn bad_items_are_refused_naming_them() {
    let cfg = cfg();
    for (param, v) in [
        (
            "input[0]",
            json!({"model":"m","input":[{"type":"item_reference","id":"x"}]}),
        ),
        (
            "input[0].type",
            json!({"model":"m","input":[{"type":"frobnicate"}]}),
        ),
        (
            "input[0].role",
            json!({"model":"m","input":[{"role":"tool","content":"x"}]}),
        ),
        (
            "input[0].call_id",
            json!({"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]}),
        ),
        (
            "tools[0].type",
            json!({"model":"m","input":"x","tools":[{"type":"teleport"}]}),
        ),
    ] {
        let (req, shape, raw) = parse(&v);
        let e = request(&cfg.providers[1], "claude", &req, &shape, &raw, 0).unwrap_err();
        assert_eq!(e.param.as_deref(), Some(param), "{}", e.message);
    }
    let no_input: ResponsesRequest = serde_json::from_str(r#"{"model":"m"}"#).unwrap();
    assert_eq!(
        validate(&no_input).unwrap_err().param.as_deref(),
        Some("input")
    );
}

fn chat_answer(content: Value, calls: Value, finish: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "chatcmpl-abc", "object": "chat.completion", "created": 1, "model": "up-model",
        "choices": [{"index": 0, "finish_reason": finish, "message": {
            "role": "assistant", "content": content, "reasoning_content": "thought",
            "tool_calls": calls}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14,
                  "prompt_tokens_details": {"cached_tokens": 3}}
    }))
    .unwrap()
}

#[test]
fn chat_answers_become_response_objects() {
    let (req, shape, _) = parse(&json!({"model":"m","input":"x","tools":[
        {"type":"namespace","name":"crm","description":"d","tools":[{"type":"function","name":"lookup"}]},
        {"type":"custom","name":"apply_patch"}]}));
    drop(req);
    let calls = json!([
        {"id":"c1","type":"function","function":{"name":"crm__lookup","arguments":"{}"}},
        {"id":"c2","type":"function","function":{"name":"apply_patch","arguments":"{\"input\":\"P\"}"}}]);
    let body = chat_answer(json!("hello"), calls, "tool_calls");
    let out = from_chat::response(
        &body,
        crate::usage::TokenUsage::default(),
        7,
        shape.names(),
        shape.echo(),
    )
    .unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["id"], "resp_abc");
    assert_eq!(v["object"], "response");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["created_at"], 7);
    assert_eq!(v["model"], "up-model");
    assert_eq!(
        v["output"],
        json!([
            {"type":"reasoning","id":"rs_abc","summary":[{"type":"summary_text","text":"thought"}]},
            {"type":"message","id":"msg_abc","status":"completed","role":"assistant",
             "content":[{"type":"output_text","text":"hello","annotations":[],"logprobs":[]}]},
            {"type":"function_call","id":"fc_c1","status":"completed","call_id":"c1","name":"lookup","namespace":"crm","arguments":"{}"},
            {"type":"custom_tool_call","id":"ctc_c2","status":"completed","call_id":"c2","name":"apply_patch","input":"P"}
        ])
    );
    assert_eq!(
        v["usage"],
        json!({"input_tokens":10,"input_tokens_details":{"cached_tokens":3},"output_tokens":4,
               "output_tokens_details":{"reasoning_tokens":0},"total_tokens":14})
    );
    let cut = chat_answer(json!("hel"), Value::Null, "length");
    let v: Value = serde_json::from_slice(
        &from_chat::response(
            &cut,
            crate::usage::TokenUsage::default(),
            7,
            shape.names(),
            shape.echo(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(v["status"], "incomplete");
    assert_eq!(v["incomplete_details"]["reason"], "max_output_tokens");
}

/// SSE text → (event type, data) pairs, checking every event's sequence number.
pub fn events(sse: &[u8]) -> Vec<(String, Value)> {
    let text = std::str::from_utf8(sse).unwrap();
    let mut out = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        let mut lines = block.lines();
        let kind = lines
            .next()
            .unwrap()
            .strip_prefix("event: ")
            .unwrap()
            .to_string();
        let data: Value =
            serde_json::from_str(lines.next().unwrap().strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(data["type"], kind.as_str());
        assert_eq!(data["sequence_number"], out.len(), "{block}");
        out.push((kind, data));
    }
    out
}

#[test]
fn passthrough_streams_relay_and_read_usage() {
    let cfg = cfg();
    let meta = ResponseMeta {
        model: "gpt-4o",
        header: &|_| None,
    };
    let upstream = b"event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"usage\":null}}\n\nevent: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"delta\":\"hello\"}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":2,\"input_tokens_details\":{\"cached_tokens\":1}}}}\n\n";
    let mut m = stream(&cfg.providers[0], 0, &meta, &Shape::default());
    let mut out = Vec::new();
    m.push(upstream, &mut out);
    m.finish(&mut out);
    assert_eq!(out, upstream.to_vec());
    assert!(!m.failed());
    assert_eq!(m.usage().prompt, Some(5));
    assert_eq!(m.usage().completion, Some(2));
    assert_eq!(m.usage().cached_prompt, Some(1));
    assert_eq!(m.relayed_chars(), 5);
    // Cut before its terminal event: ends in response.failed, numbered after the last.
    let cut = upstream.get(..upstream.len() - 190).unwrap();
    let mut m = stream(&cfg.providers[0], 0, &meta, &Shape::default());
    let mut out = Vec::new();
    m.push(cut, &mut out);
    m.finish(&mut out);
    assert!(m.failed());
    let evs = events(&out);
    let last = evs.last().unwrap();
    assert_eq!(last.0, "response.failed");
    assert_eq!(last.1["response"]["status"], "failed");
}

#[test]
fn passthrough_answers_report_responses_usage() {
    let cfg = cfg();
    let meta = ResponseMeta {
        model: "gpt-4o",
        header: &|_| None,
    };
    let body = br#"{"id":"resp_1","object":"response","output":[],"usage":{"input_tokens":9,"output_tokens":3,"input_tokens_details":{"cached_tokens":2},"output_tokens_details":{"reasoning_tokens":1},"total_tokens":12}}"#;
    let out = response(&cfg.providers[0], 200, body, 0, &meta, &Shape::default()).unwrap();
    assert!(out.body.is_none());
    assert_eq!(out.usage.prompt, Some(9));
    assert_eq!(out.usage.completion, Some(3));
    assert_eq!(out.usage.cached_prompt, Some(2));
    let e = response(
        &cfg.providers[0],
        200,
        b"not json",
        0,
        &meta,
        &Shape::default(),
    );
    assert_eq!(e.unwrap_err().status, 502);
}

/// The `response` object written for a chat answer to a request of `shape`.
fn written(chat: &[u8], shape: &Shape) -> Vec<u8> {
    let usage = crate::usage::TokenUsage::default();
    from_chat::response(chat, usage, 7, shape.names(), shape.echo()).unwrap()
}

#[test]
fn written_response_objects_echo_the_request_as_sent() {
    let tools = json!([{"type":"function","name":"get","parameters":{"type":"object"},"strict":true},
                       {"type":"web_search"}]);
    let sent = json!({"model":"m","input":"x","instructions":"Be brief.","max_output_tokens":77,
        "temperature":0.25,"top_p":0.5,"tools":tools,"tool_choice":"required",
        "parallel_tool_calls":false,"metadata":{"k":"v"},"user":"u-1","store":false,
        "text":{"format":{"type":"json_object"}},"reasoning":{"effort":"low"},
        "truncation":"auto","prompt_cache_key":"conv-9","safety_identifier":"s-1"});
    let (_, shape, _) = parse(&sent);
    let body = chat_answer(json!("hello"), Value::Null, "stop");
    let out = written(&body, &shape);
    let v: Value = serde_json::from_slice(&out).unwrap();
    for field in [
        "instructions",
        "max_output_tokens",
        "temperature",
        "top_p",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "metadata",
        "user",
        "text",
        "reasoning",
        "truncation",
        "prompt_cache_key",
        "safety_identifier",
    ] {
        assert_eq!(v[field], sent[field], "{field}");
    }
    assert_eq!(v["store"], false);
    assert_eq!(v["previous_response_id"], Value::Null);
    // Exactly as sent: the client's number text, not a re-written one.
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(r#""temperature":0.25"#), "{text}");

    // Streams: the response object of every lifecycle event echoes the same.
    let cfg = cfg();
    let an = &cfg.providers[1];
    let meta = crate::translate::ResponseMeta {
        model: "m",
        header: &|_| None,
    };
    let mut m = stream(an, 7, &meta, &shape);
    let mut out = Vec::new();
    m.push(
        concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"c\",\"usage\":{\"input_tokens\":3}}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
        )
        .as_bytes(),
        &mut out,
    );
    m.finish(&mut out);
    let text = String::from_utf8(out).unwrap();
    let objects: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|e| e.get("response").cloned())
        .collect();
    assert!(objects.len() >= 3, "{text}");
    for o in objects {
        assert_eq!(o["instructions"], "Be brief.");
        assert_eq!(o["tools"], tools);
        assert_eq!(o["metadata"], json!({"k":"v"}));
    }

    // Nothing sent: OpenAI's defaults.
    let (_, plain, _) = parse(&json!({"model":"m","input":"x"}));
    let v: Value = serde_json::from_slice(&written(&body, &plain)).unwrap();
    assert_eq!(v["tools"], json!([]));
    assert_eq!(v["tool_choice"], "auto");
    assert_eq!(v["metadata"], json!({}));
    assert_eq!(v["instructions"], Value::Null);
    assert_eq!(v["temperature"], 1.0);
    assert_eq!(v["parallel_tool_calls"], true);
}
