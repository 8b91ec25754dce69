#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_types
)]
//! Bounded, deterministic fuzzing of `/v1/messages` and `/v1/embeddings` through the whole
//! gateway flow (Anthropic, OpenAI-preset and Azure targets): mutated requests, random chunk
//! splits, hostile upstream answers and streams. Any panic fails the test.

use std::rc::Rc;

use llm_gateway::config::{self, Config};

mod support;
use support::fuzz::{fuzz_whole_flow, Rng};

const STREAM: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":4}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\"\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":6}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

const SEEDS: &[(&str, &str)] = &[
    (
        "/v1/messages",
        r#"{"model":"m","max_tokens":50,"system":[{"type":"text","text":"s"}],"stream":true,"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"f","disable_parallel_tool_use":true},"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"tool_use","id":"1","name":"f","input":{"a":[1]}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"1","content":[{"type":"text","text":"r"}]},{"type":"text","text":"more"}]}]}"#,
    ),
    (
        "/v1/messages",
        r#"{"model":"a/c","max_tokens":5,"top_k":3,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"u"}],"metadata":{"user_id":"x"},"stop_sequences":["z"]}"#,
    ),
    (
        "/v1/embeddings",
        r#"{"model":"o/e","input":["a","b"],"encoding_format":"base64","dimensions":3}"#,
    ),
    ("/v1/embeddings", r#"{"model":"z/e","input":[[1,2],[3]]}"#),
    (
        "/v1/chat/completions",
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object"}}},"reasoning_effort":"low","seed":1,"max_completion_tokens":3000}"#,
    ),
];

const OPENAI_STREAM: &str = "data: {\"id\":\"c\",\"model\":\"g\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"r\",\"content\":\"x\",\"tool_calls\":[{\"index\":0,\"id\":\"t\",\"function\":{\"name\":\"f\",\"arguments\":\"{\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\ndata: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\ndata: [DONE]\n\n";
const OPENAI_ANSWER: &str = r#"{"id":"c","model":"g","choices":[{"index":0,"message":{"role":"assistant","content":"t","reasoning_content":"r","tool_calls":[{"id":"x","type":"function","function":{"name":"f","arguments":"{\"q\":1}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#;
const EMBEDDINGS: &str = r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5]}],"model":"e","usage":{"prompt_tokens":2,"total_tokens":2}}"#;

fn cfg() -> Rc<Config> {
    let doc = br#"{"providers":[{"name":"a","kind":"anthropic","cluster":"ca"},{"name":"o","kind":"openai","cluster":"co","preset":"vllm"},
        {"name":"z","kind":"azure","cluster":"cz","host":"r.openai.azure.com"}],
        "models":[{"name":"m","targets":[{"provider":"a","model":"c","weight":1},{"provider":"o","model":"g","weight":1},{"provider":"z","model":"d","weight":1}]}],
        "allow_provider_model":true,"max_body_bytes":4096}"#;
    Rc::new(config::parse(doc, &|_| None).unwrap())
}

#[test]
fn fuzz_messages_and_embeddings_never_panic() {
    let cfg = cfg();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let answers: [&[u8]; 4] = [
        STREAM.as_bytes(),
        OPENAI_STREAM.as_bytes(),
        OPENAI_ANSWER.as_bytes(),
        EMBEDDINGS.as_bytes(),
    ];
    let (forwarded, refused) = fuzz_whole_flow(&cfg, &mut rng, SEEDS, &answers);
    assert!(
        forwarded > 300 && refused > 300,
        "forwarded {forwarded}, refused {refused}"
    );
}
