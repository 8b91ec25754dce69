#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_types
)]
//! Golden vectors for Bedrock (testdata/bedrock/): OpenAI requests in → exact signed
//! upstream requests out (fixed clock); recorded Converse answers and errors in → OpenAI
//! out; binary ConverseStream transcripts in → OpenAI SSE out, each fed whole, split at
//! every byte offset, in three pieces and byte by byte.
//! `UPDATE_GOLDEN=1 cargo test -p llm-gateway --test golden_bedrock` rewrites the
//! expectations (review the diff!). The transcripts are built by
//! testdata/bedrock/streams/gen.py.

use llm_gateway::api::openai::ChatRequest;
use llm_gateway::translate::{self, ResponseMeta, StreamSettings};
use serde_json::{json, Value};

mod bedrock_common;
mod support;
use bedrock_common::{golden_config, provider, CREATED, DEFAULT_MODEL, NOW_MS};
use support::golden::{
    answer_json, assert_err_iff_named, body_bytes, cases, check_or_write, check_stream, read_doc,
    request_json, run_mapper, without_usage_chunk, Splits,
};

#[test]
fn bedrock_requests() {
    let cfg = golden_config();
    for (name, path) in cases("bedrock/requests", ".json") {
        let doc = read_doc(&path);
        let raw = serde_json::to_vec(&doc["openai_request"]).unwrap();
        let req: ChatRequest = serde_json::from_slice(&raw).unwrap();
        let model = doc["upstream_model"].as_str().unwrap_or(DEFAULT_MODEL);
        let got = request_json(translate::request(
            provider(&cfg, &doc),
            model,
            &req,
            &raw,
            NOW_MS,
        ));
        assert_err_iff_named(&name, &got, "error");
        check_or_write(&path, doc, "expected_upstream", got);
    }
}

fn header_lookup(doc: &Value) -> impl Fn(&str) -> Option<String> + '_ {
    move |name: &str| {
        doc["headers"]
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str().map(str::to_string))
    }
}

#[test]
fn bedrock_responses() {
    let cfg = golden_config();
    let provider = &cfg.providers[0];
    for (name, path) in cases("bedrock/responses", ".json") {
        let doc = read_doc(&path);
        let status = doc["status"].as_u64().unwrap() as u16;
        let body = body_bytes(&doc["bedrock_response"]);
        let headers = doc.clone();
        let header = header_lookup(&headers);
        let meta = ResponseMeta {
            model: DEFAULT_MODEL,
            header: &header,
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
    let header = |name: &str| {
        (name == "x-amzn-requestid").then(|| "5d1a2b3c-0000-4a5b-8c9d-0123456789ab".to_string())
    };
    let m = translate::stream(
        &cfg.providers[0],
        StreamSettings {
            client_wants_usage: wants_usage,
            created: CREATED,
        },
        &ResponseMeta {
            model: DEFAULT_MODEL,
            header: &header,
        },
    );
    run_mapper(m, input, true)
}

#[test]
fn bedrock_streams_whole_and_split_everywhere() {
    let splits = Splits {
        meta_each: true,
        three_way: true,
    };
    for (name, path) in cases("bedrock/streams", ".in.bin") {
        let (input, expected) = check_stream(&name, &path, |i| run_stream(i, true), splits);
        assert!(expected.ends_with(b"data: [DONE]\n\n"), "{name}");
        assert_eq!(
            run_stream(&[&input], false).0,
            without_usage_chunk(&expected),
            "{name} without usage"
        );
    }
}
