//! Traces, the access-log value and the GenAI histograms through the whole flow.

use std::rc::Rc;

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::{FakeHost, Host};
use crate::state::Worker;
use crate::telemetry::histogram::{DURATION, INPUT_TOKENS};
use crate::telemetry::series;
use crate::telemetry::span::Value;
use crate::telemetry::trace_context::hex;

fn cfg() -> Rc<Config> {
    let doc = br#"{
      "providers": [{"name":"oa","kind":"openai","cluster":"oa_c","api_key_env":"OA"}],
      "models": [{"name":"gpt-4.1","targets":[{"provider":"oa","model":"gpt-4.1-2025"}]}],
      "traces": {"cluster": "otel", "max_queue": 8}
    }"#;
    Rc::new(parse(doc, &|_| Some("sk-oa".to_string())).unwrap())
}

const ANSWER: &[u8] = br#"{"id":"c","object":"chat.completion","model":"gpt-4.1-2025","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}"#;

fn exchange(h: &mut FakeHost, worker: &Rc<Worker>) -> Exchange {
    let cfg = cfg();
    let mut x = Exchange::new(cfg, worker.clone());
    assert_eq!(x.on_request_headers(h, false), Action::Pause);
    let n = h.request_body.len();
    x.on_request_body(h, n, true);
    x
}

#[test]
fn a_call_becomes_a_span_in_the_callers_trace_with_genai_attributes() {
    let worker = Rc::new(Worker::default());
    let mut h = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", "/v1/chat/completions"),
        ("x-request-id", "rid-1"),
        (
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
    ]);
    h.request_body = br#"{"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}]}"#.to_vec();
    h.randoms.push_back(0x1122_3344_5566_7788);
    h.now_ms = 1_000;
    let mut x = exchange(&mut h, &worker);
    // The provider's request carries the gateway's span as its parent.
    let tp = h.request_header("traceparent").unwrap();
    assert_eq!(
        tp,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-1122334455667788-01"
    );
    h.response_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), "application/json".into()),
    ];
    h.response_body = ANSWER.to_vec();
    x.on_response_headers(&mut h, false);
    h.now_ms = 1_250;
    x.on_response_body(&mut h, ANSWER.len(), true);
    x.on_log(&mut h);

    let spans = worker.span_queue().borrow_mut().take(10);
    let [span] = spans.as_slice() else {
        panic!("one span: {spans:?}")
    };
    assert_eq!(hex(&span.ctx.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(
        span.ctx.parent.map(|p| hex(&p)).as_deref(),
        Some("00f067aa0ba902b7")
    );
    assert_eq!(span.name, "chat gpt-4.1");
    assert_eq!(
        (span.start_ms, span.end_ms, span.error),
        (1_000, 1_250, false)
    );
    let attr = |k: &str| {
        span.attributes
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.clone())
    };
    let s = |v: &str| Some(Value::Str(v.into()));
    assert_eq!(attr("gen_ai.operation.name"), s("chat"));
    assert_eq!(attr("gen_ai.provider.name"), s("openai"));
    assert_eq!(attr("gen_ai.request.model"), s("gpt-4.1"));
    assert_eq!(attr("gen_ai.response.model"), s("gpt-4.1-2025"));
    assert_eq!(attr("gen_ai.usage.input_tokens"), Some(Value::Int(7)));
    assert_eq!(attr("gen_ai.usage.output_tokens"), Some(Value::Int(2)));
    assert_eq!(attr("error.type"), None);
    assert_eq!(
        attr("gen_ai.response.finish_reasons"),
        Some(Value::Strs(vec!["stop".into()]))
    );
    assert_eq!(
        attr("llm.decision"),
        s("strategy=weighted candidates=1 attempts=1")
    );

    // The access-log value: the client's path, request id and model (a buffered answer
    // has no time to first token).
    let log = &h.log_fields["llm"];
    assert!(
        log.ends_with(
            " attempts=1 finish_reasons=stop path=/v1/chat/completions request_id=rid-1 request_model=gpt-4.1 \
             ttft_ms=- strategy=weighted candidates=1"
        ),
        "{log}"
    );

    // The histograms wait in the worker until its tick writes them.
    assert!(series::read_all(&h).is_empty());
    worker.flush(&mut h);
    let all = series::read_all(&h);
    let [(_, rec)] = all.as_slice() else {
        panic!("one series: {all:?}")
    };
    assert_eq!(rec.instrument(DURATION).1, 250_000); // microseconds
    assert_eq!(rec.instrument(INPUT_TOKENS).1, 7);
}

#[test]
fn a_refusal_logs_its_reason_and_no_span() {
    let worker = Rc::new(Worker::default());
    let mut h = FakeHost::with_request(&[(":method", "POST"), (":path", "/v1/chat/completions")]);
    h.request_body = br#"{"model":"unknown","messages":[{"role":"user","content":"hi"}]}"#.to_vec();
    h.randoms.extend([1, 2, 3]);
    let mut x = exchange(&mut h, &worker);
    assert_eq!(h.local_response.as_ref().map(|r| r.status), Some(404));
    x.on_log(&mut h);
    assert_eq!(
        h.log_fields["llm"],
        "status=404 error=model_not_found path=/v1/chat/completions request_id=- \
         request_model=- ttft_ms=- refused=model_not_found"
    );
    assert!(worker.span_queue().borrow().is_empty());
    assert_eq!(
        h.counters["llmgw.refusals_total.llm_endpoint./v1/chat/completions.reason.model_not_found.http_response_status_code.404"],
        1
    );
}
