//! How answers end, through the `.wasm`: an empty upstream answer becomes a local reply
//! while the upstream's headers are held (Envoy sends it directly), and a stream the
//! client abandons is charged in `proxy_on_log` for what was relayed.

use serde_json::Value;

use crate::common::{chat_headers, counter_sum, golden_gateway, ledger, GOLDEN_MODEL};
use llm_gateway::usage::metrics;

const MODEL: &str = "claude-sonnet-4-5";

fn request(stream: bool) -> Vec<u8> {
    format!(
        r#"{{"model":"{GOLDEN_MODEL}","stream":{stream},"messages":[{{"role":"user","content":"hi"}}]}}"#
    )
    .into_bytes()
}

#[test]
fn empty_upstream_answers_become_openai_errors() {
    for (status, want) in [(200u16, 502u32), (204, 502), (500, 500)] {
        let (host, mut vm) = golden_gateway();
        let mut req = vm.request().unwrap();
        let body = request(false);
        req.send_request_headers(&chat_headers(body.len()), false)
            .unwrap();
        req.send_request_body(&body, true).unwrap();
        assert!(req.upstream_request_complete());
        req.send_response_headers(&[(":status", status.to_string())], true)
            .unwrap();
        assert!(req.response_complete(), "{status}");
        assert_eq!(req.response_status(), Some(want), "{status}");
        let headers = req.response_headers().unwrap();
        assert_eq!(
            headers.get("content-type").as_deref(),
            Some("application/json")
        );
        let v: Value = serde_json::from_slice(req.response_body()).unwrap();
        assert!(v["error"]["message"].is_string(), "{v}");
        req.finish().unwrap();
        assert_eq!(
            ledger(&host, GOLDEN_MODEL, "an", MODEL),
            Some([1, 0, 0, 1]),
            "{status}"
        );
        assert_eq!(counter_sum(&host, metrics::ERRORS), 1, "{status}");
    }
}

#[test]
fn abandoned_stream_is_charged_in_on_log() {
    let (host, mut vm) = golden_gateway();
    let mut req = vm.request().unwrap();
    let body = request(true);
    req.send_request_headers(&chat_headers(body.len()), false)
        .unwrap();
    req.send_request_body(&body, true).unwrap();
    req.send_response_headers(
        &[(":status", "200"), ("content-type", "text/event-stream")],
        false,
    )
    .unwrap();
    let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"claude\",\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n";
    let text = format!(
        "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{}\"}}}}\n\n",
        "y".repeat(200)
    );
    req.send_response_body(start.as_bytes(), false).unwrap();
    req.send_response_body(text.as_bytes(), false).unwrap();
    // The client goes away: no end of stream, straight to the log phase.
    req.finish().unwrap();
    // The reported prompt, 200 characters relayed = 50 tokens, an error.
    assert_eq!(
        ledger(&host, GOLDEN_MODEL, "an", MODEL),
        Some([1, 12, 50, 1])
    );
    assert_eq!(counter_sum(&host, metrics::COMPLETION_TOKENS), 50);
    assert_eq!(counter_sum(&host, metrics::ESTIMATED), 1);
}
