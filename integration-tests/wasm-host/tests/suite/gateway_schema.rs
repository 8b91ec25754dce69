//! A JSON schema whose `$ref`s fan out, through the release `.wasm`: inlining it used to
//! allocate until the VM trapped (Envoy's empty 503, the worker's VM reloaded). Now the
//! client gets a 400 naming the tool, nothing goes upstream, and the VM keeps serving.

use crate::common::{chat_headers, filter_wasm};
use serde_json::{json, Map, Value};

const CONFIG: &str = r#"{"providers":[{"name":"gemini","kind":"gemini","cluster":"c","api_key_env":"K"}],
    "allow_provider_model":true,"max_body_bytes":4194304}"#;

/// `levels` definitions, each with `fan` properties referring to the next one, padded
/// with long descriptions so the request is about `pad_to` bytes.
fn fan_out_request(levels: usize, fan: usize, pad_to: usize) -> Vec<u8> {
    let per = pad_to / (levels * fan);
    let mut defs = Map::new();
    for l in 0..levels {
        let props: Map<String, Value> = (0..fan)
            .map(|f| {
                let p = if l + 1 < levels {
                    json!({"$ref": format!("#/$defs/D{}", l + 1), "description": "d".repeat(per)})
                } else {
                    json!({"type": "string", "description": "d".repeat(per)})
                };
                (format!("p{f}"), p)
            })
            .collect();
        defs.insert(
            format!("D{l}"),
            json!({"type": "object", "properties": props}),
        );
    }
    serde_json::to_vec(&json!({
        "model": "gemini/gemini-2.5-flash",
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "bomb",
            "parameters": {"type": "object", "properties": {"r": {"$ref": "#/$defs/D0"}}, "$defs": defs}}}],
    }))
    .unwrap()
}

fn small_request() -> Vec<u8> {
    br#"{"model":"gemini/gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}"#.to_vec()
}

#[test]
fn a_fanning_out_schema_gets_a_400_and_the_vm_survives() {
    let host = wasm_host::Host::new().unwrap();
    let mut vm = host
        .vm(&filter_wasm(), CONFIG, &[("K", "gemini-key")])
        .unwrap();
    assert!(vm.configure(), "{:?}", host.logs());
    let bomb = fan_out_request(6, 6, 1 << 20);
    assert!(bomb.len() > 900_000, "{}", bomb.len());
    for body in [bomb, small_request()] {
        let mut req = vm.request().unwrap();
        req.send_request_headers(&chat_headers(body.len()), false)
            .unwrap();
        req.send_request_body(&body, true).unwrap();
        if body.len() > 1000 {
            let reply = req.local_reply().expect("a local reply, not a trap");
            assert_eq!(reply.status, 400);
            let b: Value = serde_json::from_slice(&reply.body).unwrap();
            assert_eq!(b["error"]["param"], "tools[0].function.parameters");
            let msg = b["error"]["message"].as_str().unwrap();
            assert!(
                msg.contains("\"bomb\"") && msg.contains("$ref expansion"),
                "{msg}"
            );
            assert!(req.upstream_request_headers().is_none());
        } else {
            // The same VM still serves.
            assert!(req.local_reply().is_none());
            assert!(req.upstream_request_complete());
        }
    }
}
