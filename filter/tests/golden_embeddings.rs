#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_types
)]
//! Golden vectors for `/v1/embeddings` on Gemini, Vertex AI and Bedrock
//! (testdata/embeddings/):
//! * `requests/*.json`: `provider` + OpenAI `request` + `upstream_model` →
//!   `expected_upstream` (path, headers, body; Bedrock signed on a fixed clock), or the
//!   400 for `err_*` cases. Every SigV4-signed vector is also signed by botocore (from
//!   the project venv) and must match.
//! * `responses/*.json`: `provider` + the client `request` + upstream `status`,
//!   `headers`, `response` → `expected` OpenAI list (or error) and accounted usage.
//!
//! `UPDATE_GOLDEN=1 cargo test -p llm-gateway --test golden_embeddings` rewrites the
//! expectations (review the diff!).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use llm_gateway::api::embeddings::EmbeddingsRequest;
use llm_gateway::aws::{hash::sha256, hex};
use llm_gateway::config::{self, Config, Provider, ProviderKind};
use llm_gateway::translate::{embeddings, ResponseMeta};
use serde_json::{json, Map, Value};

/// 2023-11-14T22:13:20Z
const NOW_MS: u64 = 1_700_000_000_000;
const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/embeddings")
        .join(sub)
}

fn update() -> bool {
    std::env::var("UPDATE_GOLDEN").is_ok()
}

fn cases(sub: &str) -> Vec<(String, PathBuf, Value)> {
    let mut out: Vec<_> = fs::read_dir(dir(sub))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name()?.to_str()?.strip_suffix(".json")?.to_string();
            let doc = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
            Some((name, p, doc))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
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

/// A one-provider configuration: keys `K` (API key), `AK`/`SK` (AWS key pair).
fn config_with(provider: &Value) -> Config {
    let doc = json!({"providers": [provider], "allow_provider_model": true});
    config::parse(doc.to_string().as_bytes(), &|k| {
        Some(
            match k {
                "K" => "test-key",
                "AK" => ACCESS_KEY,
                "SK" => SECRET_KEY,
                _ => return None,
            }
            .to_string(),
        )
    })
    .unwrap()
}

fn parse_request(doc: &Value) -> (Vec<u8>, EmbeddingsRequest) {
    let raw = serde_json::to_vec(&doc["request"]).unwrap();
    let req = serde_json::from_slice(&raw).unwrap();
    (raw, req)
}

fn error_json(e: &llm_gateway::error::GatewayError) -> Value {
    json!({"error": {"status": e.status, "param": e.param, "message": e.message, "code": e.code}})
}

struct Signed {
    name: String,
    ours: String,
    case: Value,
}

#[test]
fn embeddings_requests() {
    let mut signed = Vec::new();
    for (name, path, doc) in cases("requests") {
        let cfg = config_with(&doc["provider"]);
        let provider = &cfg.providers[0];
        let (raw, req) = parse_request(&doc);
        let model = doc["upstream_model"].as_str().unwrap();
        let got = match embeddings::validate(&req)
            .and_then(|()| embeddings::request(provider, model, &req, &raw, NOW_MS))
        {
            Ok(up) => {
                let body = up.body.clone().unwrap();
                if let Some(case) = botocore_case(provider, &up.path, &body) {
                    let auth = up.headers.iter().find(|(k, _)| *k == "authorization");
                    signed.push(Signed {
                        name: name.clone(),
                        ours: auth.unwrap().1.clone(),
                        case,
                    });
                }
                let headers: Map<String, Value> = up
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect();
                let body: Value = serde_json::from_slice(&body).unwrap();
                json!({"path": up.path, "headers": headers, "body": body})
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
    check_with_botocore(&signed);
}

#[test]
fn embeddings_responses() {
    for (name, path, doc) in cases("responses") {
        let cfg = config_with(&doc["provider"]);
        let provider = &cfg.providers[0];
        let (_, req) = parse_request(&doc);
        let shape = embeddings::Shape::of(&req);
        let headers: Map<String, Value> = doc["headers"].as_object().cloned().unwrap_or_default();
        let header = |n: &str| headers.get(n).and_then(Value::as_str).map(String::from);
        let meta = ResponseMeta {
            model: doc["upstream_model"].as_str().unwrap(),
            header: &header,
        };
        let body = match &doc["response"] {
            Value::String(s) => s.as_bytes().to_vec(),
            v => serde_json::to_vec(v).unwrap(),
        };
        let status = doc["status"].as_u64().unwrap_or(200) as u16;
        let got = match embeddings::response(provider, status, &body, &meta, &shape) {
            Ok(out) => json!({
                "body": serde_json::from_slice::<Value>(&out.body.unwrap()).unwrap(),
                "usage": {"prompt": out.usage.prompt, "completion": out.usage.completion},
            }),
            Err(e) => {
                let mut v = error_json(&e);
                v["error"]["retry_after"] = json!(e.retry_after);
                v["error"]["type"] = json!(e.kind);
                v
            }
        };
        assert_eq!(
            name.starts_with("err_"),
            got.get("error").is_some(),
            "{name}: {got}"
        );
        check_or_write(&path, doc, "expected", got);
    }
}

/// The botocore input for a SigV4-signed Bedrock request (same as sigv4_botocore.rs).
fn botocore_case(provider: &Provider, path: &str, body: &[u8]) -> Option<Value> {
    let ProviderKind::Bedrock(settings) = &provider.kind else {
        return None;
    };
    let creds = settings.credentials.as_ref()?;
    let host = provider.host.as_deref().unwrap();
    Some(json!({
        "url": format!("https://{host}{path}"),
        "body_hex": hex(body),
        "headers": {"Content-Type": "application/json", "Host": host,
                    "X-Amz-Content-SHA256": hex(&sha256(body))},
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "token": creds.session_token.as_ref().map(|t| t.expose()),
        "region": settings.region,
        "service": "bedrock",
        "timestamp": llm_gateway::aws::sigv4::amz_date(NOW_MS / 1000),
    }))
}

fn check_with_botocore(signed: &[Signed]) {
    assert!(signed.len() >= 2, "only {} signed cases", signed.len());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("../.venv/bin/python");
    if !python.exists() {
        eprintln!("SKIPPED: no .venv/bin/python — embeddings signatures not cross-checked");
        return;
    }
    let cases: Vec<&Value> = signed.iter().map(|s| &s.case).collect();
    let mut child = Command::new(python)
        .arg(root.join("tests/sigv4_botocore.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&cases).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "botocore signer failed");
    let theirs: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    for (s, b) in signed.iter().zip(&theirs) {
        assert_eq!(&s.ours, b, "{}", s.name);
    }
}
