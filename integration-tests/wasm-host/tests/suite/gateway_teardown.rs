#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Batched usage (`usage_flush_ms`) lives in a worker's memory until it is written: every
//! teardown the ABI announces (`proxy_on_done` + `proxy_on_delete` of the root context, a
//! new configuration) writes it first, so orderly teardowns lose no count.

use crate::common::{chat_headers, counter_sum, filter_wasm, ledger};
use llm_gateway::usage::metrics;
use wasm_host::{Host, Vm};

/// A minute-long interval: nothing is written by the interval during the test.
const CONFIG: &str = r#"{"providers":[{"name":"an","kind":"anthropic","cluster":"c","api_key_env":"K"}],
    "models":[{"name":"claude","targets":[{"provider":"an","model":"claude-sonnet-4-5"}]}],
    "usage_flush_ms":60000}"#;

const ANSWER: &str = r#"{"id":"m","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":12,"output_tokens":3}}"#;

fn serve(vm: &mut Vm, n: u64) {
    let body = r#"{"model":"claude","messages":[{"role":"user","content":"hi"}]}"#;
    for _ in 0..n {
        let mut req = vm.request().unwrap();
        req.send_request_headers(&chat_headers(body.len()), false)
            .unwrap();
        req.send_request_body(body.as_bytes(), true).unwrap();
        assert!(req.upstream_request_complete());
        req.send_response_headers(
            &[(":status", "200"), ("content-type", "application/json")],
            false,
        )
        .unwrap();
        req.send_response_body(ANSWER.as_bytes(), true).unwrap();
        req.close().unwrap();
    }
}

fn batched_vm(host: &Host) -> Vm {
    let vm = host
        .vm(&filter_wasm(), CONFIG, &[("K", "test-key")])
        .unwrap();
    assert!(vm.configure(), "{:?}", host.logs());
    vm
}

fn written(host: &Host) -> (u64, Option<[u64; 4]>) {
    (
        counter_sum(host, metrics::REQUESTS),
        ledger(host, "claude", "an", "claude-sonnet-4-5"),
    )
}

#[test]
fn shutdown_writes_the_usage_a_worker_holds() {
    let host = Host::new().unwrap();
    let mut vm = batched_vm(&host);
    serve(&mut vm, 30);
    // Held in the worker (the ledger key exists from on_configure, still zero).
    assert_eq!(written(&host), (0, Some([0, 0, 0, 0])));
    assert!(vm.shutdown().unwrap());
    assert_eq!(written(&host), (30, Some([30, 12 * 30, 3 * 30, 0])));
    assert_eq!(vm.failure(), None);
}

#[test]
fn a_new_configuration_writes_what_the_old_one_counted() {
    let host = Host::new().unwrap();
    let mut vm = batched_vm(&host);
    serve(&mut vm, 7);
    assert_eq!(written(&host).0, 0);
    assert!(vm.reconfigure(CONFIG).unwrap());
    assert_eq!(written(&host), (7, Some([7, 12 * 7, 3 * 7, 0])));
    // Counting goes on under the new configuration, and shutdown writes the rest once.
    serve(&mut vm, 2);
    assert!(vm.shutdown().unwrap());
    assert_eq!(written(&host), (9, Some([9, 12 * 9, 3 * 9, 0])));
}
