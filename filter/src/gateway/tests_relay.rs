//! What the gateway relays from a provider's failed answer: no credential, and a sane
//! `retry-after`.

use std::rc::Rc;

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::FakeHost;

const OA_KEY: &str = "sk-oa-secret-0123456789";
const AN_KEY: &str = "sk-an-secret-0123456789";

fn cfg() -> Rc<Config> {
    let doc = br#"{
      "providers": [
        {"name":"oa","kind":"openai","cluster":"oa_c","api_key_env":"OA"},
        {"name":"an","kind":"anthropic","cluster":"an_c","api_key_env":"AN"}
      ],
      "models": [
        {"name":"gpt","targets":[{"provider":"oa","model":"gpt"}]},
        {"name":"claude","targets":[{"provider":"an","model":"claude"}]}
      ]
    }"#;
    let env = |k: &str| match k {
        "OA" => Some(OA_KEY.to_string()),
        "AN" => Some(AN_KEY.to_string()),
        _ => None,
    };
    Rc::new(parse(doc, &env).unwrap())
}

/// Sends a request for `model` (to `path`) and answers it with `status`, `ctype`, `body`
/// and `extra` headers; returns the host as the client would see it.
fn exchange(
    path: &str,
    body: &str,
    status: &str,
    ctype: &str,
    answer: &[u8],
    extra: &[(&str, &str)],
) -> FakeHost {
    let mut h = FakeHost::with_request(&[(":method", "POST"), (":path", path)]);
    h.request_body = body.as_bytes().to_vec();
    let mut x = Exchange::new(cfg(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let n = h.request_body.len();
    assert_eq!(x.on_request_body(&mut h, n, true), Action::Continue);
    h.response_headers = vec![
        (":status".into(), status.into()),
        ("content-type".into(), ctype.into()),
    ];
    for (k, v) in extra {
        h.response_headers.push((k.to_string(), v.to_string()));
    }
    h.response_body = answer.to_vec();
    if x.on_response_headers(&mut h, false) == Action::Pause {
        assert_eq!(
            x.on_response_body(&mut h, answer.len(), true),
            Action::Continue
        );
    } else {
        x.on_response_body(&mut h, answer.len(), true);
    }
    h
}

const CHAT: &str = r#"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#;
const CLAUDE: &str = r#"{"model":"claude","messages":[{"role":"user","content":"hi"}]}"#;

fn assert_clean(h: &FakeHost) {
    let text = String::from_utf8_lossy(&h.response_body).into_owned();
    assert!(!text.contains("secret-0123456789"), "{text}");
    assert!(text.contains("[REDACTED]"), "{text}");
}

#[test]
fn a_credential_echoed_in_a_json_error_is_redacted() {
    let answer = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {OA_KEY}.","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
    );
    let h = exchange(
        "/v1/chat/completions",
        CHAT,
        "401",
        "application/json",
        answer.as_bytes(),
        &[],
    );
    assert_clean(&h);
    let v: serde_json::Value = serde_json::from_slice(&h.response_body).unwrap();
    assert_eq!(
        v["error"]["message"],
        "Incorrect API key provided: [REDACTED]."
    );
}

#[test]
fn a_credential_echoed_in_plain_text_or_escaped_json_is_redacted() {
    let text = format!("forbidden: x-api-key {AN_KEY} is not valid");
    let h = exchange(
        "/v1/chat/completions",
        CLAUDE,
        "403",
        "text/plain",
        text.as_bytes(),
        &[],
    );
    assert_clean(&h);
    // JSON may spell a letter as \u escape: only the parsed message shows the key.
    let escaped = format!(
        r#"{{"type":"error","error":{{"type":"authentication_error","message":"bad key \u0073{}"}}}}"#,
        &AN_KEY[1..]
    );
    let h = exchange(
        "/v1/chat/completions",
        CLAUDE,
        "401",
        "application/json",
        escaped.as_bytes(),
        &[],
    );
    assert_clean(&h);
    // Anthropic-shaped clients too.
    let h = exchange(
        "/v1/messages",
        r#"{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
        "401",
        "application/json",
        escaped.as_bytes(),
        &[],
    );
    assert_clean(&h);
}

#[test]
fn a_credential_in_a_stream_error_event_is_redacted() {
    let body = r#"{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let events = format!(
        "event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"api_error\",\"message\":\"key {AN_KEY} revoked\"}}}}\n\n"
    );
    let h = exchange(
        "/v1/chat/completions",
        body,
        "200",
        "text/event-stream",
        events.as_bytes(),
        &[],
    );
    assert_clean(&h);
}

fn header(h: &FakeHost, name: &str) -> Option<String> {
    h.response_headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

#[test]
fn retry_after_is_bounded_or_dropped() {
    let answer = br#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#;
    for (sent, relayed) in [
        ("20", Some("20")),
        ("99999999999999999999", Some("86400")),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),
    ] {
        let h = exchange(
            "/v1/chat/completions",
            CHAT,
            "429",
            "application/json",
            answer,
            &[("retry-after", sent)],
        );
        assert_eq!(header(&h, "retry-after").as_deref(), relayed, "{sent}");
    }
}

#[test]
fn a_fetched_token_echoed_in_an_error_is_redacted() {
    use crate::config::credential::{Credential, Token};
    let doc = br#"{
      "providers": [
        {"name":"vx","kind":"openai","cluster":"oa_c",
         "credential":{"source":"gcp_metadata","cluster":"metadata"}}
      ],
      "models": [{"name":"gpt","targets":[{"provider":"vx","model":"gpt"}]}]
    }"#;
    let cfg = Rc::new(parse(doc, &|_| None).unwrap());
    let token = "ya29.fetched-secret-0123456789";
    let Credential::Fetched(f) = &cfg.provider(0).unwrap().credential else {
        panic!("gcp_metadata is fetched by the filter");
    };
    *f.current.borrow_mut() = Some(Token::new(token.into(), u64::MAX));
    let mut h = FakeHost::with_request(&[(":method", "POST"), (":path", "/v1/chat/completions")]);
    h.request_body = CHAT.as_bytes().to_vec();
    let mut x = Exchange::new(cfg, Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let n = h.request_body.len();
    assert_eq!(x.on_request_body(&mut h, n, true), Action::Continue);
    assert_eq!(
        h.header("authorization").as_deref(),
        Some(format!("Bearer {token}").as_str())
    );
    let answer = format!(r#"{{"error":{{"message":"token {token} expired","type":"x"}}}}"#);
    h.response_headers = vec![
        (":status".into(), "401".into()),
        ("content-type".into(), "application/json".into()),
    ];
    h.response_body = answer.clone().into_bytes();
    x.on_response_headers(&mut h, false);
    x.on_response_body(&mut h, answer.len(), true);
    assert_clean(&h);
}
