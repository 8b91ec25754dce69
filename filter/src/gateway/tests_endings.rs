//! How answers end: abandoned and cut streams, cut and empty bodies, answers of the
//! wrong kind. Each is charged for what the provider produced and counted as an error.

use std::rc::Rc;

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::FakeHost;
use crate::state::ledger;
use serde_json::Value;

fn cfg() -> Rc<Config> {
    let doc = br#"{
      "providers": [
        {"name":"oa","kind":"openai","cluster":"oa_c","api_key_env":"K"},
        {"name":"an","kind":"anthropic","cluster":"an_c","api_key_env":"K"},
        {"name":"ge","kind":"gemini","cluster":"ge_c","api_key_env":"K"}
      ],
      "models": [
        {"name":"gpt","targets":[{"provider":"oa","model":"gpt"}]},
        {"name":"claude","targets":[{"provider":"an","model":"claude"}]},
        {"name":"gem","targets":[{"provider":"ge","model":"gem"}]}
      ]
    }"#;
    Rc::new(parse(doc, &|_| Some("sk-test".to_string())).unwrap())
}

/// One message of 2 characters: the prompt estimate is 1 + 4 per message = 5 tokens.
const PROMPT_ESTIMATE: u64 = 5;

fn start(path: &str, model: &str, stream: bool) -> (Exchange, FakeHost) {
    let body = format!(
        r#"{{"model":"{model}","stream":{stream},"max_tokens":50,"messages":[{{"role":"user","content":"hi"}}]}}"#
    );
    let mut h = FakeHost::with_request(&[(":method", "POST"), (":path", path)]);
    h.request_body = body.into_bytes();
    let mut x = Exchange::new(cfg(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let n = h.request_body.len();
    assert_eq!(x.on_request_body(&mut h, n, true), Action::Continue);
    (x, h)
}

fn headers(h: &mut FakeHost, status: &str, ctype: &str) {
    h.response_headers = vec![
        (":status".into(), status.into()),
        ("content-type".into(), ctype.into()),
    ];
}

/// The upstream's response headers (not the end of the answer) reach the filter, which
/// answers `want`.
fn respond(x: &mut Exchange, h: &mut FakeHost, status: &str, ctype: &str, want: Action) {
    headers(h, status, ctype);
    assert_eq!(x.on_response_headers(h, false), want);
}

/// A 200 JSON answer whose first 400 bytes arrive (held: not the end of it).
fn held_400_bytes(x: &mut Exchange, h: &mut FakeHost) {
    respond(x, h, "200", "application/json", Action::Pause);
    h.response_body = vec![b' '; 400];
    assert_eq!(x.on_response_body(h, 400, false), Action::Buffer);
}

/// What the ledger charged `model` served by `provider`'s `upstream`.
fn charged(h: &FakeHost, model: &str, provider: &str, upstream: &str) -> Option<[u64; 5]> {
    ledger::read(h, &crate::state::keys::usage(model, provider, upstream))
}

/// `gpt` charged the prompt estimate and `completion` estimated tokens, as an
/// incomplete answer.
fn gpt_charged_as_incomplete(h: &FakeHost, completion: u64) {
    assert_eq!(
        charged(h, "gpt", "oa", "gpt"),
        Some([1, PROMPT_ESTIMATE, completion, 1, 0])
    );
    assert!(log(h).contains("usage=estimated"));
    assert_eq!(errors(h, "gpt", "oa", "gpt", "incomplete"), 1);
}

/// Anthropic's stream start (30 prompt tokens) and 100 characters of text, no end.
fn anthropic_partial_stream() -> [String; 2] {
    let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"claude\",\"usage\":{\"input_tokens\":30,\"output_tokens\":1}}}\n\n";
    let text = format!(
        "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{}\"}}}}\n\n",
        "x".repeat(100)
    );
    [start.to_string(), text]
}

/// Feeds `chunks` (the last one with end of stream when `eos`); returns what the client got.
fn feed(x: &mut Exchange, h: &mut FakeHost, chunks: &[&str], eos: bool) -> String {
    let mut client = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        h.response_body = c.as_bytes().to_vec();
        let last = eos && i + 1 == chunks.len();
        x.on_response_body(h, c.len(), last);
        client.extend_from_slice(&h.response_body);
    }
    String::from_utf8(client).unwrap()
}

fn content_type(h: &FakeHost) -> Option<String> {
    header(h, "content-type")
}

fn header(h: &FakeHost, name: &str) -> Option<String> {
    h.response_headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn counter(h: &FakeHost, base: &str, model: &str, provider: &str, upstream: &str) -> u64 {
    use crate::usage::metrics as m;
    m::sum_counter(
        &h.counters,
        base,
        &[
            (m::MODEL, model),
            (m::LLM_PROVIDER, provider),
            (m::RESPONSE_MODEL, upstream),
            (m::KEY, "none"),
        ],
    )
}

fn errors(h: &FakeHost, model: &str, provider: &str, upstream: &str, kind: &str) -> u64 {
    use crate::usage::metrics as m;
    m::sum_counter(
        &h.counters,
        m::ERRORS,
        &[
            (m::MODEL, model),
            (m::LLM_PROVIDER, provider),
            (m::RESPONSE_MODEL, upstream),
            (m::ERROR_TYPE, kind),
        ],
    )
}

fn log(h: &FakeHost) -> String {
    h.log_fields.get("llm").cloned().unwrap_or_default()
}

fn openai_chunk(text: &str) -> String {
    format!(
        "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"finish_reason\":null}}]}}\n\n"
    )
}

#[test]
fn abandoned_openai_stream_pays_for_the_text_relayed() {
    let (mut x, mut h) = start("/v1/chat/completions", "gpt", true);
    respond(&mut x, &mut h, "200", "text/event-stream", Action::Continue);
    // 40 + 40 characters relayed, then the client hangs up: no end of stream.
    let a = openai_chunk(&"a".repeat(40));
    let b = openai_chunk(&"b".repeat(40));
    let got = feed(&mut x, &mut h, &[&a, &b], false);
    assert!(got.contains(&"b".repeat(40)), "{got}");
    x.on_log(&mut h);
    // prompt estimated, 80 characters = 20 completion tokens, an error.
    assert_eq!(
        charged(&h, "gpt", "oa", "gpt"),
        Some([1, PROMPT_ESTIMATE, 20, 1, 0])
    );
    assert!(log(&h).contains("usage=partial"), "{}", log(&h));
    assert_eq!(errors(&h, "gpt", "oa", "gpt", "incomplete"), 1);
    let estimated = counter(&h, "llmgw.estimated_usage_total", "gpt", "oa", "gpt");
    assert_eq!(estimated, 1);
}

/// An Anthropic stream the client abandons after 100 characters: charged the reported
/// prompt and the text relayed, as an error.
fn abandoned_anthropic_stream(path: &str) -> FakeHost {
    let (mut x, mut h) = start(path, "claude", true);
    respond(&mut x, &mut h, "200", "text/event-stream", Action::Continue);
    let [start, text] = anthropic_partial_stream();
    feed(&mut x, &mut h, &[&start, &text], false);
    x.on_log(&mut h);
    assert_eq!(
        charged(&h, "claude", "an", "claude"),
        Some([1, 30, 25, 1, 0])
    );
    h
}

#[test]
fn abandoned_anthropic_stream_keeps_the_reported_prompt() {
    let h = abandoned_anthropic_stream("/v1/chat/completions");
    assert!(log(&h).contains("usage=partial"));
}

#[test]
fn abandoned_messages_stream_is_charged_too() {
    // Anthropic-shaped client, Anthropic provider: events pass through unchanged.
    abandoned_anthropic_stream("/v1/messages");
}

#[test]
fn whole_stream_without_usage_is_estimated_from_its_text() {
    // Gemini without usageMetadata: complete, nothing reported.
    let (mut x, mut h) = start("/v1/chat/completions", "gem", true);
    respond(&mut x, &mut h, "200", "text/event-stream", Action::Continue);
    let ev = format!(
        "data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"{}\"}}]}},\"finishReason\":\"STOP\"}}]}}\n\n",
        "g".repeat(12)
    );
    let got = feed(&mut x, &mut h, &[&ev], true);
    assert!(got.ends_with("data: [DONE]\n\n"), "{got}");
    x.on_log(&mut h);
    assert_eq!(
        charged(&h, "gem", "ge", "gem"),
        Some([1, PROMPT_ESTIMATE, 3, 0, 0])
    );
    assert!(log(&h).contains("usage=estimated"));
}

#[test]
fn cut_buffered_answer_is_an_error_with_estimated_usage() {
    let (mut x, mut h) = start("/v1/chat/completions", "gpt", false);
    // 400 bytes arrive, then the upstream (or Envoy's buffer limit) ends it.
    held_400_bytes(&mut x, &mut h);
    x.on_log(&mut h);
    gpt_charged_as_incomplete(&h, 100);
    // No Envoy histograms at all (the GenAI ones are the worker's, see `telemetry`).
    assert!(h.histograms.is_empty());
}

#[test]
fn empty_answers_become_errors_in_the_clients_shape() {
    for (path, model, status, want) in [
        ("/v1/chat/completions", "gpt", "200", 502),
        ("/v1/chat/completions", "gpt", "204", 502),
        ("/v1/chat/completions", "gpt", "500", 500),
        ("/v1/chat/completions", "claude", "200", 502),
        ("/v1/messages", "claude", "200", 502),
        ("/v1/messages", "claude", "529", 529),
        ("/v1/messages", "gpt", "503", 503),
    ] {
        let (mut x, mut h) = start(path, model, false);
        h.response_headers = vec![(":status".into(), status.into())];
        assert_eq!(
            x.on_response_headers(&mut h, true),
            Action::Pause,
            "{path} {status}"
        );
        let reply = h.local_response.clone().unwrap();
        assert_eq!(reply.status, want, "{path} {model} {status}");
        let v: Value = serde_json::from_slice(&reply.body).unwrap();
        if path == "/v1/messages" {
            assert_eq!(v["type"], "error", "{v}");
        } else {
            assert!(v["error"]["message"].is_string(), "{v}");
        }
        assert!(reply
            .headers
            .contains(&("content-type".into(), "application/json".into())));
        x.on_log(&mut h);
        let provider = if model == "gpt" { "oa" } else { "an" };
        assert_eq!(
            charged(&h, model, provider, model),
            Some([1, 0, 0, 1, 0]),
            "{path} {status}"
        );
        assert_eq!(
            errors(&h, model, provider, model, "upstream"),
            1,
            "{status}"
        );
        assert!(log(&h).contains("usage=none"));
    }
}

#[test]
fn empty_error_body_for_messages_clients_gets_their_shape() {
    // A body callback with no bytes (chunked, nothing in it) rather than end of stream
    // on the headers.
    let (mut x, mut h) = start("/v1/messages", "claude", false);
    respond(&mut x, &mut h, "500", "text/plain", Action::Pause);
    h.response_body = Vec::new();
    x.on_response_body(&mut h, 0, true);
    let v: Value = serde_json::from_slice(&h.response_body).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "api_error");
    assert_eq!(content_type(&h).as_deref(), Some("application/json"));
}

#[test]
fn json_labelled_text_plain_goes_out_as_json() {
    let (mut x, mut h) = start("/v1/chat/completions", "gpt", false);
    let answer = br#"{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#;
    respond(&mut x, &mut h, "200", "text/plain", Action::Pause);
    h.response_body = answer.to_vec();
    x.on_response_body(&mut h, answer.len(), true);
    assert_eq!(h.response_body, answer);
    assert_eq!(content_type(&h).as_deref(), Some("application/json"));
}

#[test]
fn json_answer_to_a_stream_request_is_an_sse_error() {
    let answer = br#"{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#;
    for (path, model) in [("/v1/chat/completions", "gpt"), ("/v1/messages", "gpt")] {
        let (mut x, mut h) = start(path, model, true);
        respond(&mut x, &mut h, "200", "application/json", Action::Pause);
        h.response_body = answer.to_vec();
        x.on_response_body(&mut h, answer.len(), true);
        assert_eq!(content_type(&h).as_deref(), Some("text/event-stream"));
        assert_eq!(
            header(&h, "content-length"),
            Some(h.response_body.len().to_string())
        );
        let body = String::from_utf8(h.response_body.clone()).unwrap();
        if path == "/v1/messages" {
            assert!(
                body.starts_with("event: error\ndata: {\"type\":\"error\""),
                "{body}"
            );
        } else {
            assert!(body.starts_with("data: {\"error\":"), "{body}");
            assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
        }
        x.on_log(&mut h);
        // The provider's usage is still charged; the request is an error.
        assert_eq!(
            charged(&h, model, "oa", model),
            Some([1, 3, 1, 1, 0]),
            "{path}"
        );
        assert_eq!(errors(&h, model, "oa", model, "stream"), 1);
    }
}

#[test]
fn envoys_own_reply_to_an_undeliverable_answer_is_charged() {
    // Envoy held 400 bytes of a 200 answer, then gave up (upstream cut, or over its
    // buffer limit) and sends its own reply through the filter instead.
    let (mut x, mut h) = start("/v1/chat/completions", "gpt", false);
    held_400_bytes(&mut x, &mut h);
    respond(&mut x, &mut h, "500", "text/plain", Action::Pause);
    let text = b"Internal Server Error";
    h.response_body = text.to_vec();
    x.on_response_body(&mut h, text.len(), true);
    let v: Value = serde_json::from_slice(&h.response_body).unwrap();
    assert_eq!(v["error"]["type"], "api_error");
    x.on_log(&mut h);
    gpt_charged_as_incomplete(&h, 100);
}

#[test]
fn answer_shorter_than_its_content_length_is_cut() {
    let (mut x, mut h) = start("/v1/chat/completions", "gpt", false);
    h.response_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), "application/json".into()),
        ("content-length".into(), "800".into()),
    ];
    assert_eq!(x.on_response_headers(&mut h, false), Action::Pause);
    let half = br#"{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hel"#;
    h.response_body = half.to_vec();
    x.on_response_body(&mut h, half.len(), true);
    assert_eq!(header(&h, ":status").as_deref(), Some("502"));
    let v: Value = serde_json::from_slice(&h.response_body).unwrap();
    assert_eq!(v["error"]["code"], "bad_upstream_response");
    x.on_log(&mut h);
    let completion = (half.len() as u64).div_ceil(4);
    gpt_charged_as_incomplete(&h, completion);
}

#[test]
fn empty_429_keeps_a_plain_retry_after_only() {
    for (value, kept) in [
        ("7", Some("7")),
        ("99999999999999999999", None),
        ("soon", None),
    ] {
        let (mut x, mut h) = start("/v1/chat/completions", "gpt", false);
        h.response_headers = vec![
            (":status".into(), "429".into()),
            ("retry-after".into(), value.into()),
        ];
        assert_eq!(x.on_response_headers(&mut h, true), Action::Pause);
        let reply = h.local_response.clone().unwrap();
        assert_eq!(reply.status, 429);
        let got = reply
            .headers
            .iter()
            .find(|(k, _)| k == "retry-after")
            .map(|(_, v)| v.as_str());
        assert_eq!(got, kept, "{value}");
    }
}
