#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Hostile input to last session's additions, through the ABI, bounded and deterministic:
//! the Responses API, count_tokens, stored-response paths, `/llm/` pages with hostile Basic
//! credentials, hostile `traceparent`/B3 headers, and hostile answers from the OTLP
//! collector, the fleet store and a token endpoint. No trap, every local reply JSON (an
//! OpenAI or Anthropic error when it refuses), and no planted secret in anything that
//! leaves the VM: replies, upstream requests other than the provider's own credential
//! header, calls to the store and the collector, metric names, logs.
//! `WASM_FUZZ_ITERATIONS` scales the loops.

use crate::common::XorShift;
use serde_json::Value;
use wasm_host::{Host, Vm};

const PROVIDER_KEY: &str = "sk-PLANTED-provider-7d1e";
const CLIENT_KEY: &str = "sk-PLANTED-client-52ab";
const ADMIN_KEY: &str = "sk-PLANTED-admin-9c3f";
const FETCHED: &str = "ya29.PLANTED-fetched-44e0";
const SECRETS: [&str; 4] = [PROVIDER_KEY, CLIENT_KEY, ADMIN_KEY, FETCHED];

fn sha(key: &str) -> String {
    llm_gateway::limits::auth::hash(key)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Standard base64 with padding (what browsers send in Basic credentials).
fn base64(input: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn config(fleet: bool) -> String {
    let fleet = if fleet {
        r#","fleet":{"cluster":"store","failure":"fail_open","timeout_ms":100}"#
    } else {
        ""
    };
    format!(
        r#"{{"providers":[
        {{"name":"oa","kind":"openai","cluster":"co","api_key_env":"K"}},
        {{"name":"an","kind":"anthropic","cluster":"ca","api_key_env":"K"}},
        {{"name":"vx","kind":"vertex","cluster":"cv","project":"p","location":"us-central1",
          "credential":{{"source":"gcp_metadata","cluster":"metadata"}}}}],
      "models":[{{"name":"gpt","targets":[{{"provider":"oa","model":"g"}}]}},
                {{"name":"claude","targets":[{{"provider":"an","model":"c"}}]}},
                {{"name":"gem","targets":[{{"provider":"vx","model":"gemini-2.0-flash"}}]}}],
      "access":{{"keys":[{{"name":"user","sha256":"{}","rpm":100000}},
                        {{"name":"ops","sha256":"{}","admin":true}}]}},
      "traces":{{"cluster":"otel","flush_ms":100,"timeout_ms":100,"max_queue":8}},
      "max_body_bytes":8192{fleet}}}"#,
        sha(CLIENT_KEY),
        sha(ADMIN_KEY)
    )
}

const RESPONSES_SEEDS: &[&str] = &[
    r#"{"model":"gpt","input":"hi","stream":true,"max_output_tokens":5}"#,
    r#"{"model":"claude","input":[{"role":"user","content":[{"type":"input_text","text":"x"}]},{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"r"}],"tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],"tool_choice":"auto"}"#,
    r#"{"model":"gem","input":"x","instructions":"be","text":{"format":{"type":"json_schema","name":"s","schema":{"type":"object"}}},"reasoning":{"effort":"low"},"temperature":0.5}"#,
    r#"{"model":"gpt","input":"again","previous_response_id":"resp_1","store":true}"#,
];

const COUNT_SEEDS: &[&str] = &[
    r#"{"model":"claude","system":"s","messages":[{"role":"user","content":"x"}],"tools":[{"name":"w","input_schema":{"type":"object"}}]}"#,
    r#"{"model":"gpt","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]}]}"#,
];

/// Values that break a field's type, range or encoding.
const HOSTILE_VALUES: &[&str] = &[
    "null",
    "true",
    "-1",
    "1e999",
    "18446744073709551616",
    "-9223372036854775809",
    "0.0000001",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "[]",
    "{}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "\"x\"",
];

const FIELDS: &[&str] = &[
    "model",
    "input",
    "stream",
    "max_output_tokens",
    "max_tokens",
    "messages",
    "tools",
    "tool_choice",
    "temperature",
    "previous_response_id",
    "store",
    "text",
    "reasoning",
    "system",
    "include",
    "metadata",
];

/// A seed with one field replaced by a hostile value (or given twice, or escaped).
fn hostile_body(rng: &mut XorShift, seed: &str) -> Vec<u8> {
    let field = FIELDS[rng.below(FIELDS.len())];
    let value = HOSTILE_VALUES[rng.below(HOSTILE_VALUES.len())];
    let inner = seed.trim_start_matches('{');
    match rng.below(6) {
        // Duplicate key, possibly escaped: the gateway reads one copy, a provider another.
        0 => format!(r#"{{"{field}":{value},{inner}"#).into_bytes(),
        1 => {
            let escaped: String = field
                .chars()
                .map(|c| format!("\\u{:04x}", c as u32))
                .collect();
            format!(r#"{{"{escaped}":{value},{inner}"#).into_bytes()
        }
        // Invalid UTF-8 inside a string.
        2 => {
            let mut v = seed.as_bytes().to_vec();
            if let Some(i) = v.iter().position(|&b| b == b'x') {
                v.splice(i..=i, [0xff, 0xfe, 0xc3]);
            }
            v
        }
        // A huge array of tiny items, within the size limit.
        3 => {
            let items = vec!["0"; 3000].join(",");
            format!(r#"{{"{field}":[{items}],{inner}"#).into_bytes()
        }
        // The seed with the field overwritten (serde keeps the last: refused as a duplicate).
        _ => {
            let mut v: Value = serde_json::from_str(seed).unwrap();
            let parsed: Value = serde_json::from_str(value).unwrap_or(Value::Null);
            v[field] = parsed;
            serde_json::to_vec(&v).unwrap()
        }
    }
}

fn hostile_trace_headers(rng: &mut XorShift) -> Vec<(String, Vec<u8>)> {
    let traceparents: [&[u8]; 9] = [
        b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        b"00-00000000000000000000000000000000-0000000000000000-00",
        b"00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e47é-00f067aa0ba902b7-01".as_bytes(),
        b"00-\xff\xfe-",
        b"----------------------------------",
        b"00-4bf92f3577b34da6a3ce929d0e0e4736",
        b"",
    ];
    let mut h: Vec<(String, Vec<u8>)> = Vec::new();
    match rng.below(4) {
        0 => h.push((
            "traceparent".into(),
            traceparents[rng.below(traceparents.len())].to_vec(),
        )),
        1 => h.push(("traceparent".into(), vec![b'a'; 8000])),
        2 => {
            h.push((
                "x-b3-traceid".into(),
                [
                    &b"zz"[..],
                    b"0000000000000000",
                    b"\xc3\xa9",
                    b"a3ce929d0e0e4736a3ce929d0e0e47360",
                ][rng.below(4)]
                .to_vec(),
            ));
            h.push(("x-b3-spanid".into(), b"00f067aa0ba902b7".to_vec()));
        }
        _ => {}
    }
    h
}

fn hostile_authorization(rng: &mut XorShift) -> Vec<u8> {
    let basic = |s: &str| format!("Basic {}", base64(s.as_bytes())).into_bytes();
    match rng.below(10) {
        0 => basic(&format!("admin:{ADMIN_KEY}")),
        1 => basic(&format!("x:{CLIENT_KEY}")),
        2 => basic(ADMIN_KEY), // no colon
        3 => b"Basic !!!!====".to_vec(),
        4 => b"Basic \xff\xfe\xfd".to_vec(),
        5 => [&b"Basic "[..], &vec![b'Q'; 30_000]].concat(),
        6 => basic(&format!(":{}", "\u{1F600}".repeat(50))),
        7 => b"Basic".to_vec(),
        8 => format!("Bearer {ADMIN_KEY}").into_bytes(),
        _ => (0..rng.below(60)).map(|_| rng.next() as u8).collect(),
    }
}

/// What `/llm/` answers: its page, Prometheus text, JSON, or an OpenAI error.
fn check_reply(status: u32, body: &[u8], path: &str, what: &str) {
    if status == 200 && (path == "/llm/dashboard" || path == "/llm/metrics") {
        return;
    }
    let v: Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "{what}: reply {status} not JSON ({e}): {}",
            String::from_utf8_lossy(body)
        )
    });
    if status >= 400 {
        let anthropic = path.starts_with("/v1/messages");
        if anthropic {
            assert_eq!(v["type"], "error", "{what}: {v}");
        }
        assert!(v["error"]["message"].is_string(), "{what}: {v}");
    }
}

/// Every byte that left the VM towards a client or a third party, checked for secrets.
fn assert_no_secret(bytes: &[u8], what: &str) {
    let text = String::from_utf8_lossy(bytes);
    for s in SECRETS {
        assert!(!text.contains(s), "{what}: secret {s} leaked: {text}");
    }
}

fn hostile_answer(rng: &mut XorShift) -> (String, Vec<u8>) {
    let status = ["200", "200", "500", "204", "abc", ""][rng.below(6)].to_string();
    let body: Vec<u8> = match rng.below(10) {
        0 => Vec::new(),
        1 => b"{".to_vec(),
        2 => vec![b'['; 5000],
        3 => br#"{"admitted":"yes","rates":{"a":1}}"#.to_vec(),
        4 => br#"{"admitted":false,"refused":{"index":18446744073709551615,"reason":"rpm"},"rates":[]}"#.to_vec(),
        5 => br#"{"admitted":false,"refused":{"index":0,"reason":"nope"}}"#.to_vec(),
        6 => br#"{"admitted":true,"rates":[{"requests":18446744073709551615,"tokens":-1}]}"#.to_vec(),
        7 => br#"{"partialSuccess":{"rejectedSpans":"many","errorMessage":"\u0000"}}"#.to_vec(),
        8 => vec![b'x'; 200_000],
        _ => (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
    };
    (status, body)
}

fn hostile_token(rng: &mut XorShift) -> Vec<u8> {
    let lifetimes = [
        "-1",
        "0",
        "1e3",
        "18446744073709551615",
        "18446744073709551616",
        "\"-5\"",
        "\"3599.5\"",
        "\"\"",
        "null",
        "[3599]",
        "3599",
    ];
    let tokens = [
        format!("\"{FETCHED}\""),
        "\"\"".into(),
        "\"a\\r\\nx: y\"".into(),
        "12".into(),
        format!("\"{}\"", "t".repeat(70_000)),
    ];
    match rng.below(5) {
        0 => (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
        1 => b"{\"access_token\":".to_vec(),
        2 => format!(
            r#"{{"access_token":{},"expires_in":{},"access_token":"dup"}}"#,
            tokens[rng.below(tokens.len())],
            lifetimes[rng.below(lifetimes.len())]
        )
        .into_bytes(),
        _ => format!(
            r#"{{"access_token":{},"expires_in":{}}}"#,
            tokens[rng.below(tokens.len())],
            lifetimes[rng.below(lifetimes.len())]
        )
        .into_bytes()
        .into_iter()
        .take(if rng.chance(3) { 40 } else { usize::MAX })
        .collect(),
    }
}

/// Answers (hostilely) every call the VM has made to the store, the collector or the
/// token endpoint, after checking what it sent.
fn answer_calls(vm: &mut Vm, rng: &mut XorShift, what: &str) -> usize {
    let calls = vm.pending_http_calls();
    let n = calls.len();
    for call in calls {
        assert_no_secret(&call.body, &format!("{what}: call to {}", call.upstream));
        for (name, value) in call.headers.iter() {
            assert_no_secret(value, &format!("{what}: call header {name}"));
        }
        if rng.chance(5) {
            vm.fail_http_call(call.token).unwrap();
            continue;
        }
        let (status, body) = if call.upstream == "metadata" {
            (
                ["200", "200", "403"][rng.below(3)].to_string(),
                hostile_token(rng),
            )
        } else {
            hostile_answer(rng)
        };
        vm.respond_http_call(
            call.token,
            &[(":status", status.as_str())],
            &body,
            &[] as &[(&str, &str)],
        )
        .unwrap_or_else(|e| panic!("{what}: {e:#}"));
    }
    n
}

/// What the loop exercised, so that it cannot pass by doing nothing.
#[derive(Default, Debug)]
struct Seen {
    replied: usize,
    forwarded: usize,
    calls: usize,
}

fn one(vm: &mut Vm, rng: &mut XorShift, i: usize, seen: &mut Seen) {
    let kind = rng.below(5);
    let (method, path, body): (&str, String, Vec<u8>) = match kind {
        0 => (
            "GET",
            [
                "/llm/dashboard",
                "/llm/state",
                "/llm/usage",
                "/llm/metrics",
                "/llm/x",
            ][rng.below(5)]
            .to_string(),
            Vec::new(),
        ),
        1 => {
            let seed = RESPONSES_SEEDS[rng.below(RESPONSES_SEEDS.len())];
            let body = if rng.chance(3) {
                seed.as_bytes().to_vec()
            } else {
                hostile_body(rng, seed)
            };
            ("POST", "/v1/responses".into(), body)
        }
        2 => {
            let seed = COUNT_SEEDS[rng.below(COUNT_SEEDS.len())];
            let body = if rng.chance(3) {
                seed.as_bytes().to_vec()
            } else {
                hostile_body(rng, seed)
            };
            ("POST", "/v1/messages/count_tokens".into(), body)
        }
        3 => {
            let ids = [
                "resp_1",
                "resp_1/input_items?limit=1&after=x",
                "resp_1/../../admin",
                "%2e%2e",
                "resp_1?x=\u{1F600}",
                "",
                "resp_1/cancel",
            ];
            let method = ["GET", "DELETE", "POST", "PATCH"][rng.below(4)];
            (
                method,
                format!("/v1/responses/{}", ids[rng.below(ids.len())]),
                Vec::new(),
            )
        }
        _ => (
            "POST",
            "/v1/chat/completions".into(),
            br#"{"model":"gem","messages":[{"role":"user","content":"x"}]}"#.to_vec(),
        ),
    };
    let what = format!(
        "iteration {i}: {method} {path} {}",
        String::from_utf8_lossy(&body)
    );
    let mut headers: Vec<(String, Vec<u8>)> = vec![
        (":method".into(), method.as_bytes().to_vec()),
        (":path".into(), path.as_bytes().to_vec()),
        (":authority".into(), b"gateway.local".to_vec()),
    ];
    let authorization = if kind == 0 {
        hostile_authorization(rng)
    } else {
        let key = [CLIENT_KEY, ADMIN_KEY, "sk-PLANTED-client-52ab-not", ""][rng.below(4)];
        format!("Bearer {key}").into_bytes()
    };
    headers.push(("authorization".into(), authorization));
    headers.extend(hostile_trace_headers(rng));
    if !body.is_empty() {
        headers.push(("content-length".into(), body.len().to_string().into_bytes()));
    }
    let hs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    let mut req = vm.request().unwrap();
    req.send_request_headers(&hs, body.is_empty())
        .unwrap_or_else(|e| panic!("{what}: {e:#}"));
    if !body.is_empty() && req.local_reply().is_none() {
        req.send_request_body(&body, true)
            .unwrap_or_else(|e| panic!("{what}: {e:#}"));
    }
    // The fleet store or the token endpoint may hold the request: answer them.
    seen.calls += answer_calls(req.vm(), rng, &what);
    if let Some(reply) = req.local_reply() {
        seen.replied += 1;
        check_reply(reply.status, &reply.body, &path, &what);
        assert_no_secret(&reply.body, &what);
        for (name, value) in reply.headers.iter() {
            assert_no_secret(value, &format!("{what}: reply header {name}"));
        }
    } else if let Some(up) = req.upstream_request_headers().cloned() {
        seen.forwarded += 1;
        for (name, value) in up.iter() {
            // The provider's own credential goes to the provider, nowhere else.
            if matches!(name, "authorization" | "x-api-key") {
                continue;
            }
            assert_no_secret(value, &format!("{what}: upstream header {name}"));
        }
        if req.upstream_request_complete() {
            let (status, answer): (&str, &[u8]) = match rng.below(3) {
                0 => ("200", br#"{"id":"resp_9","object":"response","output":[],"usage":{"input_tokens":18446744073709551615,"output_tokens":1}}"#),
                1 => ("401", format!(r#"{{"error":{{"message":"bad key {PROVIDER_KEY} / {FETCHED}"}}}}"#).leak().as_bytes()),
                _ => ("200", b"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r\"}}\n\ndata: {\"type\":\"error\",\"message\":\"sk-PLANTED-provider-7d1e\"}\n\n"),
            };
            let ctype = if answer.starts_with(b"event") {
                "text/event-stream"
            } else {
                "application/json"
            };
            req.send_response_headers(&[(":status", status), ("content-type", ctype)], false)
                .unwrap_or_else(|e| panic!("{what}: {e:#}"));
            req.send_response_body(answer, true)
                .unwrap_or_else(|e| panic!("{what}: {e:#}"));
            assert_no_secret(req.response_body(), &format!("{what}: relayed answer"));
            if let Some(h) = req.response_headers() {
                for (name, value) in h.iter() {
                    assert_no_secret(value, &format!("{what}: response header {name}"));
                }
            }
        }
    }
    req.finish().unwrap_or_else(|e| panic!("{what}: {e:#}"));
    req.close().unwrap();
}

#[test]
fn hostile_input_to_the_new_endpoints_never_traps_nor_leaks() {
    let iterations: usize = std::env::var("WASM_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(600, |n: usize| n / 4);
    let host = Host::new().unwrap();
    let mut vms: Vec<Vm> = [false, true]
        .iter()
        .map(|&fleet| {
            let vm = host
                .vm(
                    &crate::common::filter_wasm(),
                    &config(fleet),
                    &[("K", PROVIDER_KEY)],
                )
                .unwrap();
            assert!(vm.configure(), "{:?}", host.logs());
            vm
        })
        .collect();
    // Each VM holds a fetched token from the start (later refreshes get hostile answers; a
    // failed one keeps it): it must then never be relayed.
    for vm in &mut vms {
        vm.advance_time(std::time::Duration::from_millis(250))
            .unwrap();
        let call = vm
            .pending_http_calls()
            .into_iter()
            .find(|c| c.upstream == "metadata")
            .expect("the token job calls the metadata server");
        let body = format!(r#"{{"access_token":"{FETCHED}","expires_in":3600}}"#);
        vm.respond_http_call(
            call.token,
            &[(":status", "200")],
            body.as_bytes(),
            &[] as &[(&str, &str)],
        )
        .unwrap();
    }
    let mut rng = XorShift(0x05EE_D0FA_0D17);
    let mut seen = Seen::default();
    for i in 0..iterations {
        let vm = &mut vms[i % 2];
        one(vm, &mut rng, i, &mut seen);
        // Ticks: the collector's flush, the token refresh; their calls answered hostilely.
        if i % 7 == 0 {
            vm.advance_time(std::time::Duration::from_millis(110))
                .unwrap();
            seen.calls += answer_calls(vm, &mut rng, &format!("iteration {i}: background"));
        }
    }
    for vm in &vms {
        assert!(vm.failure().is_none(), "{:?}", vm.failure());
    }
    eprintln!("{iterations} iterations: {seen:?}");
    let tenth = iterations / 10;
    assert!(
        seen.replied > tenth && seen.forwarded > tenth && seen.calls > tenth,
        "{seen:?}"
    );
    for entry in host.logs() {
        assert_no_secret(entry.message.as_bytes(), "log line");
    }
    for (_, name, _) in host.metrics() {
        assert_no_secret(name.as_bytes(), "metric name");
    }
}
