//! In-VM micro-benchmarks of the gateway filter: cost per request of translation, SSE
//! rewriting and error replies, measured through the real ABI in wasmtime.
//!
//! ```text
//! cargo run --release -p wasm-host --features bench --bin wasm-bench -- [--wasm PATH] [--requests N] [SCENARIO…]
//! ```
//! Scenarios: chat-anthropic, stream-anthropic, chat-openai, stream-openai, big-prompt,
//! bad-json (default: all). Times include the emulator's own overhead (use `--release`).

use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use wasm_host::{bench_requests, Host, Scenario};

const CONFIG: &str = r#"{"providers":[
    {"name":"an","kind":"anthropic","cluster":"anthropic","api_key_env":"BENCH_KEY"},
    {"name":"oa","kind":"openai","cluster":"openai","api_key_env":"BENCH_KEY"}],
  "models":[{"name":"claude","targets":[{"provider":"an","model":"claude-sonnet-4-5"}]},
            {"name":"gpt","targets":[{"provider":"oa","model":"gpt-4o-mini"}]}]}"#;

const ANTHROPIC_ANSWER: &str = r#"{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hello there, how can I help you today?"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":12}}"#;
const OPENAI_ANSWER: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, how can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":25,"completion_tokens":12,"total_tokens":37}}"#;

fn headers(len: usize) -> Vec<(String, String)> {
    [
        (":method", "POST".to_string()),
        (":path", "/v1/chat/completions".to_string()),
        (":authority", "gateway.local".to_string()),
        ("content-type", "application/json".to_string()),
        ("content-length", len.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn request(model: &str, stream: bool, prompt: &str) -> Vec<u8> {
    format!(
        r#"{{"model":"{model}","stream":{stream},"stream_options":{},"messages":[{{"role":"system","content":"You are terse."}},{{"role":"user","content":"{prompt}"}}]}}"#,
        if stream { r#"{"include_usage":true}"# } else { "null" }
    )
    .into_bytes()
}

fn anthropic_sse() -> Vec<u8> {
    let mut s = String::from(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_s\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n\
         event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    );
    for i in 0..40 {
        s.push_str(&format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"word{i} \"}}}}\n\n"
        ));
    }
    s.push_str(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
         event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":40}}\n\n\
         event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    s.into_bytes()
}

fn openai_sse() -> Vec<u8> {
    let mut s = String::new();
    for i in 0..40 {
        s.push_str(&format!(
            "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"word{i} \"}}}}]}}\n\n"
        ));
    }
    s.push_str("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":25,\"completion_tokens\":40,\"total_tokens\":65}}\n\ndata: [DONE]\n\n");
    s.into_bytes()
}

fn scenario(name: &str) -> Result<Scenario> {
    let ok = |ctype: &str| {
        vec![
            (":status".to_string(), "200".to_string()),
            ("content-type".to_string(), ctype.to_string()),
        ]
    };
    let prompt = "Say hello in one short sentence.";
    let s = match name {
        "chat-anthropic" => {
            let body = request("claude", false, prompt);
            Scenario {
                request_headers: headers(body.len()),
                request_body: body,
                response_headers: ok("application/json"),
                response_body: ANTHROPIC_ANSWER.as_bytes().to_vec(),
                ..Scenario::default()
            }
        }
        "stream-anthropic" => {
            let body = request("claude", true, prompt);
            Scenario {
                request_headers: headers(body.len()),
                request_body: body,
                response_headers: ok("text/event-stream"),
                response_body: anthropic_sse(),
                response_chunk: 256,
                ..Scenario::default()
            }
        }
        "chat-openai" => {
            let body = request("gpt", false, prompt);
            Scenario {
                request_headers: headers(body.len()),
                request_body: body,
                response_headers: ok("application/json"),
                response_body: OPENAI_ANSWER.as_bytes().to_vec(),
                ..Scenario::default()
            }
        }
        "stream-openai" => {
            let body = request("gpt", true, prompt);
            Scenario {
                request_headers: headers(body.len()),
                request_body: body,
                response_headers: ok("text/event-stream"),
                response_body: openai_sse(),
                response_chunk: 256,
                ..Scenario::default()
            }
        }
        "big-prompt" => {
            let words: String = (0..1500).map(|i| format!("token{i} ")).collect();
            let body = request("claude", false, &words);
            Scenario {
                request_headers: headers(body.len()),
                request_body: body,
                request_chunk: 16 * 1024,
                response_headers: ok("application/json"),
                response_body: ANTHROPIC_ANSWER.as_bytes().to_vec(),
                ..Scenario::default()
            }
        }
        "bad-json" => {
            let body = b"{\"model\":\"claude\",\"messages\":[".to_vec();
            Scenario {
                request_headers: headers(body.len()),
                request_body: body,
                ..Scenario::default()
            }
        }
        other => bail!("unknown scenario {other:?}"),
    };
    Ok(s)
}

const ALL: &[&str] = &[
    "chat-anthropic",
    "stream-anthropic",
    "chat-openai",
    "stream-openai",
    "big-prompt",
    "bad-json",
];

fn run() -> Result<()> {
    let mut wasm = wasm_host::filter_wasm_path();
    let mut n = 2000usize;
    let mut names: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--wasm" => wasm = args.next().context("--wasm needs a path")?.into(),
            "--requests" | "-n" => {
                n = args
                    .next()
                    .context("--requests needs a number")?
                    .parse()
                    .context("--requests")?
            }
            "--help" | "-h" => {
                println!(
                    "wasm-bench [--wasm PATH] [--requests N] [SCENARIO…]\nscenarios: {}",
                    ALL.join(", ")
                );
                return Ok(());
            }
            s => names.push(s.to_string()),
        }
    }
    if names.is_empty() {
        names = ALL.iter().map(|s| s.to_string()).collect();
    }
    let host = Host::new()?;
    println!("{} ({} requests per scenario)", wasm.display(), n);
    for name in names {
        let s = scenario(&name)?;
        let mut vm = host.vm(&wasm, CONFIG, &[("BENCH_KEY", "bench-key")])?;
        if !vm.configure() {
            bail!(
                "the filter rejected the benchmark configuration: {:?}",
                host.logs()
            );
        }
        let report = bench_requests(&mut vm, &s, n / 10 + 1, n)?;
        println!("{name:>18}: {report}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wasm-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
