//! JSON Schema (what OpenAI clients send for tool parameters and `json_schema`
//! answers) → the OpenAPI 3.0 subset Gemini's `Schema` accepts. Gemini answers 400
//! ("Unknown name …") for keywords outside its subset, so those are dropped, and a few
//! JSON Schema idioms are rewritten: `type: [T, "null"]` → `type: T, nullable: true`,
//! `oneOf` → `anyOf`, `const` → one-value `enum`, local `$ref`s inlined.

// JSON Schema is open-ended JSON: the conversion walks it as values (filter/clippy.toml).
#![allow(clippy::disallowed_types)]

use serde_json::{Map, Value};

/// Keywords of Gemini's `Schema` object (ai.google.dev/api/caching#Schema).
const KEPT: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "propertyOrdering",
    "default",
    "minimum",
    "maximum",
];

/// Nesting (and `$ref` expansion) depth beyond which a schema is refused.
const MAX_DEPTH: usize = 32;

/// What inlining `$ref`s may add to one request's schemas. Without refs the output is
/// about the size of the input; each ref copies its target, so a few levels of a few
/// refs each fan out exponentially (1.7 KB of schema became 14 MB, 1 MB exhausted the VM).
pub const MAX_REF_NODES: usize = 20_000;
pub const MAX_REF_BYTES: usize = 1 << 20;

/// The expansion left for one request, shared by all its schemas.
pub struct Budget {
    nodes: usize,
    bytes: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            nodes: MAX_REF_NODES,
            bytes: MAX_REF_BYTES,
        }
    }
}

impl Budget {
    fn spend(&mut self, nodes: usize, bytes: usize) -> Result<(), String> {
        match (self.nodes.checked_sub(nodes), self.bytes.checked_sub(bytes)) {
            (Some(n), Some(b)) => {
                self.nodes = n;
                self.bytes = b;
                Ok(())
            }
            _ => Err(format!(
                "$ref expansion exceeds the gateway's limit ({MAX_REF_NODES} schema nodes or \
                 {MAX_REF_BYTES} bytes per request): inline fewer references"
            )),
        }
    }
}

/// One conversion: the `$defs` refs point into, and the budget that copies made while
/// expanding a ref are charged to (`in_ref`).
struct Ctx<'a> {
    defs: &'a Map<String, Value>,
    budget: &'a mut Budget,
}

/// Converts a client schema, charging `$ref` expansion to `budget`. `Err` carries a
/// reason for a 400.
pub fn to_gemini(schema: &Value, budget: &mut Budget) -> Result<Value, String> {
    let empty = Map::new();
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    convert(schema, &mut Ctx { defs, budget }, 0, false)
}

/// About the serialised size of a value (what copying it adds to the upstream body).
/// serde_json's parser limits nesting to 128, so the recursion is bounded.
fn json_size(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => 8,
        Value::String(s) => s.len() + 2,
        Value::Array(a) => a.iter().map(json_size).sum::<usize>() + a.len() + 2,
        Value::Object(o) => {
            o.iter()
                .map(|(k, v)| k.len() + 4 + json_size(v))
                .sum::<usize>()
                + 2
        }
    }
}

/// True when an object schema declares no properties (Gemini refuses such function
/// parameters: "properties: should be non-empty for OBJECT type").
pub fn is_empty_object(schema: &Value) -> bool {
    let props_empty = schema
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty);
    let is_object = matches!(schema.get("type"), None | Some(Value::String(_)))
        && schema
            .get("type")
            .and_then(Value::as_str)
            .is_none_or(|t| t.eq_ignore_ascii_case("object"));
    is_object && props_empty && schema.get("anyOf").is_none()
}

fn convert(schema: &Value, cx: &mut Ctx<'_>, depth: usize, in_ref: bool) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("schema is nested too deeply (or its $ref is recursive)".into());
    }
    if in_ref {
        // Charged before the copy is made: a refused schema never gets built.
        let own: usize = schema.as_object().map_or(0, |o| {
            KEPT.iter()
                .chain(["const", "type"].iter())
                .filter_map(|k| o.get(*k).map(|v| k.len() + 4 + json_size(v)))
                .sum()
        });
        cx.budget.spend(1, own + 2)?;
    }
    let Some(obj) = schema.as_object() else {
        // `true` / `{}`-like schemas: anything goes, which Gemini spells as no schema.
        return Ok(Value::Object(Map::new()));
    };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let target = r
            .strip_prefix("#/$defs/")
            .or_else(|| r.strip_prefix("#/definitions/"))
            .and_then(|name| cx.defs.get(name))
            .ok_or_else(|| format!("unsupported $ref {r:?} (only local #/$defs refs)"))?;
        let mut out = convert(target, cx, depth + 1, true)?;
        // Sibling annotations of a $ref (e.g. a description) win over the target's.
        if let (Some(o), Some(d)) = (out.as_object_mut(), obj.get("description")) {
            o.insert("description".into(), d.clone());
        }
        return Ok(out);
    }
    let mut out = Map::new();
    for key in KEPT {
        if let Some(v) = obj.get(*key) {
            out.insert((*key).to_string(), v.clone());
        }
    }
    if let Some(c) = obj.get("const") {
        out.insert("enum".into(), Value::Array(vec![c.clone()]));
    }
    if let Some(Value::Array(types)) = obj.get("type") {
        let mut real: Vec<&Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .collect();
        if real.len() < types.len() {
            out.insert("nullable".into(), Value::Bool(true));
        }
        match real.len() {
            0 => {
                out.remove("type");
            }
            1 => {
                if let Some(t) = real.pop() {
                    out.insert("type".into(), t.clone());
                }
            }
            _ => {
                out.remove("type");
                let alts = real
                    .into_iter()
                    .map(|t| {
                        let mut m = Map::new();
                        m.insert("type".into(), t.clone());
                        Value::Object(m)
                    })
                    .collect();
                out.insert("anyOf".into(), Value::Array(alts));
            }
        }
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        let mut converted = Map::new();
        for (name, p) in props {
            if in_ref {
                cx.budget.spend(0, name.len() + 4)?;
            }
            converted.insert(name.clone(), convert(p, cx, depth + 1, in_ref)?);
        }
        if !converted.is_empty() {
            out.insert("properties".into(), Value::Object(converted));
        }
    }
    if let Some(items) = obj.get("items") {
        out.insert("items".into(), convert(items, cx, depth + 1, in_ref)?);
    }
    let alternatives = obj
        .get("anyOf")
        .or_else(|| obj.get("oneOf"))
        .and_then(Value::as_array);
    if let Some(alts) = alternatives {
        let mut converted = Vec::with_capacity(alts.len());
        for a in alts {
            if a.get("type").and_then(Value::as_str) == Some("null")
                && a.as_object().is_some_and(|o| o.len() == 1)
            {
                out.insert("nullable".into(), Value::Bool(true));
                continue;
            }
            converted.push(convert(a, cx, depth + 1, in_ref)?);
        }
        match converted.len() {
            0 => {}
            // `anyOf: [X, {type: null}]` is just a nullable X.
            1 if !out.contains_key("type") => {
                if let Some(Value::Object(single)) = converted.pop() {
                    for (k, v) in single {
                        out.entry(k).or_insert(v);
                    }
                }
            }
            _ => {
                out.insert("anyOf".into(), Value::Array(converted));
            }
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strips_and_rewrites() {
        let s = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "city": {"type": "string", "description": "City"},
                "unit": {"type": ["string", "null"], "enum": ["c", "f"]},
                "kind": {"const": "weather"},
                "when": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}},
                "n": {"type": ["integer", "string"]}
            },
            "required": ["city"],
            "$defs": {"Tag": {"type": "object", "properties": {"v": {"type": "string"}}, "additionalProperties": false}}
        });
        assert_eq!(
            to_gemini(&s, &mut Budget::default()).unwrap(),
            json!({
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City"},
                    "unit": {"type": "string", "nullable": true, "enum": ["c", "f"]},
                    "kind": {"enum": ["weather"]},
                    "when": {"type": "string", "format": "date-time", "nullable": true},
                    "tags": {"type": "array", "items": {"type": "object", "properties": {"v": {"type": "string"}}}},
                    "n": {"anyOf": [{"type": "integer"}, {"type": "string"}]}
                },
                "required": ["city"]
            })
        );
    }

    #[test]
    fn recursive_ref_is_refused() {
        let s = json!({"$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}}}, "$ref": "#/$defs/N"});
        assert!(to_gemini(&s, &mut Budget::default())
            .unwrap_err()
            .contains("recursive"));
        assert!(to_gemini(&json!({"$ref": "https://x/y"}), &mut Budget::default()).is_err());
    }

    /// `levels` definitions, each with `fan` properties referring to the next one.
    fn fan_out(levels: usize, fan: usize) -> Value {
        let mut defs = Map::new();
        for l in 0..levels {
            let mut props = Map::new();
            for f in 0..fan {
                let target = if l + 1 < levels {
                    json!({"$ref": format!("#/$defs/D{}", l + 1)})
                } else {
                    json!({"type": "string", "enum": ["a", "b"]})
                };
                props.insert(format!("p{f}"), target);
            }
            defs.insert(
                format!("D{l}"),
                json!({"type": "object", "properties": props}),
            );
        }
        json!({"$ref": "#/$defs/D0", "$defs": defs})
    }

    #[test]
    fn ref_expansion_is_bounded_per_request() {
        // 4^9 = 262144 leaves from a schema of a few hundred bytes.
        let bomb = fan_out(9, 4);
        let why = to_gemini(&bomb, &mut Budget::default()).unwrap_err();
        assert!(why.contains("$ref expansion exceeds"), "{why}");
        // A modest fan-out passes, and what it spends is gone for the rest of the request.
        let mut budget = Budget::default();
        let ok = fan_out(5, 4); // 4^5 = 1024 leaves
        assert!(to_gemini(&ok, &mut budget).is_ok());
        let spent = MAX_REF_NODES - budget.nodes;
        assert!(spent > 1024, "{spent}");
        let mut runs = 1;
        while to_gemini(&ok, &mut budget).is_ok() {
            runs += 1;
        }
        assert_eq!(runs, MAX_REF_NODES / spent);
        // Large copied values count by their bytes, not their node count.
        let big = "x".repeat(100_000);
        let wide = json!({"$defs": {"E": {"type": "string", "enum": [big]}},
            "type": "object", "properties": (0..20).map(|k| (format!("p{k}"), json!({"$ref": "#/$defs/E"}))).collect::<Map<_, _>>()});
        assert!(to_gemini(&wide, &mut Budget::default())
            .unwrap_err()
            .contains("bytes"));
    }

    #[test]
    fn empty_objects() {
        assert!(is_empty_object(
            &json!({"type": "object", "properties": {}})
        ));
        assert!(is_empty_object(&json!({})));
        assert!(!is_empty_object(
            &json!({"type": "object", "properties": {"a": {}}})
        ));
        assert!(!is_empty_object(&json!({"type": "string"})));
    }
}
