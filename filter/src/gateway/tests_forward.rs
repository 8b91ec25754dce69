//! Which client headers reach a provider: the allow-list per kind, its extension in the
//! configuration, and what an earlier attempt left behind.

use std::rc::Rc;

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::FakeHost;

fn cfg(extra: &str) -> Rc<Config> {
    let doc = format!(
        r#"{{
      "providers": [
        {{"name":"oa","kind":"openai","cluster":"oa_c","api_key_env":"OA"}},
        {{"name":"an","kind":"anthropic","cluster":"an_c","api_key_env":"AN"}},
        {{"name":"vx","kind":"vertex","cluster":"vx_c","project":"p","location":"us-central1","api_key_env":"OA"}}
      ],
      "models": [
        {{"name":"gpt","targets":[{{"provider":"oa","model":"gpt"}}]}},
        {{"name":"claude","targets":[{{"provider":"an","model":"claude"}}]}},
        {{"name":"gem","targets":[{{"provider":"vx","model":"gemini-2.5-pro"}}]}}
      ]{extra}
    }}"#
    );
    let env = |k: &str| match k {
        "OA" => Some("sk-oa-0123456789".to_string()),
        "AN" => Some("sk-an-0123456789".to_string()),
        _ => None,
    };
    Rc::new(parse(doc.as_bytes(), &env).unwrap())
}

/// What an attacker's client sends besides the request itself.
const CLIENT: &[(&str, &str)] = &[
    (":method", "POST"),
    (":path", "/v1/chat/completions"),
    (":authority", "gateway.local"),
    ("authorization", "Bearer client"),
    ("content-type", "application/json"),
    ("accept", "application/json"),
    ("user-agent", "OpenAI/Python 1.0"),
    (
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    ),
    ("x-request-id", "r-1"),
    ("openai-organization", "org-victim"),
    ("openai-project", "proj-victim"),
    ("x-goog-user-project", "victim-project"),
    ("cookie", "session=1"),
    ("proxy-authorization", "Basic eDp5"),
    ("anthropic-beta", "context-1m-2025-08-07"),
    ("x-forwarded-for", "10.0.0.1"),
    ("x-stainless-os", "Linux"),
    ("x-envoy-retry-on", "5xx"),
];

const NEVER_FORWARDED: &[&str] = &[
    "openai-organization",
    "openai-project",
    "x-goog-user-project",
    "cookie",
    "proxy-authorization",
    "x-forwarded-for",
    "x-stainless-os",
    "x-envoy-retry-on",
];

fn send(cfg: &Rc<Config>, model: &str) -> FakeHost {
    let mut h = FakeHost::with_request(CLIENT);
    h.request_body =
        format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hi"}}]}}"#)
            .into_bytes();
    let mut x = Exchange::new(cfg.clone(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let n = h.request_body.len();
    assert_eq!(x.on_request_body(&mut h, n, true), Action::Continue);
    h
}

#[test]
fn only_allowed_client_headers_reach_each_provider_kind() {
    let cfg = cfg("");
    for model in ["gpt", "claude", "gem"] {
        let h = send(&cfg, model);
        for name in NEVER_FORWARDED {
            assert_eq!(h.header(name), None, "{name} reached the {model} provider");
        }
        // Anthropic's beta features are billed differently: off unless allowed.
        assert_eq!(h.header("anthropic-beta"), None, "{model}");
        for (name, value) in [
            ("accept", "application/json"),
            ("user-agent", "OpenAI/Python 1.0"),
            ("x-request-id", "r-1"),
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
        ] {
            assert_eq!(h.header(name).as_deref(), Some(value), "{model}: {name}");
        }
        // The client's key never rides along: replaced, or removed.
        assert_ne!(h.header("authorization").as_deref(), Some("Bearer client"));
    }
}

#[test]
fn operators_extend_the_list_per_provider_and_for_all() {
    let cfg =
        cfg(r#", "forward_headers": {"an": ["anthropic-beta"], "*": ["openai-organization"]}"#);
    let h = send(&cfg, "claude");
    assert_eq!(
        h.header("anthropic-beta").as_deref(),
        Some("context-1m-2025-08-07")
    );
    assert_eq!(
        h.header("openai-organization").as_deref(),
        Some("org-victim")
    );
    assert_eq!(h.header("openai-project"), None);
    // Another provider does not get the Anthropic-only extension.
    let h = send(&cfg, "gpt");
    assert_eq!(h.header("anthropic-beta"), None);
    assert_eq!(
        h.header("openai-organization").as_deref(),
        Some("org-victim")
    );
}

#[test]
fn forward_headers_cannot_allow_credentials_or_unknown_providers() {
    let env = |_: &str| Some("k".to_string());
    for (forward, field) in [
        (r#"{"oa": ["authorization"]}"#, "forward_headers.oa"),
        (r#"{"*": ["Cookie"]}"#, "forward_headers.*"),
        (r#"{"*": ["x-amz-security-token"]}"#, "forward_headers.*"),
        (r#"{"*": ["x-llm-cluster"]}"#, "forward_headers.*"),
        (r#"{"nope": ["x-a"]}"#, "forward_headers.nope"),
    ] {
        let doc = format!(
            r#"{{"providers":[{{"name":"oa","kind":"openai","cluster":"c","api_key_env":"K"}}],
               "models":[{{"name":"m","targets":[{{"provider":"oa","model":"m"}}]}}],
               "forward_headers": {forward}}}"#
        );
        let e = parse(doc.as_bytes(), &env).unwrap_err();
        assert_eq!(e.field, field, "{forward}");
    }
}

#[test]
fn an_attempt_removes_what_an_earlier_attempt_set_for_another_provider() {
    let doc = br#"{"role":"upstream","providers":[
        {"name":"oa","kind":"openai","cluster":"c","api_key_env":"OA"},
        {"name":"an","kind":"anthropic","cluster":"c","api_key_env":"AN"}]}"#;
    let env = |k: &str| Some(format!("sk-{k}-0123456789"));
    let cfg = Rc::new(parse(doc, &env).unwrap());
    // What the first attempt (Anthropic) left on the request, plus the router's own.
    let mut h = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", "/v1/messages"),
        ("x-api-key", "sk-AN-0123456789"),
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
        ("x-envoy-expected-rq-timeout-ms", "300000"),
    ]);
    for (k, v) in [("provider", "oa"), ("model", "gpt")] {
        h.properties.insert(
            format!("xds.upstream_host_metadata.filter_metadata.llm.{k}"),
            v.as_bytes().to_vec(),
        );
    }
    h.request_body = br#"{"model":"v","messages":[{"role":"user","content":"hi"}]}"#.to_vec();
    let mut x = Exchange::new(cfg, Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let n = h.request_body.len();
    assert_eq!(x.on_request_body(&mut h, n, true), Action::Continue);
    assert_eq!(h.header("x-api-key"), None);
    assert_eq!(h.header("anthropic-version"), None);
    assert_eq!(
        h.header("authorization").as_deref(),
        Some("Bearer sk-OA-0123456789")
    );
    assert_eq!(
        h.header("x-envoy-expected-rq-timeout-ms").as_deref(),
        Some("300000")
    );
}
