#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The golden vectors of filter/testdata replayed through the release `.wasm`: the same
//! expectations the native core is held to (filter/tests/golden.rs), now through the real ABI,
//! Envoy's buffering and header rules, and with bodies cut into many chunks.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{chat_headers, golden_gateway, ledger, XorShift, GOLDEN_MODEL};
use serde_json::{json, Value};
use wasm_host::{Action, Vm};

fn testdata(sub: &str) -> PathBuf {
    wasm_host::workspace_root()
        .join("filter/testdata")
        .join(sub)
}

fn cases(sub: &str, suffix: &str) -> Vec<(String, PathBuf)> {
    let mut out: Vec<_> = fs::read_dir(testdata(sub))
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

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&fs::read(p).unwrap()).unwrap()
}

/// What the filter did with one request: the upstream request or the local reply, in the shape
/// of the golden `expected_upstream`.
fn replay_request(vm: &mut Vm, path: &str, body: &[u8], chunks: &[Vec<u8>]) -> Value {
    let mut req = vm.request().unwrap();
    let mut headers = chat_headers(body.len());
    headers[1].1 = path.to_string();
    assert_eq!(
        req.send_request_headers(&headers, false).unwrap(),
        Action::Pause,
        "the gateway must hold the headers until it has the body"
    );
    let last = chunks.len() - 1;
    for (i, c) in chunks.iter().enumerate() {
        let a = req.send_request_body(c, i == last).unwrap();
        if i < last {
            assert_eq!(a, Action::Pause, "chunk {i} must be buffered");
        }
    }
    let got = if let Some(reply) = req.local_reply() {
        assert!(req.upstream_request_headers().is_none());
        let b: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(
            reply.headers.get("content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(req.response_status(), Some(reply.status));
        json!({"error": {"status": reply.status, "param": b["error"].get("param"),
                         "message": b["error"]["message"]}})
    } else {
        let up = req.upstream_request_headers().unwrap().clone();
        let up_body = req.upstream_request_body().to_vec();
        assert!(req.upstream_request_complete());
        // Envoy facts the filter must respect on the way out.
        assert_eq!(
            up.get("content-length"),
            Some(up_body.len().to_string()),
            "content-length must match the rewritten body"
        );
        assert!(up.get("x-llm-cluster").is_some());
        assert!(
            up.iter()
                .all(|(_, v)| !String::from_utf8_lossy(v).contains("client-secret")),
            "client credentials leaked upstream: {up:?}"
        );
        // The cluster header was written while the headers were held, and Envoy clears the
        // route cache on every such write, so the route is chosen again from it.
        assert!(req.route_cache_clears() >= 1);
        assert_eq!(
            req.clear_route_cache_calls(),
            0,
            "no extra foreign call per request"
        );
        assert!(req.warnings().is_empty(), "{:?}", req.warnings());
        let headers: serde_json::Map<String, Value> = up
            .iter()
            .filter(|(k, _)| !k.starts_with(':'))
            .map(|(k, v)| (k.to_string(), json!(String::from_utf8_lossy(v))))
            .collect();
        json!({
            "path": up.get(":path"),
            "headers": headers,
            "body": serde_json::from_slice::<Value>(&up_body).unwrap(),
        })
    };
    req.finish().unwrap();
    got
}

/// How the native golden tests drive one folder of request vectors (filter/tests/golden*.rs):
/// the configuration, credentials, clock and the provider/model a case is sent to.
struct Dialect {
    dir: &'static str,
    /// Plugin configuration; None: built per case from the case's `provider`.
    config: Option<&'static str>,
    env: &'static [(&'static str, &'static str)],
    now_ms: u64,
    /// Key of the client request in the case file.
    request: &'static str,
    /// Provider and upstream model of a case.
    target: fn(&Value) -> (String, String),
    /// Client path of a case.
    path: fn(&Value) -> &'static str,
    /// Errors go out in Anthropic's shape, which has no `param`.
    anthropic_errors: bool,
}

const GOOGLE: &str = r#"{"providers":[
    {"name":"gemini","kind":"gemini","cluster":"c","api_key_env":"K"},
    {"name":"vertex","kind":"vertex","cluster":"c","api_key_env":"T","project":"my-proj","location":"us-central1"},
    {"name":"vertex_anthropic","kind":"vertex_anthropic","cluster":"c","api_key_env":"T","project":"my-proj","location":"us-east5"}
   ], "allow_provider_model":true}"#;

const BEDROCK: &str = r#"{"providers":[
    {"name":"br","kind":"bedrock","cluster":"c","region":"us-east-1",
     "access_key_id_env":"AK","secret_access_key_env":"SK","session_token_env":"ST"},
    {"name":"br_keys","kind":"bedrock","cluster":"c","region":"us-west-2",
     "access_key_id_env":"AK","secret_access_key_env":"SK"},
    {"name":"br_bearer","kind":"bedrock","cluster":"c","region":"us-east-1","api_key_env":"BK"},
    {"name":"br_custom","kind":"bedrock","cluster":"c","region":"eu-west-1",
     "host":"vpce-0a1b2c3d.bedrock-runtime.eu-west-1.vpce.amazonaws.com:8443",
     "base_path":"/proxy/","access_key_id_env":"AK","secret_access_key_env":"SK"}],
  "allow_provider_model":true}"#;

fn str_or(doc: &Value, key: &str, default: &str) -> String {
    doc[key].as_str().unwrap_or(default).to_string()
}

fn chat(_: &Value) -> &'static str {
    "/v1/chat/completions"
}

fn dialects() -> Vec<Dialect> {
    vec![
        Dialect {
            dir: "anthropic/requests",
            config: Some(crate::common::GOLDEN_CONFIG),
            env: &[("K", "test-key")],
            now_ms: crate::common::CREATED * 1000,
            request: "openai_request",
            target: |_| ("an".into(), "claude-sonnet-4-5".into()),
            path: chat,
            anthropic_errors: false,
        },
        Dialect {
            dir: "bedrock/requests",
            config: Some(BEDROCK),
            env: &[
                ("AK", "AKIDEXAMPLE"),
                ("SK", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                (
                    "ST",
                    "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==",
                ),
                ("BK", "ABSKQmVkcm9ja0FQSUtleS1FWEFNUExF"),
            ],
            now_ms: 1_700_000_000_000,
            request: "openai_request",
            target: |d| {
                (
                    str_or(d, "provider", "br"),
                    str_or(
                        d,
                        "upstream_model",
                        "anthropic.claude-3-5-sonnet-20240620-v1:0",
                    ),
                )
            },
            path: chat,
            anthropic_errors: false,
        },
        Dialect {
            dir: "gemini/requests",
            config: Some(GOOGLE),
            env: &[("K", "gemini-test-key"), ("T", "ya29.test-token")],
            now_ms: 0,
            request: "openai_request",
            target: |d| {
                (
                    str_or(d, "provider", "gemini"),
                    str_or(d, "model", "gemini-2.5-flash"),
                )
            },
            path: chat,
            anthropic_errors: false,
        },
        Dialect {
            dir: "vertex/requests",
            config: Some(GOOGLE),
            env: &[("K", "gemini-test-key"), ("T", "ya29.test-token")],
            now_ms: 0,
            request: "openai_request",
            target: |d| {
                (
                    str_or(d, "provider", "vertex"),
                    str_or(d, "model", "gemini-2.5-pro"),
                )
            },
            path: chat,
            anthropic_errors: false,
        },
        Dialect {
            dir: "openai_family/requests",
            config: None,
            env: &[("K", "test-key")],
            now_ms: 0,
            request: "request",
            target: |d| {
                (
                    str_or(&d["provider"], "name", "oa"),
                    str_or(d, "upstream_model", ""),
                )
            },
            path: |d| match d["endpoint"].as_str() {
                Some("embeddings") => "/v1/embeddings",
                _ => "/v1/chat/completions",
            },
            anthropic_errors: false,
        },
        Dialect {
            dir: "messages/requests",
            config: None,
            env: &[("K", "test-key")],
            now_ms: 0,
            request: "request",
            target: |d| {
                (
                    str_or(&d["provider"], "name", "oa"),
                    str_or(d, "upstream_model", "gpt-4o"),
                )
            },
            path: |_| "/v1/messages",
            anthropic_errors: true,
        },
        Dialect {
            dir: "responses/requests",
            config: None,
            env: &[("K", "test-key")],
            now_ms: 0,
            request: "request",
            target: |d| {
                (
                    str_or(&d["provider"], "name", "oa"),
                    str_or(d, "upstream_model", "gpt-4o"),
                )
            },
            path: |_| "/v1/responses",
            anthropic_errors: false,
        },
    ]
}

fn per_case_config(doc: &Value) -> String {
    let provider = match &doc["provider"] {
        Value::Null => json!({"name": "oa", "kind": "openai", "cluster": "c", "api_key_env": "K"}),
        p => p.clone(),
    };
    json!({"providers": [provider], "allow_provider_model": true}).to_string()
}

#[test]
fn golden_requests_of_every_dialect_match_through_the_wasm() {
    let mut rng = XorShift(0xA5A5_1234_5678_9ABC);
    let mut replayed = 0usize;
    for d in dialects() {
        if !testdata(d.dir).exists() {
            eprintln!("no {} in filter/testdata: skipped", d.dir);
            continue;
        }
        let host = wasm_host::Host::new().unwrap();
        host.set_time_nanos(d.now_ms * 1_000_000);
        let mut shared_vm = d
            .config
            .map(|c| host.vm(&crate::common::filter_wasm(), c, d.env).unwrap());
        for (name, path) in cases(d.dir, ".json") {
            let doc = read_json(&path);
            let what = format!("{}/{name}", d.dir);
            let mut own_vm;
            let vm = match shared_vm.as_mut() {
                Some(vm) => vm,
                None => {
                    own_vm = host
                        .vm(&crate::common::filter_wasm(), &per_case_config(&doc), d.env)
                        .unwrap();
                    &mut own_vm
                }
            };
            assert!(vm.configure(), "{what}: {:?}", host.logs());
            let (provider, model) = (d.target)(&doc);
            let mut request = doc[d.request].clone();
            request["model"] = json!(format!("{provider}/{model}"));
            let body = serde_json::to_vec(&request).unwrap();
            let expected = &doc["expected_upstream"];
            let splits = [
                vec![body.clone()],
                crate::common::split_at(&body, &rng.cuts(body.len(), 3)),
            ];
            for chunks in splits {
                let got = replay_request(vm, (d.path)(&doc), &body, &chunks);
                if let Some(err) = expected.get("error") {
                    let got = &got["error"];
                    assert!(!got.is_null(), "{what}: expected an error, got {got}");
                    assert_eq!(got["status"], err["status"], "{what}");
                    assert_eq!(got["message"], err["message"], "{what}");
                    if !d.anthropic_errors {
                        assert_eq!(got["param"], err["param"], "{what}");
                    }
                    continue;
                }
                assert!(got.get("error").is_none(), "{what}: {got}");
                assert_eq!(got["path"], expected["path"], "{what}");
                if expected["body"].is_null() {
                    // The translator keeps the client's bytes; the gateway only sets `model`.
                    let mut forwarded = doc[d.request].clone();
                    forwarded["model"] = json!(model);
                    assert_eq!(got["body"], forwarded, "{what}");
                } else {
                    assert_eq!(got["body"], expected["body"], "{what}");
                }
                for (k, v) in expected["headers"].as_object().unwrap() {
                    assert_eq!(&got["headers"][k], v, "{what}: header {k}");
                }
            }
            replayed += 1;
        }
    }
    assert!(replayed > 20, "only {replayed} request vectors replayed");
}

/// How the native golden tests translate one dialect's answers (responses, errors, streams).
struct Answers {
    responses: &'static [&'static str],
    streams: Option<&'static str>,
    stream_suffix: &'static str,
    /// Plugin configuration; None: per case (`provider` of the case, else OpenAI).
    config: Option<&'static str>,
    env: &'static [(&'static str, &'static str)],
    provider: &'static str,
    /// Upstream model the native tests pass as response metadata.
    model: &'static str,
    response_key: &'static str,
    expected_key: &'static str,
    path: &'static str,
    stream_type: &'static str,
    /// OpenAI chunks: the stream can be asked without the usage chunk.
    openai_chunks: bool,
    /// Response headers the native stream tests give the translator.
    stream_headers: &'static [(&'static str, &'static str)],
}

fn answers() -> Vec<Answers> {
    let bedrock_env: &'static [(&'static str, &'static str)] = &[
        ("AK", "AKIDEXAMPLE"),
        ("SK", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        (
            "ST",
            "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==",
        ),
        ("BK", "ABSKQmVkcm9ja0FQSUtleS1FWEFNUExF"),
    ];
    let google_env: &'static [(&'static str, &'static str)] =
        &[("K", "gemini-test-key"), ("T", "ya29.test-token")];
    vec![
        Answers {
            responses: &["anthropic/responses"],
            streams: Some("anthropic/streams"),
            stream_suffix: ".in.sse",
            config: Some(crate::common::GOLDEN_CONFIG),
            env: &[("K", "test-key")],
            provider: "an",
            model: "claude-sonnet-4-5",
            response_key: "anthropic_response",
            expected_key: "expected_openai",
            path: "/v1/chat/completions",
            stream_type: "text/event-stream",
            openai_chunks: true,
            stream_headers: &[],
        },
        Answers {
            responses: &["bedrock/responses"],
            streams: Some("bedrock/streams"),
            stream_suffix: ".in.bin",
            config: Some(BEDROCK),
            env: bedrock_env,
            provider: "br",
            model: "anthropic.claude-3-5-sonnet-20240620-v1:0",
            response_key: "bedrock_response",
            expected_key: "expected_openai",
            path: "/v1/chat/completions",
            stream_type: "application/vnd.amazon.eventstream",
            openai_chunks: true,
            stream_headers: &[("x-amzn-requestid", "5d1a2b3c-0000-4a5b-8c9d-0123456789ab")],
        },
        Answers {
            responses: &["gemini/responses", "gemini/errors"],
            streams: Some("gemini/streams"),
            stream_suffix: ".in.sse",
            config: Some(GOOGLE),
            env: google_env,
            provider: "gemini",
            model: "m",
            response_key: "upstream_response",
            expected_key: "expected_openai",
            path: "/v1/chat/completions",
            stream_type: "text/event-stream",
            openai_chunks: true,
            stream_headers: &[],
        },
        Answers {
            responses: &["vertex/responses"],
            streams: Some("vertex/streams"),
            stream_suffix: ".in.sse",
            config: Some(GOOGLE),
            env: google_env,
            provider: "vertex_anthropic",
            model: "m",
            response_key: "upstream_response",
            expected_key: "expected_openai",
            path: "/v1/chat/completions",
            stream_type: "text/event-stream",
            openai_chunks: true,
            stream_headers: &[],
        },
        Answers {
            responses: &["messages/responses"],
            streams: Some("messages/streams"),
            stream_suffix: ".in.sse",
            config: None,
            env: &[("K", "test-key")],
            provider: "oa",
            model: "m",
            response_key: "response",
            expected_key: "expected",
            path: "/v1/messages",
            stream_type: "text/event-stream",
            openai_chunks: false,
            stream_headers: &[],
        },
    ]
}

/// A gateway for one case of `a`, and the provider the case talks to.
fn answers_gateway(a: &Answers, doc: &Value) -> (wasm_host::Host, Vm, String) {
    let host = wasm_host::Host::new().unwrap();
    host.set_time_nanos(crate::common::CREATED * 1_000_000_000);
    let (config, provider) = match a.config {
        Some(c) => (
            c.to_string(),
            doc["provider"].as_str().unwrap_or(a.provider).to_string(),
        ),
        None => (
            per_case_config(doc),
            doc["provider"]["name"]
                .as_str()
                .unwrap_or(a.provider)
                .to_string(),
        ),
    };
    let vm = host
        .vm(&crate::common::filter_wasm(), &config, a.env)
        .unwrap();
    assert!(vm.configure(), "{:?}", host.logs());
    (host, vm, provider)
}

fn client_request(a: &Answers, provider: &str, stream: bool, usage: bool) -> Vec<u8> {
    let model = format!("{provider}/{}", a.model);
    let mut r = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    if a.path == "/v1/messages" {
        r["max_tokens"] = json!(100);
    }
    if stream {
        r["stream"] = json!(true);
        if a.openai_chunks {
            r["stream_options"] = json!({"include_usage": usage});
        }
    }
    serde_json::to_vec(&r).unwrap()
}

/// Sends the client request; asserts it went upstream.
fn forward(req: &mut wasm_host::Request<'_>, path: &str, body: &[u8], what: &str) {
    let mut headers = chat_headers(body.len());
    headers[1].1 = path.to_string();
    req.send_request_headers(&headers, false).unwrap();
    req.send_request_body(body, true).unwrap();
    assert!(
        req.upstream_request_complete(),
        "{what}: not forwarded: {:?}",
        req.local_reply()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
    );
}

/// Checks the shared-data ledger against the native usage (`prompt` None: estimated, not
/// compared).
fn check_ledger(
    host: &wasm_host::Host,
    a: &Answers,
    provider: &str,
    usage: &Value,
    failed: bool,
    what: &str,
) {
    let model = format!("{provider}/{}", a.model);
    let got =
        ledger(host, &model, provider, a.model).unwrap_or_else(|| panic!("{what}: no ledger"));
    let prompt = usage["prompt"].as_u64();
    assert_eq!(got[0], 1, "{what}: requests");
    if prompt.is_some() || failed {
        assert_eq!(got[1], prompt.unwrap_or(0), "{what}: prompt tokens");
    }
    assert_eq!(
        got[2],
        usage["completion"].as_u64().unwrap_or(0),
        "{what}: completion tokens"
    );
    assert_eq!(got[3], u64::from(failed), "{what}: errors");
}

/// The ledger after a stream: reported usage when it ended cleanly with usage; otherwise
/// (failed, or no usage) the prompt as reported (else estimated, not compared) and the
/// answer the client received at four characters per token, or the reported completion
/// when that is larger.
fn check_stream_ledger(
    host: &wasm_host::Host,
    a: &Answers,
    provider: &str,
    usage: &Value,
    failed: bool,
    out: &[u8],
    what: &str,
) {
    let reported = usage["prompt"].is_u64() || usage["completion"].is_u64();
    if reported && !failed {
        return check_ledger(host, a, provider, usage, failed, what);
    }
    let model = format!("{provider}/{}", a.model);
    let got =
        ledger(host, &model, provider, a.model).unwrap_or_else(|| panic!("{what}: no ledger"));
    assert_eq!(got[0], 1, "{what}: requests");
    if let Some(p) = usage["prompt"].as_u64() {
        assert_eq!(got[1], p, "{what}: prompt tokens");
    }
    let relayed = relayed_chars(out).div_ceil(4);
    let completion = usage["completion"].as_u64().unwrap_or(0).max(relayed);
    assert_eq!(got[2], completion, "{what}: completion tokens");
    assert_eq!(got[3], u64::from(failed), "{what}: errors");
}

/// Characters of answer (text, reasoning, tool arguments) in a client stream, OpenAI
/// chunks or Anthropic events.
fn relayed_chars(out: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(out);
    let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count() as u64);
    let mut n = 0;
    for line in text.lines() {
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            continue;
        };
        for c in v["choices"].as_array().into_iter().flatten() {
            let d = &c["delta"];
            n += chars(&d["content"]) + chars(&d["reasoning_content"]);
            for t in d["tool_calls"].as_array().into_iter().flatten() {
                n += chars(&t["function"]["arguments"]);
            }
        }
        if v["type"] == "content_block_delta" {
            let d = &v["delta"];
            n += chars(&d["text"]) + chars(&d["partial_json"]) + chars(&d["thinking"]);
        }
    }
    n
}

#[test]
fn golden_answers_of_every_dialect_match_through_the_wasm() {
    let mut rng = XorShift(0x0BAD_CAFE_F00D_0001);
    let mut replayed = 0usize;
    for a in answers() {
        for dir in a.responses {
            if !testdata(dir).exists() {
                eprintln!("no {dir} in filter/testdata: skipped");
                continue;
            }
            for (name, path) in cases(dir, ".json") {
                let doc = read_json(&path);
                let what = format!("{dir}/{name}");
                let status = doc["status"].as_u64().unwrap() as u16;
                let answer = match &doc[a.response_key] {
                    Value::String(s) => s.clone().into_bytes(),
                    v => serde_json::to_vec(v).unwrap(),
                };
                let expected = &doc[a.expected_key];
                let splits = [
                    vec![answer.clone()],
                    crate::common::split_at(&answer, &rng.cuts(answer.len(), 4)),
                ];
                for chunks in splits {
                    let (host, mut vm, provider) = answers_gateway(&a, &doc);
                    let mut req = vm.request().unwrap();
                    let body = client_request(&a, &provider, false, false);
                    forward(&mut req, a.path, &body, &what);
                    let mut rh = vec![
                        (":status".to_string(), status.to_string()),
                        ("content-type".to_string(), "application/json".to_string()),
                        ("content-length".to_string(), answer.len().to_string()),
                    ];
                    if let Some(h) = doc["headers"].as_object() {
                        for (k, v) in h {
                            rh.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
                            rh.push((k.to_ascii_lowercase(), v.as_str().unwrap().to_string()));
                        }
                    }
                    req.send_response_headers(&rh, answer.is_empty()).unwrap();
                    if !answer.is_empty() {
                        let last = chunks.len() - 1;
                        for (i, c) in chunks.iter().enumerate() {
                            req.send_response_body(c, i == last).unwrap();
                        }
                    }
                    assert!(req.response_complete(), "{what}");
                    let h = req.response_headers().unwrap().clone();
                    let client_body = req.response_body().to_vec();
                    assert_eq!(
                        h.get("content-length"),
                        Some(client_body.len().to_string()),
                        "{what}: content-length must match the body the client gets"
                    );
                    assert!(req.warnings().is_empty(), "{what}: {:?}", req.warnings());
                    let got: Value = serde_json::from_slice(&client_body)
                        .unwrap_or_else(|e| panic!("{what}: client body is not JSON: {e}"));
                    let failed = expected.get("status").is_some() || !(200..300).contains(&status);
                    if let Some(s) = expected.get("status") {
                        assert_eq!(json!(req.response_status()), *s, "{what}");
                        if let Some(r) = expected.get("retry_after").and_then(Value::as_u64) {
                            assert_eq!(h.get("retry-after"), Some(r.to_string()), "{what}");
                        }
                    } else {
                        assert_eq!(req.response_status(), Some(u32::from(status)), "{what}");
                    }
                    if expected["body"].is_null() {
                        // Passed through unchanged.
                        assert_eq!(client_body, answer, "{what}");
                    } else {
                        assert_eq!(got, expected["body"], "{what}");
                    }
                    req.finish().unwrap();
                    check_ledger(&host, &a, &provider, &expected["usage"], failed, &what);
                }
                replayed += 1;
            }
        }
    }
    assert!(replayed > 20, "only {replayed} answers replayed");
}

fn replay_stream(
    a: &Answers,
    name: &str,
    chunks: &[Vec<u8>],
    wants_usage: bool,
) -> (wasm_host::Host, String, Vec<u8>, Vec<Vec<u8>>) {
    // `<provider>__<case>` picks another provider of the configuration.
    let provider = name.split_once("__").map_or(a.provider, |(p, _)| p);
    let doc = match a.config {
        Some(_) => json!({ "provider": provider }),
        // Per-case configurations: streams use the default (OpenAI) provider.
        None => json!({}),
    };
    let (host, mut vm, provider) = answers_gateway(a, &doc);
    let mut req = vm.request().unwrap();
    let body = client_request(a, &provider, true, wants_usage);
    forward(&mut req, a.path, &body, name);
    let mut rh = vec![
        (":status", "200"),
        ("content-type", a.stream_type),
        ("content-length", "123456"),
    ];
    rh.extend_from_slice(a.stream_headers);
    req.send_response_headers(&rh, false).unwrap();
    // Streaming: the headers reach the client at once, without the upstream length.
    let h = req
        .response_headers()
        .unwrap_or_else(|| panic!("{name}: stream headers must not be held"))
        .clone();
    assert!(!h.contains("content-length"), "{name}");
    let last = chunks.len() - 1;
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(
            req.send_response_body(c, i == last).unwrap(),
            Action::Continue,
            "{name}"
        );
    }
    assert!(req.response_complete());
    assert!(req.warnings().is_empty(), "{:?}", req.warnings());
    let out = req.response_body().to_vec();
    let out_chunks = req.response_chunks().to_vec();
    req.finish().unwrap();
    (host, provider, out, out_chunks)
}

#[test]
fn golden_streams_of_every_dialect_match_through_the_wasm_however_split() {
    let mut rng = XorShift(0x5EED_0000_0000_0042);
    let mut replayed = 0usize;
    for a in answers() {
        let Some(dir) = a.streams else { continue };
        if !testdata(dir).exists() {
            eprintln!("no {dir} in filter/testdata: skipped");
            continue;
        }
        for (name, path) in cases(dir, a.stream_suffix) {
            let what = format!("{dir}/{name}");
            let input = fs::read(&path).unwrap();
            let expected = fs::read(path.with_file_name(format!("{name}.out.sse"))).unwrap();
            let meta = read_json(&path.with_file_name(format!("{name}.meta.json")));
            let mut splits = vec![vec![input.clone()]];
            for n in [1, 2, 5, 17] {
                splits.push(crate::common::split_at(&input, &rng.cuts(input.len(), n)));
            }
            splits.push(input.chunks(1).map(<[u8]>::to_vec).collect());
            for (i, chunks) in splits.iter().enumerate() {
                let (host, provider, out, out_chunks) = replay_stream(&a, &name, chunks, true);
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(&expected),
                    "{what}, split #{i}"
                );
                // Each client chunk carries whole SSE events only.
                for c in &out_chunks {
                    assert!(
                        c.ends_with(b"\n\n"),
                        "{what}: partial event {:?}",
                        String::from_utf8_lossy(c)
                    );
                }
                let failed = meta["failed"].as_bool().unwrap();
                check_stream_ledger(
                    &host,
                    &a,
                    &provider,
                    &meta,
                    failed,
                    &out,
                    &format!("{what}, split #{i}"),
                );
            }
            if a.openai_chunks {
                // Without include_usage: the same events minus the usage-only chunk.
                let without: Vec<u8> = String::from_utf8(expected.clone())
                    .unwrap()
                    .split_inclusive("\n\n")
                    .filter(|ev| !ev.contains("\"choices\":[],\"usage\""))
                    .collect::<String>()
                    .into_bytes();
                let (_, _, out, _) = replay_stream(&a, &name, std::slice::from_ref(&input), false);
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(&without),
                    "{what} without usage"
                );
            }
            replayed += 1;
        }
    }
    assert!(replayed > 20, "only {replayed} streams replayed");
}

fn replay_response(status: u16, answer: &[u8], chunks: &[Vec<u8>]) -> (wasm_host::Host, Value) {
    let (host, mut vm) = golden_gateway();
    let mut req = vm.request().unwrap();
    let body =
        format!(r#"{{"model":"{GOLDEN_MODEL}","messages":[{{"role":"user","content":"hi"}}]}}"#);
    req.send_request_headers(&chat_headers(body.len()), false)
        .unwrap();
    req.send_request_body(body.as_bytes(), true).unwrap();
    assert!(req.upstream_request_complete());
    req.send_response_headers(
        &[
            (":status", status.to_string()),
            ("content-type", "application/json".to_string()),
            ("content-length", answer.len().to_string()),
        ],
        false,
    )
    .unwrap();
    let last = chunks.len() - 1;
    for (i, c) in chunks.iter().enumerate() {
        req.send_response_body(c, i == last).unwrap();
    }
    assert!(req.response_complete());
    let got = json!({
        "status": req.response_status(),
        "headers": req.response_headers().unwrap().sorted_pairs(),
        "body": serde_json::from_slice::<Value>(req.response_body()).unwrap(),
    });
    req.finish().unwrap();
    (host, got)
}

#[test]
fn request_bodies_in_many_chunks_give_the_same_upstream_request() {
    let (_host, mut vm) = golden_gateway();
    let doc = read_json(&testdata(
        "anthropic/requests/tool_round_trip_parallel.json",
    ));
    let mut openai = doc["openai_request"].clone();
    openai["model"] = json!(GOLDEN_MODEL);
    let body = serde_json::to_vec(&openai).unwrap();
    let chat = "/v1/chat/completions";
    let reference = replay_request(&mut vm, chat, &body, std::slice::from_ref(&body));
    assert!(reference.get("body").is_some(), "{reference}");
    for size in (1..=64).chain([100, 333, body.len() - 1]) {
        let chunks: Vec<Vec<u8>> = body.chunks(size).map(<[u8]>::to_vec).collect();
        assert_eq!(
            replay_request(&mut vm, chat, &body, &chunks),
            reference,
            "chunk size {size}"
        );
    }
    // Empty chunks in between, and an empty last chunk carrying end_of_stream.
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    for c in body.chunks(50) {
        chunks.push(Vec::new());
        chunks.push(c.to_vec());
    }
    chunks.push(Vec::new());
    assert_eq!(replay_request(&mut vm, chat, &body, &chunks), reference);
}

#[test]
fn response_bodies_in_many_chunks_give_the_same_answer() {
    let doc = read_json(&testdata("anthropic/responses/tool_use_with_text.json"));
    let answer = serde_json::to_vec(&doc["anthropic_response"]).unwrap();
    let (_, reference) = replay_response(200, &answer, std::slice::from_ref(&answer));
    assert_eq!(reference["body"], doc["expected_openai"]["body"]);
    for size in [1, 2, 3, 7, 16, 64, answer.len() - 1] {
        let chunks: Vec<Vec<u8>> = answer.chunks(size).map(<[u8]>::to_vec).collect();
        let (_, got) = replay_response(200, &answer, &chunks);
        assert_eq!(got, reference, "chunk size {size}");
    }
}
