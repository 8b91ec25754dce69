#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_types
)]
//! Golden vectors for `/v1/responses` (OpenAI's Responses API), per provider:
//! * `responses/requests/*.json`: `provider` + Responses `request` → `expected_upstream`
//!   (path, headers, body, and the fields the provider cannot honour), or the refusal.
//! * `responses/responses/*.json`: `provider` + `status` + provider `response` →
//!   `expected` Responses object (and usage) or OpenAI-shaped error.
//! * `responses/streams/<provider>/*.in.sse` (`.in.bin` for Bedrock) → `*.out.sse`
//!   (Responses events), fed whole, split at every byte offset, and byte by byte.
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden_responses` rewrites expectations (review the diff!).

use llm_gateway::api::responses::ResponsesRequest;
use llm_gateway::config::{self, Config};
use llm_gateway::translate::responses::{self, Shape};
use llm_gateway::translate::ResponseMeta;
use serde_json::{json, Value};

mod support;
use support::golden::{
    answer_json, assert_err_iff_named, body_bytes, cases, check_or_write, check_stream, error_json,
    read_doc, run_mapper, upstream_json, Splits, CREATED,
};

/// A one-provider configuration; the key variable `K` holds `test-key`.
fn config_with(provider: &Value) -> Config {
    let doc = json!({"providers": [provider], "allow_provider_model": true});
    config::parse(doc.to_string().as_bytes(), &|k| {
        (k == "K").then(|| "test-key".to_string())
    })
    .unwrap()
}

fn parse(raw: &[u8]) -> Result<(ResponsesRequest, Shape), llm_gateway::error::GatewayError> {
    let req: ResponsesRequest = serde_json::from_slice(raw).unwrap();
    responses::validate(&req)?;
    let shape = Shape::of(&req, std::str::from_utf8(raw).unwrap());
    Ok((req, shape))
}

#[test]
fn responses_requests() {
    for (name, path) in cases("responses/requests", ".json") {
        let doc = read_doc(&path);
        let cfg = config_with(&doc["provider"]);
        let provider = &cfg.providers[0];
        let raw = serde_json::to_vec(&doc["request"]).unwrap();
        let model = doc["upstream_model"].as_str().unwrap();
        let got = match parse(&raw).and_then(|(req, shape)| {
            responses::request(provider, model, &req, &shape, &raw, 1_700_000_000_000)
        }) {
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
fn responses_answers() {
    for (name, path) in cases("responses/responses", ".json") {
        let doc = read_doc(&path);
        let cfg = config_with(&doc["provider"]);
        let status = doc["status"].as_u64().unwrap() as u16;
        let body = body_bytes(&doc["response"]);
        let headers = doc["headers"].clone();
        let header = move |n: &str| headers[n].as_str().map(str::to_string);
        let meta = ResponseMeta {
            model: "m",
            header: &header,
        };
        let shape = Shape::default();
        let got =
            match responses::response(&cfg.providers[0], status, &body, CREATED, &meta, &shape) {
                Ok(out) => answer_json(out),
                Err(e) => json!({
                    "status": e.status,
                    "body": serde_json::from_slice::<Value>(&e.to_json()).unwrap(),
                }),
            };
        assert_err_iff_named(&name, &got, "status");
        check_or_write(&path, doc, "expected", got);
    }
}

fn provider_of(dir: &str) -> Value {
    match dir {
        "anthropic" => {
            json!({"name": "an", "kind": "anthropic", "cluster": "c", "api_key_env": "K"})
        }
        "gemini" => json!({"name": "gm", "kind": "gemini", "cluster": "c", "api_key_env": "K"}),
        "bedrock" => json!({"name": "br", "kind": "bedrock", "cluster": "c", "region": "us-east-1",
                            "api_key_env": "K"}),
        "openai_chat" => json!({"name": "groq", "kind": "openai", "preset": "groq", "cluster": "c",
                                "api_key_env": "K"}),
        "native" => json!({"name": "oa", "kind": "openai", "cluster": "c", "api_key_env": "K"}),
        other => panic!("no provider for {other}"),
    }
}

#[test]
fn responses_streams_whole_and_split_everywhere() {
    let splits = Splits {
        meta_each: true,
        three_way: false,
    };
    for dir in ["anthropic", "gemini", "bedrock", "openai_chat", "native"] {
        let cfg = config_with(&provider_of(dir));
        let run = |input: &[&[u8]]| {
            let meta = ResponseMeta {
                model: "m",
                header: &|_| None,
            };
            let m = responses::stream(&cfg.providers[0], CREATED, &meta, &Shape::default());
            run_mapper(m, input, true)
        };
        let suffix = if dir == "bedrock" {
            ".in.bin"
        } else {
            ".in.sse"
        };
        for (name, path) in cases(&format!("responses/streams/{dir}"), suffix) {
            check_stream(&name, &path, run, splits);
        }
    }
}
