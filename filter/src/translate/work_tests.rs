//! Every provider's request translation does work linear in the request: a worst-case
//! body (many tool calls answered by many tool messages, many parts, many tools with
//! `$ref` schemas) of four times the size costs at most about four times the steps,
//! allocations and allocated bytes. A quadratic pass costs sixteen times.

use super::work::measure;
use crate::api::openai::ChatRequest;
use crate::config::{self, Config};

fn cfg() -> Config {
    let doc = br#"{"providers":[
        {"name":"openai","kind":"openai","cluster":"c"},
        {"name":"azure","kind":"azure","cluster":"c","host":"r.openai.azure.com"},
        {"name":"anthropic","kind":"anthropic","cluster":"c"},
        {"name":"gemini","kind":"gemini","cluster":"c"},
        {"name":"vertex","kind":"vertex","cluster":"c","project":"p","location":"l"},
        {"name":"vertex_anthropic","kind":"vertex_anthropic","cluster":"c","project":"p","location":"l"},
        {"name":"bedrock","kind":"bedrock","cluster":"c","region":"us-east-1","api_key_env":"K"}],
        "allow_provider_model":true}"#;
    config::parse(doc, &|_| Some("k".to_string())).expect("config")
}

/// `n` parallel tool calls in one assistant turn, answered by `n` tool messages in
/// order (the old Gemini lookup searched the calls again for each answer), plus `n`
/// text parts in system and user turns and `n` tools.
fn worst_case(n: usize) -> Vec<u8> {
    let calls: Vec<String> = (0..n)
        .map(|k| format!(r#"{{"id":"call_{k}","type":"function","function":{{"name":"f{k}","arguments":"{{\"a\":{k}}}"}}}}"#))
        .collect();
    let results: Vec<String> = (0..n)
        .map(|k| format!(r#"{{"role":"tool","tool_call_id":"call_{k}","content":"r{k}"}}"#))
        .collect();
    let parts: Vec<String> = (0..n)
        .map(|k| format!(r#"{{"type":"text","text":"p{k}"}}"#))
        .collect();
    let tools: Vec<String> = (0..n)
        .map(|k| format!(r##"{{"type":"function","function":{{"name":"f{k}","parameters":{{"type":"object","properties":{{"a":{{"$ref":"#/$defs/A"}}}},"$defs":{{"A":{{"type":"integer"}}}}}}}}}}"##))
        .collect();
    let parts = parts.join(",");
    format!(
        r#"{{"model":"m","messages":[{{"role":"system","content":[{parts}]}},{{"role":"user","content":[{parts}]}},{{"role":"assistant","content":null,"tool_calls":[{}]}},{},{{"role":"user","content":"go on"}}],"tools":[{}],"stop":["a","b"],"temperature":0.5}}"#,
        calls.join(","),
        results.join(","),
        tools.join(","),
    )
    .into_bytes()
}

#[test]
fn request_translation_work_is_linear_for_every_provider() {
    let cfg = cfg();
    let (small, large) = (500, 2000);
    let bodies = [worst_case(small), worst_case(large)];
    let reqs: Vec<ChatRequest> = bodies
        .iter()
        .map(|b| serde_json::from_slice(b).expect("worst case parses"))
        .collect();
    for p in &cfg.providers {
        let mut costs = Vec::new();
        for (req, raw) in reqs.iter().zip(&bodies) {
            let (out, cost) = measure(|| {
                let up = super::request(p, "model-1", req, raw, 0);
                let fields = super::unhonoured(p, req);
                (up, fields)
            });
            let up = out.0.unwrap_or_else(|e| panic!("{}: {e:?}", p.name));
            assert!(up.path.starts_with('/'));
            costs.push(cost);
        }
        let ratio = (large / small) as u64;
        // log factors (ordered maps) and vector doubling leave some room above 4.
        for (what, k) in [("steps", 0), ("allocations", 1), ("bytes", 2)] {
            let (a, b) = (costs[0][k], costs[1][k]);
            assert!(
                b <= a * ratio * 3 / 2 + 64,
                "{}: {what} grew from {a} to {b} for a body {ratio}× larger",
                p.name
            );
        }
    }
}
