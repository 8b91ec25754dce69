#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_types
)]
//! Golden vectors (testdata/<provider>/): OpenAI requests in → exact upstream requests out;
//! recorded provider answers in → OpenAI answers out; stream transcripts in → OpenAI SSE
//! out, each transcript also fed split at every byte offset.
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the expectations (review the diff!).

use llm_gateway::api::openai::ChatRequest;
use llm_gateway::config::{self, Config};
use llm_gateway::translate::{self, ResponseMeta, StreamSettings};
use serde_json::{json, Value};

mod support;
use support::golden::{
    answer_json, assert_err_iff_named, body_bytes, cases, check_or_write, check_stream, read_doc,
    request_json, run_mapper, without_usage_chunk, Splits, CREATED,
};

pub fn golden_config() -> Config {
    config::parse(
        br#"{"providers":[{"name":"an","kind":"anthropic","cluster":"c","api_key_env":"K"}],
             "allow_provider_model":true}"#,
        &|k| (k == "K").then(|| "test-key".to_string()),
    )
    .unwrap()
}

#[test]
fn anthropic_requests() {
    let cfg = golden_config();
    let provider = &cfg.providers[0];
    for (name, path) in cases("anthropic/requests", ".json") {
        let doc = read_doc(&path);
        let raw = serde_json::to_vec(&doc["openai_request"]).unwrap();
        let req: ChatRequest = serde_json::from_slice(&raw).unwrap();
        let got = request_json(translate::request(
            provider,
            "claude-sonnet-4-5",
            &req,
            &raw,
            0,
        ));
        assert_err_iff_named(&name, &got, "error");
        check_or_write(&path, doc, "expected_upstream", got);
    }
}

#[test]
fn anthropic_responses() {
    let cfg = golden_config();
    let provider = &cfg.providers[0];
    for (name, path) in cases("anthropic/responses", ".json") {
        let doc = read_doc(&path);
        let status = doc["status"].as_u64().unwrap() as u16;
        let body = body_bytes(&doc["anthropic_response"]);
        let meta = ResponseMeta {
            model: "claude-sonnet-4-5",
            header: &|_| None,
        };
        let got = match translate::response(provider, status, &body, CREATED, &meta) {
            Ok(out) => answer_json(out),
            Err(e) => {
                json!({"status": e.status, "body": serde_json::from_slice::<Value>(&e.to_json()).unwrap()})
            }
        };
        assert_err_iff_named(&name, &got, "status");
        check_or_write(&path, doc, "expected_openai", got);
    }
}

fn run_stream(input: &[&[u8]], wants_usage: bool) -> (Vec<u8>, Value) {
    let cfg = golden_config();
    let m = translate::stream(
        &cfg.providers[0],
        StreamSettings {
            client_wants_usage: wants_usage,
            created: CREATED,
        },
        &ResponseMeta {
            model: "claude-sonnet-4-5",
            header: &|_| None,
        },
    );
    run_mapper(m, input, false)
}

#[test]
fn anthropic_streams_whole_and_split_everywhere() {
    let splits = Splits {
        meta_each: false,
        three_way: true,
    };
    for (name, path) in cases("anthropic/streams", ".in.sse") {
        let (input, expected) = check_stream(&name, &path, |i| run_stream(i, true), splits);
        assert_eq!(
            run_stream(&[&input], false).0,
            without_usage_chunk(&expected),
            "{name} without usage"
        );
    }
}
