// Bench inputs are built as JSON values.
#![allow(clippy::disallowed_types)]
//! Native micro-benchmarks of the translators, per provider kind, with the standard harness
//! (no criterion): request translation (the ~1 KB chat request of `./build.sh bench`, parsed
//! and translated), response translation (a ~1 KB provider answer → OpenAI) and stream
//! rewriting (a 50-content-event provider stream → OpenAI SSE, fed in 256-byte network
//! chunks), plus `/v1/messages` to Anthropic (the passthrough). Reports µs per operation and
//! MB/s of input: the fastest of 5 timed batches (the median too). Used by `./build.sh
//! bench`; nothing here asserts time.
//!
//! ```text
//! cargo bench -p llm-gateway --bench translate -- [--quick] [--json PATH] [FILTER…]
//! ```
//! `--quick` (or `BENCH_QUICK=1`): ~20 ms per case instead of ~300 ms, for smoke runs.
//! Without `--bench` (`cargo test --benches`) every case is checked and timed for ~1 ms.
//! FILTER: only cases whose name contains one of the given strings (e.g. `bedrock`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use llm_gateway::api::openai::ChatRequest;
use llm_gateway::codec::eventstream;
use llm_gateway::config::{self, Config, Provider};
use llm_gateway::translate::{self, messages, ResponseMeta, StreamMapper, StreamSettings};
use serde_json::{json, Value};

const CREATED: u64 = 1_700_000_000;
/// 2023-11-14T22:13:20Z, for SigV4.
const NOW_MS: u64 = 1_700_000_000_000;
/// Network chunk size the streams are fed in.
const CHUNK: usize = 256;
/// Content events per stream (the mock's streamed answers have 50 too).
const EVENTS: usize = 50;

const CONFIG: &str = r#"{"providers":[
  {"name":"openai","kind":"openai","cluster":"c","host":"api.openai.com","api_key_env":"K"},
  {"name":"azure","kind":"azure","cluster":"c","host":"demo.openai.azure.com","api_key_env":"K"},
  {"name":"anthropic","kind":"anthropic","cluster":"c","host":"api.anthropic.com","api_key_env":"K"},
  {"name":"gemini","kind":"gemini","cluster":"c","api_key_env":"K"},
  {"name":"vertex","kind":"vertex","cluster":"c","api_key_env":"T","project":"demo-project","location":"us-central1"},
  {"name":"vertex_anthropic","kind":"vertex_anthropic","cluster":"c","api_key_env":"T","project":"demo-project","location":"us-east5"},
  {"name":"bedrock","kind":"bedrock","cluster":"c","region":"us-east-1",
   "access_key_id_env":"AK","secret_access_key_env":"SK","session_token_env":"ST"}],
 "allow_provider_model":true}"#;

fn env(k: &str) -> Option<String> {
    Some(
        match k {
            "K" => "sk-bench-key",
            "T" => "ya29.bench-token",
            "AK" => "AKIDEXAMPLE",
            "SK" => "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "ST" => "bench-session-token",
            _ => return None,
        }
        .to_string(),
    )
}

/// Provider name in [`CONFIG`], upstream model, wire dialect of its answers.
const PROVIDERS: &[(&str, &str, Dialect)] = &[
    ("openai", "gpt-4o-mini", Dialect::OpenAi),
    ("azure", "gpt-4o-prod", Dialect::OpenAi),
    ("anthropic", "claude-sonnet-4-5", Dialect::Anthropic),
    ("gemini", "gemini-2.5-flash", Dialect::Gemini),
    ("vertex", "gemini-2.5-pro", Dialect::Gemini),
    (
        "vertex_anthropic",
        "claude-sonnet-4-5@20250929",
        Dialect::Anthropic,
    ),
    (
        "bedrock",
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        Dialect::Bedrock,
    ),
];

#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    OpenAi,
    Anthropic,
    Gemini,
    Bedrock,
}

// ------------------------------------------------------------------------------ inputs

const SYSTEM: &str = "You are a helpful assistant. Answer briefly and precisely.";
const WORDS: &str = "the gateway reads an openai shaped request decides which provider serves it rewrites the body path and credentials translates the answer back counts tokens and keeps envoy doing what it does best";

/// `n` bytes of plain words (the bench's user message).
fn words(n: usize) -> String {
    let mut s = String::new();
    for w in WORDS.split(' ').cycle() {
        if s.len() >= n {
            break;
        }
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(w);
    }
    s
}

/// The ~1 KB chat request of `./build.sh bench` (bench/bench.py `bodies()`).
fn chat_request(model: &str, stream: bool) -> Vec<u8> {
    let mut body = json!({
        "model": model,
        "messages": [{"role": "system", "content": SYSTEM},
                     {"role": "user", "content": words(860)}],
        "temperature": 0.7, "max_tokens": 1024, "user": "bench"
    });
    if stream {
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
    }
    serde_json::to_vec(&body).unwrap()
}

/// The same request in Anthropic's shape, for `/v1/messages`.
fn messages_request() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "model": "claude-sonnet-4-5", "max_tokens": 1024, "system": SYSTEM,
        "messages": [{"role": "user", "content": words(860)}], "temperature": 0.7
    }))
    .unwrap()
}

/// The answer's text: ~800 bytes, so that every answer body is about 1 KB.
fn answer_text() -> String {
    words(800)
}

/// A non-streaming answer of `dialect` carrying [`answer_text`].
fn answer(dialect: Dialect, model: &str) -> Vec<u8> {
    let text = answer_text();
    let v = match dialect {
        Dialect::OpenAi => json!({
            "id": "chatcmpl-bench", "object": "chat.completion", "created": CREATED, "model": model,
            "system_fingerprint": "fp_bench",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null},
                         "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 220, "completion_tokens": 160, "total_tokens": 380,
                      "prompt_tokens_details": {"cached_tokens": 0}}
        }),
        Dialect::Anthropic => json!({
            "id": "msg_bench", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 220, "output_tokens": 160,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        }),
        Dialect::Gemini => json!({
            "candidates": [{"content": {"parts": [{"text": text}], "role": "model"},
                            "finishReason": "STOP", "avgLogprobs": -0.2}],
            "usageMetadata": {"promptTokenCount": 220, "candidatesTokenCount": 160,
                              "totalTokenCount": 380},
            "modelVersion": model, "responseId": "resp-bench"
        }),
        Dialect::Bedrock => json!({
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 220, "outputTokens": 160, "totalTokens": 380},
            "metrics": {"latencyMs": 523}
        }),
    };
    serde_json::to_vec(&v).unwrap()
}

/// The streamed answer's pieces: [`EVENTS`] words.
fn stream_words() -> Vec<String> {
    WORDS
        .split(' ')
        .cycle()
        .take(EVENTS)
        .map(|w| format!("{w} "))
        .collect()
}

fn sse(out: &mut Vec<u8>, event: Option<&str>, data: &Value) {
    if let Some(e) = event {
        out.extend_from_slice(format!("event: {e}\n").as_bytes());
    }
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(&serde_json::to_vec(data).unwrap());
    out.extend_from_slice(b"\n\n");
}

/// A provider stream with [`EVENTS`] content events plus the dialect's framing events.
fn stream_body(dialect: Dialect, model: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let words = stream_words();
    match dialect {
        Dialect::OpenAi => {
            let chunk = |delta: Value, finish: Value| {
                json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": CREATED,
                       "model": model, "system_fingerprint": "fp_bench",
                       "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
            };
            sse(
                &mut out,
                None,
                &chunk(json!({"role": "assistant", "content": ""}), Value::Null),
            );
            for w in &words {
                sse(&mut out, None, &chunk(json!({"content": w}), Value::Null));
            }
            sse(&mut out, None, &chunk(json!({}), json!("stop")));
            sse(
                &mut out,
                None,
                &json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": CREATED,
                        "model": model, "choices": [],
                        "usage": {"prompt_tokens": 220, "completion_tokens": EVENTS, "total_tokens": 220 + EVENTS}}),
            );
            out.extend_from_slice(b"data: [DONE]\n\n");
        }
        Dialect::Anthropic => {
            sse(
                &mut out,
                Some("message_start"),
                &json!({"type": "message_start", "message": {"id": "msg_bench", "type": "message",
                        "role": "assistant", "model": model, "content": [], "stop_reason": null,
                        "stop_sequence": null, "usage": {"input_tokens": 220, "output_tokens": 1}}}),
            );
            sse(
                &mut out,
                Some("content_block_start"),
                &json!({"type": "content_block_start", "index": 0,
                        "content_block": {"type": "text", "text": ""}}),
            );
            sse(&mut out, Some("ping"), &json!({"type": "ping"}));
            for w in &words {
                sse(
                    &mut out,
                    Some("content_block_delta"),
                    &json!({"type": "content_block_delta", "index": 0,
                            "delta": {"type": "text_delta", "text": w}}),
                );
            }
            sse(
                &mut out,
                Some("content_block_stop"),
                &json!({"type": "content_block_stop", "index": 0}),
            );
            sse(
                &mut out,
                Some("message_delta"),
                &json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                        "usage": {"output_tokens": EVENTS}}),
            );
            sse(
                &mut out,
                Some("message_stop"),
                &json!({"type": "message_stop"}),
            );
        }
        Dialect::Gemini => {
            for (i, w) in words.iter().enumerate() {
                let mut c = json!({"content": {"parts": [{"text": w}], "role": "model"}});
                let mut ev = json!({"modelVersion": model, "responseId": "resp-bench"});
                if i + 1 == words.len() {
                    c["finishReason"] = json!("STOP");
                    ev["usageMetadata"] = json!({"promptTokenCount": 220,
                        "candidatesTokenCount": EVENTS, "totalTokenCount": 220 + EVENTS});
                }
                ev["candidates"] = json!([c]);
                sse(&mut out, None, &ev);
            }
        }
        Dialect::Bedrock => {
            let mut ev = |kind: &str, payload: Value| {
                out.extend(eventstream::encode(
                    &[
                        (":event-type", kind),
                        (":content-type", "application/json"),
                        (":message-type", "event"),
                    ],
                    &serde_json::to_vec(&payload).unwrap(),
                ));
            };
            ev("messageStart", json!({"role": "assistant"}));
            for w in &words {
                ev(
                    "contentBlockDelta",
                    json!({"contentBlockIndex": 0, "delta": {"text": w}}),
                );
            }
            ev("contentBlockStop", json!({"contentBlockIndex": 0}));
            ev("messageStop", json!({"stopReason": "end_turn"}));
            ev(
                "metadata",
                json!({"usage": {"inputTokens": 220, "outputTokens": EVENTS, "totalTokens": 220 + EVENTS},
                       "metrics": {"latencyMs": 412}}),
            );
        }
    }
    out
}

// ------------------------------------------------------------------------------ timing

struct Opts {
    bench: bool,
    quick: bool,
    json: Option<String>,
    filters: Vec<String>,
}

fn opts() -> Opts {
    let mut o = Opts {
        bench: false,
        quick: std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0"),
        json: None,
        filters: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--json" => o.json = Some(args.next().expect("--json needs a path")),
            // What `cargo bench` passes to every bench target; `cargo test --benches` does not
            // and gets a check of every case with minimal timing.
            "--bench" => o.bench = true,
            "-h" | "--help" => {
                println!("translate [--quick] [--json PATH] [FILTER…]");
                std::process::exit(0);
            }
            s if s.starts_with('-') => {}
            s => o.filters.push(s.to_string()),
        }
    }
    o
}

/// One measured case.
struct Row {
    provider: String,
    op: &'static str,
    bytes: usize,
    iters: u64,
    us_per_op: f64,
    us_median: f64,
}

/// Times `f` for about `budget`: calibrates a batch size, then runs 5 batches and takes the
/// fastest (on a shared machine noise only adds time); also returns the median.
fn measure(budget: Duration, mut f: impl FnMut() -> usize) -> (u64, f64, f64) {
    black_box(f());
    let mut batch = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            black_box(f());
        }
        let el = t.elapsed();
        if el >= budget / 20 || batch >= 1 << 30 {
            let per = el.as_secs_f64() / batch as f64;
            batch = ((budget.as_secs_f64() / 5.0 / per.max(1e-9)) as u64).clamp(1, 1 << 30);
            break;
        }
        batch *= 2;
    }
    let mut samples: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                black_box(f());
            }
            t.elapsed().as_secs_f64() * 1e6 / batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    (batch * 5, samples[0], samples[2])
}

fn run_stream(mut m: Box<dyn StreamMapper>, input: &[u8]) -> (Vec<u8>, Box<dyn StreamMapper>) {
    let mut out = Vec::with_capacity(input.len() * 2);
    for chunk in input.chunks(CHUNK) {
        m.push(chunk, &mut out);
    }
    m.finish(&mut out);
    (out, m)
}

fn no_header(_: &str) -> Option<String> {
    None
}

fn provider<'a>(cfg: &'a Config, name: &str) -> &'a Provider {
    &cfg.providers[cfg.provider_index(name).unwrap()]
}

fn main() {
    let o = opts();
    let budget = Duration::from_millis(match (o.bench, o.quick) {
        (false, _) => 1,
        (true, true) => 20,
        (true, false) => 300,
    });
    let cfg = config::parse(CONFIG.as_bytes(), &env).expect("bench config");
    let settings = StreamSettings {
        client_wants_usage: true,
        created: CREATED,
    };
    let wanted = |name: &str| o.filters.is_empty() || o.filters.iter().any(|f| name.contains(f));
    let mut rows: Vec<Row> = Vec::new();
    let mut record = |provider: &str, op: &'static str, bytes: usize, r: (u64, f64, f64)| {
        println!(
            "{provider:>18} {op:<9} {:>9.2} µs/op {:>8.1} MB/s  (median {:.2} µs; {bytes} B in, {} iterations)",
            r.1,
            bytes as f64 / r.1,
            r.2,
            r.0
        );
        rows.push(Row {
            provider: provider.to_string(),
            op,
            bytes,
            iters: r.0,
            us_per_op: r.1,
            us_median: r.2,
        });
    };

    // The parse every chat request pays whatever the provider: the baseline of the rows below.
    let raw = chat_request("gpt-4o-mini", false);
    if wanted("parse") {
        let r = measure(budget, || {
            let req: ChatRequest = serde_json::from_slice(black_box(&raw)).unwrap();
            req.messages.len()
        });
        record("(parse only)", "request", raw.len(), r);
    }

    for &(name, model, dialect) in PROVIDERS {
        if !wanted(name) {
            continue;
        }
        let p = provider(&cfg, name);
        let meta = ResponseMeta {
            model,
            header: &no_header,
        };

        // Request: bytes → ChatRequest → provider request (signed for Bedrock).
        let raw = chat_request(model, false);
        let once = || {
            let req: ChatRequest = serde_json::from_slice(black_box(&raw)).unwrap();
            let up = translate::request(p, model, &req, &raw, NOW_MS).unwrap();
            up.body.as_ref().map_or(raw.len(), Vec::len) + up.path.len()
        };
        assert!(once() > 0);
        record(name, "request", raw.len(), measure(budget, once));

        // Response: provider answer → OpenAI answer and usage.
        let body = answer(dialect, model);
        let out = translate::response(p, 200, &body, CREATED, &meta).unwrap();
        assert!(out.usage.completion.is_some(), "{name}: no usage");
        record(
            name,
            "response",
            body.len(),
            measure(budget, || {
                let out = translate::response(p, 200, black_box(&body), CREATED, &meta).unwrap();
                out.body.map_or(body.len(), |b| b.len())
            }),
        );

        // Stream: 50 content events in 256-byte chunks → OpenAI SSE.
        let input = stream_body(dialect, model);
        let (out, m) = run_stream(translate::stream(p, settings, &meta), &input);
        let text = String::from_utf8_lossy(&out);
        assert!(
            !m.failed() && m.usage().completion.is_some() && text.ends_with("data: [DONE]\n\n"),
            "{name}: stream not understood:\n{text}"
        );
        record(
            name,
            "stream",
            input.len(),
            measure(budget, || {
                run_stream(translate::stream(p, settings, &meta), black_box(&input))
                    .0
                    .len()
            }),
        );
    }

    // `/v1/messages` to an Anthropic provider: parse, check, rewrite the model; answers and
    // events pass through while usage is read.
    if wanted("messages") {
        let p = provider(&cfg, "anthropic");
        let model = "claude-sonnet-4-5";
        let meta = ResponseMeta {
            model,
            header: &no_header,
        };
        let raw = messages_request();
        let once = || {
            let req = messages::parse(black_box(&raw)).unwrap();
            let (up, _) = messages::request(p, model, &req, &raw, NOW_MS).unwrap();
            up.body.map_or(raw.len(), |b| b.len())
        };
        assert!(once() > 0);
        let label = "messages→anthropic";
        record(label, "request", raw.len(), measure(budget, once));
        let body = answer(Dialect::Anthropic, model);
        assert!(messages::response(p, 200, &body, CREATED, &meta)
            .unwrap()
            .usage
            .completion
            .is_some());
        record(
            label,
            "response",
            body.len(),
            measure(budget, || {
                let out = messages::response(p, 200, black_box(&body), CREATED, &meta).unwrap();
                out.body.map_or(body.len(), |b| b.len())
            }),
        );
        let input = stream_body(Dialect::Anthropic, model);
        let (out, m) = run_stream(messages::stream(p, CREATED, &meta), &input);
        assert!(!m.failed() && m.usage().completion.is_some() && out == input);
        record(
            label,
            "stream",
            input.len(),
            measure(budget, || {
                run_stream(messages::stream(p, CREATED, &meta), black_box(&input))
                    .0
                    .len()
            }),
        );
    }

    if let Some(path) = &o.json {
        let doc = json!({
            "quick": o.quick,
            "chunk_bytes": CHUNK,
            "stream_events": EVENTS,
            "rows": rows.iter().map(|r| json!({
                "provider": r.provider, "op": r.op, "bytes": r.bytes, "iterations": r.iters,
                "us_per_op": r.us_per_op, "us_median": r.us_median, "mb_per_s": r.bytes as f64 / r.us_per_op,
            })).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    }
}
