#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_types
)]
//! The filter's SigV4 signature must equal botocore's `SigV4Auth` (an independent
//! implementation, in the project venv) on the same inputs and timestamp: every signed
//! golden request vector, plus edge cases. Skipped, loudly, when the venv is missing
//! (`./build.sh setup` creates it; the e2e suite checks signatures through Envoy too).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use llm_gateway::api::openai::ChatRequest;
use llm_gateway::aws::sigv4::{self, amz_date};
use llm_gateway::aws::{hash::sha256, hex};
use llm_gateway::config::ProviderKind;
use llm_gateway::translate;
use serde_json::{json, Value};

mod bedrock_common;
use bedrock_common as golden;

fn python() -> Option<std::path::PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    p.exists().then_some(p)
}

fn botocore(cases: &[Value]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sigv4_botocore.py");
    let mut child = Command::new(python().unwrap())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(cases).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "botocore signer failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A case for the python side: the headers botocore gets are exactly those the filter
/// signs (it signs every header it is given), minus the ones it adds itself.
fn case(
    host: &str,
    path: &str,
    body: &[u8],
    token: Option<&str>,
    region: &str,
    now_ms: u64,
) -> Value {
    let sha = hex(&sha256(body));
    json!({
        "url": format!("https://{host}{path}"),
        "body_hex": hex(body),
        "headers": {"Content-Type": "application/json", "Host": host, "X-Amz-Content-SHA256": sha},
        "access_key": "AKIDEXAMPLE",
        "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "token": token,
        "region": region,
        "service": "bedrock",
        "timestamp": amz_date(now_ms / 1000),
    })
}

#[test]
fn golden_request_signatures_match_botocore() {
    if python().is_none() {
        eprintln!(
            "SKIPPED: no .venv/bin/python (run ./build.sh setup) — signature not cross-checked"
        );
        return;
    }
    let cfg = golden::golden_config();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/bedrock/requests");
    let mut names = Vec::new();
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths {
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let raw = serde_json::to_vec(&doc["openai_request"]).unwrap();
        let req: ChatRequest = serde_json::from_slice(&raw).unwrap();
        let provider = golden::provider(&cfg, &doc);
        let ProviderKind::Bedrock(settings) = &provider.kind else {
            panic!()
        };
        let Some(creds) = &settings.credentials else {
            continue; // bearer key, nothing to sign
        };
        let model = doc["upstream_model"]
            .as_str()
            .unwrap_or(golden::DEFAULT_MODEL);
        let Ok(up) = translate::request(provider, model, &req, &raw, golden::NOW_MS) else {
            continue;
        };
        let auth = up
            .headers
            .iter()
            .find(|(k, _)| *k == "authorization")
            .unwrap()
            .1
            .clone();
        cases.push(case(
            provider.host.as_deref().unwrap(),
            &up.path,
            up.body.as_deref().unwrap(),
            creds.session_token.as_ref().map(|t| t.expose()),
            &settings.region,
            golden::NOW_MS,
        ));
        ours.push(auth);
        names.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    assert!(cases.len() >= 15, "only {} signed cases", cases.len());
    let theirs = botocore(&cases);
    for ((name, a), b) in names.iter().zip(&ours).zip(&theirs) {
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn edge_cases_match_botocore() {
    if python().is_none() {
        eprintln!(
            "SKIPPED: no .venv/bin/python (run ./build.sh setup) — signature not cross-checked"
        );
        return;
    }
    let big: Vec<u8> = (0..200_000u32)
        .map(|i| b"{}[]abc\"\\ \n"[(i % 11) as usize])
        .collect();
    type Input<'a> = (&'a str, &'a str, &'a [u8], Option<&'a str>, &'a str, u64);
    let inputs: Vec<Input> = vec![
        (
            "bedrock-runtime.us-east-1.amazonaws.com",
            "/model/m/converse",
            b"",
            None,
            "us-east-1",
            0,
        ),
        (
            "bedrock-runtime.ap-southeast-2.amazonaws.com",
            "/model/a%3Ab%2Fc/converse-stream",
            b"{}",
            Some("tok/+=en"),
            "ap-southeast-2",
            951_782_400_123,
        ),
        (
            "127.0.0.1:8443",
            "/x/model/m~1/converse",
            &big,
            Some("t"),
            "eu-central-1",
            4_102_444_799_999,
        ),
        (
            "h",
            "/model/%E6%97%A5/converse",
            "日本".as_bytes(),
            None,
            "us-gov-west-1",
            1_234_567_890_000,
        ),
    ];
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for (host, path, body, token, region, now) in &inputs {
        let headers = [("content-type", "application/json"), ("host", *host)];
        let out = sigv4::sign(
            &sigv4::Request {
                method: "POST",
                path,
                query: "",
                headers: &headers,
                payload: body,
            },
            &sigv4::Credentials {
                access_key_id: "AKIDEXAMPLE",
                secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                session_token: *token,
            },
            &sigv4::Scope {
                region,
                service: "bedrock",
            },
            *now,
        );
        ours.push(
            out.iter()
                .find(|(k, _)| *k == "authorization")
                .unwrap()
                .1
                .clone(),
        );
        cases.push(case(host, path, body, *token, region, *now));
    }
    assert_eq!(ours, botocore(&cases));
}
