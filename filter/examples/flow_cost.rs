//! Cost of one whole request through the gateway's core (headers, body, translation both
//! ways, accounting) against the in-memory host, natively: the filter's own work without V8
//! or Envoy. The same ~1 KB chat request as `./build.sh bench`. Run it under
//! `valgrind --tool=callgrind` to see where the instructions go.
//!   cargo run --release -p llm-gateway --example flow_cost [-- anthropic|openai [N]]

// Inputs are built as JSON values.
#![allow(clippy::disallowed_types)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::rc::Rc;
use std::time::Instant;

use llm_gateway::config::parse;
use llm_gateway::gateway::{Action, Exchange};
use llm_gateway::host::FakeHost;

const CONFIG: &str = r#"{
  "providers": [
    {"name":"openai","kind":"openai","cluster":"openai_mock","host":"api.openai.com","api_key_env":"K"},
    {"name":"anthropic","kind":"anthropic","cluster":"anthropic_mock","host":"api.anthropic.com","api_key_env":"K"}
  ],
  "models": [
    {"name":"gpt-4o-mini","targets":[{"provider":"openai","model":"gpt-4o-mini"}]},
    {"name":"claude-sonnet","targets":[{"provider":"anthropic","model":"claude-sonnet-4-5"}]}
  ]
}"#;

const ANTHROPIC_ANSWER: &str = r#"{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hello there, how can I help you today?"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":12}}"#;
const OPENAI_ANSWER: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, how can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":25,"completion_tokens":12,"total_tokens":37}}"#;

fn request(model: &str) -> Vec<u8> {
    let words = "the gateway reads an openai shaped request decides which provider serves it ";
    let text = words.repeat(860 / words.len() + 1);
    serde_json::to_vec(&serde_json::json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant. Answer briefly and precisely."},
            {"role": "user", "content": text.get(..860).unwrap()}
        ],
        "temperature": 0.7, "max_tokens": 1024, "user": "bench"
    }))
    .unwrap()
}

fn once(cfg: &Rc<llm_gateway::config::Config>, body: &[u8], answer: &[u8]) {
    let mut h = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", "/v1/chat/completions"),
        (":authority", "localhost"),
        ("content-type", "application/json"),
        ("content-length", &body.len().to_string()),
    ]);
    h.request_body = body.to_vec();
    let mut x = Exchange::new(cfg.clone(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    assert_eq!(
        x.on_request_body(&mut h, body.len(), true),
        Action::Continue
    );
    h.response_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), "application/json".into()),
        ("content-length".into(), answer.len().to_string()),
    ];
    h.response_body = answer.to_vec();
    assert_eq!(x.on_response_headers(&mut h, false), Action::Pause);
    assert_eq!(
        x.on_response_body(&mut h, answer.len(), true),
        Action::Continue
    );
    x.on_log(&mut h);
    assert!(h.local_response.is_none());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map_or("anthropic", String::as_str);
    let runs: u32 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let cfg = Rc::new(parse(CONFIG.as_bytes(), &|_| Some("sk-bench".to_string())).unwrap());
    let (body, answer) = match which {
        "anthropic" => (request("claude-sonnet"), ANTHROPIC_ANSWER),
        "openai" => (request("gpt-4o-mini"), OPENAI_ANSWER),
        other => panic!("unknown flow {other}: anthropic or openai"),
    };
    once(&cfg, &body, answer.as_bytes());
    let t = Instant::now();
    for _ in 0..runs {
        once(&cfg, &body, answer.as_bytes());
    }
    println!(
        "{which}: {:.2} µs per request (whole flow, in-memory host, {} byte request)",
        t.elapsed().as_secs_f64() * 1e6 / f64::from(runs),
        body.len()
    );
}
