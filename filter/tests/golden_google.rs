#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_types
)]
//! Golden vectors for the Google provider kinds (testdata/gemini/, testdata/vertex/),
//! with a harness that is generic over provider and folder:
//! * `requests/*.json`: `openai_request` → `expected_upstream` (path, headers, body) or a 400;
//!   optional `provider` (name in `config()`) and `model` override the folder's defaults.
//! * `responses/*.json`, `errors/*.json`: `status` + `upstream_response` (JSON, or a string
//!   sent verbatim) → `expected_openai`; `err_*` cases must fail.
//! * `streams/*.in.sse` → `.out.sse` + `.meta.json`, fed whole, split at every byte offset,
//!   split three ways, byte by byte, and without the usage chunk.
//!
//! `UPDATE_GOLDEN=1 cargo test -p llm-gateway --test golden_google` rewrites expectations.

use llm_gateway::api::openai::ChatRequest;
use llm_gateway::config::{self, Config, Provider};
use llm_gateway::translate::{self, StreamSettings};
use serde_json::{json, Value};

mod support;
use support::golden::{
    answer_json, assert_err_iff_named, body_bytes, cases, check_or_write, check_stream, meta,
    read_doc, request_json, run_mapper, without_usage_chunk, Splits, CREATED,
};

fn config() -> Config {
    config::parse(
        br#"{"providers":[
            {"name":"gemini","kind":"gemini","cluster":"c","api_key_env":"K"},
            {"name":"vertex","kind":"vertex","cluster":"c","api_key_env":"T","project":"my-proj","location":"us-central1"},
            {"name":"vertex_anthropic","kind":"vertex_anthropic","cluster":"c","api_key_env":"T","project":"my-proj","location":"us-east5"}
           ],
           "allow_provider_model":true}"#,
        &|k| match k {
            "K" => Some("gemini-test-key".to_string()),
            "T" => Some("ya29.test-token".to_string()),
            _ => None,
        },
    )
    .unwrap()
}

fn provider<'a>(cfg: &'a Config, name: &str) -> &'a Provider {
    &cfg.providers[cfg.provider_index(name).unwrap()]
}

fn run_requests(sub: &str, default_provider: &str, default_model: &str) {
    let cfg = config();
    for (name, path) in cases(sub, ".json") {
        let doc = read_doc(&path);
        let p = provider(&cfg, doc["provider"].as_str().unwrap_or(default_provider));
        let model = doc["model"].as_str().unwrap_or(default_model);
        let raw = serde_json::to_vec(&doc["openai_request"]).unwrap();
        let req: ChatRequest = serde_json::from_slice(&raw).unwrap();
        let got = request_json(translate::request(p, model, &req, &raw, 0));
        assert_err_iff_named(&name, &got, "error");
        check_or_write(&path, doc, "expected_upstream", got);
    }
}

fn run_responses(sub: &str, default_provider: &str) {
    let cfg = config();
    for (name, path) in cases(sub, ".json") {
        let doc = read_doc(&path);
        let p = provider(&cfg, doc["provider"].as_str().unwrap_or(default_provider));
        let status = doc["status"].as_u64().unwrap() as u16;
        let body = body_bytes(&doc["upstream_response"]);
        let got = match translate::response(p, status, &body, CREATED, &meta("m")) {
            Ok(out) => answer_json(out),
            Err(e) => json!({
                "status": e.status,
                "retry_after": e.retry_after,
                "body": serde_json::from_slice::<Value>(&e.to_json()).unwrap(),
            }),
        };
        assert_err_iff_named(&name, &got, "status");
        check_or_write(&path, doc, "expected_openai", got);
    }
}

fn run_stream(p: &Provider, input: &[&[u8]], wants_usage: bool) -> (Vec<u8>, Value) {
    let m = translate::stream(
        p,
        StreamSettings {
            client_wants_usage: wants_usage,
            created: CREATED,
        },
        &meta("m"),
    );
    run_mapper(m, input, true)
}

fn run_streams(sub: &str, default_provider: &str) {
    let cfg = config();
    let splits = Splits {
        meta_each: false,
        three_way: true,
    };
    for (name, path) in cases(sub, ".in.sse") {
        // `<provider>__<case>.in.sse` picks another provider of the config.
        let p = provider(
            &cfg,
            name.split_once("__").map_or(default_provider, |(p, _)| p),
        );
        let (input, expected) = check_stream(&name, &path, |i| run_stream(p, i, true), splits);
        assert_eq!(
            run_stream(p, &[&input], false).0,
            without_usage_chunk(&expected),
            "{name} without usage"
        );
    }
}

#[test]
fn gemini_requests() {
    run_requests("gemini/requests", "gemini", "gemini-2.5-flash");
}

#[test]
fn gemini_responses() {
    run_responses("gemini/responses", "gemini");
}

#[test]
fn gemini_errors() {
    run_responses("gemini/errors", "gemini");
}

#[test]
fn gemini_streams_whole_and_split_everywhere() {
    run_streams("gemini/streams", "gemini");
}

#[test]
fn vertex_requests() {
    run_requests("vertex/requests", "vertex", "gemini-2.5-pro");
}

#[test]
fn vertex_responses() {
    run_responses("vertex/responses", "vertex_anthropic");
}

#[test]
fn vertex_streams_whole_and_split_everywhere() {
    run_streams("vertex/streams", "vertex_anthropic");
}
