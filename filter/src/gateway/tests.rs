//! The whole gateway flow against the in-memory host.

use std::rc::Rc;

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::FakeHost;
use crate::state::{ledger, Worker};

fn cfg() -> Rc<Config> {
    let doc = br#"{
      "providers": [
        {"name":"oa","kind":"openai","cluster":"oa_c","host":"api.openai.com","api_key_env":"OA"},
        {"name":"an","kind":"anthropic","cluster":"an_c","api_key_env":"AN"}
      ],
      "models": [
        {"name":"gpt","targets":[{"provider":"oa","model":"gpt"}]},
        {"name":"mixed","targets":[{"provider":"oa","model":"gpt-x","weight":1},{"provider":"an","model":"claude","weight":1}]}
      ],
      "max_body_bytes": 1000,
      "health": {"failure_threshold": 2, "cooldown_ms": 1000}
    }"#;
    let env = |k: &str| match k {
        "OA" => Some("sk-oa".to_string()),
        "AN" => Some("sk-an".to_string()),
        _ => None,
    };
    Rc::new(parse(doc, &env).unwrap())
}

fn post(body: &str) -> FakeHost {
    let mut h = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", "/v1/chat/completions?x=1"),
        ("authorization", "Bearer client"),
        ("x-llm-cluster", "evil"),
        ("accept-encoding", "gzip"),
    ]);
    h.request_body = body.as_bytes().to_vec();
    h
}

/// Runs the request side; returns the exchange and the action of the body callback.
fn send(h: &mut FakeHost, cfg: &Rc<Config>) -> (Exchange, Action) {
    send_on(h, cfg, Default::default())
}

/// `send` on a given worker (exchanges that share batched state).
fn send_on(h: &mut FakeHost, cfg: &Rc<Config>, worker: Rc<Worker>) -> (Exchange, Action) {
    let mut x = Exchange::new(cfg.clone(), worker);
    assert_eq!(x.on_request_headers(h, false), Action::Pause);
    let n = h.request_body.len();
    assert_eq!(x.on_request_body(h, n, false), Action::Buffer);
    let a = x.on_request_body(h, n, true);
    (x, a)
}

/// How many times `name` occurs in `headers` (an add where a value existed shows twice).
fn occurrences(headers: &[(String, String)], name: &str) -> usize {
    headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .count()
}

#[test]
fn headers_are_added_when_new_and_replaced_when_present() {
    let cfg = cfg();
    let mut h = post(r#"{"model":"mixed","messages":[{"role":"user","content":"hi"}]}"#);
    // The client also sends a header the provider gets from the gateway.
    h.request_headers
        .push(("anthropic-version".into(), "1999-01-01".into()));
    h.request_headers.push((
        "content-type".into(),
        "application/json; charset=utf-8".into(),
    ));
    h.randoms.push_back(1); // the anthropic target
    let (mut x, a) = send(&mut h, &cfg);
    assert_eq!(a, Action::Continue);
    for (name, want) in [
        ("anthropic-version", "2023-06-01"),
        ("x-api-key", "sk-an"),
        ("x-llm-cluster", "an_c"),
        ("content-type", "application/json"),
    ] {
        assert_eq!(occurrences(&h.request_headers, name), 1, "{name}");
        assert_eq!(h.header(name).as_deref(), Some(want), "{name}");
    }
    // An upstream that already names a provider (another gateway behind this one).
    h.response_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), "application/json".into()),
        ("x-llm-provider".into(), "inner".into()),
    ];
    assert_eq!(x.on_response_headers(&mut h, false), Action::Pause);
    assert_eq!(occurrences(&h.response_headers, "x-llm-provider"), 1);
    assert_eq!(occurrences(&h.response_headers, "x-llm-model"), 1);
    let provider = h
        .response_headers
        .iter()
        .find(|(k, _)| k == "x-llm-provider");
    assert_eq!(provider.map(|(_, v)| v.as_str()), Some("an"));
}

fn respond(x: &mut Exchange, h: &mut FakeHost, status: &str, ctype: &str, body: &[u8]) -> Action {
    h.response_headers = vec![
        (":status".into(), status.into()),
        ("content-type".into(), ctype.into()),
        ("content-length".into(), body.len().to_string()),
    ];
    h.response_body = body.to_vec();
    let a = x.on_response_headers(h, false);
    if a == Action::Continue {
        return a; // streaming: the caller feeds chunks
    }
    assert_eq!(x.on_response_body(h, body.len(), true), Action::Continue);
    a
}

#[test]
fn anthropic_round_trip_rewrites_request_and_response() {
    let cfg = cfg();
    let mut h = post(r#"{"model":"mixed","messages":[{"role":"user","content":"hi"}]}"#);
    h.randoms.push_back(1); // weight 1+1: r=1 picks the second target (anthropic)
    let (mut x, a) = send(&mut h, &cfg);
    assert_eq!(a, Action::Continue);
    assert_eq!(h.header(":path").as_deref(), Some("/v1/messages"));
    assert_eq!(h.header("x-llm-cluster").as_deref(), Some("an_c"));
    assert_eq!(h.header("x-api-key").as_deref(), Some("sk-an"));
    assert_eq!(h.header("authorization"), None);
    assert_eq!(h.header("accept-encoding"), None);
    // One host call per header that changed, none for the others: the client's route
    // header at once, then authorization and accept-encoding removed, content-length,
    // content-type, x-api-key, anthropic-version, :path and the route header set.
    assert_eq!(h.header_writes, 9);
    let body: serde_json::Value = serde_json::from_slice(&h.request_body).unwrap();
    assert_eq!(body["model"], "claude");
    assert_eq!(
        h.header("content-length"),
        Some(h.request_body.len().to_string())
    );

    let answer = br#"{"id":"m1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"yo"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":2}}"#;
    assert_eq!(
        respond(&mut x, &mut h, "200", "application/json", answer),
        Action::Pause
    );
    let out: serde_json::Value = serde_json::from_slice(&h.response_body).unwrap();
    assert_eq!(out["choices"][0]["message"]["content"], "yo");
    assert_eq!(out["usage"]["total_tokens"], 5);
    let resp_len = h
        .response_headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.clone());
    assert_eq!(resp_len, Some(h.response_body.len().to_string()));
    assert!(h
        .response_headers
        .contains(&("x-llm-provider".to_string(), "an".to_string())));
    x.on_log(&mut h);
    x.on_log(&mut h); // accounted once only
    let key = crate::state::keys::usage("mixed", "an", "claude");
    assert_eq!(ledger::read(&h, &key), Some([1, 3, 2, 0, 0]));
    assert_eq!(
        h.counters["llmgw.requests_total.gen_ai_operation_name.chat.gen_ai_provider_name.anthropic\
                    .llm_provider.an.gen_ai_request_model.mixed.gen_ai_response_model.claude.llm_key.none"],
        1
    );
}

#[test]
fn openai_same_model_body_is_untouched() {
    let cfg = cfg();
    let raw = r#"{ "model" : "gpt", "messages":[{"role":"user","content":"hi"}], "x_custom": [1]}"#;
    let mut h = post(raw);
    let (_, a) = send(&mut h, &cfg);
    assert_eq!(a, Action::Continue);
    assert_eq!(h.request_body, raw.as_bytes());
    assert_eq!(h.header("authorization").as_deref(), Some("Bearer sk-oa"));
    assert_eq!(h.header(":authority").as_deref(), Some("api.openai.com"));
    assert_eq!(h.header(":path").as_deref(), Some("/v1/chat/completions"));
}

#[test]
fn local_errors() {
    let cfg = cfg();
    // unknown model
    let mut h = post(r#"{"model":"nope","messages":[{"role":"user","content":"hi"}]}"#);
    let (_, a) = send(&mut h, &cfg);
    assert_eq!(a, Action::Pause);
    assert_eq!(h.local_response.as_ref().unwrap().status, 404);
    // too large by content-length: read to the end (dropped as it comes), then refused,
    // so that a client writing the whole body first still reads the 413
    let mut h = post(&"x".repeat(1500));
    h.request_headers
        .push(("content-length".into(), "1500".into()));
    let mut x = Exchange::new(cfg.clone(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    assert!(h.local_response.is_none());
    h.request_body = vec![b'x'; 700];
    assert_eq!(x.on_request_body(&mut h, 700, false), Action::Buffer);
    assert!(h.request_body.is_empty(), "drained, not buffered");
    assert!(h.local_response.is_none());
    h.request_body = vec![b'x'; 800];
    assert_eq!(x.on_request_body(&mut h, 800, true), Action::Pause);
    assert_eq!(h.local_response.as_ref().unwrap().status, 413);
    // far too large to be worth reading: refused at once
    let mut h = post("{}");
    h.request_headers
        .push(("content-length".into(), "5000".into()));
    let mut x = Exchange::new(cfg.clone(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    assert_eq!(h.local_response.as_ref().unwrap().status, 413);
    // too large while buffering (no content-length): drained, refused at the end
    let mut h = post(&"x".repeat(1001));
    let mut x = Exchange::new(cfg.clone(), Default::default());
    x.on_request_headers(&mut h, false);
    assert_eq!(x.on_request_body(&mut h, 1001, false), Action::Buffer);
    assert!(h.local_response.is_none());
    assert_eq!(x.on_request_body(&mut h, 0, true), Action::Pause);
    assert_eq!(h.local_response.as_ref().unwrap().status, 413);
    // trailers end the body (Envoy's decompressor adds some): it is forwarded then
    let mut h = post(r#"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#);
    let mut x = Exchange::new(cfg.clone(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let n = h.request_body.len();
    assert_eq!(x.on_request_body(&mut h, n, false), Action::Buffer);
    assert_eq!(x.on_request_trailers(&mut h), Action::Continue);
    assert_eq!(h.header("x-llm-cluster").as_deref(), Some("oa_c"));
    // a compressed body the gateway cannot read: 415, never forwarded
    let mut h = post(r#"{"model":"gpt","messages":[]}"#);
    h.request_headers
        .push(("content-encoding".into(), "gzip".into()));
    let mut x = Exchange::new(cfg.clone(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let reply = h.local_response.as_ref().unwrap();
    assert_eq!(reply.status, 415);
    assert!(String::from_utf8_lossy(&reply.body).contains("content-encoding gzip"));
    // other paths pass through, but never with a client-chosen cluster
    let mut h = FakeHost::with_request(&[(":path", "/healthz"), ("x-llm-cluster", "evil")]);
    let mut x = Exchange::new(cfg, Default::default());
    assert_eq!(x.on_request_headers(&mut h, true), Action::Continue);
    assert_eq!(h.header("x-llm-cluster"), None);
    assert!(h.local_response.is_none());
}

#[test]
fn failures_cool_a_target_down_in_shared_data() {
    let cfg = cfg();
    let mut shared = FakeHost::default().shared;
    let mut go = |random: u64, status: &str, now: u64| -> String {
        let mut h = post(r#"{"model":"mixed","messages":[{"role":"user","content":"hi"}]}"#);
        h.shared = std::mem::take(&mut shared);
        h.cas_counter = 1000;
        h.now_ms = now;
        h.randoms.push_back(random);
        let (mut x, _) = send(&mut h, &cfg);
        let cluster = h.header("x-llm-cluster").unwrap();
        respond(&mut x, &mut h, status, "application/json", b"{}");
        x.on_log(&mut h);
        shared = std::mem::take(&mut h.shared);
        cluster
    };
    // random 0 picks the OpenAI target while it is healthy
    assert_eq!(go(0, "503", 10), "oa_c");
    assert_eq!(go(0, "503", 20), "oa_c");
    // two failures: cooling down until 1020, so random 0 now lands on anthropic
    assert_eq!(go(0, "200", 30), "an_c");
    assert_eq!(go(0, "200", 1019), "an_c");
    // half-open after the cool-down
    assert_eq!(go(0, "200", 1020), "oa_c");
    assert_eq!(go(0, "200", 1021), "oa_c");
}

#[test]
fn streaming_anthropic_is_rewritten_chunk_by_chunk() {
    let cfg = cfg();
    let mut h = post(
        r#"{"model":"mixed","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#,
    );
    h.randoms.push_back(1);
    let (mut x, _) = send(&mut h, &cfg);
    assert_eq!(
        respond(
            &mut x,
            &mut h,
            "200",
            "text/event-stream; charset=utf-8",
            b""
        ),
        Action::Continue
    );
    assert!(!h
        .response_headers
        .iter()
        .any(|(k, _)| k == "content-length"));
    let events = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"claude\",\"usage\":{\"input_tokens\":4,\"output_tokens\":1}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"A\"}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":6}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    )
    .as_bytes();
    let mut client = Vec::new();
    for (i, chunk) in events.chunks(10).enumerate() {
        h.response_body = chunk.to_vec();
        let last = (i + 1) * 10 >= events.len();
        assert_eq!(
            x.on_response_body(&mut h, chunk.len(), last),
            Action::Continue
        );
        client.extend_from_slice(&h.response_body);
    }
    let text = String::from_utf8(client).unwrap();
    assert!(text.contains("\"content\":\"A\""), "{text}");
    assert!(text.contains("\"finish_reason\":\"stop\""));
    assert!(text.contains("\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":6"));
    assert!(text.ends_with("data: [DONE]\n\n"));
    x.on_log(&mut h);
    let key = crate::state::keys::usage("mixed", "an", "claude");
    assert_eq!(ledger::read(&h, &key), Some([1, 4, 6, 0, 0]));
}

#[test]
fn upstream_garbage_becomes_502_with_new_length() {
    let cfg = cfg();
    let mut h = post(r#"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#);
    let (mut x, _) = send(&mut h, &cfg);
    respond(&mut x, &mut h, "200", "application/json", b"<html>");
    let status = h
        .response_headers
        .iter()
        .find(|(k, _)| k == ":status")
        .map(|(_, v)| v.clone());
    assert_eq!(status.as_deref(), Some("502"));
    let v: serde_json::Value = serde_json::from_slice(&h.response_body).unwrap();
    assert_eq!(v["error"]["code"], "bad_upstream_response");
    x.on_log(&mut h);
    assert_eq!(
        ledger::read(&h, &crate::state::keys::usage("gpt", "oa", "gpt")),
        Some([1, 0, 0, 1, 0])
    );
}

#[test]
fn batched_usage_is_written_once_per_interval_and_adds_up() {
    let doc = br#"{
      "providers": [{"name":"an","kind":"anthropic","cluster":"an_c","api_key_env":"AN"}],
      "models": [{"name":"c","targets":[{"provider":"an","model":"claude"}]}],
      "usage_flush_ms": 1000
    }"#;
    let cfg = Rc::new(parse(doc, &|_| Some("sk-an".to_string())).unwrap());
    let answer = br#"{"id":"m1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"yo"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":2}}"#;
    let key = crate::state::keys::usage("c", "an", "claude");
    let requests = "llmgw.requests_total.gen_ai_operation_name.chat.gen_ai_provider_name.anthropic\
                    .llm_provider.an.gen_ai_request_model.c.gen_ai_response_model.claude.llm_key.none";
    let mut shared = FakeHost::default().shared;
    let mut counters = FakeHost::default().counters;
    let worker = Rc::new(Worker::default());
    for (i, now) in [0u64, 400, 999, 1000, 1500].into_iter().enumerate() {
        let mut h = post(r#"{"model":"c","messages":[{"role":"user","content":"hi"}]}"#);
        h.shared = std::mem::take(&mut shared);
        h.counters = std::mem::take(&mut counters);
        h.now_ms += now;
        let (mut x, _) = send_on(&mut h, &cfg, worker.clone());
        respond(&mut x, &mut h, "200", "application/json", answer);
        x.on_log(&mut h);
        let written = ledger::read(&h, &key).map(|c| c[0]);
        match i {
            // The first three wait in the worker (the ledger key exists only once written).
            0..=2 => assert_eq!(written, None, "request {i}"),
            // 1000 ms after the first: all four written at once, with their tokens.
            3 => {
                assert_eq!(ledger::read(&h, &key), Some([4, 12, 8, 0, 0]));
                assert_eq!(h.counters[requests], 4);
            }
            // The fifth waits again (until the tick or the next interval).
            _ => assert_eq!(written, Some(4)),
        }
        shared = h.shared;
        counters = h.counters;
    }
    let mut h = FakeHost {
        shared,
        counters,
        ..FakeHost::default()
    };
    worker.flush(&mut h); // the root context's tick
    assert_eq!(ledger::read(&h, &key), Some([5, 15, 10, 0, 0]));
    assert_eq!(h.counters[requests], 5);
}
