//! Embeddings in the providers' own formats, with the same deterministic vectors as
//! the OpenAI endpoint (`embeddings::vector`):
//! * Gemini `…/models/{m}:batchEmbedContents` (≤ 100 requests, each naming
//!   `models/{m}`; no usage in the answer, as the real API);
//! * Vertex AI `…/publishers/google/models/{m}:predict` (`instances[].content`,
//!   `parameters.outputDimensionality`; `statistics.token_count` per prediction);
//! * Bedrock `InvokeModel` `…/model/{id}/invoke` for Amazon Titan Text Embeddings
//!   (`inputText`; v2 also `dimensions` 256/512/1024, default 1024, and `normalize`) and
//!   Cohere Embed (`texts` 1–96, `input_type` required; v4 `output_dimension`
//!   256/512/1024/1536, default 1536, answered by type; v3 1024 floats). Bedrock
//!   sends the input token count in `x-amzn-bedrock-input-token-count`.
//!
//! Vectors default to `embeddings::DEFAULT_DIMENSIONS` for Google (the real default is
//! 3072/768). Tokens are words.

use serde_json::{json, Value};

use crate::answer::word_count;
use crate::embeddings::{vector, DEFAULT_DIMENSIONS};
use crate::openai::Ctx;
use crate::reply::{Reply, Usage};
use crate::{bedrock, gemini};

const GEMINI_MAX_BATCH: usize = 100;
const COHERE_MAX_TEXTS: usize = 96;

fn floats(text: &str, dims: usize) -> Value {
    Value::from(
        vector(text, dims)
            .iter()
            .map(|x| f64::from(*x))
            .collect::<Vec<f64>>(),
    )
}

fn usage(tokens: u64) -> Usage {
    Usage {
        prompt_tokens: tokens,
        completion_tokens: 0,
        reasoning_tokens: 0,
    }
}

fn dims_of(v: Option<&Value>) -> Result<Option<usize>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(d) => d
            .as_u64()
            .filter(|d| (1..=4096).contains(d))
            .map(|d| Some(d as usize))
            .ok_or(()),
    }
}

fn google_invalid(message: &str) -> Reply {
    gemini::error_with(400, message, "INVALID_ARGUMENT")
}

/// Gemini `batchEmbedContents` for the model named in the path.
pub fn gemini_batch(body: &[u8], model: &str) -> Reply {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return google_invalid("Invalid JSON payload received.");
    };
    let Some(requests) = req.get("requests").and_then(Value::as_array) else {
        return google_invalid("* BatchEmbedContentsRequest.requests: requests is not specified\n");
    };
    if requests.is_empty() {
        return google_invalid("* BatchEmbedContentsRequest.requests: requests is not specified\n");
    }
    if requests.len() > GEMINI_MAX_BATCH {
        return google_invalid(
            "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n",
        );
    }
    let want = format!("models/{model}");
    let mut out = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        if r.get("model").and_then(Value::as_str) != Some(want.as_str()) {
            return google_invalid(&format!(
                "* BatchEmbedContentsRequest.requests[{i}].model: the model must be {want} (the model of the batch request)\n"
            ));
        }
        let text: String = r
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect();
        if text.is_empty() {
            return google_invalid(&format!(
                "* BatchEmbedContentsRequest.requests[{i}].content: contents must not be empty\n"
            ));
        }
        let Ok(dims) = dims_of(r.get("outputDimensionality")) else {
            return google_invalid("outputDimensionality must be a positive integer");
        };
        out.push(json!({"values": floats(&text, dims.unwrap_or(DEFAULT_DIMENSIONS))}));
    }
    Reply::json(200, &json!({ "embeddings": out }))
}

/// Vertex AI `predict` for text embedding models.
pub fn vertex_predict(body: &[u8]) -> Reply {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return google_invalid("Invalid JSON payload received.");
    };
    let Some(instances) = req
        .get("instances")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return google_invalid("instances must be a non-empty list");
    };
    let Ok(dims) = dims_of(req.pointer("/parameters/outputDimensionality")) else {
        return google_invalid("outputDimensionality must be a positive integer");
    };
    let dims = dims.unwrap_or(DEFAULT_DIMENSIONS);
    let mut total = 0;
    let mut chars = 0;
    let mut predictions = Vec::new();
    for inst in instances {
        let Some(text) = inst
            .get("content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        else {
            return google_invalid("each instance needs a non-empty content");
        };
        let tokens = word_count(text);
        total += tokens;
        chars += text.chars().count();
        predictions.push(json!({"embeddings": {
            "values": floats(text, dims),
            "statistics": {"token_count": tokens, "truncated": false},
        }}));
    }
    Reply::json(
        200,
        &json!({"predictions": predictions, "metadata": {"billableCharacterCount": chars}}),
    )
    .with_usage(usage(total))
}

/// The model id of `…/model/{id}/invoke` (percent-decoded), if the path is one.
pub fn invoke_model(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let rest = path.strip_suffix("/invoke")?;
    let (prefix, id) = rest.rsplit_once('/')?;
    if id.is_empty() || !(prefix == "/model" || prefix.ends_with("/model")) {
        return None;
    }
    Some(
        id.replace("%3A", ":")
            .replace("%3a", ":")
            .replace("%2F", "/"),
    )
}

fn validation(message: &str) -> Reply {
    bedrock::error_with(400, "ValidationException", message)
}

/// Bedrock `InvokeModel` for Titan and Cohere embedding models.
pub fn bedrock_invoke(body: &[u8], model: &str, ctx: Ctx<'_>) -> Reply {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return validation("Malformed input request, please reformat your input and try again.");
    };
    let id = model.rsplit('/').next().unwrap_or(model);
    let id = match id.split_once('.') {
        Some((geo, rest)) if !matches!(geo, "amazon" | "cohere") => rest,
        _ => id,
    };
    let reply = if id.starts_with("amazon.titan-embed") {
        titan(&req, id.starts_with("amazon.titan-embed-text-v2"))
    } else if id.starts_with("cohere.embed") {
        cohere(&req, id.starts_with("cohere.embed-v4"))
    } else {
        return validation(
            "The provided model doesn't support this operation (mock: embeddings only).",
        );
    };
    reply.with_header("x-amzn-requestid", &format!("req_mock_{}", ctx.n))
}

fn with_token_header(reply: Reply, tokens: u64) -> Reply {
    reply
        .with_usage(usage(tokens))
        .with_header("x-amzn-bedrock-input-token-count", &tokens.to_string())
}

fn titan(req: &Value, v2: bool) -> Reply {
    let allowed: &[&str] = if v2 {
        &["inputText", "dimensions", "normalize", "embeddingTypes"]
    } else {
        &["inputText"]
    };
    if let Some(extra) = req
        .as_object()
        .and_then(|o| o.keys().find(|k| !allowed.contains(&k.as_str())))
    {
        return validation(&format!(
            "Malformed input request: #: extraneous key [{extra}] is not permitted, please reformat your input and try again."
        ));
    }
    let Some(text) = req
        .get("inputText")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return validation("Malformed input request: #: required key [inputText] not found, please reformat your input and try again.");
    };
    let dims = match req.get("dimensions").map(Value::as_u64) {
        None => 1024,
        Some(Some(d @ (256 | 512 | 1024))) => d as usize,
        Some(_) => return validation("Malformed input request: #/dimensions: is not a valid enum value, please reformat your input and try again."),
    };
    let tokens = word_count(text);
    let v = floats(text, dims);
    let body = if v2 {
        json!({"embedding": v, "inputTextTokenCount": tokens, "embeddingsByType": {"float": v}})
    } else {
        json!({"embedding": v, "inputTextTokenCount": tokens})
    };
    with_token_header(Reply::json(200, &body), tokens)
}

fn cohere(req: &Value, v4: bool) -> Reply {
    let Some(texts) = req.get("texts").and_then(Value::as_array) else {
        return validation("Malformed input request: #: required key [texts] not found, please reformat your input and try again.");
    };
    if texts.is_empty() || texts.len() > COHERE_MAX_TEXTS {
        return validation(&format!("Malformed input request: #/texts: expected between 1 and {COHERE_MAX_TEXTS} items, please reformat your input and try again."));
    }
    if req.get("input_type").and_then(Value::as_str).is_none() {
        return validation("Malformed input request: #: required key [input_type] not found, please reformat your input and try again.");
    }
    let dims = match (v4, req.get("output_dimension").map(Value::as_u64)) {
        (false, None) => 1024,
        (true, None) => 1536,
        (true, Some(Some(d @ (256 | 512 | 1024 | 1536)))) => d as usize,
        (false, Some(_)) => return validation("Malformed input request: #: extraneous key [output_dimension] is not permitted, please reformat your input and try again."),
        (true, Some(_)) => return validation("Malformed input request: #/output_dimension: is not a valid enum value, please reformat your input and try again."),
    };
    let mut tokens = 0;
    let mut vectors = Vec::new();
    for t in texts {
        let Some(t) = t.as_str() else {
            return validation("Malformed input request: #/texts: expected type: String, please reformat your input and try again.");
        };
        tokens += word_count(t);
        vectors.push(floats(t, dims));
    }
    let body = if v4 {
        json!({"id": "emb_mock", "embeddings": {"float": vectors}, "response_type": "embeddings_by_type", "texts": texts})
    } else {
        json!({"id": "emb_mock", "embeddings": vectors, "response_type": "embeddings_floats", "texts": texts})
    };
    with_token_header(Reply::json(200, &body), tokens)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::reply::Payload;

    const CTX: Ctx<'static> = Ctx {
        name: "e",
        n: 2,
        created: 0,
    };

    fn body(reply: &Reply) -> Value {
        match &reply.payload {
            Payload::Whole(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
            Payload::Events(_) | Payload::Binary(_) => Value::Null,
        }
    }

    fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
        reply
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn gemini_batch_vectors_and_checks() {
        let ok = br#"{"requests":[{"model":"models/g","content":{"parts":[{"text":"hello"}]},"outputDimensionality":3},
                      {"model":"models/g","content":{"parts":[{"text":"x"}]}}]}"#;
        let r = gemini_batch(ok, "g");
        assert_eq!(r.status, 200);
        let v = body(&r);
        assert_eq!(v["embeddings"][0]["values"], floats("hello", 3));
        assert_eq!(
            v["embeddings"][1]["values"].as_array().map(Vec::len),
            Some(8)
        );
        assert_eq!(r.usage, None);
        for bad in [
            &br#"{"requests":[{"model":"models/other","content":{"parts":[{"text":"a"}]}}]}"#[..],
            br#"{"requests":[{"model":"models/g","content":{"parts":[]}}]}"#,
            br#"{"requests":[]}"#,
            b"nope",
        ] {
            assert_eq!(gemini_batch(bad, "g").status, 400);
        }
    }

    #[test]
    fn vertex_predict_statistics() {
        let r = vertex_predict(
            br#"{"instances":[{"content":"a b"},{"content":"c"}],"parameters":{"outputDimensionality":2}}"#,
        );
        let v = body(&r);
        assert_eq!(
            v["predictions"][0]["embeddings"]["statistics"]["token_count"],
            2
        );
        assert_eq!(v["predictions"][1]["embeddings"]["values"], floats("c", 2));
        assert_eq!(r.usage, Some(usage(3)));
        assert_eq!(vertex_predict(br#"{"instances":[]}"#).status, 400);
    }

    #[test]
    fn bedrock_titan_and_cohere() {
        assert_eq!(
            invoke_model("/model/amazon.titan-embed-text-v2%3A0/invoke").as_deref(),
            Some("amazon.titan-embed-text-v2:0")
        );
        assert_eq!(invoke_model("/model/x/converse"), None);
        let r = bedrock_invoke(
            br#"{"inputText":"hello world","dimensions":256,"normalize":true}"#,
            "amazon.titan-embed-text-v2:0",
            CTX,
        );
        let v = body(&r);
        assert_eq!(v["embedding"].as_array().map(Vec::len), Some(256));
        assert_eq!(v["inputTextTokenCount"], 2);
        assert_eq!(header(&r, "x-amzn-bedrock-input-token-count"), Some("2"));
        let titan_v1_dims = bedrock_invoke(
            br#"{"inputText":"a","dimensions":256}"#,
            "amazon.titan-embed-text-v1",
            CTX,
        );
        assert_eq!(titan_v1_dims.status, 400);
        let r = bedrock_invoke(
            br#"{"texts":["a b","c"],"input_type":"search_document"}"#,
            "cohere.embed-english-v3",
            CTX,
        );
        let v = body(&r);
        assert_eq!(v["embeddings"][1], floats("c", 1024));
        assert_eq!(r.usage, Some(usage(3)));
        let r = bedrock_invoke(
            br#"{"texts":["a"],"input_type":"search_document","output_dimension":256}"#,
            "us.cohere.embed-v4:0",
            CTX,
        );
        assert_eq!(body(&r)["embeddings"]["float"][0], floats("a", 256));
        for (b, m) in [
            (&br#"{"texts":["a"]}"#[..], "cohere.embed-english-v3"),
            (br#"{"inputText":"a"}"#, "anthropic.claude-3-haiku"),
            (
                br#"{"inputText":"a","dimensions":3}"#,
                "amazon.titan-embed-text-v2:0",
            ),
        ] {
            let r = bedrock_invoke(b, m, CTX);
            assert_eq!(r.status, 400, "{m}");
            assert!(header(&r, "x-amzn-errortype").is_some());
        }
    }
}
