//! The client's JSON through the `.wasm`: a key written with escapes is spliced, not
//! doubled, so a stream stays accounted; nesting far beyond the bound is refused without
//! a trap and the VM keeps serving.

use crate::common::{chat_headers, filter_wasm, ledger};
use wasm_host::{Host, Vm};

const CONFIG: &str = r#"{"providers":[{"name":"oa","kind":"openai","cluster":"oa_c","api_key_env":"K"}],
    "models":[{"name":"gpt","targets":[{"provider":"oa","model":"gpt-4o"}]}],
    "max_body_bytes":4194304}"#;

fn gateway() -> (Host, Vm) {
    let host = Host::new().unwrap();
    let vm = host
        .vm(&filter_wasm(), CONFIG, &[("K", "test-key")])
        .unwrap();
    assert!(vm.configure(), "{:?}", host.logs());
    (host, vm)
}

/// An OpenAI stream whose last chunk carries usage (what `include_usage: true` asks for).
const STREAM: &str = concat!(
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\n",
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":5,\"total_tokens\":12}}\n\n",
    "data: [DONE]\n\n",
);

#[test]
fn escaped_stream_options_stays_accounted() {
    let (host, mut vm) = gateway();
    let body = r#"{"model":"gpt","stream":true,"stream_\u006fptions":{"include_usage":false},"messages":[{"role":"user","content":"hi"}]}"#;
    let id = vm.open_request().unwrap();
    let mut req = vm.stream(id).unwrap();
    req.send_request_headers(&chat_headers(body.len()), false)
        .unwrap();
    req.send_request_body(body.as_bytes(), true).unwrap();
    assert!(req.local_reply().is_none());
    let sent = String::from_utf8(req.upstream_request_body().to_vec()).unwrap();
    // One member, in whichever spelling: its value replaced, not a second copy added.
    let copies = sent.matches(r#""stream_options""#).count()
        + sent.matches(r#""stream_\u006fptions""#).count();
    assert_eq!(copies, 1, "{sent}");
    let v: serde_json::Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(v["stream_options"]["include_usage"], true, "{sent}");
    req.send_response_headers(
        &[(":status", "200"), ("content-type", "text/event-stream")],
        false,
    )
    .unwrap();
    req.send_response_body(STREAM.as_bytes(), true).unwrap();
    // The client did not ask for the usage chunk: it is read, then hidden.
    let out = String::from_utf8_lossy(req.response_body()).to_string();
    assert!(!out.contains("\"usage\""), "{out}");
    req.close().unwrap();
    assert_eq!(ledger(&host, "gpt", "oa", "gpt-4o"), Some([1, 7, 5, 0]));
}

#[test]
fn deep_nesting_is_refused_and_the_vm_keeps_serving() {
    let (_host, mut vm) = gateway();
    for depth in [10_000usize, 1_000_000] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let body = format!(
            r#"{{"model":"gpt","x_unread":{deep},"messages":[{{"role":"user","content":"hi"}}]}}"#
        );
        let id = vm.open_request().unwrap();
        let mut req = vm.stream(id).unwrap();
        req.send_request_headers(&chat_headers(body.len()), false)
            .unwrap();
        req.send_request_body(body.as_bytes(), true).unwrap();
        let reply = req.local_reply().expect("a local reply");
        assert_eq!(reply.status, 400);
        let v: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert!(
            v["error"]["message"].as_str().unwrap().contains("128"),
            "{v}"
        );
        assert!(req.upstream_request_body().is_empty());
        req.close().unwrap();
    }
    let body = r#"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#;
    let id = vm.open_request().unwrap();
    let mut req = vm.stream(id).unwrap();
    req.send_request_headers(&chat_headers(body.len()), false)
        .unwrap();
    req.send_request_body(body.as_bytes(), true).unwrap();
    assert!(req.local_reply().is_none());
    assert!(req.upstream_request_complete());
}
