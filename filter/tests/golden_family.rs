#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Golden vectors for the OpenAI family (Azure, compatible presets), `/v1/embeddings`
//! and `/v1/messages` (Anthropic-shaped clients):
//! * `openai_family/requests/*.json`: `provider` config + `endpoint` + client `request`
//!   → `expected_upstream` (path, headers, body; `null` body = forwarded unchanged).
//! * `messages/requests/*.json`: `provider` + Anthropic `request` → `expected_upstream`
//!   (+ the fields the provider cannot honour).
//! * `messages/responses/*.json`: `provider` + `status` + provider `response` →
//!   `expected` Anthropic message or Anthropic-shaped error.
//! * `messages/streams/*.in.sse` (OpenAI chunks) → `*.out.sse` (Anthropic events), fed
//!   whole, split at every byte offset, and byte by byte.
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden_family` rewrites expectations (review the diff!).

use std::fs;
use std::path::{Path, PathBuf};

use llm_gateway::api::embeddings::EmbeddingsRequest;
use llm_gateway::api::openai::ChatRequest;
use llm_gateway::config::{self, Config};
use llm_gateway::translate::{self, messages, UpstreamRequest};
use serde_json::{json, Value};

const CREATED: u64 = 1_700_000_000;

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

fn check_or_write(path: &Path, mut doc: Value, key: &str, got: Value) {
    if update() {
        doc[key] = got;
        fs::write(path, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
        return;
    }
    assert_eq!(doc[key], got, "{}", path.display());
}

fn upstream_json(up: &UpstreamRequest) -> Value {
    let body = up
        .body
        .as_ref()
        .map(|b| serde_json::from_slice::<Value>(b).unwrap())
        .unwrap_or(Value::Null);
    let headers: Value = up
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({"path": up.path, "headers": headers, "body": body})
}

fn error_json(e: &llm_gateway::error::GatewayError) -> Value {
    json!({"error": {"status": e.status, "param": e.param, "message": e.message}})
}

#[test]
fn openai_family_requests() {
    for (name, path) in cases("openai_family/requests", ".json") {
        let doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
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
        let got = match result {
            Ok(up) => upstream_json(&up),
            Err(e) => error_json(&e),
        };
        assert_eq!(
            name.starts_with("err_"),
            got.get("error").is_some(),
            "{name}: {got}"
        );
        check_or_write(&path, doc, "expected_upstream", got);
    }
}

#[test]
fn messages_requests() {
    for (name, path) in cases("messages/requests", ".json") {
        let doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let provider_doc = match &doc["provider"] {
            Value::Null => default_provider(),
            p => p.clone(),
        };
        let cfg = config_with(&provider_doc);
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
        assert_eq!(
            name.starts_with("err_"),
            got.get("error").is_some(),
            "{name}: {got}"
        );
        check_or_write(&path, doc, "expected_upstream", got);
    }
}

#[test]
fn messages_responses() {
    for (name, path) in cases("messages/responses", ".json") {
        let doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let provider_doc = match &doc["provider"] {
            Value::Null => default_provider(),
            p => p.clone(),
        };
        let cfg = config_with(&provider_doc);
        let status = doc["status"].as_u64().unwrap() as u16;
        let body = match &doc["response"] {
            Value::String(s) => s.clone().into_bytes(),
            v => serde_json::to_vec(v).unwrap(),
        };
        let got = match messages::response(&cfg.providers[0], status, &body, CREATED, &meta("m")) {
            Ok(out) => json!({
                "body": out.body.map(|b| serde_json::from_slice::<Value>(&b).unwrap()),
                "usage": {"prompt": out.usage.prompt, "completion": out.usage.completion,
                          "cached_prompt": out.usage.cached_prompt},
            }),
            Err(e) => json!({
                "status": e.status,
                "body": serde_json::from_slice::<Value>(&messages::errors::to_json(&e)).unwrap(),
            }),
        };
        assert_eq!(
            name.starts_with("err_"),
            got.get("status").is_some(),
            "{name}: {got}"
        );
        check_or_write(&path, doc, "expected", got);
    }
}

fn run_stream(input: &[&[u8]]) -> (Vec<u8>, Value) {
    let cfg = config_with(&default_provider());
    let mut m = messages::stream(&cfg.providers[0], CREATED, &meta("m"));
    let mut out = Vec::new();
    for chunk in input {
        m.push(chunk, &mut out);
    }
    m.finish(&mut out);
    let u = m.usage();
    let meta = json!({"prompt": u.prompt, "completion": u.completion, "failed": m.failed()});
    (out, meta)
}

#[test]
fn messages_streams_whole_and_split_everywhere() {
    for (name, path) in cases("messages/streams", ".in.sse") {
        let input = fs::read(&path).unwrap();
        let out_path = path.with_file_name(format!("{name}.out.sse"));
        let meta_path = path.with_file_name(format!("{name}.meta.json"));
        let (out, meta) = run_stream(&[&input]);
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
        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            assert_eq!(run_stream(&[a, b]).0, expected, "{name} split at {i}");
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run_stream(&bytes).0, expected, "{name} byte by byte");
    }
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
