#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! A fetched credential through the ABI: the root context's tick calls the metadata cluster
//! (`proxy_http_call`), the answer becomes the token requests carry, a failed refresh keeps
//! it until its expiry, then requests get a 503 and never reach the provider.

use std::time::Duration;

use crate::common::{chat_headers, filter_wasm};
use wasm_host::{Host, Vm};

const CONFIG: &str = r#"{"providers":[{"name":"vx","kind":"vertex","cluster":"vx_c","project":"p","location":"us-central1",
    "credential":{"source":"gcp_metadata","cluster":"metadata"}}],
    "models":[{"name":"gem","targets":[{"provider":"vx","model":"gemini-2.0-flash"}]}]}"#;

const BODY: &str = r#"{"model":"gem","messages":[{"role":"user","content":"hi"}]}"#;

/// Sends one request; the upstream's authorization header, or the local reply's status.
fn send(vm: &mut Vm) -> Result<String, u32> {
    let mut req = vm.request().unwrap();
    req.send_request_headers(&chat_headers(BODY.len()), false)
        .unwrap();
    req.send_request_body(BODY.as_bytes(), true).unwrap();
    if let Some(reply) = req.local_reply() {
        let body = String::from_utf8_lossy(&reply.body).into_owned();
        assert!(body.contains("provider vx"), "{body}");
        assert!(!body.contains("ya29"), "{body}");
        return Err(reply.status);
    }
    Ok(req
        .upstream_request_headers()
        .unwrap()
        .get("authorization")
        .unwrap())
}

fn answer(vm: &mut Vm, token: &str, seconds: u64) {
    let calls = vm.pending_http_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    assert_eq!(call.upstream, "metadata");
    assert_eq!(
        call.headers.get("metadata-flavor").as_deref(),
        Some("Google")
    );
    assert_eq!(
        call.headers.get(":path").as_deref(),
        Some("/computeMetadata/v1/instance/service-accounts/default/token")
    );
    let body =
        format!(r#"{{"access_token":"{token}","expires_in":{seconds},"token_type":"Bearer"}}"#);
    vm.respond_http_call(
        call.token,
        &[(":status", "200")],
        body.as_bytes(),
        &[] as &[(&str, &str)],
    )
    .unwrap();
}

#[test]
fn a_metadata_token_is_fetched_refreshed_kept_then_refused_after_expiry() {
    let host = Host::new().unwrap();
    let mut vm = host.vm(&filter_wasm(), CONFIG, &[]).unwrap();
    assert!(vm.configure(), "{:?}", host.logs());
    // Before the first answer: a 503, not an unauthenticated request.
    assert_eq!(send(&mut vm), Err(503));
    vm.advance_time(Duration::from_millis(250)).unwrap();
    // One-second tokens: few ticks (each runs the whole root context in the interpreter).
    answer(&mut vm, "ya29.first", 1);
    assert_eq!(send(&mut vm).unwrap(), "Bearer ya29.first");
    // At 80% of the lifetime the next call goes out; its answer replaces the token.
    vm.advance_time(Duration::from_millis(800)).unwrap();
    answer(&mut vm, "ya29.second", 1);
    assert_eq!(send(&mut vm).unwrap(), "Bearer ya29.second");
    // The metadata server fails: the current token stays until its expiry less a tenth.
    vm.advance_time(Duration::from_millis(800)).unwrap();
    let failed = vm.pending_http_calls();
    assert_eq!(failed.len(), 1);
    vm.fail_http_call(failed[0].token).unwrap();
    assert_eq!(send(&mut vm).unwrap(), "Bearer ya29.second");
    for call in vm.pending_http_calls() {
        vm.fail_http_call(call.token).unwrap();
    }
    // Fail every retry until past the expiry.
    for _ in 0..5 {
        vm.advance_time(Duration::from_millis(200)).unwrap();
        for call in vm.pending_http_calls() {
            vm.fail_http_call(call.token).unwrap();
        }
    }
    assert_eq!(send(&mut vm), Err(503));
    let logs = format!("{:?}", host.logs());
    assert!(!logs.contains("ya29"), "a token reached the log");
    assert!(logs.contains("provider vx"), "{logs}");
}
