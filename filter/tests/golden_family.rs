#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_types
)]
//! Golden vectors for the OpenAI family (Azure, compatible presets), `/v1/embeddings`
//! and `/v1/messages` (Anthropic-shaped clients):
//! * `openai_family/requests/*.json`: `provider` config + `endpoint` + client `request`
//!   → `expected_upstream` (path, headers, body; `null` body = forwarded unchanged).
//! * `messages/requests/*.json`: `provider` + Anthropic `request` → `expected_upstream`
//!   (+ the fields the provider cannot honour).
//! * `messages/responses/*.json`: `provider` + `status` + provider `response` →
//!   `expected` Anthropic message or Anthropic-shaped error.
//! * `openai_family/streams/*.in.sse` (OpenAI chunks) → what an OpenAI client gets from
//!   the pass-through mapper (usage chunk hidden; errors, garbage and cuts end with an
//!   error event and `[DONE]`), fed whole, split at every byte offset, and byte by byte.
//! * `messages/streams/*.in.sse` (OpenAI chunks) → `*.out.sse` (Anthropic events), fed
//!   whole, split at every byte offset, and byte by byte.
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden_family` rewrites expectations (review the diff!).

use llm_gateway::api::embeddings::EmbeddingsRequest;
use llm_gateway::api::openai::ChatRequest;
use llm_gateway::config::{self, Config};
use llm_gateway::translate::{self, messages};
use serde_json::{json, Value};

mod support;
use support::golden::{
    answer_json, assert_err_iff_named, body_bytes, cases, check_or_write, check_stream, error_json,
    meta, read_doc, request_json, run_mapper, upstream_json, Splits, CREATED,
};

/// A one-provider configuration; the key variable `K` holds `test-key`.
fn config_with(provider: &Value) -> Config {
    let doc = json!({"providers": [provider], "allow_provider_model": true});
    config::parse(doc.to_string().as_bytes(), &|k| {
        (k == "K").then(|| "test-key".to_string())
    })
    .unwrap()
}

fn default_provider() -> Value {
    json!({"name": "oa", "kind": "openai", "cluster": "c", "api_key_env": "K"})
}

/// The case's `provider`, or [`default_provider`].
fn config_of(doc: &Value) -> Config {
    match &doc["provider"] {
        Value::Null => config_with(&default_provider()),
        p => config_with(p),
    }
}

#[test]
fn openai_family_requests() {
    for (name, path) in cases("openai_family/requests", ".json") {
        let doc = read_doc(&path);
        let cfg = config_with(&doc["provider"]);
        let provider = &cfg.providers[0];
        let raw = serde_json::to_vec(&doc["request"]).unwrap();
        let model = doc["upstream_model"].as_str().unwrap();
        let result = match doc["endpoint"].as_str().unwrap() {
            "chat" => {
                let req: ChatRequest = serde_json::from_slice(&raw).unwrap();
                translate::request(provider, model, &req, &raw, 0)
            }
            "embeddings" => {
                let req: EmbeddingsRequest = serde_json::from_slice(&raw).unwrap();
                translate::embeddings::validate(&req)
                    .and_then(|()| translate::embeddings::request(provider, model, &req, &raw, 0))
            }
            other => panic!("{name}: endpoint {other}"),
        };
        let got = request_json(result);
        assert_err_iff_named(&name, &got, "error");
        check_or_write(&path, doc, "expected_upstream", got);
    }
}

#[test]
fn messages_requests() {
    for (name, path) in cases("messages/requests", ".json") {
        let doc = read_doc(&path);
        let cfg = config_of(&doc);
        let provider = &cfg.providers[0];
        let raw = serde_json::to_vec(&doc["request"]).unwrap();
        let model = doc["upstream_model"].as_str().unwrap_or("gpt-4o");
        let got = match messages::parse(&raw)
            .and_then(|req| messages::request(provider, model, &req, &raw, 0))
        {
            Ok((up, unhonoured)) => {
                let mut v = upstream_json(&up);
                v["unhonoured"] = json!(unhonoured);
                v
            }
            Err(e) => error_json(&e),
        };
        assert_err_iff_named(&name, &got, "error");
        check_or_write(&path, doc, "expected_upstream", got);
    }
}

#[test]
fn messages_responses() {
    for (name, path) in cases("messages/responses", ".json") {
        let doc = read_doc(&path);
        let cfg = config_of(&doc);
        let status = doc["status"].as_u64().unwrap() as u16;
        let body = body_bytes(&doc["response"]);
        let got = match messages::response(&cfg.providers[0], status, &body, CREATED, &meta("m")) {
            Ok(out) => answer_json(out),
            Err(e) => json!({
                "status": e.status,
                "body": serde_json::from_slice::<Value>(&messages::errors::to_json(&e)).unwrap(),
            }),
        };
        assert_err_iff_named(&name, &got, "status");
        check_or_write(&path, doc, "expected", got);
    }
}

/// The OpenAI pass-through mapper for a client that did not ask for the usage chunk.
fn run_openai_stream(input: &[&[u8]]) -> (Vec<u8>, Value) {
    let cfg = config_with(&default_provider());
    let settings = translate::StreamSettings {
        client_wants_usage: false,
        created: CREATED,
    };
    let m = translate::stream(&cfg.providers[0], settings, &meta("m"));
    run_mapper(m, input, false)
}

#[test]
fn openai_streams_whole_and_split_everywhere() {
    let splits = Splits {
        meta_each: true,
        three_way: false,
    };
    for (name, path) in cases("openai_family/streams", ".in.sse") {
        check_stream(&name, &path, run_openai_stream, splits);
    }
}

fn run_stream(input: &[&[u8]]) -> (Vec<u8>, Value) {
    let cfg = config_with(&default_provider());
    let m = messages::stream(&cfg.providers[0], CREATED, &meta("m"));
    run_mapper(m, input, false)
}

#[test]
fn messages_streams_whole_and_split_everywhere() {
    let splits = Splits {
        meta_each: false,
        three_way: false,
    };
    for (name, path) in cases("messages/streams", ".in.sse") {
        check_stream(&name, &path, run_stream, splits);
    }
}
