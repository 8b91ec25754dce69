#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Golden vectors for Bedrock (testdata/bedrock/): OpenAI requests in → exact signed
//! upstream requests out (fixed clock); recorded Converse answers and errors in → OpenAI
//! out; binary ConverseStream transcripts in → OpenAI SSE out, each fed whole, split at
//! every byte offset, in three pieces and byte by byte.
//! `UPDATE_GOLDEN=1 cargo test -p llm-gateway --test golden_bedrock` rewrites the
//! expectations (review the diff!). The transcripts are built by
//! testdata/bedrock/streams/gen.py.

use std::fs;
use std::path::{Path, PathBuf};

use llm_gateway::api::openai::ChatRequest;
use llm_gateway::translate::{self, ResponseMeta, StreamSettings};
use serde_json::{json, Map, Value};

mod bedrock_common;
use bedrock_common::{golden_config, provider, CREATED, DEFAULT_MODEL, NOW_MS};

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/bedrock")
        .join(sub)
}

fn update() -> bool {
    std::env::var("UPDATE_GOLDEN").is_ok()
}

fn cases(sub: &str, suffix: &str) -> Vec<(String, PathBuf)> {
    let mut out: Vec<_> = fs::read_dir(dir(sub))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name()?.to_str()?.strip_suffix(suffix)?.to_string();
            Some((name, p))
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no cases in {sub}");
    out
}

fn check_or_write(path: &Path, mut doc: Value, key: &str, got: Value) {
    if update() {
        doc[key] = got;
        fs::write(path, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
        return;
    }
    assert_eq!(doc[key], got, "{}", path.display());
}

#[test]
fn bedrock_requests() {
    let cfg = golden_config();
    for (name, path) in cases("requests", ".json") {
        let doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let raw = serde_json::to_vec(&doc["openai_request"]).unwrap();
        let req: ChatRequest = serde_json::from_slice(&raw).unwrap();
        let model = doc["upstream_model"].as_str().unwrap_or(DEFAULT_MODEL);
        let got = match translate::request(provider(&cfg, &doc), model, &req, &raw, NOW_MS) {
            Ok(up) => {
                let body: Value = serde_json::from_slice(up.body.as_ref().unwrap()).unwrap();
                let headers: Map<String, Value> = up
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect();
                json!({"path": up.path, "headers": headers, "body": body})
            }
            Err(e) => {
                json!({"error": {"status": e.status, "param": e.param, "message": e.message}})
            }
        };
        assert_eq!(
            name.starts_with("err_"),
            got.get("error").is_some(),
            "{name}: {got}"
        );
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
    for (name, path) in cases("responses", ".json") {
        let doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let status = doc["status"].as_u64().unwrap() as u16;
        let body = match &doc["bedrock_response"] {
            Value::String(s) => s.clone().into_bytes(),
            v => serde_json::to_vec(v).unwrap(),
        };
        let headers = doc.clone();
        let header = header_lookup(&headers);
        let meta = ResponseMeta {
            model: DEFAULT_MODEL,
            header: &header,
        };
        let got = match translate::response(provider, status, &body, CREATED, &meta) {
            Ok(out) => json!({
                "body": serde_json::from_slice::<Value>(&out.body.unwrap()).unwrap(),
                "usage": {"prompt": out.usage.prompt, "completion": out.usage.completion,
                          "cached_prompt": out.usage.cached_prompt},
            }),
            Err(e) => {
                json!({"status": e.status, "body": serde_json::from_slice::<Value>(&e.to_json()).unwrap()})
            }
        };
        assert_eq!(
            name.starts_with("err_"),
            got.get("status").is_some(),
            "{name}: {got}"
        );
        check_or_write(&path, doc, "expected_openai", got);
    }
}

fn run_stream(input: &[&[u8]], wants_usage: bool) -> (Vec<u8>, Value) {
    let cfg = golden_config();
    let header = |name: &str| {
        (name == "x-amzn-requestid").then(|| "5d1a2b3c-0000-4a5b-8c9d-0123456789ab".to_string())
    };
    let mut m = translate::stream(
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
    let mut out = Vec::new();
    for chunk in input {
        m.push(chunk, &mut out);
    }
    m.finish(&mut out);
    let u = m.usage();
    let meta = json!({"prompt": u.prompt, "completion": u.completion,
                      "cached_prompt": u.cached_prompt, "failed": m.failed()});
    (out, meta)
}

#[test]
fn bedrock_streams_whole_and_split_everywhere() {
    for (name, path) in cases("streams", ".in.bin") {
        let input = fs::read(&path).unwrap();
        let out_path = path.with_file_name(format!("{name}.out.sse"));
        let meta_path = path.with_file_name(format!("{name}.meta.json"));
        let (out, meta) = run_stream(&[&input], true);
        if update() {
            fs::write(&out_path, &out).unwrap();
            fs::write(
                &meta_path,
                serde_json::to_string_pretty(&meta).unwrap() + "\n",
            )
            .unwrap();
        }
        let expected = fs::read(&out_path).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&expected),
            "{name}"
        );
        let expected_meta: Value = serde_json::from_slice(&fs::read(&meta_path).unwrap()).unwrap();
        assert_eq!(meta, expected_meta, "{name}");
        assert!(expected.ends_with(b"data: [DONE]\n\n"), "{name}");

        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            let (got, got_meta) = run_stream(&[a, b], true);
            assert_eq!(got, expected, "{name} split at {i}");
            assert_eq!(got_meta, expected_meta, "{name} split at {i}");
        }
        for i in (0..=input.len()).step_by(7) {
            for j in (i..=input.len()).step_by(13) {
                let parts = [&input[..i], &input[i..j], &input[j..]];
                assert_eq!(
                    run_stream(&parts, true).0,
                    expected,
                    "{name} split at {i},{j}"
                );
            }
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run_stream(&bytes, true).0, expected, "{name} byte by byte");

        // Without include_usage: the same events minus the usage-only chunk.
        let without: Vec<u8> = String::from_utf8(expected.clone())
            .unwrap()
            .split_inclusive("\n\n")
            .filter(|ev| !ev.contains("\"choices\":[],\"usage\""))
            .collect::<String>()
            .into_bytes();
        assert_eq!(
            run_stream(&[&input], false).0,
            without,
            "{name} without usage"
        );
    }
}
