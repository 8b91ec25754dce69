#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Bounded, deterministic fuzzing of the release `.wasm` through the ABI: random and mutated
//! request bodies, hostile headers (non-UTF-8, huge, lying content-length), random chunk
//! splits, hostile upstream answers. Any trap (panic in the filter) fails the test, and so does
//! any broken invariant of what leaves the proxy.
//! `WASM_FUZZ_ITERATIONS` and `WASM_FUZZ_SEED` change the run.

use crate::common::XorShift;
use serde_json::Value;
use wasm_host::{Action, Host, Request, Vm};

const CONFIG: &str = r#"{"providers":[
    {"name":"an","kind":"anthropic","cluster":"ca","api_key_env":"K"},
    {"name":"oa","kind":"openai","cluster":"co","host":"api.example.com","api_key_env":"K"}],
  "models":[{"name":"m","targets":[{"provider":"an","model":"c","weight":1},{"provider":"oa","model":"g","weight":1}]}],
  "allow_provider_model":true,"max_body_bytes":4096,
  "health":{"failure_threshold":1000,"cooldown_ms":1}}"#;

const SEEDS: &[&str] = &[
    r#"{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}],"stream":true,"stream_options":{"include_usage":true},"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"f"}},"stop":["x"],"max_tokens":5}"#,
    r#"{"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"1","content":"r"}]}"#,
    r#"{"model":"oa/x","messages":[{"role":"developer","content":"d"},{"role":"user","content":"u\u00e9\ud83d\ude00"}],"n":1,"temperature":1.5,"user":"u","stream":true}"#,
    r#"{"model":"an/c","messages":[{"role":"user","content":"x"}],"max_completion_tokens":7,"top_p":0.5,"stop":"END","metadata":{"k":"v"}}"#,
    r#"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#,
    r#"{"model":"m","max_tokens":10,"system":"s","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"stream":true}"#,
    r#"{"model":"oa/e","input":["a","b"],"encoding_format":"float"}"#,
];

const ANTHROPIC_JSON: &str = r#"{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"t"},{"type":"tool_use","id":"x","name":"f","input":{"q":[1,{"r":null}]}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}}"#;
const ANTHROPIC_SSE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":4}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"h\\u00e9\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":6}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
const OPENAI_JSON: &str = r#"{"id":"c","object":"chat.completion","created":1,"model":"g","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#;
const OPENAI_SSE: &str = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],\"usage\":null}\n\ndata: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\ndata: [DONE]\n\n";
const ERROR_JSON: &str = r#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#;

fn mutate(rng: &mut XorShift, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        let i = rng.below(v.len() + 1);
        match rng.below(7) {
            0 if !v.is_empty() => {
                v.remove(i.min(v.len() - 1));
            }
            1 => v.insert(i, b"{}[]\":,\\0-1eE \x00\xff\xc3"[rng.below(16)]),
            2 if !v.is_empty() => {
                let j = i.min(v.len() - 1);
                v[j] = rng.next() as u8;
            }
            3 => v.truncate(i),
            4 => {
                let j = rng.below(v.len() + 1);
                let (a, b) = (i.min(j), i.max(j));
                let piece = v[a..b].to_vec();
                v.splice(i..i, piece);
            }
            5 => {
                let big = vec![b'a'; rng.below(3000)];
                v.splice(i..i, big);
            }
            _ => {}
        }
    }
    v
}

fn chunks(rng: &mut XorShift, body: &[u8]) -> Vec<Vec<u8>> {
    if body.len() < 64 && rng.chance(4) {
        return body.chunks(1).map(<[u8]>::to_vec).collect();
    }
    let n = rng.below(8);
    crate::common::split_at(body, &rng.cuts(body.len(), n))
}

fn request_headers(rng: &mut XorShift, body_len: usize) -> Vec<(String, Vec<u8>)> {
    let method: &[u8] = match rng.below(20) {
        0 => b"GET",
        1 => b"PUT",
        2 => b"",
        3 => b"P\xffST",
        _ => b"POST",
    };
    let path: Vec<u8> = match rng.below(30) {
        0 => b"/v1/models".to_vec(),
        25 => b"/v1/messages".to_vec(),
        26 => b"/v1/responses".to_vec(),
        27 => b"/v1/embeddings".to_vec(),
        28 => b"/v1/usage".to_vec(),
        1 => b"/v1/chat/completions?x=1&y=%ff".to_vec(),
        2 => b"/v1/nope".to_vec(),
        3 => b"/healthz".to_vec(),
        4 => Vec::new(),
        5 => b"/v1/chat/completions/../../x".to_vec(),
        6 => (0..rng.below(40)).map(|_| rng.next() as u8).collect(),
        _ => b"/v1/chat/completions".to_vec(),
    };
    let mut h: Vec<(String, Vec<u8>)> = vec![
        (":method".into(), method.to_vec()),
        (":path".into(), path),
        (":authority".into(), b"gateway.local".to_vec()),
        (":scheme".into(), b"http".to_vec()),
    ];
    for _ in 0..rng.below(6) {
        let (k, v): (&str, Vec<u8>) = match rng.below(12) {
            0 => ("content-length", body_len.to_string().into_bytes()),
            1 => ("content-length", b"99999999999999999999".to_vec()),
            2 => ("content-length", b"abc".to_vec()),
            3 => ("authorization", b"Bearer client-secret".to_vec()),
            4 => ("x-api-key", b"client-key".to_vec()),
            5 => ("x-llm-cluster", b"evil".to_vec()),
            6 => ("content-type", b"text/plain".to_vec()),
            7 => ("x-weird", b"\xff\xfe\x80".to_vec()),
            8 => ("x-long", vec![b'v'; 4096]),
            9 => ("accept-encoding", b"gzip".to_vec()),
            10 => ("content-length", (body_len + 1).to_string().into_bytes()),
            _ => ("anthropic-version", b"1999-01-01".to_vec()),
        };
        h.push((k.to_string(), v));
    }
    if rng.chance(3) {
        h.push(("content-length".into(), body_len.to_string().into_bytes()));
    }
    h
}

#[derive(Default)]
struct Stats {
    forwarded: usize,
    replied: usize,
    passed_through: usize,
    responses: usize,
}

fn check_local_reply(req: &Request<'_>, what: &str) {
    let reply = req.local_reply().unwrap();
    assert!(
        (200..600).contains(&reply.status),
        "{what}: local reply status {}",
        reply.status
    );
    let body: Value = serde_json::from_slice(&reply.body)
        .unwrap_or_else(|e| panic!("{what}: local reply is not JSON ({e}): {:?}", reply.body));
    if reply.status >= 400 {
        assert!(
            body["error"]["message"].is_string(),
            "{what}: not an OpenAI error: {body}"
        );
        assert!(body["error"]["type"].is_string(), "{what}: {body}");
    }
    assert_eq!(
        reply.headers.get("content-type").as_deref(),
        Some("application/json"),
        "{what}"
    );
}

fn one(vm: &mut Vm, rng: &mut XorShift, stats: &mut Stats, iteration: usize) {
    let seed = SEEDS[rng.below(SEEDS.len())].as_bytes();
    let body = match rng.below(20) {
        0..=4 => seed.to_vec(),
        5..=16 => mutate(rng, seed),
        17 => (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
        _ => Vec::new(),
    };
    let what = format!(
        "iteration {iteration} body {:?}",
        String::from_utf8_lossy(&body)
    );
    let headers = request_headers(rng, body.len());
    let hs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    let mut req = vm.request().unwrap();
    let a = req
        .send_request_headers(&hs, body.is_empty())
        .unwrap_or_else(|e| panic!("{what}: {e:#}"));
    if !body.is_empty() && a != Action::NotCalled {
        let parts = chunks(rng, &body);
        let last = parts.len() - 1;
        for (i, c) in parts.iter().enumerate() {
            let a = req
                .send_request_body(c, i == last)
                .unwrap_or_else(|e| panic!("{what}: {e:#}"));
            if a == Action::NotCalled {
                break;
            }
        }
    }

    let gateway = req
        .request_headers_now()
        .and_then(|h| h.get(":path"))
        .is_some_and(|p| p.starts_with("/v1/"));
    if req.local_reply().is_some() {
        stats.replied += 1;
        check_local_reply(&req, &what);
        assert!(req.upstream_request_headers().is_none(), "{what}");
    } else if let Some(up) = req.upstream_request_headers().cloned() {
        assert!(
            req.upstream_request_complete()
                || !req.upstream_request_body().is_empty()
                || body.is_empty(),
            "{what}: stuck"
        );
        assert!(
            up.get("x-llm-cluster")
                .is_none_or(|c| c == "ca" || c == "co"),
            "{what}: client-chosen cluster leaked: {up:?}"
        );
        if up.contains("x-llm-cluster") {
            stats.forwarded += 1;
            let sent = req.upstream_request_body();
            assert_eq!(
                up.get("content-length"),
                Some(sent.len().to_string()),
                "{what}: content-length does not match the body sent"
            );
            assert!(
                up.get("authorization")
                    .is_none_or(|a| a == "Bearer test-key"),
                "{what}: {up:?}"
            );
            assert!(
                up.get("x-api-key").is_none_or(|a| a == "test-key"),
                "{what}: {up:?}"
            );
            assert!(!up.contains("accept-encoding"), "{what}");
            serde_json::from_slice::<Value>(sent)
                .unwrap_or_else(|e| panic!("{what}: upstream body is not JSON: {e}"));
            assert!(req.route_cache_clears() >= 1, "{what}");
        } else {
            assert!(!gateway, "{what}: a /v1/ request went upstream unrouted");
            stats.passed_through += 1;
        }
    } else {
        panic!("{what}: neither forwarded nor answered");
    }

    if req.upstream_request_complete() && rng.below(10) != 0 {
        stats.responses += 1;
        let status = [
            "200", "200", "200", "200", "400", "429", "500", "529", "", "abc",
        ][rng.below(10)];
        let ctype = [
            "text/event-stream",
            "application/json",
            "",
            "text/event-stream; charset=utf-8",
        ][rng.below(4)];
        let answers: [&str; 6] = [
            ANTHROPIC_JSON,
            ANTHROPIC_SSE,
            OPENAI_JSON,
            OPENAI_SSE,
            ERROR_JSON,
            "",
        ];
        let answer = answers[rng.below(answers.len())].as_bytes();
        let answer = if rng.chance(3) {
            answer.to_vec()
        } else {
            mutate(rng, answer)
        };
        // A consistent upstream: its content-length (if any) is what it sends.
        let eos = answer.is_empty() || rng.chance(25);
        let answer = if eos { Vec::new() } else { answer };
        let mut rh = vec![
            (":status", status.to_string()),
            ("content-type", ctype.to_string()),
        ];
        if rng.chance(2) {
            rh.push(("content-length", answer.len().to_string()));
        }
        let a = req
            .send_response_headers(&rh, eos)
            .unwrap_or_else(|e| panic!("{what}: {e:#}"));
        if !eos && a != Action::NotCalled {
            let parts = chunks(rng, &answer);
            let last = parts.len() - 1;
            let trailers = rng.chance(50);
            for (i, c) in parts.iter().enumerate() {
                req.send_response_body(c, i == last && !trailers)
                    .unwrap_or_else(|e| panic!("{what}: {e:#}"));
            }
            if trailers {
                req.send_response_trailers(&[("grpc-status", "0")])
                    .unwrap_or_else(|e| panic!("{what}: {e:#}"));
            }
        }
        if req.response_complete() {
            let h = req.response_headers().unwrap();
            if let Some(len) = h.get("content-length") {
                assert_eq!(
                    len,
                    req.response_body().len().to_string(),
                    "{what}: response content-length does not match the body the client got"
                );
            }
            if gateway && req.local_reply().is_none() {
                assert!(h.contains("x-llm-provider"), "{what}: {h:?}");
            }
        }
    }
    assert!(req.warnings().is_empty(), "{what}: {:?}", req.warnings());
    req.finish().unwrap_or_else(|e| panic!("{what}: {e:#}"));
    req.close().unwrap();
}

#[test]
fn fuzz_the_wasm_never_traps() {
    let iterations: usize = std::env::var("WASM_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2500);
    let seed: u64 = std::env::var("WASM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let host = Host::new().unwrap();
    let mut vms: Vec<Vm> = (0..2)
        .map(|_| {
            let vm = host
                .vm(&crate::common::filter_wasm(), CONFIG, &[("K", "test-key")])
                .unwrap();
            assert!(vm.configure(), "{:?}", host.logs());
            vm
        })
        .collect();
    let mut rng = XorShift(seed);
    let mut stats = Stats::default();
    for i in 0..iterations {
        let vm = &mut vms[i % 2];
        one(vm, &mut rng, &mut stats, i);
        host.advance_clock(std::time::Duration::from_millis(7));
    }
    for vm in &vms {
        assert!(vm.failure().is_none());
    }
    eprintln!(
        "{iterations} iterations: {} forwarded, {} local replies, {} passed through, {} responses",
        stats.forwarded, stats.replied, stats.passed_through, stats.responses
    );
    // Both paths must be exercised for the test to mean anything.
    assert!(
        stats.forwarded > iterations / 10,
        "forwarded {}",
        stats.forwarded
    );
    assert!(stats.replied > iterations / 10, "replied {}", stats.replied);
}
