//! Hostile use of last session's endpoints: one key reading, deleting or continuing
//! another key's stored response; token counts as unbounded, unlimited (or, in fleet
//! mode, unauthenticated) provider calls.

use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{json, Value};

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::FakeHost;
use crate::limits::auth::hash;

fn hex(key: &str) -> String {
    hash(key).iter().map(|x| format!("{x:02x}")).collect()
}

fn cfg() -> Rc<Config> {
    let doc = format!(
        r#"{{
      "providers": [{{"name":"oa","kind":"openai","cluster":"oa_c","api_key_env":"OA"}},
                    {{"name":"an","kind":"anthropic","cluster":"an_c","api_key_env":"AN"}}],
      "models": [{{"name":"gpt","targets":[{{"provider":"oa","model":"gpt-4o"}}]}},
                 {{"name":"claude","targets":[{{"provider":"an","model":"claude-up"}}]}}],
      "access": {{"keys": [
        {{"name":"alice","sha256":"{}","rpm":3}},
        {{"name":"bob","sha256":"{}"}},
        {{"name":"ops","sha256":"{}","admin":true}}]}}
    }}"#,
        hex("sk-alice"),
        hex("sk-bob"),
        hex("sk-ops")
    );
    let env = |k: &str| match k {
        "OA" => Some("sk-oa-provider".to_string()),
        "AN" => Some("sk-an".to_string()),
        _ => None,
    };
    Rc::new(parse(doc.as_bytes(), &env).unwrap())
}

type Shared = HashMap<String, (Vec<u8>, u32)>;

/// One request with `key`; shared data carried over from and back to `shared`.
fn request(
    cfg: &Rc<Config>,
    shared: &mut Shared,
    method: &str,
    path: &str,
    key: &str,
    body: Option<&Value>,
) -> (Exchange, FakeHost) {
    let auth = format!("Bearer {key}");
    let mut h = FakeHost::with_request(&[
        (":method", method),
        (":path", path),
        ("authorization", &auth),
    ]);
    h.shared = std::mem::take(shared);
    let mut x = Exchange::new(cfg.clone(), Default::default());
    match body {
        Some(b) => {
            h.request_body = serde_json::to_vec(b).unwrap();
            assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
            let n = h.request_body.len();
            x.on_request_body(&mut h, n, true);
        }
        None => {
            x.on_request_headers(&mut h, true);
        }
    }
    *shared = std::mem::take(&mut h.shared);
    (x, h)
}

fn get(cfg: &Rc<Config>, shared: &mut Shared, path: &str, key: &str) -> FakeHost {
    request(cfg, shared, "GET", path, key, None).1
}

fn post(cfg: &Rc<Config>, shared: &mut Shared, key: &str, body: &Value) -> (Exchange, FakeHost) {
    request(cfg, shared, "POST", "/v1/responses", key, Some(body))
}

/// The provider answers `body` (JSON or SSE); shared data as in `request`.
fn answer(x: &mut Exchange, h: &mut FakeHost, shared: &mut Shared, ctype: &str, body: &[u8]) {
    h.shared = std::mem::take(shared);
    h.response_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), ctype.into()),
    ];
    h.response_body = body.to_vec();
    x.on_response_headers(h, false);
    x.on_response_body(h, body.len(), true);
    x.on_log(h);
    *shared = std::mem::take(&mut h.shared);
}

const RESPONSE: &str = r#"{"id":"resp_alice1","object":"response","created_at":1,"model":"gpt-4o","status":"completed","output":[],"usage":{"input_tokens":3,"output_tokens":2,"total_tokens":5}}"#;

fn alice_creates(cfg: &Rc<Config>, shared: &mut Shared) {
    let body = json!({"model":"gpt","input":"remember this","store":true});
    let (mut x, mut h) = request(
        cfg,
        shared,
        "POST",
        "/v1/responses",
        "sk-alice",
        Some(&body),
    );
    assert!(h.local_response.is_none());
    answer(
        &mut x,
        &mut h,
        shared,
        "application/json",
        RESPONSE.as_bytes(),
    );
}

fn status(h: &FakeHost) -> Option<u16> {
    h.local_response.as_ref().map(|r| r.status)
}

#[test]
fn a_stored_response_is_its_creators_only() {
    let cfg = cfg();
    let mut shared = Shared::new();
    alice_creates(&cfg, &mut shared);
    for (method, path) in [
        ("GET", "/v1/responses/resp_alice1"),
        ("DELETE", "/v1/responses/resp_alice1"),
        ("GET", "/v1/responses/resp_alice1/input_items?limit=5"),
        ("POST", "/v1/responses/resp_alice1/cancel"),
    ] {
        // Another key: as if it did not exist, nothing forwarded.
        let (_, h) = request(&cfg, &mut shared, method, path, "sk-bob", None);
        assert_eq!(status(&h), Some(404), "{method} {path}");
        let v: Value = serde_json::from_slice(&h.local_response.as_ref().unwrap().body).unwrap();
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert!(h.header("x-llm-cluster").is_none());
        // Its creator and an admin key reach the provider (alice's rpm is not the point).
        for key in ["sk-alice", "sk-ops"] {
            shared.retain(|k, _| !k.starts_with("llm:rate:"));
            let (_, h) = request(&cfg, &mut shared, method, path, key, None);
            assert_eq!(status(&h), None, "{key} {method} {path}");
            assert_eq!(h.header("x-llm-cluster").as_deref(), Some("oa_c"));
            assert_eq!(
                h.header("authorization").as_deref(),
                Some("Bearer sk-oa-provider")
            );
        }
    }
    // An id nobody created through the gateway: nobody but an admin.
    let h = get(&cfg, &mut shared, "/v1/responses/resp_x", "sk-bob");
    assert_eq!(status(&h), Some(404));
}

#[test]
fn a_streamed_response_is_owned_as_soon_as_its_id_is_seen() {
    let cfg = cfg();
    let mut shared = Shared::new();
    let body = json!({"model":"gpt","input":"x","stream":true});
    let (mut x, mut h) = post(&cfg, &mut shared, "sk-bob", &body);
    let sse = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_bob7\",\"created_at\":1,\"model\":\"gpt-4o\"}}\n\n";
    answer(
        &mut x,
        &mut h,
        &mut shared,
        "text/event-stream",
        sse.as_bytes(),
    );
    let h = get(&cfg, &mut shared, "/v1/responses/resp_bob7", "sk-alice");
    assert_eq!(status(&h), Some(404));
    let h = get(&cfg, &mut shared, "/v1/responses/resp_bob7", "sk-bob");
    assert_eq!(status(&h), None);
}

#[test]
fn previous_response_id_of_another_key_is_not_found() {
    let cfg = cfg();
    let mut shared = Shared::new();
    alice_creates(&cfg, &mut shared);
    let body =
        json!({"model":"gpt","input":"what did I say?","previous_response_id":"resp_alice1"});
    let (_, h) = post(&cfg, &mut shared, "sk-bob", &body);
    assert_eq!(status(&h), Some(404));
    let v: Value = serde_json::from_slice(&h.local_response.as_ref().unwrap().body).unwrap();
    assert_eq!(v["error"]["param"], "previous_response_id");
    let (_, h) = post(&cfg, &mut shared, "sk-alice", &body);
    assert_eq!(status(&h), None);
    assert_eq!(h.header("x-llm-cluster").as_deref(), Some("oa_c"));
}

#[test]
fn stored_response_calls_count_against_the_keys_rpm() {
    let cfg = cfg();
    let mut shared = Shared::new();
    alice_creates(&cfg, &mut shared); // 1 of 3
    let mut get = || {
        request(
            &cfg,
            &mut shared,
            "GET",
            "/v1/responses/resp_alice1",
            "sk-alice",
            None,
        )
        .1
    };
    assert_eq!(status(&get()), None);
    assert_eq!(status(&get()), None);
    assert_eq!(status(&get()), Some(429));
}

fn count_body(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "count me"}]})
}

#[test]
fn token_counts_count_against_the_keys_rpm() {
    let cfg = cfg();
    // Upstream counting (Anthropic) and the gateway's estimate (OpenAI) alike.
    for model in ["claude", "gpt"] {
        let mut shared = Shared::new();
        let mut count = || {
            let body = count_body(model);
            request(
                &cfg,
                &mut shared,
                "POST",
                "/v1/messages/count_tokens",
                "sk-alice",
                Some(&body),
            )
            .1
        };
        for i in 0..3 {
            assert_ne!(status(&count()), Some(429), "{model} {i}");
        }
        let h = count();
        assert_eq!(status(&h), Some(429), "{model}");
        let v: Value = serde_json::from_slice(&h.local_response.as_ref().unwrap().body).unwrap();
        assert_eq!(v["type"], "error", "Anthropic-shaped: {v}");
        assert_eq!(v["error"]["type"], "rate_limit_error");
    }
}

fn fleet_cfg() -> Rc<Config> {
    let doc = r#"{
      "providers": [{"name":"oa","kind":"openai","cluster":"c"}],
      "models": [{"name":"m","targets":[{"provider":"oa","model":"gpt"}]}],
      "access": {"keys": [{"name":"k1","sha256":"SHA"}]},
      "fleet": {"cluster":"store","failure":"fail_open"}
    }"#
    .replace("SHA", &hex("sk-one"));
    Rc::new(parse(doc.as_bytes(), &|_| None).unwrap())
}

#[test]
fn fleet_a_token_count_with_an_unknown_key_waits_for_the_store() {
    let cfg = fleet_cfg();
    let mut shared = Shared::new();
    let (mut x, mut h) = request(
        &cfg,
        &mut shared,
        "POST",
        "/v1/messages/count_tokens",
        "sk-made-up",
        Some(&count_body("m")),
    );
    // Not answered before the store has seen the key.
    assert!(h.local_response.is_none());
    assert_eq!(h.calls.len(), 1, "one admission call");
    assert_eq!(h.calls[0].1, "/v1/admit");
    // The store does not know it: 401, and no count.
    let refused = crate::fleet::wire::AdmitAnswer {
        admitted: false,
        refused: Some(crate::fleet::wire::Refused {
            index: 0,
            reason: crate::fleet::wire::Reason::Unauthorized,
        }),
        rates: vec![],
        key: None,
    };
    let reply = crate::background::Answer::Reply {
        status: 200,
        headers: vec![],
        body: serde_json::to_vec(&refused).unwrap(),
    };
    x.on_call_answer(&mut h, 1, reply);
    let r = h.local_response.as_ref().unwrap();
    assert_eq!(r.status, 401);
    assert!(!String::from_utf8_lossy(&r.body).contains("input_tokens"));
}

#[test]
fn another_providers_fetched_token_echoed_in_an_error_is_redacted() {
    use crate::config::credential::{Credential, Token};
    let doc = br#"{
      "providers": [
        {"name":"vx","kind":"openai","cluster":"vx_c",
         "credential":{"source":"gcp_metadata","cluster":"metadata"}},
        {"name":"oa","kind":"openai","cluster":"oa_c","api_key_env":"OA"}],
      "models": [{"name":"gpt","targets":[{"provider":"oa","model":"gpt"}]}]
    }"#;
    let cfg = Rc::new(parse(doc, &|_| Some("sk-oa-configured".to_string())).unwrap());
    let token = "ya29.fetched-for-vx-0123456789";
    let Credential::Fetched(f) = &cfg.provider(0).unwrap().credential else {
        panic!("gcp_metadata is fetched by the filter");
    };
    *f.current.borrow_mut() = Some(Token::new(token.into(), u64::MAX));
    let body = json!({"model":"gpt","messages":[{"role":"user","content":"x"}]});
    let mut shared = Shared::new();
    let (mut x, mut h) = request(
        &cfg,
        &mut shared,
        "POST",
        "/v1/chat/completions",
        "k",
        Some(&body),
    );
    assert_eq!(h.header("x-llm-cluster").as_deref(), Some("oa_c"));
    let answer = format!(r#"{{"error":{{"message":"not {token}","type":"x"}}}}"#);
    h.response_headers = vec![
        (":status".into(), "401".into()),
        ("content-type".into(), "application/json".into()),
    ];
    h.response_body = answer.clone().into_bytes();
    x.on_response_headers(&mut h, false);
    x.on_response_body(&mut h, answer.len(), true);
    let relayed = String::from_utf8_lossy(&h.response_body);
    assert!(!relayed.contains(token), "{relayed}");
    assert!(relayed.contains("[REDACTED]"), "{relayed}");
}

#[test]
fn a_stored_response_call_is_an_openai_operation_and_its_failure_is_redacted() {
    let cfg = cfg();
    let mut shared = Shared::new();
    alice_creates(&cfg, &mut shared);
    for (method, path, want) in [
        ("PATCH", "/v1/responses/resp_alice1", 405),
        ("POST", "/v1/responses/resp_alice1", 405),
        ("DELETE", "/v1/responses/resp_alice1/input_items", 405),
        ("GET", "/v1/responses/resp_alice1/cancel", 405),
        ("GET", "/v1/responses/resp_alice1/input_items/x", 404),
        ("GET", "/v1/responses/resp_alice1/other", 404),
    ] {
        let (_, h) = request(&cfg, &mut shared, method, path, "sk-alice", None);
        assert_eq!(status(&h), Some(want), "{method} {path}");
    }
    // The provider's failed answer echoes its key: relayed redacted.
    let (mut x, mut h) = request(
        &cfg,
        &mut shared,
        "GET",
        "/v1/responses/resp_alice1",
        "sk-alice",
        None,
    );
    assert_eq!(status(&h), None);
    let answer = br#"{"error":{"message":"Incorrect API key provided: sk-oa-provider","type":"invalid_request_error"}}"#;
    h.response_headers = vec![
        (":status".into(), "401".into()),
        ("content-type".into(), "application/json".into()),
        ("content-length".into(), answer.len().to_string()),
    ];
    h.response_body = answer.to_vec();
    assert_eq!(x.on_response_headers(&mut h, false), Action::Pause);
    assert!(!h
        .response_headers
        .iter()
        .any(|(k, _)| k == "content-length"));
    assert_eq!(
        x.on_response_body(&mut h, answer.len(), true),
        Action::Continue
    );
    let relayed = String::from_utf8_lossy(&h.response_body);
    assert!(!relayed.contains("sk-oa-provider"), "{relayed}");
    assert!(relayed.contains("[REDACTED]"), "{relayed}");
    // A streamed retrieval (`?stream=true`) whose error event echoes it.
    let (mut x, mut h) = request(
        &cfg,
        &mut shared,
        "GET",
        "/v1/responses/resp_alice1?stream=true",
        "sk-alice",
        None,
    );
    let sse = b"event: error\ndata: {\"type\":\"error\",\"message\":\"key sk-oa-provider\"}\n\n";
    h.response_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), "text/event-stream".into()),
    ];
    h.response_body = sse.to_vec();
    assert_eq!(x.on_response_headers(&mut h, false), Action::Continue);
    x.on_response_body(&mut h, sse.len(), true);
    let relayed = String::from_utf8_lossy(&h.response_body);
    assert!(!relayed.contains("sk-oa-provider"), "{relayed}");
}
