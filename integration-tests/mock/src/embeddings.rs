//! OpenAI Embeddings (`POST …/embeddings`): deterministic vectors and usage.
//!
//! Each input's vector has `dimensions` (default 8) components, each a multiple of
//! 1/1024 in [-1000/1024, 1000/1024] derived from an FNV-1a hash of the input, so
//! the numbers are exact in f32 and the same input always gets the same vector.
//! `encoding_format: "base64"` gives the little-endian f32 bytes in base64 (what the
//! `openai` Python SDK asks for by default). Usage: words per text input, ids per
//! token input; `total_tokens` equals `prompt_tokens`.

use serde_json::{json, Value};

use crate::answer;
use crate::openai::{error_with, Ctx};
use crate::reply::{Reply, Usage};

pub const DEFAULT_DIMENSIONS: usize = 8;

pub fn respond(body: &[u8], ctx: Ctx<'_>) -> Reply {
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return error_with(
                400,
                &format!("We could not parse the JSON body of your request. ({e})"),
                None,
            )
        }
    };
    let Some(model) = req.get("model").and_then(Value::as_str) else {
        return error_with(400, "you must provide a model parameter", Some("model"));
    };
    let Some(inputs) = inputs(req.get("input")) else {
        return error_with(
            400,
            "'input' must be a non-empty string, array of strings, or array of token arrays",
            Some("input"),
        );
    };
    let dims = req
        .get("dimensions")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_DIMENSIONS, |d| d as usize)
        .clamp(1, 4096);
    let base64 = req.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let mut tokens = 0u64;
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, (key, n))| {
            tokens += n;
            let v = vector(key, dims);
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                Value::from(encode_base64(&bytes))
            } else {
                Value::from(v.iter().map(|x| f64::from(*x)).collect::<Vec<f64>>())
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let usage = Usage {
        prompt_tokens: tokens,
        completion_tokens: 0,
        reasoning_tokens: 0,
    };
    Reply::json(
        200,
        &json!({
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }),
    )
    .with_usage(usage)
    .with_header("x-request-id", &format!("req_mock_{}", ctx.n))
}

/// `(hash key, tokens)` per input, or `None` when the input is missing or malformed.
fn inputs(input: Option<&Value>) -> Option<Vec<(String, u64)>> {
    let text = |s: &str| (!s.is_empty()).then(|| (s.to_string(), answer::word_count(s)));
    let ids = |a: &[Value]| -> Option<(String, u64)> {
        let ids: Option<Vec<u64>> = a.iter().map(Value::as_u64).collect();
        let ids = ids.filter(|v| !v.is_empty())?;
        Some((format!("{ids:?}"), ids.len() as u64))
    };
    match input? {
        Value::String(s) => Some(vec![text(s)?]),
        Value::Array(a) if a.is_empty() => None,
        Value::Array(a) if a.iter().all(Value::is_u64) => Some(vec![ids(a)?]),
        Value::Array(a) => a
            .iter()
            .map(|item| match item {
                Value::String(s) => text(s),
                Value::Array(inner) => ids(inner),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn fnv1a(bytes: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub fn vector(key: &str, dims: usize) -> Vec<f32> {
    (0..dims)
        .map(|k| {
            let h = fnv1a(key.as_bytes(), k as u64);
            ((h % 2001) as f32 - 1000.0) / 1024.0
        })
        .collect()
}

fn encode_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].iter().enumerate() {
            if i <= chunk.len() {
                let idx = ((n >> shift) & 63) as usize;
                out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::reply::Payload;

    const CTX: Ctx<'static> = Ctx {
        name: "e",
        n: 3,
        created: 0,
    };

    fn body(reply: &Reply) -> Value {
        match &reply.payload {
            Payload::Whole(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
            Payload::Events(_) | Payload::Binary(_) => Value::Null,
        }
    }

    #[test]
    fn floats_usage_and_determinism() {
        let r = respond(br#"{"model":"emb","input":["hello world","x"]}"#, CTX);
        assert_eq!(r.status, 200);
        let v = body(&r);
        assert_eq!(v["data"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["data"][1]["index"], 1);
        assert_eq!(v["data"][0]["embedding"].as_array().map(Vec::len), Some(8));
        assert_eq!(v["usage"], json!({"prompt_tokens": 3, "total_tokens": 3}));
        let again = body(&respond(br#"{"model":"emb","input":"hello world"}"#, CTX));
        assert_eq!(again["data"][0]["embedding"], v["data"][0]["embedding"]);
        assert_eq!(
            r.usage,
            Some(Usage {
                prompt_tokens: 3,
                completion_tokens: 0,
                reasoning_tokens: 0,
            })
        );
    }

    #[test]
    fn base64_tokens_dimensions_and_errors() {
        let v = body(&respond(
            br#"{"model":"m","input":[1,2,3],"encoding_format":"base64","dimensions":2}"#,
            CTX,
        ));
        // 2 f32 = 8 bytes = 12 base64 characters.
        assert_eq!(v["data"][0]["embedding"].as_str().map(str::len), Some(12));
        assert_eq!(v["usage"]["prompt_tokens"], 3);
        assert_eq!(encode_base64(b"Man"), "TWFu");
        assert_eq!(encode_base64(b"Ma"), "TWE=");
        assert_eq!(encode_base64(b"M"), "TQ==");
        for bad in [
            &br#"{"model":"m","input":[]}"#[..],
            br#"{"model":"m","input":""}"#,
            br#"{"model":"m"}"#,
            br#"{"input":"x"}"#,
            b"nope",
        ] {
            assert_eq!(respond(bad, CTX).status, 400);
        }
    }
}
