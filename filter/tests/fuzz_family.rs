#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Bounded, deterministic fuzzing of `/v1/messages` and `/v1/embeddings` through the whole
//! gateway flow (Anthropic, OpenAI-preset and Azure targets): mutated requests, random chunk
//! splits, hostile upstream answers and streams. Any panic fails the test.

use std::rc::Rc;

use llm_gateway::config::{self, Config};
use llm_gateway::gateway::{Action, Exchange};
use llm_gateway::host::FakeHost;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

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
    let (mut forwarded, mut refused) = (0, 0);
    for _ in 0..3000 {
        let (path, seed) = SEEDS[rng.below(SEEDS.len())];
        let body = if rng.below(4) == 0 {
            seed.as_bytes().to_vec()
        } else {
            mutate(&mut rng, seed.as_bytes())
        };
        let mut h = FakeHost::with_request(&[(":method", "POST"), (":path", path)]);
        h.randoms.push_back(rng.next());
        let mut x = Exchange::new(cfg.clone());
        if x.on_request_headers(&mut h, false) != Action::Pause {
            continue;
        }
        if feed(&mut x, &mut h, &body, &mut rng, false) != Action::Continue {
            let status = h
                .local_response
                .as_ref()
                .expect("paused without a reply")
                .status;
            assert!((400..500).contains(&status), "{status}");
            refused += 1;
            continue;
        }
        forwarded += 1;
        let status = ["200", "200", "200", "400", "429", "500", "529", "", "abc"][rng.below(9)];
        let ctype = ["text/event-stream", "application/json", ""][rng.below(3)];
        let answer = answers[rng.below(answers.len())];
        let answer = if rng.below(3) == 0 {
            answer.to_vec()
        } else {
            mutate(&mut rng, answer)
        };
        h.response_headers = vec![
            (":status".into(), status.into()),
            ("content-type".into(), ctype.into()),
        ];
        x.on_response_headers(&mut h, rng.below(20) == 0);
        feed(&mut x, &mut h, &answer, &mut rng, true);
        x.on_log(&mut h);
    }
    assert!(
        forwarded > 300 && refused > 300,
        "forwarded {forwarded}, refused {refused}"
    );
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        let i = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                v.remove(i.min(v.len() - 1));
            }
            1 => v.insert(i, b"{}[]\":,\\0-1eE \x00\xff\xc3"[rng.below(16)]),
            2 if !v.is_empty() => {
                let j = i.min(v.len() - 1);
                v[j] = rng.next() as u8;
            }
            3 => v.truncate(i),
            4 => {
                let j = rng.below(v.len() + 1);
                let (a, b) = (i.min(j), i.max(j));
                let piece = v[a..b].to_vec();
                v.splice(i..i, piece);
            }
            _ => {}
        }
    }
    v
}

fn feed(x: &mut Exchange, h: &mut FakeHost, body: &[u8], rng: &mut Rng, response: bool) -> Action {
    let mut pos = 0;
    loop {
        let take = 1 + rng.below(body.len().max(1));
        let end = (pos + take).min(body.len());
        let eos = end == body.len();
        if response {
            h.response_body = body[pos..end].to_vec();
            let a = x.on_response_body(h, end - pos, eos);
            if eos {
                return a;
            }
        } else {
            // Envoy hands the accumulated buffer while we ask it to buffer.
            h.request_body = body[..end].to_vec();
            let a = x.on_request_body(h, end, eos);
            if a != Action::Buffer {
                return a;
            }
        }
        pos = end;
    }
}
