//! The gateway flow for Azure, `/v1/embeddings`, `/v1/messages` and strict mode.

use std::rc::Rc;

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::FakeHost;
use crate::state::ledger;
use serde_json::Value;

fn cfg(strict: bool) -> Rc<Config> {
    let doc = format!(
        r#"{{
      "providers": [
        {{"name":"oa","kind":"openai","cluster":"oa_c","api_key_env":"OA"}},
        {{"name":"an","kind":"anthropic","cluster":"an_c","api_key_env":"AN"}},
        {{"name":"az","kind":"azure","cluster":"az_c","host":"r.openai.azure.com","api_key_env":"AZ"}}
      ],
      "models": [
        {{"name":"gpt","targets":[{{"provider":"oa","model":"gpt-4o"}}]}},
        {{"name":"claude","targets":[{{"provider":"an","model":"claude-x"}}]}},
        {{"name":"azgpt","targets":[{{"provider":"az","model":"dep1"}}]}},
        {{"name":"emb","targets":[{{"provider":"az","model":"emb-dep"}}]}}
      ],
      "strict": {strict}
    }}"#
    );
    let env = |k: &str| Some(format!("sk-{}", k.to_lowercase()));
    Rc::new(parse(doc.as_bytes(), &env).unwrap())
}

fn post(path: &str, body: &str) -> FakeHost {
    let mut h = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", path),
        ("x-api-key", "client-key"),
    ]);
    h.request_body = body.as_bytes().to_vec();
    h
}

fn send(h: &mut FakeHost, cfg: &Rc<Config>) -> (Exchange, Action) {
    let mut x = Exchange::new(cfg.clone(), Default::default());
    assert_eq!(x.on_request_headers(h, false), Action::Pause);
    let n = h.request_body.len();
    let a = x.on_request_body(h, n, true);
    (x, a)
}

fn local_json(h: &FakeHost) -> (u16, Value) {
    let r = h.local_response.as_ref().unwrap();
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

fn respond(x: &mut Exchange, h: &mut FakeHost, status: &str, body: &[u8]) {
    h.response_headers = vec![
        (":status".into(), status.into()),
        ("content-type".into(), "application/json".into()),
    ];
    h.response_body = body.to_vec();
    assert_eq!(x.on_response_headers(h, false), Action::Pause);
    assert_eq!(x.on_response_body(h, body.len(), true), Action::Continue);
}

#[test]
fn azure_chat_goes_to_the_deployment_path_with_api_key() {
    let cfg = cfg(false);
    let mut h = post(
        "/v1/chat/completions",
        r#"{"model":"azgpt","messages":[{"role":"user","content":"hi"}]}"#,
    );
    let (_, a) = send(&mut h, &cfg);
    assert_eq!(a, Action::Continue);
    assert_eq!(
        h.header(":path").as_deref(),
        Some("/openai/deployments/dep1/chat/completions?api-version=2024-10-21")
    );
    assert_eq!(h.header("api-key").as_deref(), Some("sk-az"));
    assert_eq!(
        h.header(":authority").as_deref(),
        Some("r.openai.azure.com")
    );
    assert_eq!(h.header("x-api-key"), None);
}

#[test]
fn embeddings_are_routed_and_accounted() {
    let cfg = cfg(false);
    let mut h = post("/v1/embeddings", r#"{"model":"emb","input":["a b","c"]}"#);
    let (mut x, a) = send(&mut h, &cfg);
    assert_eq!(a, Action::Continue);
    assert_eq!(
        h.header(":path").as_deref(),
        Some("/openai/deployments/emb-dep/embeddings?api-version=2024-10-21")
    );
    let answer = br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":3,"total_tokens":3}}"#;
    respond(&mut x, &mut h, "200", answer);
    assert_eq!(h.response_body, answer);
    x.on_log(&mut h);
    let key = crate::state::keys::usage("emb", "az", "emb-dep");
    assert_eq!(ledger::read(&h, &key), Some([1, 3, 0, 0, 0]));
}

#[test]
fn embeddings_errors() {
    let cfg = cfg(false);
    for (body, status) in [
        (r#"{"model":"emb","input":[]}"#, 400),
        (r#"{"model":"emb"}"#, 400),
        (r#"{"model":"emb","input":{"a":1}}"#, 400),
        (r#"{"model":"claude","input":"x"}"#, 400),
        (r#"{"model":"nope","input":"x"}"#, 404),
    ] {
        let mut h = post("/v1/embeddings", body);
        let (_, a) = send(&mut h, &cfg);
        assert_eq!(a, Action::Pause, "{body}");
        let (s, v) = local_json(&h);
        assert_eq!(s, status, "{body}");
        assert!(v["error"]["message"].is_string(), "{body}");
    }
}

#[test]
fn strict_mode_refuses_what_anthropic_cannot_honour() {
    let body = r#"{"model":"claude","messages":[{"role":"user","content":"hi"}],"seed":1,"logprobs":true}"#;
    let mut h = post("/v1/chat/completions", body);
    let (_, a) = send(&mut h, &cfg(true));
    assert_eq!(a, Action::Pause);
    let (s, v) = local_json(&h);
    assert_eq!(s, 400);
    assert_eq!(v["error"]["param"], "seed");
    assert_eq!(v["error"]["code"], "unsupported_parameter");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("seed, logprobs"));
    // Without strict mode the fields are dropped and the request goes on.
    let mut h = post("/v1/chat/completions", body);
    let (_, a) = send(&mut h, &cfg(false));
    assert_eq!(a, Action::Continue);
    let sent: Value = serde_json::from_slice(&h.request_body).unwrap();
    assert!(sent.get("seed").is_none());
}

#[test]
fn temperature_above_the_provider_range_is_clamped_or_refused_in_strict_mode() {
    let body =
        r#"{"model":"claude","messages":[{"role":"user","content":"hi"}],"temperature":1.5}"#;
    let mut h = post("/v1/chat/completions", body);
    let (_, a) = send(&mut h, &cfg(true));
    assert_eq!(a, Action::Pause);
    let (s, v) = local_json(&h);
    assert_eq!(s, 400);
    assert_eq!(v["error"]["param"], "temperature");
    assert_eq!(v["error"]["code"], "unsupported_parameter");
    let mut h = post("/v1/chat/completions", body);
    let (_, a) = send(&mut h, &cfg(false));
    assert_eq!(a, Action::Continue);
    let sent: Value = serde_json::from_slice(&h.request_body).unwrap();
    assert_eq!(sent["temperature"], 1.0);
    // OpenAI's own range is [0, 2]: nothing to clamp there, even in strict mode.
    let mut h = post(
        "/v1/chat/completions",
        &body.replace("\"claude\"", "\"gpt\""),
    );
    let (_, a) = send(&mut h, &cfg(true));
    assert_eq!(a, Action::Continue);
    let sent: Value = serde_json::from_slice(&h.request_body).unwrap();
    assert_eq!(sent["temperature"], 1.5);
}

#[test]
fn messages_errors_are_anthropic_shaped() {
    let cfg = cfg(false);
    let mut h = post(
        "/v1/messages",
        r#"{"model":"nope","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
    );
    send(&mut h, &cfg);
    let (s, v) = local_json(&h);
    assert_eq!(s, 404);
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "not_found_error");

    let mut h = post("/v1/messages/batches", "{}");
    let mut x = Exchange::new(cfg.clone(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let (s, v) = local_json(&h);
    assert_eq!(s, 404);
    assert_eq!(v["error"]["type"], "not_found_error");

    let mut h = post("/v1/messages", "{bad");
    send(&mut h, &cfg);
    let (s, v) = local_json(&h);
    assert_eq!(s, 400);
    assert_eq!(v["error"]["type"], "invalid_request_error");
}

#[test]
fn messages_served_by_openai_and_answer_translated() {
    let cfg = cfg(false);
    let mut h = post(
        "/v1/messages",
        r#"{"model":"gpt","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
    );
    let (mut x, a) = send(&mut h, &cfg);
    assert_eq!(a, Action::Continue);
    assert_eq!(h.header(":path").as_deref(), Some("/v1/chat/completions"));
    assert_eq!(h.header("authorization").as_deref(), Some("Bearer sk-oa"));
    let sent: Value = serde_json::from_slice(&h.request_body).unwrap();
    assert_eq!(sent["model"], "gpt-4o");
    assert_eq!(sent["max_completion_tokens"], 5);
    let answer = br#"{"id":"c1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"yo"},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}}"#;
    respond(&mut x, &mut h, "200", answer);
    let out: Value = serde_json::from_slice(&h.response_body).unwrap();
    assert_eq!(out["type"], "message");
    assert_eq!(out["content"][0]["text"], "yo");
    assert_eq!(out["usage"]["input_tokens"], 4);
    // Upstream errors come back in Anthropic's shape too.
    let mut h = post(
        "/v1/messages",
        r#"{"model":"gpt","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
    );
    let (mut x, _) = send(&mut h, &cfg);
    respond(
        &mut x,
        &mut h,
        "429",
        br#"{"error":{"message":"slow down","type":"requests"}}"#,
    );
    let out: Value = serde_json::from_slice(&h.response_body).unwrap();
    assert_eq!(out["error"]["type"], "rate_limit_error");
    assert_eq!(out["error"]["message"], "slow down");
}
