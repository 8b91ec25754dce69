//! `POST /v1/messages/count_tokens` counted by providers other than Anthropic: Claude on
//! Vertex AI (`count-tokens:rawPredict`), Gemini and Vertex Gemini (`:countTokens`),
//! Bedrock's Claude models (`count-tokens`, signed); their counts come back in
//! Anthropic's shape, their errors in Anthropic's error shape. Bedrock's other models
//! are estimated.

use std::rc::Rc;

use serde_json::{json, Value};

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::FakeHost;

fn cfg() -> Rc<Config> {
    let doc = r#"{
      "providers": [
        {"name":"va","kind":"vertex_anthropic","cluster":"va_c","project":"p","location":"us-east5","api_key_env":"VX"},
        {"name":"vg","kind":"vertex","cluster":"vg_c","project":"p","location":"us-central1","api_key_env":"VX"},
        {"name":"gm","kind":"gemini","cluster":"gm_c","api_key_env":"GM"},
        {"name":"br","kind":"bedrock","cluster":"br_c","region":"us-east-1",
         "access_key_id_env":"AK","secret_access_key_env":"SK"}],
      "models": [{"name":"vclaude","targets":[{"provider":"va","model":"claude-sonnet-4-5@20250929"}]},
                 {"name":"vgem","targets":[{"provider":"vg","model":"gemini-2.5-pro"}]},
                 {"name":"gem","targets":[{"provider":"gm","model":"gemini-2.5-flash"}]},
                 {"name":"bclaude","targets":[{"provider":"br","model":"us.anthropic.claude-sonnet-4-5-20250929-v1:0"}]},
                 {"name":"btitan","targets":[{"provider":"br","model":"amazon.nova-pro-v1:0"}]}]
    }"#;
    let env = |k: &str| match k {
        "VX" => Some("ya29.vertex-token".to_string()),
        "GM" => Some("gm-key".to_string()),
        "AK" => Some("AKIDEXAMPLE".to_string()),
        "SK" => Some("secret".to_string()),
        _ => None,
    };
    Rc::new(parse(doc.as_bytes(), &env).unwrap())
}

fn body(model: &str) -> Value {
    json!({
        "model": model,
        "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "how many tokens is this?"}],
        "tools": [{"name": "w", "input_schema": {"type": "object"}}]
    })
}

fn send(model: &str) -> (Exchange, FakeHost, Action) {
    let headers = [
        (":method", "POST"),
        (":path", "/v1/messages/count_tokens"),
        ("anthropic-beta", "token-counting-2024-11-01"),
    ];
    let mut h = FakeHost::with_request(&headers);
    h.request_body = serde_json::to_vec(&body(model)).unwrap();
    let mut x = Exchange::new(cfg(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let n = h.request_body.len();
    let a = x.on_request_body(&mut h, n, true);
    (x, h, a)
}

fn answer(x: &mut Exchange, h: &mut FakeHost, status: u16, body: &[u8]) -> Value {
    h.response_headers = vec![
        (":status".into(), status.to_string()),
        ("content-type".into(), "application/json".into()),
    ];
    h.response_body = body.to_vec();
    x.on_response_headers(h, false);
    x.on_response_body(h, body.len(), true);
    serde_json::from_slice(&h.response_body).unwrap()
}

fn sent(h: &FakeHost) -> Value {
    serde_json::from_slice(&h.request_body).unwrap()
}

#[test]
fn vertex_claude_counts_the_messages_body_as_sent() {
    let (mut x, mut h, a) = send("vclaude");
    assert_eq!(a, Action::Continue);
    assert!(h.local_response.is_none());
    assert_eq!(
        h.header(":path").as_deref(),
        Some(
            "/v1/projects/p/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict"
        )
    );
    assert_eq!(
        h.header("authorization").as_deref(),
        Some("Bearer ya29.vertex-token")
    );
    assert_eq!(
        h.header("anthropic-beta").as_deref(),
        Some("token-counting-2024-11-01")
    );
    let s = sent(&h);
    assert_eq!(s["model"], "claude-sonnet-4-5@20250929");
    assert_eq!(s["anthropic_version"], "vertex-2023-10-16");
    // Anthropic fields pass through: the cache hint is still there.
    assert_eq!(s["system"], body("vclaude")["system"]);
    let v = answer(&mut x, &mut h, 200, br#"{"input_tokens":17}"#);
    assert_eq!(v, json!({"input_tokens": 17}));
}

#[test]
fn gemini_counts_the_whole_generate_content_request() {
    let (mut x, mut h, a) = send("gem");
    assert_eq!(a, Action::Continue);
    assert!(h
        .header(":path")
        .unwrap()
        .ends_with("/models/gemini-2.5-flash:countTokens"));
    assert_eq!(h.header("x-goog-api-key").as_deref(), Some("gm-key"));
    let s = sent(&h);
    let g = &s["generateContentRequest"];
    assert_eq!(g["model"], "models/gemini-2.5-flash");
    assert_eq!(
        g["contents"][0]["parts"][0]["text"],
        "how many tokens is this?"
    );
    assert_eq!(g["systemInstruction"]["parts"][0]["text"], "be brief");
    assert_eq!(g["tools"][0]["functionDeclarations"][0]["name"], "w");
    assert_eq!(s.as_object().unwrap().len(), 1, "{s}");
    let v = answer(
        &mut x,
        &mut h,
        200,
        br#"{"totalTokens":23,"promptTokensDetails":[]}"#,
    );
    assert_eq!(v, json!({"input_tokens": 23}));
}

#[test]
fn vertex_gemini_counts_contents_system_and_tools() {
    let (mut x, mut h, _) = send("vgem");
    assert_eq!(
        h.header(":path").as_deref(),
        Some("/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:countTokens")
    );
    let s = sent(&h);
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["contents", "systemInstruction", "tools"]);
    let v = answer(
        &mut x,
        &mut h,
        200,
        br#"{"totalTokens":9,"totalBillableCharacters":30}"#,
    );
    assert_eq!(v, json!({"input_tokens": 9}));
    // Vertex's own error comes back in Anthropic's shape.
    let (mut x, mut h, _) = send("vgem");
    let e = answer(
        &mut x,
        &mut h,
        429,
        br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#,
    );
    assert_eq!(e["type"], "error");
    assert_eq!(e["error"]["type"], "rate_limit_error");
}

#[test]
fn bedrock_claude_counts_a_signed_converse_input() {
    let (mut x, mut h, a) = send("bclaude");
    assert_eq!(a, Action::Continue);
    assert_eq!(
        h.header(":path").as_deref(),
        Some("/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/count-tokens")
    );
    let auth = h.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{auth}"
    );
    let s = sent(&h);
    let c = &s["input"]["converse"];
    assert_eq!(
        c["messages"][0]["content"][0]["text"],
        "how many tokens is this?"
    );
    assert_eq!(c["system"][0]["text"], "be brief");
    assert_eq!(c["toolConfig"]["tools"][0]["toolSpec"]["name"], "w");
    assert!(c.get("inferenceConfig").is_none());
    let v = answer(&mut x, &mut h, 200, br#"{"inputTokens":31}"#);
    assert_eq!(v, json!({"input_tokens": 31}));
    // An answer that is not a count is the provider's fault.
    let (mut x, mut h, _) = send("bclaude");
    let e = answer(&mut x, &mut h, 200, br#"{"count":31}"#);
    assert_eq!(e["error"]["type"], "api_error");
}

#[test]
fn bedrock_models_without_counting_are_estimated() {
    let (_, h, a) = send("btitan");
    assert_eq!(a, Action::Pause);
    let r = h.local_response.as_ref().unwrap();
    assert!(r
        .headers
        .iter()
        .any(|(k, v)| k == "x-llm-gateway-token-count" && v == "estimated"));
}
