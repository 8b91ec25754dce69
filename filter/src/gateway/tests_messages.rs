//! `/v1/messages` through the whole flow: what reaches an Anthropic provider.

use std::rc::Rc;

use serde_json::{json, Value};

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::FakeHost;

fn cfg() -> Rc<Config> {
    let doc = br#"{
      "providers": [{"name":"an","kind":"anthropic","cluster":"an_c","api_key_env":"AN"}],
      "models": [{"name":"claude","targets":[{"provider":"an","model":"claude-up"}]}]
    }"#;
    let env = |k: &str| (k == "AN").then(|| "sk-an".to_string());
    Rc::new(parse(doc, &env).unwrap())
}

/// Sends `body` to `/v1/messages` with the extra client headers; returns the host.
fn send(body: &Value, extra: &[(&str, &str)]) -> FakeHost {
    let mut headers = vec![(":method", "POST"), (":path", "/v1/messages?beta=true")];
    headers.extend_from_slice(extra);
    let mut h = FakeHost::with_request(&headers);
    h.request_body = serde_json::to_vec(body).unwrap();
    let mut x = Exchange::new(cfg(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let n = h.request_body.len();
    assert_eq!(x.on_request_body(&mut h, n, true), Action::Continue);
    h
}

fn upstream_body(h: &FakeHost) -> Value {
    serde_json::from_slice(&h.request_body).unwrap()
}

/// What Claude Code sends when it does not recognise the model name.
fn claude_code_request() -> Value {
    json!({
        "model": "claude", "max_tokens": 100, "stream": true,
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "fix the bug"}]},
            {"role": "system", "content": "The working directory is /src."}
        ],
        "thinking": {"type": "adaptive"}
    })
}

#[test]
fn the_clients_anthropic_version_reaches_the_provider_even_when_it_is_the_same() {
    // The anthropic SDK sends the version the gateway would set: stripping it and then
    // skipping the write as "unchanged" left the provider without one.
    let body = json!({"model": "claude", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
    let h = send(
        &body,
        &[
            ("anthropic-version", "2023-06-01"),
            ("x-api-key", "gateway-key"),
        ],
    );
    assert_eq!(h.header("anthropic-version").as_deref(), Some("2023-06-01"));
    assert_eq!(h.header("x-api-key").as_deref(), Some("sk-an"));
}

#[test]
fn system_entries_are_hoisted_into_system_without_the_beta() {
    let h = send(
        &claude_code_request(),
        &[(
            "anthropic-beta",
            "claude-code-20250219,interleaved-thinking-2025-05-14",
        )],
    );
    let body = upstream_body(&h);
    assert_eq!(body["model"], "claude-up");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "fix the bug"}]}])
    );
    assert_eq!(
        body["system"],
        json!([
            {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "The working directory is /src."}
        ])
    );
    assert_eq!(body["thinking"], json!({"type": "adaptive"}));
    // The client's other betas go as sent.
    assert_eq!(
        h.header("anthropic-beta").as_deref(),
        Some("claude-code-20250219,interleaved-thinking-2025-05-14")
    );
    assert_eq!(
        h.header("content-length"),
        Some(h.request_body.len().to_string())
    );
}

#[test]
fn system_entries_pass_through_with_the_beta() {
    let h = send(
        &claude_code_request(),
        &[(
            "anthropic-beta",
            "claude-code-20250219,mid-conversation-system-2026-04-07,effort-2025-11-24",
        )],
    );
    let body = upstream_body(&h);
    assert_eq!(body["model"], "claude-up");
    assert_eq!(body["messages"][1]["role"], "system");
    assert_eq!(body["system"], claude_code_request()["system"]);
    assert_eq!(
        h.header("anthropic-beta").as_deref(),
        Some("claude-code-20250219,mid-conversation-system-2026-04-07,effort-2025-11-24")
    );
}
