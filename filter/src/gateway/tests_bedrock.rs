//! The whole gateway flow for a Bedrock target, against the in-memory host.

use std::rc::Rc;

use super::{Action, Exchange};
use crate::codec::eventstream::json_event as event;
use crate::config::{parse, Config};
use crate::host::FakeHost;
use crate::state::ledger;

fn cfg() -> Rc<Config> {
    let doc = br#"{
      "providers": [{"name":"br","kind":"bedrock","cluster":"br_c","region":"us-east-1",
                     "access_key_id_env":"AK","secret_access_key_env":"SK","session_token_env":"ST"}],
      "models": [{"name":"claude","targets":[{"provider":"br","model":"anthropic.claude-3-haiku-20240307-v1:0"}]}]
    }"#;
    let env = |k: &str| match k {
        "AK" => Some("AKIDEXAMPLE".to_string()),
        "SK" => Some("secret-key".to_string()),
        "ST" => Some("session-token".to_string()),
        _ => None,
    };
    Rc::new(parse(doc, &env).unwrap())
}

fn send(body: &str) -> (Exchange, FakeHost) {
    let mut h = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", "/v1/chat/completions"),
        ("authorization", "Bearer client"),
        ("x-amz-security-token", "client-token"),
        ("x-amz-date", "19990101T000000Z"),
    ]);
    h.request_body = body.as_bytes().to_vec();
    h.now_ms = 1_700_000_000_000;
    let mut x = Exchange::new(cfg(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let n = h.request_body.len();
    assert_eq!(x.on_request_body(&mut h, n, true), Action::Continue);
    (x, h)
}

#[test]
fn request_is_signed_with_the_host_clock() {
    let (_, h) = send(r#"{"model":"claude","messages":[{"role":"user","content":"hi"}]}"#);
    assert_eq!(
        h.header(":path").as_deref(),
        Some("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse")
    );
    assert_eq!(
        h.header(":authority").as_deref(),
        Some("bedrock-runtime.us-east-1.amazonaws.com")
    );
    assert_eq!(h.header("x-amz-date").as_deref(), Some("20231114T221320Z"));
    assert_eq!(
        h.header("x-amz-security-token").as_deref(),
        Some("session-token")
    );
    let auth = h.header("authorization").unwrap();
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="), "{auth}");
    assert!(!auth.contains("secret-key"));
    assert_eq!(h.header("x-llm-cluster").as_deref(), Some("br_c"));
    assert_eq!(
        h.header("content-length"),
        Some(h.request_body.len().to_string())
    );
}

#[test]
fn binary_stream_becomes_sse_and_is_accounted() {
    let (mut x, mut h) = send(
        r#"{"model":"claude","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#,
    );
    assert!(h.header(":path").unwrap().ends_with("/converse-stream"));
    h.response_headers = vec![
        (":status".into(), "200".into()),
        (
            "content-type".into(),
            "application/vnd.amazon.eventstream".into(),
        ),
        ("content-length".into(), "999".into()),
        ("x-amzn-requestid".into(), "rid-1".into()),
    ];
    assert_eq!(x.on_response_headers(&mut h, false), Action::Continue);
    let ctype = h
        .response_headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.clone());
    assert_eq!(ctype.as_deref(), Some("text/event-stream"));
    assert!(!h
        .response_headers
        .iter()
        .any(|(k, _)| k == "content-length"));

    let mut stream = event("messageStart", r#"{"role":"assistant"}"#);
    stream.extend(event(
        "contentBlockDelta",
        r#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#,
    ));
    stream.extend(event("messageStop", r#"{"stopReason":"end_turn"}"#));
    stream.extend(event(
        "metadata",
        r#"{"usage":{"inputTokens":4,"outputTokens":2,"totalTokens":6},"metrics":{"latencyMs":1}}"#,
    ));
    let mut client = Vec::new();
    for (i, chunk) in stream.chunks(11).enumerate() {
        h.response_body = chunk.to_vec();
        let last = (i + 1) * 11 >= stream.len();
        assert_eq!(
            x.on_response_body(&mut h, chunk.len(), last),
            Action::Continue
        );
        client.extend_from_slice(&h.response_body);
    }
    let text = String::from_utf8(client).unwrap();
    assert!(text.contains("\"id\":\"chatcmpl-rid-1\""), "{text}");
    assert!(text.contains("\"content\":\"Hi\""), "{text}");
    assert!(text.contains("\"finish_reason\":\"stop\""));
    assert!(text.contains("\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2"));
    assert!(text.ends_with("data: [DONE]\n\n"));
    x.on_log(&mut h);
    let key = crate::state::keys::usage("claude", "br", "anthropic.claude-3-haiku-20240307-v1:0");
    assert_eq!(ledger::read(&h, &key), Some([1, 4, 2, 0, 0]));
}

#[test]
fn throttling_uses_the_error_type_header() {
    let (mut x, mut h) = send(r#"{"model":"claude","messages":[{"role":"user","content":"hi"}]}"#);
    let body = br#"{"message":"Too many requests, please wait before trying again."}"#;
    h.response_headers = vec![
        (":status".into(), "429".into()),
        ("content-type".into(), "application/json".into()),
        (
            "x-amzn-errortype".into(),
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/".into(),
        ),
    ];
    h.response_body = body.to_vec();
    assert_eq!(x.on_response_headers(&mut h, false), Action::Pause);
    assert_eq!(
        x.on_response_body(&mut h, body.len(), true),
        Action::Continue
    );
    let v: serde_json::Value = serde_json::from_slice(&h.response_body).unwrap();
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert_eq!(v["error"]["code"], "ThrottlingException");
    // A model that is still loading is the provider's trouble: 503, not 429.
    let (mut x, mut h) = send(r#"{"model":"claude","messages":[{"role":"user","content":"hi"}]}"#);
    h.response_headers = vec![
        (":status".into(), "429".into()),
        ("x-amzn-errortype".into(), "ModelNotReadyException".into()),
    ];
    h.response_body = br#"{"message":"Model is not ready"}"#.to_vec();
    x.on_response_headers(&mut h, false);
    let n = h.response_body.len();
    x.on_response_body(&mut h, n, true);
    let status = h
        .response_headers
        .iter()
        .find(|(k, _)| k == ":status")
        .map(|(_, v)| v.clone());
    assert_eq!(status.as_deref(), Some("503"));
}
