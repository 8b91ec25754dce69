#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_types
)]
//! Bounded, deterministic fuzzing of the Google translators: mutated OpenAI requests
//! into the Gemini / Vertex builders, mutated Gemini answers, errors and SSE streams
//! (split at random points) into the response side. Any panic fails the test; every
//! refusal must be a 4xx (requests) or an upstream status (answers).

use llm_gateway::api::openai::ChatRequest;
use llm_gateway::config::{self, Config};
use llm_gateway::translate::{self, StreamSettings};

mod support;
use support::fuzz::{mutate_json, push_randomly, Rng};
use support::golden::meta;

const REQUESTS: &[&str] = &[
    r##"{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"image_url","image_url":{"url":"https://x/y.jpg"}}]}],"stream":true,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":["string","null"]},"b":{"$ref":"#/$defs/B"}},"$defs":{"B":{"anyOf":[{"type":"integer"},{"type":"null"}]}}}}}],"tool_choice":{"type":"function","function":{"name":"f"}},"stop":["x"],"max_tokens":5,"n":2,"seed":1,"reasoning_effort":"low"}"##,
    r#"{"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_0__thought__c2ln","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"call_0__thought__c2ln","content":"r"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":{"k":{"const":"v"}}}}}}"#,
];

const ANSWERS: &[&str] = &[
    r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"t","thought":true},{"text":"a"},{"functionCall":{"name":"f","args":{"q":[1,{"r":null}]}},"thoughtSignature":"c2ln"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":4,"thoughtsTokenCount":1},"modelVersion":"g","responseId":"r"}"#,
    r#"{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"3.5s"}]}}"#,
    r#"{"promptFeedback":{"blockReason":"SAFETY"}}"#,
    r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
];

const STREAM: &str = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\",\"thought\":true}]},\"index\":0},{\"content\":{\"parts\":[{\"text\":\"B\"}]},\"index\":1}],\"responseId\":\"r\"}\r\n\r\ndata: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\",\"args\":{\"a\":1}}}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":2,\"candidatesTokenCount\":3}}\r\n\r\ndata: {\"error\":{\"code\":503,\"message\":\"x\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n";

fn cfg() -> Config {
    config::parse(
        br#"{"providers":[
            {"name":"g","kind":"gemini","cluster":"c"},
            {"name":"v","kind":"vertex","cluster":"c","project":"p","location":"global"},
            {"name":"va","kind":"vertex_anthropic","cluster":"c","project":"p","location":"l"}],
            "allow_provider_model":true}"#,
        &|_| None,
    )
    .unwrap()
}

#[test]
fn fuzz_google_translators_never_panic() {
    let cfg = cfg();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let models = ["gemini-3-pro", "gemini-2.5-flash", "claude@1", "a/../b", ""];
    let mut built = 0;
    for _ in 0..3000 {
        let seed = REQUESTS[rng.below(REQUESTS.len())].as_bytes();
        let raw = mutate_json(&mut rng, seed, false);
        if let Ok(req) = serde_json::from_slice::<ChatRequest>(&raw) {
            for p in &cfg.providers {
                let model = models[rng.below(models.len())];
                match translate::request(p, model, &req, &raw, 0) {
                    Ok(up) => {
                        assert!(up.path.starts_with('/'));
                        assert!(
                            serde_json::from_slice::<serde_json::Value>(&up.body.unwrap()).is_ok()
                        );
                        built += 1;
                    }
                    Err(e) => assert_eq!(e.status, 400, "{e:?}"),
                }
            }
        }
        let p = &cfg.providers[rng.below(cfg.providers.len())];
        let pick = ANSWERS[rng.below(ANSWERS.len())].as_bytes();
        let answer = mutate_json(&mut rng, pick, false);
        let status = [200, 200, 400, 429, 500, 503, 529][rng.below(7)];
        if let Err(e) = translate::response(p, status, &answer, 1, &meta("m")) {
            assert!((400..600).contains(&e.status), "{e:?}");
        }
        let stream = mutate_json(&mut rng, STREAM.as_bytes(), false);
        let mut m = translate::stream(
            p,
            StreamSettings {
                client_wants_usage: rng.below(2) == 0,
                created: 1,
            },
            &meta("m"),
        );
        let out = push_randomly(m.as_mut(), &stream, &mut rng, 40);
        assert!(
            out.ends_with(b"data: [DONE]\n\n"),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }
    assert!(built > 300, "built {built}");
}
