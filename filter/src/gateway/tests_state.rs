//! `GET /llm/state`'s model limits and budgets against the fake host: local figures in
//! local mode, the store's in fleet mode (and this Envoy's, labelled, when it gives none).

use std::rc::Rc;

use serde::Deserialize;

use super::{Action, Exchange};
use crate::background::Answer;
use crate::config::{parse, Config};
use crate::fleet::wire::{Counts, Spend, SpendAnswer, SpendRequest};
use crate::host::FakeHost;
use crate::limits::auth::hash;

fn hex(b: [u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn cfg(fleet: bool) -> Rc<Config> {
    let fleet = if fleet {
        r#","fleet":{"cluster":"store"}"#
    } else {
        ""
    };
    let doc = format!(
        r#"{{
      "providers": [{{"name":"oa","kind":"openai","cluster":"c"}}],
      "models": [
        {{"name":"m","targets":[{{"provider":"oa","model":"gpt"}}],"rpm":100,"tpm":5000}},
        {{"name":"free","targets":[{{"provider":"oa","model":"gpt2"}}]}}
      ],
      "prices": [{{"model":"gpt","input":500,"output":250}},{{"model":"gpt2","input":0,"output":0}}],
      "access": {{
        "teams": [{{"name":"t","budget_usd":2,"budget_period":"month"}}, {{"name":"open"}}],
        "keys": [
          {{"name":"k1","sha256":"{}","team":"t","models":["m","free"],"budget_usd":1.5,"budget_period":"day"}},
          {{"name":"admin","sha256":"{}","admin":true}}
        ]
      }}{fleet}
    }}"#,
        hex(hash("sk-one")),
        hex(hash("sk-admin"))
    );
    Rc::new(parse(doc.as_bytes(), &|_| None).unwrap())
}

/// 2027-01-15 08:00 UTC.
fn host() -> FakeHost {
    FakeHost {
        now_ms: 1_800_000_000_000,
        ..FakeHost::default()
    }
}

#[derive(Deserialize, Debug, PartialEq)]
struct Use {
    rpm: Option<u64>,
    tpm: Option<u64>,
    requests: u64,
    tokens: u64,
    source: String,
}

#[derive(Deserialize, Debug)]
struct ModelLimit {
    model: String,
    #[serde(flatten)]
    use_: Use,
}

#[derive(Deserialize, Debug, PartialEq)]
struct Budget {
    scope: String,
    name: String,
    period: String,
    limit_usd: f64,
    spent_usd: f64,
    remaining_usd: f64,
    source: String,
}

#[derive(Deserialize, Debug)]
struct State {
    model_limits: Vec<ModelLimit>,
    budgets: Vec<Budget>,
}

/// A GET by the admin key; the host keeps `shared` across requests.
fn get(cfg: &Rc<Config>, h: &mut FakeHost, path: &str) -> (Exchange, Action) {
    let mut next = FakeHost::with_request(&[
        (":method", "GET"),
        (":path", path),
        ("authorization", "Bearer sk-admin"),
    ]);
    next.shared = std::mem::take(&mut h.shared);
    next.now_ms = h.now_ms;
    *h = next;
    let mut x = Exchange::new(cfg.clone(), Default::default());
    let action = x.on_request_headers(h, true);
    (x, action)
}

fn body(h: &FakeHost) -> String {
    let r = h.local_response.clone().unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    String::from_utf8(r.body).unwrap()
}

/// One chat request by k1 on `m`, answered with 1000 prompt and 2000 completion tokens:
/// 0.5 + 0.5 USD at the prices above. False: refused (a budget is spent).
fn chat(cfg: &Rc<Config>, h: &mut FakeHost) -> bool {
    const M: &str = r#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#;
    let mut next = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", "/v1/chat/completions"),
        ("authorization", "Bearer sk-one"),
    ]);
    next.shared = std::mem::take(&mut h.shared);
    next.now_ms = h.now_ms;
    *h = next;
    h.request_body = M.as_bytes().to_vec();
    let mut x = Exchange::new(cfg.clone(), Default::default());
    assert_eq!(x.on_request_headers(h, false), Action::Pause);
    if x.on_request_body(h, M.len(), true) != Action::Continue {
        assert_eq!(h.local_response.as_ref().map(|r| r.status), Some(429));
        return false;
    }
    h.response_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), "application/json".into()),
    ];
    let answer = br#"{"choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":2000,"total_tokens":3000}}"#;
    h.response_body = answer.to_vec();
    x.on_response_headers(h, false);
    x.on_response_body(h, answer.len(), true);
    x.on_log(h);
    true
}

#[test]
fn model_limits_and_budgets_with_their_use_in_local_mode() {
    let cfg = cfg(false);
    let mut h = host();
    assert!(chat(&cfg, &mut h));
    get(&cfg, &mut h, "/llm/state");
    let state: State = serde_json::from_str(&body(&h)).unwrap();
    // Only the model with a limit; the window holds the request and its 3000 tokens.
    assert_eq!(state.model_limits.len(), 1, "{state:?}");
    assert_eq!(state.model_limits[0].model, "m");
    assert_eq!(
        state.model_limits[0].use_,
        Use {
            rpm: Some(100),
            tpm: Some(5000),
            requests: 1,
            tokens: 3000,
            source: "local".into()
        }
    );
    let b = |scope: &str, name: &str, period: &str, limit: f64, spent: f64| Budget {
        scope: scope.into(),
        name: name.into(),
        period: period.into(),
        limit_usd: limit,
        spent_usd: spent,
        remaining_usd: limit - spent,
        source: "local".into(),
    };
    // The key's daily budget, then the team's monthly one; a team without one is absent.
    assert_eq!(
        state.budgets,
        [
            b("key", "k1", "day", 1.5, 1.0),
            b("team", "t", "month", 2.0, 1.0)
        ]
    );

    // The spend is what /v1/usage reports for the same name and period.
    get(&cfg, &mut h, "/v1/usage");
    let usage: serde_json::Value = serde_json::from_str(&body(&h)).unwrap();
    assert_eq!(usage["keys"]["k1"]["day"]["cost_usd"], 1.0);
    assert_eq!(usage["teams"]["t"]["month"]["cost_usd"], 1.0);

    // A spent budget has no headroom left, not a negative one.
    assert!(chat(&cfg, &mut h), "1 USD spent of 1.5: let in");
    assert!(!chat(&cfg, &mut h), "2 USD spent of 1.5: refused");
    get(&cfg, &mut h, "/llm/state");
    let state: State = serde_json::from_str(&body(&h)).unwrap();
    assert_eq!(state.budgets[0].spent_usd, 2.0);
    assert_eq!(state.budgets[0].remaining_usd, 0.0);
    // Next minute: an empty window.
    h.now_ms += 60_000;
    get(&cfg, &mut h, "/llm/state");
    let state: State = serde_json::from_str(&body(&h)).unwrap();
    assert_eq!(
        (
            state.model_limits[0].use_.requests,
            state.model_limits[0].use_.tokens
        ),
        (0, 0)
    );
}

fn spend_call(h: &FakeHost) -> SpendRequest {
    assert_eq!(h.calls.len(), 1, "one call to the store");
    let (cluster, path, body) = h.calls[0].clone();
    assert_eq!((cluster.as_str(), path.as_str()), ("store", "/v1/spend"));
    serde_json::from_slice(&body).unwrap()
}

#[test]
fn fleet_mode_reads_windows_and_spend_from_the_store() {
    let cfg = cfg(true);
    let mut h = host();
    let (mut x, action) = get(&cfg, &mut h, "/llm/state");
    assert_eq!(action, Action::Pause);
    assert!(h.local_response.is_none(), "waits for the store");
    let req = spend_call(&h);
    let window = h.now_ms / 60_000;
    assert_eq!(
        req.rates,
        [format!("rate:{window}:limit:llm:rate:model:m")],
        "the store key fleet admission writes"
    );
    assert_eq!(
        req.keys,
        ["spend:day:2027-01-15:key:k1", "spend:month:2027-01:team:t"]
    );
    let answer = SpendAnswer {
        spend: vec![
            Spend {
                cost_nano_usd: 400_000_000,
                ..Spend::default()
            },
            Spend {
                cost_nano_usd: 2_500_000_000,
                ..Spend::default()
            },
        ],
        rates: vec![Counts {
            requests: 7,
            tokens: 900,
        }],
    };
    let reply = Answer::Reply {
        status: 200,
        headers: vec![],
        body: serde_json::to_vec(&answer).unwrap(),
    };
    x.on_call_answer(&mut h, 1, reply);
    let state: State = serde_json::from_str(&body(&h)).unwrap();
    let u = &state.model_limits[0].use_;
    assert_eq!((u.requests, u.tokens, u.source.as_str()), (7, 900, "fleet"));
    assert_eq!(state.budgets[0].spent_usd, 0.4);
    assert_eq!(state.budgets[0].remaining_usd, 1.1);
    assert_eq!(state.budgets[0].source, "fleet");
    assert_eq!(state.budgets[1].remaining_usd, 0.0, "over its budget");
}

#[test]
fn fleet_mode_without_the_store_shows_this_envoys_figures_labelled() {
    let cfg = cfg(true);
    let mut h = host();
    let (mut x, _) = get(&cfg, &mut h, "/llm/state");
    x.on_call_answer(&mut h, 1, Answer::Failed);
    let state: State = serde_json::from_str(&body(&h)).unwrap();
    assert_eq!(state.model_limits[0].use_.source, "local");
    assert!(state.budgets.iter().all(|b| b.source == "local"));
    assert!(h.shared.keys().all(|k| !k.starts_with("llm:rate:")));
}

#[test]
fn fleet_mode_llm_usage_is_the_fleets_v1_usage() {
    let cfg = cfg(true);
    let mut h = host();
    let (_, action) = get(&cfg, &mut h, "/llm/usage");
    assert_eq!(action, Action::Pause);
    let llm = spend_call(&h);
    get(&cfg, &mut h, "/v1/usage");
    assert_eq!(spend_call(&h), llm);
}
