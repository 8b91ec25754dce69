//! Cost of token estimation for a 10 KB prompt, natively: the cheap estimator and (with
//! `--features tiktoken`) tiktoken's table set-up and counting. Used by `./build.sh bench`.
//!   cargo run --release -p llm-gateway --example estimate_cost [--features tiktoken]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use llm_gateway::api::openai::ChatRequest;
use llm_gateway::usage::estimate;

fn main() {
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(10 * 1024 / 45);
    let body =
        serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content": text}]});
    let req: ChatRequest = serde_json::from_value(body).unwrap();
    let runs = 200u32;
    let t = Instant::now();
    let mut n = 0;
    for _ in 0..runs {
        n = estimate::prompt_tokens(&req);
    }
    println!(
        "cheap estimator, 10 KB prompt: {:.1} µs per request ({n} tokens)",
        t.elapsed().as_secs_f64() * 1e6 / f64::from(runs)
    );
    #[cfg(feature = "tiktoken")]
    {
        let t = Instant::now();
        assert!(llm_gateway::usage::tokenizer::warm_up());
        println!(
            "tiktoken set-up (o200k + cl100k): {:.0} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
        estimate::set_tiktoken(true);
        let t = Instant::now();
        for _ in 0..runs {
            n = estimate::prompt_tokens(&req);
        }
        println!(
            "tiktoken, 10 KB prompt: {:.1} µs per request ({n} tokens)",
            t.elapsed().as_secs_f64() * 1e6 / f64::from(runs)
        );
    }
}
