//! `POST /v1/messages/count_tokens` through the whole flow: counted by an Anthropic
//! provider, estimated by the gateway for the others, the key's allow-list applied.

use std::rc::Rc;

use serde_json::{json, Value};

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::FakeHost;
use crate::limits::auth::hash;

fn cfg() -> Rc<Config> {
    let sha: String = hash("sk-k").iter().map(|x| format!("{x:02x}")).collect();
    let doc = r#"{
      "providers": [{"name":"an","kind":"anthropic","cluster":"an_c","api_key_env":"AN"},
                    {"name":"oa","kind":"openai","cluster":"oa_c","api_key_env":"OA"}],
      "models": [{"name":"claude","targets":[{"provider":"an","model":"claude-up"}]},
                 {"name":"gpt","targets":[{"provider":"oa","model":"gpt-4o"}]},
                 {"name":"hidden","targets":[{"provider":"oa","model":"gpt-4o"}]}],
      "access": {"keys": [{"name":"k","sha256":"HASH","models":["claude","gpt"]}]}
    }"#
    .replace("HASH", &sha);
    let env = |k: &str| match k {
        "AN" => Some("sk-an".to_string()),
        "OA" => Some("sk-oa".to_string()),
        _ => None,
    };
    Rc::new(parse(doc.as_bytes(), &env).unwrap())
}

fn body(model: &str) -> Value {
    json!({
        "model": model,
        "system": "be brief",
        "messages": [{"role": "user", "content": "how many tokens is this?"}],
        "tools": [{"name": "w", "input_schema": {"type": "object"}}]
    })
}

fn send(body: &Value, extra: &[(&str, &str)]) -> (Exchange, FakeHost, Action) {
    let mut headers = vec![
        (":method", "POST"),
        (":path", "/v1/messages/count_tokens?beta=true"),
        ("x-api-key", "sk-k"),
    ];
    headers.extend_from_slice(extra);
    let mut h = FakeHost::with_request(&headers);
    h.request_body = serde_json::to_vec(body).unwrap();
    let mut x = Exchange::new(cfg(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let n = h.request_body.len();
    let a = x.on_request_body(&mut h, n, true);
    (x, h, a)
}

#[test]
fn an_anthropic_provider_counts_and_its_answer_passes_through() {
    let (mut x, mut h, a) = send(&body("claude"), &[("anthropic-beta", "token-counting-x")]);
    assert_eq!(a, Action::Continue);
    assert!(h.local_response.is_none());
    assert_eq!(
        h.header(":path").as_deref(),
        Some("/v1/messages/count_tokens")
    );
    assert_eq!(h.header("x-api-key").as_deref(), Some("sk-an"));
    assert_eq!(
        h.header("anthropic-beta").as_deref(),
        Some("token-counting-x")
    );
    let sent: Value = serde_json::from_slice(&h.request_body).unwrap();
    assert_eq!(sent["model"], "claude-up");
    assert_eq!(sent["tools"], body("claude")["tools"]);

    let answer = br#"{"input_tokens":42}"#;
    h.response_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), "application/json".into()),
    ];
    h.response_body = answer.to_vec();
    assert_eq!(x.on_response_headers(&mut h, false), Action::Pause);
    assert_eq!(
        x.on_response_body(&mut h, answer.len(), true),
        Action::Continue
    );
    assert_eq!(h.response_body, answer);
}

#[test]
fn a_malformed_count_is_a_bad_gateway_in_anthropic_shape() {
    let (mut x, mut h, _) = send(&body("claude"), &[]);
    let answer = br#"{"tokens":"many"}"#;
    h.response_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), "application/json".into()),
    ];
    h.response_body = answer.to_vec();
    x.on_response_headers(&mut h, false);
    x.on_response_body(&mut h, answer.len(), true);
    let v: Value = serde_json::from_slice(&h.response_body).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "api_error");
}

#[test]
fn other_providers_get_an_estimate_named_as_such() {
    let (_, h, a) = send(&body("gpt"), &[]);
    assert_eq!(a, Action::Pause);
    let r = h.local_response.as_ref().unwrap();
    assert_eq!(r.status, 200);
    let header = |n: &str| {
        r.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("x-llm-gateway-token-count"), Some("estimated"));
    assert_eq!(header("x-llm-provider"), Some("oa"));
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    let n = v["input_tokens"].as_u64().unwrap();
    // Three messages' worth of framing plus the words and the tool: more than a few.
    assert!(n > 10 && n < 100, "{n}");
    // A longer prompt counts more.
    let mut longer = body("gpt");
    longer["messages"][0]["content"] = json!("how many tokens is this? ".repeat(20));
    let (_, h2, _) = send(&longer, &[]);
    let v2: Value = serde_json::from_slice(&h2.local_response.as_ref().unwrap().body).unwrap();
    assert!(v2["input_tokens"].as_u64().unwrap() > n + 50);
}

#[test]
fn keys_and_their_allow_list_apply() {
    let (_, h, _) = send(&body("hidden"), &[]);
    let r = h.local_response.as_ref().unwrap();
    assert_eq!(r.status, 403);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "permission_error");

    let mut h = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", "/v1/messages/count_tokens"),
        ("x-api-key", "sk-wrong"),
    ]);
    let mut x = Exchange::new(cfg(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    assert_eq!(h.local_response.as_ref().unwrap().status, 401);
}

#[test]
fn max_tokens_is_not_needed_but_messages_are() {
    let (_, h, _) = send(&json!({"model": "gpt", "messages": []}), &[]);
    let r = h.local_response.as_ref().unwrap();
    assert_eq!(r.status, 400);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error");
}
