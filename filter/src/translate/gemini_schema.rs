//! JSON Schema (what OpenAI clients send for tool parameters and `json_schema`
//! answers) → the OpenAPI 3.0 subset Gemini's `Schema` accepts. Gemini answers 400
//! ("Unknown name …") for keywords outside its subset, so those are dropped, and a few
//! JSON Schema idioms are rewritten: `type: [T, "null"]` → `type: T, nullable: true`,
//! `oneOf` → `anyOf`, `const` → one-value `enum`, local `$ref`s inlined.

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

/// Converts a client schema. `Err` carries a reason for a 400.
pub fn to_gemini(schema: &Value) -> Result<Value, String> {
    let empty = Map::new();
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    convert(schema, defs, 0)
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

fn convert(schema: &Value, defs: &Map<String, Value>, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("schema is nested too deeply (or its $ref is recursive)".into());
    }
    let Some(obj) = schema.as_object() else {
        // `true` / `{}`-like schemas: anything goes, which Gemini spells as no schema.
        return Ok(Value::Object(Map::new()));
    };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let target = r
            .strip_prefix("#/$defs/")
            .or_else(|| r.strip_prefix("#/definitions/"))
            .and_then(|name| defs.get(name))
            .ok_or_else(|| format!("unsupported $ref {r:?} (only local #/$defs refs)"))?;
        let mut out = convert(target, defs, depth + 1)?;
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
            converted.insert(name.clone(), convert(p, defs, depth + 1)?);
        }
        if !converted.is_empty() {
            out.insert("properties".into(), Value::Object(converted));
        }
    }
    if let Some(items) = obj.get("items") {
        out.insert("items".into(), convert(items, defs, depth + 1)?);
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
            converted.push(convert(a, defs, depth + 1)?);
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
            to_gemini(&s).unwrap(),
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
        assert!(to_gemini(&s).unwrap_err().contains("recursive"));
        assert!(to_gemini(&json!({"$ref": "https://x/y"})).is_err());
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
