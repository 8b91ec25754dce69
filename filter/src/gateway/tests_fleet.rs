//! Fleet mode against the fake host: the request waits for the store's admission,
//! refusals are the local 429s, the failure policies, and what reaches the outbox.

use std::rc::Rc;

use super::{Action, Exchange};
use crate::background::Answer;
use crate::config::{parse, Config};
use crate::fleet::wire::{AdmitAnswer, AdmitRequest, Counts, Reason, Refused, Report};
use crate::host::FakeHost;
use crate::limits::auth::hash;
use crate::state::Worker;

fn hex(b: [u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn cfg(failure: &str) -> Rc<Config> {
    let doc = format!(
        r#"{{
      "providers": [{{"name":"oa","kind":"openai","cluster":"c"}}],
      "models": [{{"name":"m","targets":[{{"provider":"oa","model":"gpt"}}],"rpm":100}}],
      "prices": [{{"model":"gpt","input":1000,"output":1000}}],
      "access": {{
        "teams": [{{"name":"t","budget_usd":5,"budget_period":"month"}}],
        "keys": [{{"name":"k1","sha256":"{}","team":"t","rpm":2,"tpm":1000}}]
      }},
      "fleet": {{"cluster":"store","failure":"{failure}"}}
    }}"#,
        hex(hash("sk-one"))
    );
    Rc::new(parse(doc.as_bytes(), &|_| None).unwrap())
}

const BODY: &str = r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":10}"#;

/// Headers and body of one request: the exchange paused for the store.
fn paused(cfg: &Rc<Config>, worker: &Rc<Worker>) -> (Exchange, FakeHost) {
    let mut h = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", "/v1/chat/completions"),
        ("authorization", "Bearer sk-one"),
    ]);
    h.request_body = BODY.as_bytes().to_vec();
    let mut x = Exchange::new(cfg.clone(), worker.clone());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    assert_eq!(x.on_request_body(&mut h, BODY.len(), true), Action::Pause);
    (x, h)
}

fn reply(a: &AdmitAnswer) -> Answer {
    Answer::Reply {
        status: 200,
        headers: vec![],
        body: serde_json::to_vec(a).unwrap(),
    }
}

fn finish(x: &mut Exchange, h: &mut FakeHost) {
    h.response_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), "application/json".into()),
    ];
    let answer =
        br#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#;
    h.response_body = answer.to_vec();
    x.on_response_headers(h, false);
    x.on_response_body(h, answer.len(), true);
    x.on_log(h);
}

#[test]
fn admitted_by_the_store_then_reconciled_through_the_outbox() {
    let cfg = cfg("fail_open");
    let worker = Rc::new(Worker::default());
    let (mut x, mut h) = paused(&cfg, &worker);
    // One call, rewritten already, nothing local reserved.
    assert_eq!(h.calls.len(), 1);
    let (cluster, path, body) = h.calls[0].clone();
    assert_eq!((cluster.as_str(), path.as_str()), ("store", "/v1/admit"));
    let req: AdmitRequest = serde_json::from_slice(&body).unwrap();
    assert_eq!(req.rates.len(), 2, "the key's window and the model's");
    assert!(req.rates[0].key.ends_with(":key:k1"));
    assert_eq!(req.rates[0].rpm, Some(2));
    assert_eq!(req.budgets.len(), 1);
    assert!(req.budgets[0].key.starts_with("spend:month:"));
    assert!(req.budgets[0].key.ends_with(":team:t"));
    assert_eq!(req.budgets[0].limit_nano_usd, 5_000_000_000);
    let estimate = req.rates[0].tokens;
    assert!(
        h.header("x-llm-cluster").is_some(),
        "routed before the wait"
    );
    assert!(h.shared.keys().all(|k| !k.starts_with("llm:rate:")));
    // A stray answer changes nothing.
    x.on_call_answer(&mut h, 99, Answer::Failed);
    assert_eq!(h.resumed, 0);
    let ok = AdmitAnswer {
        admitted: true,
        rates: vec![
            Counts {
                requests: 1,
                tokens: estimate
            };
            2
        ],
        refused: None,
        key: None,
    };
    x.on_call_answer(&mut h, 1, reply(&ok));
    assert_eq!(h.resumed, 1);
    assert!(h.local_response.is_none());
    finish(&mut x, &mut h);
    assert_eq!(
        h.response_headers
            .iter()
            .find(|(k, _)| k == "x-ratelimit-remaining-requests")
            .map(|(_, v)| v.as_str()),
        Some("1")
    );
    let report: Report = worker.fleet_outbox().borrow_mut().take("r".into()).unwrap();
    // The estimate replaced by the 7 tokens used, in both windows.
    assert_eq!(report.rates.len(), 2);
    for r in &report.rates {
        assert_eq!((r.requests, r.tokens), (0, 7 - estimate as i64));
    }
    // Spend for key, team and model, day and month (1000 USD per million tokens).
    assert_eq!(report.spend.len(), 6);
    for s in &report.spend {
        assert_eq!(s.totals.requests, 1);
        assert_eq!((s.totals.prompt_tokens, s.totals.completion_tokens), (3, 4));
        assert_eq!(s.totals.cost_nano_usd, 7_000_000);
    }
}

#[test]
fn refusals_are_the_local_429s() {
    let cfg = cfg("fail_open");
    let worker = Rc::new(Worker::default());
    let (mut x, mut h) = paused(&cfg, &worker);
    let refused = AdmitAnswer {
        admitted: false,
        rates: vec![
            Counts {
                requests: 2,
                tokens: 10,
            },
            Counts::default(),
        ],
        refused: Some(Refused {
            index: 0,
            reason: Reason::Rpm,
        }),
        key: None,
    };
    x.on_call_answer(&mut h, 1, reply(&refused));
    let r = h.local_response.clone().unwrap();
    assert_eq!(r.status, 429);
    assert!(r
        .headers
        .contains(&("x-ratelimit-remaining-requests".into(), "0".into())));
    assert_eq!(h.resumed, 0);
    x.on_log(&mut h);
    assert!(worker.fleet_outbox().borrow().is_empty(), "nothing ran");

    let (mut x, mut h) = paused(&cfg, &worker);
    let spent = AdmitAnswer {
        admitted: false,
        rates: vec![],
        refused: Some(Refused {
            index: 0,
            reason: Reason::Budget,
        }),
        key: None,
    };
    x.on_call_answer(&mut h, 1, reply(&spent));
    let r = h.local_response.clone().unwrap();
    assert_eq!(r.status, 429);
    assert!(String::from_utf8_lossy(&r.body).contains("team budget"));
}

#[test]
fn store_failures_get_the_policy_and_the_metric() {
    let worker = Rc::new(Worker::default());
    // fail_open: this Envoy's own limits (shared data) decide.
    let open = cfg("fail_open");
    for answer in [
        Answer::Failed,
        Answer::Reply {
            status: 503,
            headers: vec![],
            body: vec![],
        },
        Answer::Reply {
            status: 200,
            headers: vec![],
            body: b"{not json".to_vec(),
        },
    ] {
        let (mut x, mut h) = paused(&open, &worker);
        x.on_call_answer(&mut h, 1, answer);
        assert_eq!(h.resumed, 1);
        assert!(h.local_response.is_none());
        assert!(h.shared.keys().any(|k| k.starts_with("llm:rate:key:")));
        assert_eq!(
            h.counters
                .get("llmgw.store_degraded_total.reason.fail_open"),
            Some(&1)
        );
    }
    // A call that cannot even start: decided at once, no pause.
    let mut h = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", "/v1/chat/completions"),
        ("authorization", "Bearer sk-one"),
    ]);
    h.calls_down = true;
    h.request_body = BODY.as_bytes().to_vec();
    let mut x = Exchange::new(open.clone(), worker.clone());
    x.on_request_headers(&mut h, false);
    assert_eq!(
        x.on_request_body(&mut h, BODY.len(), true),
        Action::Continue
    );

    // fail_closed: 503 in the OpenAI shape.
    let closed = cfg("fail_closed");
    let (mut x, mut h) = paused(&closed, &worker);
    x.on_call_answer(&mut h, 1, Answer::Failed);
    let r = h.local_response.clone().unwrap();
    assert_eq!(r.status, 503);
    assert!(String::from_utf8_lossy(&r.body).contains("store_unavailable"));
    assert_eq!(
        h.counters
            .get("llmgw.store_degraded_total.reason.fail_closed"),
        Some(&1)
    );
}
