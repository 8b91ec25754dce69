//! Keys, allow-lists, rate limits, budgets and the usage report against the fake host.

use std::rc::Rc;

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::FakeHost;
use crate::limits::auth::hash;

fn hex(b: [u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn cfg() -> Rc<Config> {
    cfg_with_budget(1.5)
}

fn cfg_with_budget(usd: f64) -> Rc<Config> {
    let doc = format!(
        r#"{{
      "providers": [{{"name":"oa","kind":"openai","cluster":"c"}}],
      "models": [
        {{"name":"m","targets":[{{"provider":"oa","model":"gpt"}}],"rpm":100}},
        {{"name":"other","targets":[{{"provider":"oa","model":"gpt2"}}],"rpm":1}}
      ],
      "prices": [{{"model":"gpt","input":500000,"output":0}},{{"model":"gpt2","input":0,"output":0}}],
      "access": {{
        "teams": [{{"name":"t","budget_usd":{},"budget_period":"day"}}],
        "keys": [
          {{"name":"k1","sha256":"{}","team":"t","models":["m","other"],"rpm":2,"tpm":1000}},
          {{"name":"admin","sha256":"{}","admin":true}},
          {{"name":"mesh","principal":"spiffe://cluster.local/ns/a/sa/app","rpm":1}}
        ]
      }}
    }}"#,
        usd,
        hex(hash("sk-one")),
        hex(hash("sk-admin"))
    );
    Rc::new(parse(doc.as_bytes(), &|_| None).unwrap())
}

struct Shared(std::collections::HashMap<String, (Vec<u8>, u32)>, u32);

/// One request; returns (status, body, response headers) — 200 when forwarded and answered.
fn call(
    cfg: &Rc<Config>,
    shared: &mut Shared,
    now: u64,
    headers: &[(&str, &str)],
    body: &str,
    principal: Option<&str>,
) -> (u16, String, Vec<(String, String)>) {
    let mut h = FakeHost::with_request(headers);
    h.shared = std::mem::take(&mut shared.0);
    h.cas_counter = shared.1;
    h.now_ms = now;
    if let Some(p) = principal {
        h.properties.insert(
            "connection.uri_san_peer_certificate".into(),
            p.as_bytes().to_vec(),
        );
    }
    h.request_body = body.as_bytes().to_vec();
    let mut x = Exchange::new(cfg.clone(), Default::default());
    let mut result = None;
    if x.on_request_headers(&mut h, body.is_empty()) == Action::Pause && h.local_response.is_none()
    {
        let n = h.request_body.len();
        if x.on_request_body(&mut h, n, true) == Action::Continue {
            h.response_headers = vec![
                (":status".into(), "200".into()),
                ("content-type".into(), "application/json".into()),
            ];
            let answer = br#"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#;
            h.response_body = answer.to_vec();
            x.on_response_headers(&mut h, false);
            x.on_response_body(&mut h, answer.len(), true);
            x.on_log(&mut h);
            result = Some((
                200,
                String::from_utf8_lossy(&h.response_body).into_owned(),
                h.response_headers.clone(),
            ));
        }
    }
    let result = result.unwrap_or_else(|| {
        let r = h.local_response.clone().expect("a local reply");
        (
            r.status,
            String::from_utf8_lossy(&r.body).into_owned(),
            r.headers,
        )
    });
    shared.0 = std::mem::take(&mut h.shared);
    shared.1 = h.cas_counter;
    result
}

const POST: [(&str, &str); 2] = [(":method", "POST"), (":path", "/v1/chat/completions")];

fn with_key(key: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut v = POST.to_vec();
    v.push(("authorization", key));
    v
}

const M: &str = r#"{"model":"m","messages":[{"role":"user","content":"hello"}]}"#;

#[test]
fn keys_and_allow_lists() {
    let cfg = cfg();
    let mut s = Shared(Default::default(), 0);
    assert_eq!(call(&cfg, &mut s, 1, &POST, M, None).0, 401);
    assert_eq!(
        call(&cfg, &mut s, 1, &with_key("Bearer sk-wrong"), M, None).0,
        401
    );
    assert_eq!(
        call(&cfg, &mut s, 1, &with_key("Bearer sk-one"), M, None).0,
        200
    );
    let mut xk = POST.to_vec();
    xk.push(("x-api-key", "sk-one"));
    assert_eq!(call(&cfg, &mut s, 1, &xk, M, None).0, 200);
    // admin has no allow-list; k1 may not use provider/model names it was not given
    let body = r#"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#;
    assert_eq!(
        call(&cfg, &mut s, 1, &with_key("Bearer sk-admin"), body, None).0,
        404
    );
    // mesh identity
    assert_eq!(
        call(
            &cfg,
            &mut s,
            1,
            &POST,
            M,
            Some("spiffe://cluster.local/ns/a/sa/app")
        )
        .0,
        200
    );
    assert_eq!(
        call(&cfg, &mut s, 1, &POST, M, Some("spiffe://other")).0,
        401
    );
}

#[test]
fn model_not_allowed_is_403() {
    let cfg = cfg();
    let mut s = Shared(Default::default(), 0);
    let doc = r#"{
      "providers": [{"name":"oa","kind":"openai","cluster":"c"}],
      "models": [{"name":"m","targets":[{"provider":"oa","model":"gpt"}]},{"name":"x","targets":[{"provider":"oa","model":"gpt"}]}],
      "access": {"keys": [{"name":"k","sha256":"HASH","models":["m"]}]}
    }"#
    .replace("HASH", &hex(hash("sk-k")));
    let c2 = Rc::new(parse(doc.as_bytes(), &|_| None).unwrap());
    let body = r#"{"model":"x","messages":[{"role":"user","content":"x"}]}"#;
    let (status, body, _) = call(&c2, &mut s, 1, &with_key("Bearer sk-k"), body, None);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("model_not_allowed"));
    drop(cfg);
}

#[test]
fn rpm_is_exact_per_key_and_per_model_with_headers() {
    let cfg = cfg_with_budget(1000.0);
    let mut s = Shared(Default::default(), 0);
    let k = with_key("Bearer sk-one");
    let (st, _, headers) = call(&cfg, &mut s, 1_000, &k, M, None);
    assert_eq!(st, 200);
    let get =
        |hs: &[(String, String)], n: &str| hs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(
        get(&headers, "x-ratelimit-limit-requests").as_deref(),
        Some("2")
    );
    assert_eq!(
        get(&headers, "x-ratelimit-remaining-requests").as_deref(),
        Some("1")
    );
    assert_eq!(call(&cfg, &mut s, 2_000, &k, M, None).0, 200);
    let (st, body, headers) = call(&cfg, &mut s, 3_000, &k, M, None);
    assert_eq!(st, 429, "{body}");
    assert!(body.contains("rate_limit_exceeded"));
    assert_eq!(get(&headers, "retry-after").as_deref(), Some("57"));
    assert_eq!(
        get(&headers, "x-ratelimit-remaining-requests").as_deref(),
        Some("0")
    );
    // a new minute
    assert_eq!(call(&cfg, &mut s, 61_000, &k, M, None).0, 200);
    // model "other" allows one request per minute across all callers; a refusal by the
    // model limit gives back the caller's reservation
    let other = r#"{"model":"other","messages":[{"role":"user","content":"x"}]}"#;
    assert_eq!(
        call(
            &cfg,
            &mut s,
            62_000,
            &with_key("Bearer sk-admin"),
            other,
            None
        )
        .0,
        200
    );
    let (st, body, _) = call(&cfg, &mut s, 62_000, &k, other, None);
    assert_eq!(st, 429, "{body}");
    assert!(body.contains("rate_limit_exceeded"));
    let w = crate::state::rate::decode(&s.0["llm:rate:key:k1"].0);
    assert_eq!((w.id, w.requests), (1, 1), "only the request at 61s counts");
}

#[test]
fn tpm_reconciles_with_real_usage() {
    let cfg = cfg();
    let mut s = Shared(Default::default(), 0);
    let k = with_key("Bearer sk-one");
    // ~1200 estimated tokens: admitted (window empty), then reconciled to 2 real tokens
    let big = format!(
        r#"{{"model":"m","messages":[{{"role":"user","content":"{}"}}]}}"#,
        "abcd".repeat(1200)
    );
    assert_eq!(call(&cfg, &mut s, 1_000, &k, &big, None).0, 200);
    // had it kept the estimate, the tpm of 1000 would refuse this one
    assert_eq!(call(&cfg, &mut s, 2_000, &k, M, None).0, 200);
}

#[test]
fn team_budget_stops_spend_and_usage_report() {
    let cfg = cfg();
    let mut s = Shared(Default::default(), 0);
    let k = with_key("Bearer sk-one");
    // each answer costs 1 prompt token * 5e5 USD/Mtok = 0.5 USD; the team budget is 1.5 USD/day
    let mut now = 1_000;
    let mut ok = 0;
    for _ in 0..10 {
        now += 70_000; // stay clear of the rpm limit
        match call(&cfg, &mut s, now, &k, M, None) {
            (200, ..) => ok += 1,
            (429, body, _) => {
                assert!(body.contains("budget_exceeded"), "{body}");
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(ok, 3);
    // the next day the budget is fresh
    assert_eq!(call(&cfg, &mut s, 86_400_000 + 1_000, &k, M, None).0, 200);

    let usage = [
        (":method", "GET"),
        (":path", "/v1/usage"),
        ("authorization", "Bearer sk-admin"),
    ];
    let (st, body, _) = call(&cfg, &mut s, 86_400_000 + 2_000, &usage, "", None);
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["keys"]["k1"]["team"], "t");
    assert_eq!(v["keys"]["k1"]["day"]["requests"], 1);
    assert_eq!(v["keys"]["k1"]["month"]["requests"], 4);
    assert_eq!(v["teams"]["t"]["month"]["cost_usd"], 2.0);
    assert_eq!(v["models"]["m"]["month"]["prompt_tokens"], 4);
    let not_admin = [
        (":method", "GET"),
        (":path", "/v1/usage"),
        ("authorization", "Bearer sk-one"),
    ];
    assert_eq!(call(&cfg, &mut s, 1, &not_admin, "", None).0, 403);
}

#[test]
fn model_limit_holds_for_every_name_of_the_upstream_model() {
    let doc = r#"{
      "providers": [{"name":"oa","kind":"openai","cluster":"c"}],
      "models": [
        {"name":"fast","targets":[{"provider":"oa","model":"gpt-4o-mini"}],"rpm":2},
        {"name":"free","targets":[{"provider":"oa","model":"gpt-4o-mini"}]},
        {"name":"big","targets":[{"provider":"oa","model":"gpt-4o"}]}
      ],
      "allow_provider_model": true
    }"#;
    let cfg = Rc::new(parse(doc.as_bytes(), &|_| None).unwrap());
    let mut s = Shared(Default::default(), 0);
    let body =
        |m: &str| format!(r#"{{"model":"{m}","messages":[{{"role":"user","content":"x"}}]}}"#);
    assert_eq!(call(&cfg, &mut s, 1_000, &POST, &body("fast"), None).0, 200);
    assert_eq!(
        call(&cfg, &mut s, 1_000, &POST, &body("oa/gpt-4o-mini"), None).0,
        200
    );
    // The limit of 2 is spent, by whichever name reaches oa's gpt-4o-mini.
    for name in ["fast", "oa/gpt-4o-mini", "oa/GPT-4o-mini", "free"] {
        let (st, b, _) = call(&cfg, &mut s, 2_000, &POST, &body(name), None);
        assert_eq!(st, 429, "{name}: {b}");
        assert!(b.contains("rate_limit_exceeded"), "{b}");
    }
    // Another upstream model is not covered.
    assert_eq!(
        call(&cfg, &mut s, 2_000, &POST, &body("oa/gpt-4o"), None).0,
        200
    );
    assert_eq!(call(&cfg, &mut s, 2_000, &POST, &body("big"), None).0, 200);
    // A new minute.
    assert_eq!(
        call(&cfg, &mut s, 61_000, &POST, &body("oa/gpt-4o-mini"), None).0,
        200
    );
}

/// `GET /v1/models/{id}` with the caller's key: (status, JSON body).
fn get_model(
    cfg: &Rc<Config>,
    key: Option<&str>,
    method: &str,
    path: &str,
) -> (u16, serde_json::Value) {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut headers = vec![(":method", method), (":path", path)];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    let mut h = FakeHost::with_request(&headers);
    let mut x = Exchange::new(cfg.clone(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, true), Action::Pause);
    let reply = h.local_response.expect("answered by the gateway");
    (reply.status, serde_json::from_slice(&reply.body).unwrap())
}

#[test]
fn retrieve_a_model_within_the_allow_list() {
    let doc = r#"{
      "providers": [{"name":"oa","kind":"openai","cluster":"c"}],
      "models": [{"name":"m","targets":[{"provider":"oa","model":"gpt"}]},
                 {"name":"x","targets":[{"provider":"oa","model":"gpt"}]}],
      "allow_provider_model": true,
      "access": {"keys": [{"name":"k","sha256":"K","models":["m","oa/gpt"]},
                          {"name":"admin","sha256":"A","admin":true}]}
    }"#
    .replace('K', &hex(hash("sk-k")))
    .replace("\"A\"", &format!("\"{}\"", hex(hash("sk-admin"))));
    let cfg = Rc::new(parse(doc.as_bytes(), &|_| None).unwrap());
    let (status, m) = get_model(&cfg, Some("sk-k"), "GET", "/v1/models/m");
    assert_eq!(status, 200);
    assert_eq!(
        (m["id"].as_str(), m["object"].as_str()),
        (Some("m"), Some("model"))
    );
    // Another team's model is as unknown as a missing one.
    for path in [
        "/v1/models/x",
        "/v1/models/nope",
        "/v1/models/",
        "/v1/models/oa/other",
    ] {
        let (status, e) = get_model(&cfg, Some("sk-k"), "GET", path);
        assert_eq!(status, 404, "{path}");
        assert_eq!(e["error"]["code"], "model_not_found", "{path}");
    }
    for path in ["/v1/models/oa/gpt", "/v1/models/oa%2Fgpt"] {
        let (status, m) = get_model(&cfg, Some("sk-k"), "GET", path);
        assert_eq!((status, m["id"].as_str()), (200, Some("oa/gpt")), "{path}");
    }
    assert_eq!(
        get_model(&cfg, Some("sk-admin"), "GET", "/v1/models/x").0,
        200
    );
    assert_eq!(
        get_model(&cfg, Some("sk-admin"), "GET", "/v1/models/oa/any").0,
        200
    );
    assert_eq!(
        get_model(&cfg, Some("sk-admin"), "GET", "/v1/models/zz/any").0,
        404
    );
    assert_eq!(
        get_model(&cfg, Some("sk-admin"), "GET", "/v1/models/oa/").0,
        404
    );
    assert_eq!(
        get_model(&cfg, Some("sk-admin"), "DELETE", "/v1/models/m").0,
        405
    );
    assert_eq!(get_model(&cfg, None, "GET", "/v1/models/m").0, 401);
}

// `/llm/dashboard` and its data (`/llm/usage`, `/llm/state`).

/// GET `path` with `authorization: auth` at `now`.
fn get(
    cfg: &Rc<Config>,
    s: &mut Shared,
    now: u64,
    path: &str,
    auth: &str,
) -> (u16, String, Vec<(String, String)>) {
    let headers = [(":method", "GET"), (":path", path), ("authorization", auth)];
    call(cfg, s, now, &headers, "", None)
}

#[test]
fn the_dashboard_is_one_page_for_admins_and_asks_others_to_log_in() {
    let cfg = cfg();
    let mut s = Shared(Default::default(), 0);
    let (st, body, headers) = get(&cfg, &mut s, 1, "/llm/dashboard", "Bearer sk-admin");
    assert_eq!(st, 200);
    assert!(headers
        .iter()
        .any(|(k, v)| k == "content-type" && v.starts_with("text/html")));
    assert!(body.contains("<table id=\"keys\">"), "{body}");
    assert!(headers.iter().any(|(k, v)| k == "content-security-policy"
        && v.contains("default-src 'none'")
        && v.contains("frame-ancestors 'none'")));
    // Basic credentials (what a browser sends after its login prompt): the password is the key.
    // base64("admin:sk-admin")
    let basic = "Basic YWRtaW46c2stYWRtaW4=";
    assert_eq!(get(&cfg, &mut s, 1, "/llm/dashboard", basic).0, 200);

    let (st, body, headers) = get(&cfg, &mut s, 1, "/llm/dashboard", "Bearer wrong");
    assert_eq!(st, 401, "{body}");
    assert!(body.contains("\"error\""), "{body}");
    assert!(headers
        .iter()
        .any(|(k, v)| k == "www-authenticate" && v.starts_with("Basic")));
    assert!(!body.contains("wrong"), "{body}");
    // base64("x:sk-one"): a valid key, but not an admin's
    let (st, _, headers) = get(&cfg, &mut s, 1, "/llm/state", "Basic eDpzay1vbmU=");
    assert_eq!(st, 403);
    assert!(!headers.iter().any(|(k, _)| k == "www-authenticate"));
    let post = [
        (":method", "POST"),
        (":path", "/llm/dashboard"),
        ("authorization", "Bearer sk-admin"),
    ];
    assert_eq!(call(&cfg, &mut s, 1, &post, "", None).0, 405);
}

#[test]
fn llm_state_shows_targets_cooling_down_and_key_limits_in_use() {
    let cfg = cfg();
    let mut s = Shared(Default::default(), 0);
    let k = [
        (":method", "POST"),
        (":path", "/v1/chat/completions"),
        ("authorization", "Bearer sk-one"),
    ];
    const M: &str = r#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#;
    let now = 120_000;
    assert_eq!(call(&cfg, &mut s, now, &k, M, None).0, 200);
    // gpt's health: 3 failures, cooling down for 12.5 s more
    let health = crate::routing::health::HealthState {
        consecutive_failures: 3,
        cooldown_until_ms: now + 12_500,
    };
    s.0.insert(
        crate::state::keys::health("oa", "gpt"),
        (crate::state::health::encode(&health).to_vec(), 1),
    );

    let (st, body, _) = get(&cfg, &mut s, now + 1, "/llm/state", "Bearer sk-admin");
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let targets = v["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0]["model"], "m");
    assert_eq!(targets[0]["provider"], "oa");
    assert_eq!(targets[0]["upstream_model"], "gpt");
    assert_eq!(targets[0]["available"], false);
    assert_eq!(targets[0]["consecutive_failures"], 3);
    assert_eq!(targets[0]["cooldown_remaining_s"], 13);
    assert_eq!(targets[1]["upstream_model"], "gpt2");
    assert_eq!(targets[1]["available"], true);
    assert_eq!(targets[1]["cooldown_remaining_s"], 0);
    let limits = v["limits"].as_array().unwrap();
    let k1 = limits.iter().find(|l| l["key"] == "k1").unwrap();
    assert_eq!(k1["rpm"], 2);
    assert_eq!(k1["tpm"], 1000);
    assert_eq!(k1["requests"], 1);
    assert_eq!(k1["tokens"], 2);
    assert!(limits.iter().all(|l| l["key"] != "admin"), "{body}");
    // The next minute's window is empty.
    let (_, body, _) = get(&cfg, &mut s, now + 60_000, "/llm/state", "Bearer sk-admin");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let k1 = v["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == "k1")
        .cloned()
        .unwrap();
    assert_eq!(k1["requests"], 0);

    // `/llm/usage` is `/v1/usage`.
    let (_, usage, _) = get(&cfg, &mut s, now + 2, "/llm/usage", "Bearer sk-admin");
    let (_, v1, _) = get(&cfg, &mut s, now + 2, "/v1/usage", "Bearer sk-admin");
    assert_eq!(usage, v1);
    assert!(usage.contains("\"k1\""), "{usage}");
}
