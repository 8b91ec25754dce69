//! The refresh job against a fake Envoy, and what requests get from it.

use std::cell::RefCell;
use std::rc::Rc;

use super::{attach, Refresh, RefreshMetrics};
use crate::background::{Answer, Call, Calls, Job};
use crate::config::{parse, Config};

const DOC: &str = r#"{"providers":[
  {"name":"vx","kind":"vertex","cluster":"vx_c","project":"p","location":"l",
   "credential":{"source":"gcp_metadata","cluster":"metadata"}},
  {"name":"an","kind":"anthropic","cluster":"an_c",
   "credential":{"source":"oauth2_client_credentials","cluster":"idp","host":"login.example",
                 "token_path":"/t/oauth2/v2.0/token","client_id":"app","client_secret_env":"CS","scope":"api://x/.default"}},
  {"name":"oa","kind":"openai","cluster":"oa_c","api_key_env":"K"}],
  "allow_provider_model":true}"#;

fn config() -> Config {
    parse(DOC.as_bytes(), &|k| match k {
        "K" => Some("sk-static".into()),
        "CS" => Some("s3cret&=".into()),
        _ => None,
    })
    .unwrap()
}

/// Cluster, headers and body of a call.
type Sent = (String, Vec<(String, String)>, Vec<u8>);

#[derive(Default)]
struct FakeCalls {
    next: u32,
    sent: Vec<Sent>,
    refuse: bool,
}

impl Calls for FakeCalls {
    fn dispatch(&mut self, call: &Call<'_>) -> Option<u32> {
        if self.refuse {
            return None;
        }
        self.next += 1;
        let headers = call
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.sent
            .push((call.cluster.to_string(), headers, call.body.to_vec()));
        Some(self.next)
    }
}

#[derive(Default, Clone)]
struct Seen(Rc<RefCell<Vec<String>>>);

impl RefreshMetrics for Seen {
    fn refreshed(&mut self, p: &str) {
        self.0.borrow_mut().push(format!("ok {p}"));
    }
    fn failed(&mut self, p: &str) {
        self.0.borrow_mut().push(format!("fail {p}"));
    }
    fn expires_in(&mut self, _p: &str, _s: u64) {}
}

fn token(value: &str, seconds: u64) -> Answer {
    Answer::Reply {
        status: 200,
        headers: vec![],
        body: format!(r#"{{"access_token":"{value}","expires_in":{seconds}}}"#).into_bytes(),
    }
}

fn header(cfg: &Config, provider: usize, now: u64) -> Result<Vec<(&'static str, String)>, u16> {
    let mut h = vec![("authorization", "stale".to_string())];
    attach(&cfg.providers[provider], now, &mut h).map_err(|e| e.status)?;
    Ok(h)
}

#[test]
fn calls_the_identity_endpoints_with_their_headers_and_form() {
    let cfg = config();
    let mut job = Refresh::for_config(&cfg, Box::new(Seen::default())).unwrap();
    let mut calls = FakeCalls::default();
    assert_eq!(job.tick(0, &mut calls), [1, 2]);
    let (cluster, h, body) = &calls.sent[0];
    assert_eq!(cluster, "metadata");
    assert!(h.contains(&(
        ":path".into(),
        "/computeMetadata/v1/instance/service-accounts/default/token".into()
    )));
    assert!(h.contains(&(":authority".into(), "metadata.google.internal".into())));
    assert!(h.contains(&("metadata-flavor".into(), "Google".into())));
    assert!(body.is_empty());
    let (cluster, h, body) = &calls.sent[1];
    assert_eq!(cluster, "idp");
    assert!(h.contains(&(":method".into(), "POST".into())));
    assert_eq!(
        String::from_utf8_lossy(body),
        "grant_type=client_credentials&client_id=app&client_secret=s3cret%26%3D&scope=api%3A%2F%2Fx%2F.default"
    );
    // Nothing more while the calls are in flight.
    assert!(job.tick(100, &mut calls).is_empty());
    // The secret never shows in the configuration's Debug.
    assert!(!format!("{cfg:?}").contains("s3cret"));
}

#[test]
fn tokens_rotate_at_80_percent_and_stay_in_use_while_refreshing() {
    let cfg = config();
    let seen = Seen::default();
    let mut job = Refresh::for_config(&cfg, Box::new(seen.clone())).unwrap();
    let mut calls = FakeCalls::default();
    // Before any token: 503 naming the provider; static providers are untouched.
    assert_eq!(header(&cfg, 0, 0), Err(503));
    assert_eq!(
        header(&cfg, 2, 0).unwrap(),
        [("authorization", "stale".to_string())]
    );
    job.tick(1_000, &mut calls);
    job.answer(1_050, 1, token("ya29.one", 10), &mut calls);
    job.answer(1_050, 2, token("an-one", 10), &mut calls);
    assert_eq!(
        header(&cfg, 0, 1_100).unwrap(),
        [("authorization", "Bearer ya29.one".to_string())]
    );
    assert_eq!(
        header(&cfg, 1, 1_100).unwrap(),
        [
            ("authorization", "stale".to_string()),
            ("x-api-key", "an-one".to_string())
        ]
    );
    // Not due before 80% of the lifetime (counted from the call).
    assert!(job.tick(8_900, &mut calls).is_empty());
    assert_eq!(job.tick(9_000, &mut calls), [3, 4]);
    // In flight: the current token is still sent.
    assert_eq!(header(&cfg, 0, 9_500).unwrap()[0].1, "Bearer ya29.one");
    job.answer(9_600, 3, token("ya29.two", 10), &mut calls);
    assert_eq!(header(&cfg, 0, 9_700).unwrap()[0].1, "Bearer ya29.two");
    assert_eq!(seen.0.borrow().as_slice(), ["ok vx", "ok an", "ok vx"]);
}

#[test]
fn failures_back_off_keep_the_token_until_expiry_then_503_then_recover() {
    let cfg = config();
    let seen = Seen::default();
    let mut job = Refresh::for_config(&cfg, Box::new(seen.clone())).unwrap();
    let mut calls = FakeCalls::default();
    job.tick(0, &mut calls);
    job.answer(0, 1, token("ya29.one", 10), &mut calls);
    // Due at 8 s; the identity endpoint is down from then on.
    assert_eq!(job.tick(8_000, &mut calls), [3]);
    job.answer(8_010, 3, Answer::Failed, &mut calls);
    // Backoff: nothing at once, a retry after 250 ms, then 500 ms.
    assert!(job.tick(8_100, &mut calls).is_empty());
    assert_eq!(job.tick(8_260, &mut calls), [4]);
    let mut status_500 = token("x", 1);
    if let Answer::Reply { status, .. } = &mut status_500 {
        *status = 500;
    }
    job.answer(8_270, 4, status_500, &mut calls);
    assert!(job.tick(8_700, &mut calls).is_empty());
    // A start refused by Envoy counts as a failure too.
    calls.refuse = true;
    assert!(job.tick(8_780, &mut calls).is_empty());
    calls.refuse = false;
    // Still the old token until its expiry less a tenth (9 s), then a 503.
    assert_eq!(header(&cfg, 0, 8_900).unwrap()[0].1, "Bearer ya29.one");
    assert_eq!(header(&cfg, 0, 9_000), Err(503));
    // Back: the next retry succeeds and requests go through again.
    let due = job.tick(20_000, &mut calls);
    assert_eq!(due.len(), 1);
    job.answer(20_010, due[0], token("ya29.two", 10), &mut calls);
    assert_eq!(header(&cfg, 0, 20_020).unwrap()[0].1, "Bearer ya29.two");
    let log = seen.0.borrow();
    assert_eq!(log.iter().filter(|l| *l == "fail vx").count(), 3, "{log:?}");
}

#[test]
fn a_hostile_answer_is_a_failure_not_a_header() {
    let cfg = config();
    let mut job = Refresh::for_config(&cfg, Box::new(Seen::default())).unwrap();
    let mut calls = FakeCalls::default();
    job.tick(0, &mut calls);
    let bad = Answer::Reply {
        status: 200,
        headers: vec![],
        body: br#"{"access_token":"a\r\nx-evil: 1","expires_in":100}"#.to_vec(),
    };
    job.answer(1, 1, bad, &mut calls);
    assert_eq!(header(&cfg, 0, 2), Err(503));
    let e = {
        let mut h = Vec::new();
        attach(&cfg.providers[0], 2, &mut h).unwrap_err()
    };
    assert!(e.message.contains("provider vx"), "{}", e.message);
}

#[test]
fn config_errors_name_the_credential_field() {
    let env = |k: &str| (k == "K").then(|| "k".to_string());
    for (doc, field) in [
        (
            r#"{"name":"a","kind":"openai","cluster":"c","api_key_env":"K","credential":{"source":"file"}}"#,
            "providers[0].credential",
        ),
        (
            r#"{"name":"a","kind":"openai","cluster":"c","credential":{"source":"aws"}}"#,
            "providers[0].credential.source",
        ),
        (
            r#"{"name":"a","kind":"bedrock","cluster":"c","region":"us-east-1","credential":{"source":"gcp_metadata","cluster":"m"}}"#,
            "providers[0].credential.source",
        ),
        (
            r#"{"name":"a","kind":"openai","cluster":"c","credential":{"source":"gcp_metadata","cluster":"m","service_account":"a/b"}}"#,
            "providers[0].credential.service_account",
        ),
        (
            r#"{"name":"a","kind":"openai","cluster":"c","credential":{"source":"oauth2_client_credentials","cluster":"m","host":"h","token_path":"/t","client_id":"i","client_secret_env":"NOPE","scope":"s"}}"#,
            "providers[0].credential.client_secret_env",
        ),
        (
            r#"{"name":"a","kind":"openai","cluster":"c","credential":{"source":"magic"}}"#,
            "providers[0].credential.source",
        ),
    ] {
        let doc = format!(r#"{{"providers":[{doc}],"allow_provider_model":true}}"#);
        let e = parse(doc.as_bytes(), &env).expect_err(&doc);
        assert_eq!(e.field, field, "{doc}: {e}");
    }
    // `env` is today's behaviour; `file` and `aws` leave the credential to Envoy.
    let ok = r#"{"providers":[{"name":"a","kind":"openai","cluster":"c","api_key_env":"K","credential":{"source":"env"}},
      {"name":"b","kind":"anthropic","cluster":"c","credential":{"source":"file"}},
      {"name":"br","kind":"bedrock","cluster":"c","region":"us-east-1","credential":{"source":"aws"}}],"allow_provider_model":true}"#;
    let cfg = parse(ok.as_bytes(), &env).unwrap();
    assert!(Refresh::for_config(&cfg, Box::new(Seen::default())).is_none());
}
