#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_types
)]
//! Bounded, deterministic fuzzing of the JSON Schema → Gemini schema conversion (tool
//! parameters and `json_schema` answers, Gemini and Vertex): random schemas with random
//! keywords, type lists, `anyOf`/`oneOf` and `$ref`s into random (possibly recursive,
//! possibly fanning out) `$defs`, then mutated bytes. Any panic fails the test; every
//! refusal must be a 400; every accepted request's body must stay within the expansion
//! bound (about the input plus the per-request `$ref` budget).

use llm_gateway::api::openai::ChatRequest;
use llm_gateway::config::{self, Config};
use llm_gateway::translate;
use serde_json::{json, Map, Value};

mod support;
use support::fuzz::{mutate_json, Rng};

const KEYWORDS: &[&str] = &[
    "description",
    "format",
    "title",
    "minimum",
    "maxItems",
    "pattern",
    "additionalProperties",
    "default",
    "examples",
    "nullable",
];
const TYPES: &[&str] = &[
    "object", "string", "integer", "number", "array", "boolean", "null",
];

fn schema(rng: &mut Rng, depth: usize, defs: usize) -> Value {
    if depth == 0 || rng.below(5) == 0 {
        return match rng.below(4) {
            0 if defs > 0 => json!({"$ref": format!("#/$defs/D{}", rng.below(defs + 1))}),
            1 => json!(true),
            2 => json!({"const": rng.below(9)}),
            _ => json!({"type": TYPES[rng.below(TYPES.len())]}),
        };
    }
    let mut o = Map::new();
    for _ in 0..rng.below(3) {
        let k = KEYWORDS[rng.below(KEYWORDS.len())];
        o.insert(k.into(), json!("v".repeat(rng.below(40))));
    }
    match rng.below(6) {
        0 => {
            o.insert(
                "type".into(),
                json!([TYPES[rng.below(TYPES.len())], "null"]),
            );
        }
        1 => {
            let alts: Vec<Value> = (0..rng.below(4))
                .map(|_| schema(rng, depth - 1, defs))
                .collect();
            let key = if rng.below(2) == 0 { "anyOf" } else { "oneOf" };
            o.insert(key.into(), Value::Array(alts));
        }
        2 => {
            o.insert("type".into(), json!("array"));
            o.insert("items".into(), schema(rng, depth - 1, defs));
        }
        3 if defs > 0 => {
            o.insert(
                "$ref".into(),
                json!(format!("#/$defs/D{}", rng.below(defs))),
            );
        }
        _ => {
            o.insert("type".into(), json!("object"));
            let props: Map<String, Value> = (0..rng.below(7))
                .map(|k| (format!("p{k}"), schema(rng, depth - 1, defs)))
                .collect();
            o.insert("properties".into(), Value::Object(props));
            o.insert("enum".into(), json!(["a", "b", "c"]));
        }
    }
    Value::Object(o)
}

/// `levels` definitions, each referring `fan` times to the next: fan^levels copies.
fn fan_out(rng: &mut Rng) -> Value {
    let (levels, fan) = (2 + rng.below(8), 2 + rng.below(5));
    let defs: Map<String, Value> = (0..levels)
        .map(|l| {
            let props: Map<String, Value> = (0..fan)
                .map(|f| {
                    let p = if l + 1 < levels {
                        json!({"$ref": format!("#/$defs/D{}", l + 1), "description": "d"})
                    } else {
                        json!({"type": "string", "enum": ["a", "b"]})
                    };
                    (format!("p{f}"), p)
                })
                .collect();
            (
                format!("D{l}"),
                json!({"type": "object", "properties": props}),
            )
        })
        .collect();
    json!({"type": "object", "properties": {"r": {"$ref": "#/$defs/D0"}}, "$defs": defs})
}

fn with_defs(rng: &mut Rng) -> Value {
    if rng.below(6) == 0 {
        return fan_out(rng);
    }
    let n = rng.below(6);
    let defs: Map<String, Value> = (0..n)
        // Definitions refer to themselves and earlier ones (fanning out, or recursing),
        // or by chance to any.
        .map(|k| {
            let reach = if rng.below(4) == 0 { n } else { n.min(k + 1) };
            (format!("D{k}"), schema(rng, 4, reach))
        })
        .collect();
    let mut root = schema(rng, 3, n);
    if let Value::Object(o) = &mut root {
        o.insert("$defs".into(), Value::Object(defs));
    }
    root
}

fn cfg() -> Config {
    config::parse(
        br#"{"providers":[{"name":"g","kind":"gemini","cluster":"c"},
            {"name":"v","kind":"vertex","cluster":"c","project":"p","location":"l"}],
            "allow_provider_model":true}"#,
        &|_| None,
    )
    .unwrap()
}

#[test]
fn fuzz_schema_conversion_is_bounded_and_never_panics() {
    let cfg = cfg();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut built, mut refused, mut expansion) = (0, 0, 0);
    for round in 0..300 {
        let tools: Vec<Value> = (0..1 + rng.below(3))
            .map(|k| json!({"type": "function", "function": {"name": format!("t{k}"), "parameters": with_defs(&mut rng)}}))
            .collect();
        let doc = json!({
            "model": "m",
            "messages": [{"role": "user", "content": "x"}],
            "tools": tools,
            "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": with_defs(&mut rng)}},
        });
        let mut raw = serde_json::to_vec(&doc).unwrap();
        if round % 3 == 0 {
            raw = mutate_json(&mut rng, &raw, false);
        }
        let Ok(req) = serde_json::from_slice::<ChatRequest>(&raw) else {
            continue;
        };
        for p in &cfg.providers {
            match translate::request(p, "gemini-2.5-flash", &req, &raw, 0) {
                Ok(up) => {
                    let body = up.body.unwrap();
                    assert!(serde_json::from_slice::<Value>(&body).is_ok());
                    // Values copied by a ref count by size; escapes and numbers may
                    // write a few times what was counted.
                    assert!(
                        body.len() <= 4 * raw.len() + 4 * (1 << 20),
                        "{} bytes from {}",
                        body.len(),
                        raw.len()
                    );
                    built += 1;
                }
                Err(e) => {
                    assert_eq!(e.status, 400, "{e:?}");
                    refused += 1;
                    expansion += usize::from(e.message.contains("$ref expansion exceeds"));
                }
            }
        }
    }
    assert!(
        built > 100 && refused > 20 && expansion > 0,
        "built {built}, refused {refused} ({expansion} over the expansion budget)"
    );
}
