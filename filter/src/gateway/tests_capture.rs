//! Content capture on spans (`traces.capture_content`), finish reasons and the time per
//! output chunk, through the whole flow.

use std::rc::Rc;

use super::capture::Capture;
use super::inbound::Endpoint;
use super::{Action, Exchange};
use crate::config::{parse, Config, Secret};
use crate::host::FakeHost;
use crate::state::Worker;
use crate::telemetry::content::TRUNCATED;
use crate::telemetry::histogram::PER_CHUNK;
use crate::telemetry::series;
use crate::telemetry::span::{Span, Value};
use crate::translate::finish::FinishReasons;

const AN_KEY: &str = "sk-ant-provider-0123456789";
const CLIENT_KEY: &str = "sk-client-abcdefgh";

fn cfg(traces: &str) -> Rc<Config> {
    let doc = format!(
        r#"{{
      "providers": [{{"name":"an","kind":"anthropic","cluster":"an_c","api_key_env":"AN"}}],
      "models": [{{"name":"claude","targets":[{{"provider":"an","model":"claude-x"}}]}}],
      "traces": {traces}
    }}"#
    );
    Rc::new(parse(doc.as_bytes(), &|_| Some(AN_KEY.to_string())).unwrap())
}

const ON: &str = r#"{"cluster":"otel","capture_content":true,"capture_max_bytes":512}"#;

/// One call: `body` to `path`, answered by `chunks` (one body callback each).
fn call(traces: &str, path: &str, body: &str, ctype: &str, chunks: &[&[u8]]) -> (Span, FakeHost) {
    let worker = Rc::new(Worker::default());
    let mut h = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", path),
        ("authorization", &format!("Bearer {CLIENT_KEY}")),
    ]);
    h.request_body = body.as_bytes().to_vec();
    h.randoms.extend([1, 2, 3]);
    h.now_ms = 1_000;
    let mut x = Exchange::new(cfg(traces), worker.clone());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let n = h.request_body.len();
    assert_eq!(x.on_request_body(&mut h, n, true), Action::Continue);
    h.response_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), ctype.into()),
    ];
    x.on_response_headers(&mut h, false);
    let whole: Vec<u8> = chunks.concat();
    for (i, c) in chunks.iter().enumerate() {
        h.now_ms += 30;
        let last = i + 1 == chunks.len();
        // A buffered answer is read whole at its end.
        h.response_body = if ctype == "application/json" {
            whole.clone()
        } else {
            c.to_vec()
        };
        let size = h.response_body.len();
        x.on_response_body(&mut h, size, last);
    }
    x.on_log(&mut h);
    worker.flush(&mut h);
    let spans = worker.span_queue().borrow_mut().take(10);
    let [span] = spans.as_slice() else {
        panic!("one span: {spans:?}")
    };
    (span.clone(), h)
}

fn attr(span: &Span, k: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|(n, _)| *n == k)
        .map(|(_, v)| v.clone())
}

fn json_attr(span: &Span, k: &str) -> serde_json::Value {
    match attr(span, k) {
        Some(Value::Str(s)) => serde_json::from_str(&s).unwrap(),
        other => panic!("{k}: {other:?}"),
    }
}

fn no_secret_anywhere(span: &Span) {
    for (k, v) in &span.attributes {
        let s = format!("{v:?}");
        for secret in [AN_KEY, CLIENT_KEY, "sk-ant-prov", "sk-client-a"] {
            assert!(!s.contains(secret), "{k} holds {secret}: {s}");
        }
    }
}

const ANTHROPIC_ANSWER: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Bonjour, monde"}],"stop_reason":"max_tokens","usage":{"input_tokens":9,"output_tokens":3}}"#;

#[test]
fn a_buffered_answer_is_captured_redacted_with_its_finish_reason() {
    let body = format!(
        r#"{{"model":"claude","messages":[{{"role":"system","content":"be brief"}},{{"role":"user","content":[{{"type":"text","text":"keys {AN_KEY} and {CLIENT_KEY}"}}]}}]}}"#
    );
    let (span, h) = call(
        ON,
        "/v1/chat/completions",
        &body,
        "application/json",
        &[ANTHROPIC_ANSWER.as_bytes()],
    );
    no_secret_anywhere(&span);
    assert_eq!(
        json_attr(&span, "gen_ai.input.messages"),
        serde_json::json!([
            {"role": "system", "parts": [{"type": "text", "content": "be brief"}]},
            {"role": "user", "parts": [{"type": "text", "content": "keys [REDACTED] and [REDACTED]"}]}
        ])
    );
    // Chat keeps its system message in the history: no separate instructions.
    assert_eq!(attr(&span, "gen_ai.system_instructions"), None);
    assert_eq!(
        json_attr(&span, "gen_ai.output.messages"),
        serde_json::json!([{"role": "assistant",
            "parts": [{"type": "text", "content": "Bonjour, monde"}], "finish_reason": "length"}])
    );
    assert_eq!(
        attr(&span, "gen_ai.response.finish_reasons"),
        Some(Value::Strs(vec!["length".into()]))
    );
    assert!(
        h.log_fields["llm"].contains(" finish_reasons=length "),
        "{}",
        h.log_fields["llm"]
    );
}

#[test]
fn without_capture_no_content_is_on_the_span() {
    let body = r#"{"model":"claude","messages":[{"role":"user","content":"hi"}]}"#;
    let (span, _) = call(
        r#"{"cluster":"otel"}"#,
        "/v1/chat/completions",
        body,
        "application/json",
        &[ANTHROPIC_ANSWER.as_bytes()],
    );
    for k in [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
    ] {
        assert_eq!(attr(&span, k), None, "{k}");
    }
    assert_eq!(
        attr(&span, "gen_ai.response.finish_reasons"),
        Some(Value::Strs(vec!["length".into()]))
    );
}

const EVENTS: &[&str] = &[
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"lo ✓\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":4}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
];

#[test]
fn a_stream_is_captured_from_what_the_client_reads_in_every_dialect() {
    // Events split mid-way: the capture reads whole events of the client's stream.
    let all = EVENTS.concat();
    let (a, b) = all.as_bytes().split_at(all.len() / 2 + 3);
    for (path, body) in [
        (
            "/v1/chat/completions",
            r#"{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
        ),
        (
            "/v1/messages",
            r#"{"model":"claude","max_tokens":9,"stream":true,"system":"sys","messages":[{"role":"user","content":"hi"}]}"#,
        ),
        (
            "/v1/responses",
            r#"{"model":"claude","stream":true,"instructions":"sys","input":"hi"}"#,
        ),
    ] {
        let (span, _) = call(ON, path, body, "text/event-stream", &[a, b, b""]);
        let out = json_attr(&span, "gen_ai.output.messages");
        assert_eq!(out[0]["parts"][0]["content"], "Hello ✓", "{path}: {out}");
        assert_eq!(out[0]["finish_reason"], "length", "{path}");
        assert_eq!(
            attr(&span, "gen_ai.response.finish_reasons"),
            Some(Value::Strs(vec!["length".into()])),
            "{path}"
        );
        let input = json_attr(&span, "gen_ai.input.messages");
        assert_eq!(input[0]["parts"][0]["content"], "hi", "{path}");
        if path != "/v1/chat/completions" {
            assert_eq!(
                json_attr(&span, "gen_ai.system_instructions"),
                serde_json::json!([{"type": "text", "content": "sys"}]),
                "{path}"
            );
        }
    }
}

#[test]
fn gaps_between_output_chunks_are_observed_after_the_first() {
    let body = r#"{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let worker_chunks: Vec<&[u8]> = EVENTS.iter().map(|e| e.as_bytes()).collect();
    let (_, h) = call(
        r#"{"cluster":"otel"}"#,
        "/v1/chat/completions",
        body,
        "text/event-stream",
        &worker_chunks,
    );
    let all = series::read_all(&h);
    let [(_, rec)] = all.as_slice() else {
        panic!("one series: {all:?}")
    };
    let (buckets, sum) = rec.instrument(PER_CHUNK);
    // One gap per chunk that wrote client output, after the first such chunk (a chunk
    // with nothing for the client, e.g. content_block_stop, widens the next gap).
    let n: u64 = buckets.iter().sum();
    assert!(n >= 3 && n < EVENTS.len() as u64, "{buckets:?}");
    assert!(
        sum >= n * 30_000 && sum <= 30_000 * (EVENTS.len() as u64 - 1),
        "{sum}"
    );
    assert_eq!(sum % 30_000, 0, "30 ms apart, in microseconds");
}

fn secrets() -> Vec<Secret> {
    vec![Secret::observed(AN_KEY)]
}

#[test]
fn a_long_prompt_is_capped_and_a_secret_across_the_cut_does_not_leak() {
    let cap = 300;
    let long = "é".repeat(1000);
    let body = format!(r#"{{"messages":[{{"role":"user","content":"{long}"}}]}}"#);
    let c = Capture::start(Endpoint::Chat, body.as_bytes(), cap, secrets()).unwrap();
    assert!(c.input.len() <= cap, "{}", c.input.len());
    let v: serde_json::Value = serde_json::from_str(&c.input).unwrap();
    let text = v[0]["parts"][0]["content"].as_str().unwrap();
    assert!(
        text.ends_with(TRUNCATED) && text.starts_with("ééé"),
        "{text}"
    );

    // A secret that starts just before the cap: redacted, not cut in half.
    for at in [250, 280, 299, 310] {
        let prompt = format!("{}{AN_KEY}{}", "a".repeat(at), "b".repeat(400));
        let body = format!(r#"{{"messages":[{{"role":"user","content":"{prompt}"}}]}}"#);
        let c = Capture::start(Endpoint::Chat, body.as_bytes(), cap, secrets()).unwrap();
        assert!(!c.input.contains("sk-ant"), "{at}: {}", c.input);
        assert!(c.input.len() <= cap);
    }
    // The answer too, however it is split.
    let mut c = Capture::start(Endpoint::Chat, b"{}", cap, secrets()).unwrap();
    let answer = format!(
        r#"{{"choices":[{{"index":0,"message":{{"role":"assistant","content":"{}{AN_KEY}"}}}}]}}"#,
        "z".repeat(290)
    );
    c.answer(answer.as_bytes());
    let out = c.output(&FinishReasons::of([Some("stop")])).unwrap();
    assert!(!out.contains("sk-ant") && out.len() <= cap, "{out}");
}

#[test]
fn responses_items_and_anthropic_system_parts_are_read() {
    let body = br#"{"instructions":"be kind","input":[
        {"role":"user","content":[{"type":"input_text","text":"one"},{"type":"input_image","image_url":"x"}]},
        {"type":"function_call_output","call_id":"c","output":"42"},
        {"role":"assistant","content":"two"}]}"#;
    let c = Capture::start(Endpoint::Responses, body, 1024, Vec::new()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&c.input).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            {"role": "user", "parts": [{"type": "text", "content": "one"}]},
            {"role": "assistant", "parts": [{"type": "text", "content": "two"}]}
        ])
    );
    let body =
        br#"{"system":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"messages":[]}"#;
    let c = Capture::start(Endpoint::Messages, body, 1024, Vec::new()).unwrap();
    assert_eq!(
        c.system.as_deref(),
        Some(r#"[{"type":"text","content":"a"},{"type":"text","content":"b"}]"#)
    );
    assert!(Capture::start(Endpoint::Embeddings, b"{}", 1024, Vec::new()).is_none());
}
