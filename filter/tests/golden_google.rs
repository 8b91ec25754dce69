#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
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

use std::fs;
use std::path::{Path, PathBuf};

use llm_gateway::api::openai::ChatRequest;
use llm_gateway::config::{self, Config, Provider};
use llm_gateway::translate::{self, StreamSettings};
use serde_json::{json, Value};

const CREATED: u64 = 1_700_000_000;

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

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
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

fn run_requests(sub: &str, default_provider: &str, default_model: &str) {
    let cfg = config();
    for (name, path) in cases(sub, ".json") {
        let doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let p = provider(&cfg, doc["provider"].as_str().unwrap_or(default_provider));
        let model = doc["model"].as_str().unwrap_or(default_model);
        let raw = serde_json::to_vec(&doc["openai_request"]).unwrap();
        let req: ChatRequest = serde_json::from_slice(&raw).unwrap();
        let got = match translate::request(p, model, &req, &raw, 0) {
            Ok(up) => {
                let body: Value = serde_json::from_slice(up.body.as_ref().unwrap()).unwrap();
                let headers: Value = up
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

fn run_responses(sub: &str, default_provider: &str) {
    let cfg = config();
    for (name, path) in cases(sub, ".json") {
        let doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let p = provider(&cfg, doc["provider"].as_str().unwrap_or(default_provider));
        let status = doc["status"].as_u64().unwrap() as u16;
        let body = match &doc["upstream_response"] {
            Value::String(s) => s.clone().into_bytes(),
            v => serde_json::to_vec(v).unwrap(),
        };
        let got = match translate::response(p, status, &body, CREATED, &meta("m")) {
            Ok(out) => json!({
                "body": serde_json::from_slice::<Value>(&out.body.unwrap()).unwrap(),
                "usage": {"prompt": out.usage.prompt, "completion": out.usage.completion,
                          "cached_prompt": out.usage.cached_prompt},
            }),
            Err(e) => json!({
                "status": e.status,
                "retry_after": e.retry_after,
                "body": serde_json::from_slice::<Value>(&e.to_json()).unwrap(),
            }),
        };
        assert_eq!(
            name.starts_with("err_"),
            got.get("status").is_some(),
            "{name}: {got}"
        );
        check_or_write(&path, doc, "expected_openai", got);
    }
}

fn run_stream(p: &Provider, input: &[&[u8]], wants_usage: bool) -> (Vec<u8>, Value) {
    let mut m = translate::stream(
        p,
        StreamSettings {
            client_wants_usage: wants_usage,
            created: CREATED,
        },
        &meta("m"),
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

fn run_streams(sub: &str, default_provider: &str) {
    let cfg = config();
    for (name, path) in cases(sub, ".in.sse") {
        // `<provider>__<case>.in.sse` picks another provider of the config.
        let p = provider(
            &cfg,
            name.split_once("__").map_or(default_provider, |(p, _)| p),
        );
        let input = fs::read(&path).unwrap();
        let out_path = path.with_file_name(format!("{name}.out.sse"));
        let meta_path = path.with_file_name(format!("{name}.meta.json"));
        let (out, meta) = run_stream(p, &[&input], true);
        if update() {
            fs::write(&out_path, &out).unwrap();
            let meta = serde_json::to_string_pretty(&meta).unwrap() + "\n";
            fs::write(&meta_path, meta).unwrap();
        }
        let expected = fs::read(&out_path).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&expected),
            "{name}"
        );
        let expected_meta: Value = serde_json::from_slice(&fs::read(&meta_path).unwrap()).unwrap();
        assert_eq!(meta, expected_meta, "{name}");

        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            assert_eq!(
                run_stream(p, &[a, b], true).0,
                expected,
                "{name} split at {i}"
            );
        }
        for i in (0..=input.len()).step_by(7) {
            for j in (i..=input.len()).step_by(13) {
                let parts = [&input[..i], &input[i..j], &input[j..]];
                assert_eq!(
                    run_stream(p, &parts, true).0,
                    expected,
                    "{name} split at {i},{j}"
                );
            }
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(
            run_stream(p, &bytes, true).0,
            expected,
            "{name} byte by byte"
        );

        let without: Vec<u8> = String::from_utf8(expected.clone())
            .unwrap()
            .split_inclusive("\n\n")
            .filter(|ev| !ev.contains("\"choices\":[],\"usage\""))
            .collect::<String>()
            .into_bytes();
        assert_eq!(
            run_stream(p, &[&input], false).0,
            without,
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

fn no_header(_: &str) -> Option<String> {
    None
}

/// Translators that need neither the model nor response headers get this.
fn meta(model: &str) -> llm_gateway::translate::ResponseMeta<'_> {
    llm_gateway::translate::ResponseMeta {
        model,
        header: &no_header,
    }
}
