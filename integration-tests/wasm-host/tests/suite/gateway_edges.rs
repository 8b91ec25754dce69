#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Edges through the real ABI: an oversized body is drained (emptied through
//! `proxy_set_buffer_bytes`) and refused only at its end; a compressed body is refused;
//! client headers outside the provider's allow-list never reach the upstream.

use wasm_host::{Action, Host, Vm};

const CONFIG: &str = r#"{
  "providers": [{"name":"oa","kind":"openai","cluster":"oa_c","api_key_env":"K"}],
  "models": [{"name":"gpt","targets":[{"provider":"oa","model":"gpt"}]}],
  "max_body_bytes": 1000
}"#;

fn gateway() -> (Host, Vm) {
    let host = Host::new().unwrap();
    let vm = host
        .vm(
            &crate::common::filter_wasm(),
            CONFIG,
            &[("K", "sk-edge-0123456789")],
        )
        .unwrap();
    assert!(vm.configure(), "{:?}", host.logs());
    (host, vm)
}

fn headers(len: usize, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut h = crate::common::chat_headers(len);
    h.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    h
}

#[test]
fn an_oversized_body_is_drained_then_refused_at_its_end() {
    let (_host, mut vm) = gateway();
    let mut req = vm.request().unwrap();
    assert_eq!(
        req.send_request_headers(&headers(1500, &[]), false)
            .unwrap(),
        Action::Pause
    );
    assert!(
        req.local_reply().is_none(),
        "refused before the upload ended"
    );
    for _ in 0..2 {
        assert_eq!(
            req.send_request_body(&[b'x'; 500], false).unwrap(),
            Action::Pause
        );
        assert!(req.local_reply().is_none());
    }
    req.send_request_body(&[b'x'; 500], true).unwrap();
    let reply = req.local_reply().unwrap();
    assert_eq!(reply.status, 413);
    let v: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(v["error"]["code"], "request_too_large");
    assert!(req.upstream_request_headers().is_none());
}

#[test]
fn a_body_declared_far_too_large_is_refused_at_once() {
    let (_host, mut vm) = gateway();
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers(1_000_000, &[]), false)
        .unwrap();
    assert_eq!(req.local_reply().unwrap().status, 413);
}

#[test]
fn a_compressed_body_is_refused_with_415() {
    let (_host, mut vm) = gateway();
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers(10, &[("content-encoding", "gzip")]), false)
        .unwrap();
    let reply = req.local_reply().unwrap();
    assert_eq!(reply.status, 415);
    assert!(req.upstream_request_headers().is_none());
}

#[test]
fn only_allowed_client_headers_go_upstream() {
    let (_host, mut vm) = gateway();
    let body = br#"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#;
    let mut req = vm.request().unwrap();
    let extra = [
        ("openai-organization", "org-victim"),
        ("x-goog-user-project", "victim"),
        ("cookie", "a=1"),
        ("proxy-authorization", "Basic eDp5"),
        ("user-agent", "sdk/1"),
    ];
    req.send_request_headers(&headers(body.len(), &extra), false)
        .unwrap();
    assert_eq!(req.send_request_body(body, true).unwrap(), Action::Continue);
    let up = req.upstream_request_headers().unwrap();
    for name in [
        "openai-organization",
        "x-goog-user-project",
        "cookie",
        "proxy-authorization",
    ] {
        assert!(!up.contains(name), "{name} went upstream");
    }
    assert_eq!(up.get("user-agent").as_deref(), Some("sdk/1"));
    assert_eq!(
        up.get("authorization").as_deref(),
        Some("Bearer sk-edge-0123456789")
    );
}

#[test]
fn trailers_end_the_body_and_it_is_forwarded() {
    // Envoy's decompressor ends a request with trailers, not with a last body chunk.
    let (_host, mut vm) = gateway();
    let body = br#"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#;
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers(body.len(), &[]), false)
        .unwrap();
    assert_eq!(req.send_request_body(body, false).unwrap(), Action::Pause);
    req.send_request_trailers(&[("x-envoy-decompressor-gzip-compressed-bytes", "85")])
        .unwrap();
    assert!(req.local_reply().is_none());
    let up = req.upstream_request_headers().unwrap();
    assert_eq!(up.get("x-llm-cluster").as_deref(), Some("oa_c"));
    assert_eq!(req.upstream_request_body(), body.as_slice());
}
