//! Cost of token estimation for a 10 KB prompt, natively: the cheap estimator and (with
//! `--features tiktoken`) tiktoken's table set-up and counting. Used by `./build.sh bench`.
//!   cargo run --release -p llm-gateway --example estimate_cost [--features tiktoken] \
//!       [-- [--quick] [--json PATH]]
//! `--quick`: fewer runs, for smoke runs. Nothing here asserts time.

// Inputs are built as JSON values.
#![allow(clippy::disallowed_types)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use llm_gateway::api::openai::ChatRequest;
use llm_gateway::config::TokenEstimator;
use llm_gateway::usage::estimate;
use serde_json::json;

fn main() {
    let mut quick = false;
    let mut json_path = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--json" => json_path = Some(args.next().expect("--json needs a path")),
            _ => {}
        }
    }
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(10 * 1024 / 45);
    let body =
        serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content": text}]});
    let req: ChatRequest = serde_json::from_value(body).unwrap();
    let mut rows = Vec::new();

    let runs = if quick { 200u32 } else { 2000 };
    let mut n = estimate::prompt_tokens(&req, TokenEstimator::Cheap);
    let t = Instant::now();
    for _ in 0..runs {
        n = estimate::prompt_tokens(black_box(&req), TokenEstimator::Cheap);
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / f64::from(runs);
    println!(
        "cheap estimator, 10 KB prompt: {us:.1} µs per request ({n} tokens, {} bytes)",
        text.len()
    );
    rows.push(json!({"estimator": "cheap", "us_per_request": us, "tokens": n, "runs": runs}));

    let setup_ms = tiktoken(&req, quick, &mut rows);

    if let Some(path) = json_path {
        let doc = json!({"prompt_bytes": text.len(), "quick": quick,
                         "tiktoken_setup_ms": setup_ms, "rows": rows});
        std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    }
}

/// tiktoken's set-up (ms) and cost per 10 KB prompt, when built with `--features tiktoken`.
#[cfg(feature = "tiktoken")]
fn tiktoken(req: &ChatRequest, quick: bool, rows: &mut Vec<serde_json::Value>) -> Option<f64> {
    let t = Instant::now();
    assert!(llm_gateway::usage::tokenizer::warm_up());
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!("tiktoken set-up (o200k + cl100k): {ms:.0} ms");
    let runs = if quick { 20u32 } else { 200 };
    let mut n = estimate::prompt_tokens(req, TokenEstimator::Tiktoken);
    let t = Instant::now();
    for _ in 0..runs {
        n = estimate::prompt_tokens(black_box(req), TokenEstimator::Tiktoken);
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / f64::from(runs);
    println!("tiktoken, 10 KB prompt: {us:.1} µs per request ({n} tokens)");
    rows.push(json!({"estimator": "tiktoken", "us_per_request": us, "tokens": n, "runs": runs}));
    Some(ms)
}

#[cfg(not(feature = "tiktoken"))]
fn tiktoken(_: &ChatRequest, _: bool, _: &mut Vec<serde_json::Value>) -> Option<f64> {
    None
}
