//! The gateway flow for `/v1/embeddings` on Gemini and Bedrock: translated request,
//! OpenAI-shaped answer, usage reported or estimated (and labelled so).

use std::rc::Rc;

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::FakeHost;
use crate::state::ledger;
use serde_json::Value;

fn cfg() -> Rc<Config> {
    let doc = r#"{
      "providers": [
        {"name":"gm","kind":"gemini","cluster":"gm_c","api_key_env":"GM"},
        {"name":"br","kind":"bedrock","cluster":"br_c","region":"us-east-1",
         "access_key_id_env":"AK","secret_access_key_env":"SK"}
      ],
      "models": [
        {"name":"gemb","targets":[{"provider":"gm","model":"gemini-embedding-001"}]},
        {"name":"titan","targets":[{"provider":"br","model":"amazon.titan-embed-text-v2:0"}]}
      ]
    }"#;
    let env = |k: &str| Some(format!("key-{}", k.to_lowercase()));
    Rc::new(parse(doc.as_bytes(), &env).unwrap())
}

fn host(body: &str) -> FakeHost {
    let mut h = FakeHost::with_request(&[(":method", "POST"), (":path", "/v1/embeddings")]);
    h.request_body = body.as_bytes().to_vec();
    h
}

fn exchange(h: &mut FakeHost) -> Exchange {
    let body = h.request_body.clone();
    let mut x = Exchange::new(cfg(), Default::default());
    assert_eq!(x.on_request_headers(h, false), Action::Pause);
    assert_eq!(
        x.on_request_body(h, body.len(), true),
        Action::Continue,
        "{:?}",
        h.local_response
    );
    x
}

fn respond(x: &mut Exchange, h: &mut FakeHost, headers: &[(&str, &str)], body: &[u8]) -> Value {
    h.response_headers = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    h.response_body = body.to_vec();
    assert_eq!(x.on_response_headers(h, false), Action::Pause);
    assert_eq!(x.on_response_body(h, body.len(), true), Action::Continue);
    x.on_log(h);
    serde_json::from_slice(&h.response_body).unwrap()
}

#[test]
fn gemini_usage_is_estimated_and_labelled() {
    let mut h = host(r#"{"model":"gemb","input":["abcdefgh","xy"]}"#);
    let mut x = exchange(&mut h);
    assert_eq!(
        h.header(":path").as_deref(),
        Some("/v1beta/models/gemini-embedding-001:batchEmbedContents")
    );
    assert_eq!(h.header("x-goog-api-key").as_deref(), Some("key-gm"));
    let v = respond(
        &mut x,
        &mut h,
        &[(":status", "200"), ("content-type", "application/json")],
        br#"{"embeddings":[{"values":[0.5]},{"values":[1]}]}"#,
    );
    assert_eq!(v["object"], "list");
    assert_eq!(v["data"][1]["embedding"][0], 1.0);
    // 8 chars → 2 tokens, 2 chars → 1 token.
    assert_eq!(v["usage"]["prompt_tokens"], 3);
    let key = crate::state::keys::usage("gemb", "gm", "gemini-embedding-001");
    assert_eq!(ledger::read(&h, &key), Some([1, 3, 0, 0, 0]));
    assert!(h
        .log_fields
        .get("llm")
        .is_some_and(|f| f.contains("usage=estimated")));
}

#[test]
fn bedrock_titan_is_signed_and_reported() {
    let mut h = host(r#"{"model":"titan","input":"hello","encoding_format":"base64"}"#);
    let mut x = exchange(&mut h);
    assert_eq!(
        h.header(":path").as_deref(),
        Some("/model/amazon.titan-embed-text-v2%3A0/invoke")
    );
    assert!(h
        .header("authorization")
        .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256 Credential=key-ak/")));
    let v = respond(
        &mut x,
        &mut h,
        &[(":status", "200"), ("content-type", "application/json")],
        br#"{"embedding":[1.0],"inputTextTokenCount":5}"#,
    );
    assert_eq!(v["data"][0]["embedding"], "AACAPw==");
    assert_eq!(v["usage"]["prompt_tokens"], 5);
    let key = crate::state::keys::usage("titan", "br", "amazon.titan-embed-text-v2:0");
    assert_eq!(ledger::read(&h, &key), Some([1, 5, 0, 0, 0]));
    assert!(h
        .log_fields
        .get("llm")
        .is_some_and(|f| f.contains("usage=reported")));
}

#[test]
fn bedrock_titan_refuses_several_inputs_locally() {
    let body = r#"{"model":"titan","input":["a","b"]}"#;
    let mut h = host(body);
    let mut x = Exchange::new(cfg(), Default::default());
    x.on_request_headers(&mut h, false);
    assert_eq!(x.on_request_body(&mut h, body.len(), true), Action::Pause);
    let r = h.local_response.as_ref().unwrap();
    assert_eq!(r.status, 400);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["error"]["param"], "input");
}
