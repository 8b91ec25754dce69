#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_types
)]
//! Bounded, deterministic fuzzing of the whole gateway flow natively: mutated requests,
//! random chunk splits, hostile upstream answers and streams. Any panic fails the test.

use std::rc::Rc;

use llm_gateway::config::{self, Config};

mod support;
use support::fuzz::{fuzz_whole_flow, Rng};

const PATH: &str = "/v1/chat/completions";
const SEEDS: &[(&str, &str)] = &[
    (
        PATH,
        r#"{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}],"stream":true,"stream_options":{"include_usage":true},"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"f"}},"stop":["x"],"max_tokens":5}"#,
    ),
    (
        PATH,
        r#"{"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"1","content":"r"}]}"#,
    ),
    (
        PATH,
        r#"{"model":"o/x","messages":[{"role":"developer","content":"d"},{"role":"user","content":"u"}],"n":1,"temperature":1.5,"user":"u"}"#,
    ),
];

const STREAM: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":4}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\"\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":6}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
const OPENAI_STREAM: &str = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],\"usage\":null}\n\ndata: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\ndata: [DONE]\n\n";
const ANSWER: &str = r#"{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"t"},{"type":"tool_use","id":"x","name":"f","input":{"q":[1,{"r":null}]}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}}"#;

fn cfg() -> Rc<Config> {
    let doc = br#"{"providers":[{"name":"a","kind":"anthropic","cluster":"ca"},{"name":"o","kind":"openai","cluster":"co"}],
        "models":[{"name":"m","targets":[{"provider":"a","model":"c","weight":1},{"provider":"o","model":"g","weight":1}]}],
        "allow_provider_model":true,"max_body_bytes":4096}"#;
    Rc::new(config::parse(doc, &|_| None).unwrap())
}

#[test]
fn fuzz_whole_flow_never_panics() {
    let cfg = cfg();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let answers: [&[u8]; 3] = [
        STREAM.as_bytes(),
        OPENAI_STREAM.as_bytes(),
        ANSWER.as_bytes(),
    ];
    let (forwarded, refused) = fuzz_whole_flow(&cfg, &mut rng, SEEDS, &answers);
    // Both paths must have been exercised for this test to mean anything.
    assert!(
        forwarded > 300 && refused > 300,
        "forwarded {forwarded}, refused {refused}"
    );
}
