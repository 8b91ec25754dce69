//! Gemini `generateContent` / `streamGenerateContent` (Google AI Studio and Vertex AI
//! publishers/google): request parsing, answers, SSE and JSON-array streams, errors.

use serde_json::{json, Map, Value};

use crate::answer::{self, Answer, Conversation, Finish, ToolChoice, ToolDef};
use crate::openai::Ctx;
use crate::reply::{Payload, Reply, Usage};

/// Completion tokens reported for the mock's thought part.
pub const THOUGHT_TOKENS: u64 = 2;
const THOUGHT: &str = "mock thinking";

/// How the answer goes out, from the method and the `alt` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `:generateContent`
    Whole,
    /// `:streamGenerateContent?alt=sse`
    Sse,
    /// `:streamGenerateContent` without `alt=sse`: one JSON array, chunk by chunk.
    JsonArray,
}

/// `(model, method)` from `…/models/{model}:{method}`.
pub fn model_and_method(path: &str) -> Option<(&str, &str)> {
    let path = path.split('?').next().unwrap_or(path);
    let last = path.rsplit('/').next()?;
    last.split_once(':')
}

pub fn mode(path_and_query: &str) -> Mode {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let stream = model_and_method(path).is_some_and(|(_, m)| m == "streamGenerateContent");
    match (stream, query.split('&').any(|kv| kv == "alt=sse")) {
        (false, _) => Mode::Whole,
        (true, true) => Mode::Sse,
        (true, false) => Mode::JsonArray,
    }
}

/// Answers a `generateContent` body for the model named in the path.
pub fn respond(body: &[u8], path_and_query: &str, ctx: Ctx<'_>) -> Reply {
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return error_with(
                400,
                &format!("Invalid JSON payload received. {e}"),
                "INVALID_ARGUMENT",
            )
        }
    };
    if !req.is_object() {
        return error_with(
            400,
            "Invalid JSON payload received. Expected an object.",
            "INVALID_ARGUMENT",
        );
    }
    let Some(contents) = req.get("contents").and_then(Value::as_array) else {
        return error_with(
            400,
            "* GenerateContentRequest.contents: contents is not specified\n",
            "INVALID_ARGUMENT",
        );
    };
    let model = model_and_method(path_and_query)
        .map(|(m, _)| m)
        .unwrap_or("");
    let conv = conversation(&req, contents);
    let ans = answer::answer(&conv, ctx.name);
    let candidates = req
        .pointer("/generationConfig/candidateCount")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 8);
    let thoughts = req
        .pointer("/generationConfig/thinkingConfig/includeThoughts")
        .and_then(Value::as_bool)
        == Some(true);
    let out = Out {
        ans: &ans,
        model,
        prompt: conv.prompt_tokens,
        candidates_tokens: ans.completion_tokens() * candidates,
        candidates,
        thoughts,
        ctx,
    };
    let usage = Usage {
        prompt_tokens: out.prompt,
        completion_tokens: out.candidates_tokens + if thoughts { THOUGHT_TOKENS } else { 0 },
        reasoning_tokens: if thoughts { THOUGHT_TOKENS } else { 0 },
    };
    match mode(path_and_query) {
        Mode::Whole => Reply::json(200, &out.whole()).with_usage(usage),
        Mode::Sse => Reply::events(
            out.chunks()
                .iter()
                .map(|c| format!("data: {c}\r\n\r\n"))
                .collect(),
            usage,
        ),
        Mode::JsonArray => {
            let items: Vec<String> = out.chunks().iter().map(Value::to_string).collect();
            let body = format!("[{}]", items.join(",\r\n"));
            Reply {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                payload: Payload::Whole(body.into_bytes()),
                usage: Some(usage),
            }
        }
    }
}

/// Extracts the provider-independent view of a request.
pub fn conversation(req: &Value, contents: &[Value]) -> Conversation {
    let mut conv = Conversation::default();
    if let Some(system) = req.get("systemInstruction").filter(|s| !s.is_null()) {
        let p = parts(system.get("parts").unwrap_or(&Value::Null));
        conv.prompt_tokens += answer::MESSAGE_TOKENS + p.words + p.images * answer::IMAGE_TOKENS;
    }
    for content in contents {
        let role = content
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("user");
        let p = parts(content.get("parts").unwrap_or(&Value::Null));
        conv.prompt_tokens += answer::MESSAGE_TOKENS + p.words + p.images * answer::IMAGE_TOKENS;
        if role == "user" {
            conv.user_images += p.images;
            conv.last_user_text = p.text;
            conv.tool_result = p.only_function_responses.then_some(p.last_response);
        }
    }
    conv.tools = req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("functionDeclarations").and_then(Value::as_array))
        .flatten()
        .filter_map(tool_def)
        .collect();
    let calling = req.pointer("/toolConfig/functionCallingConfig");
    let allowed: Vec<&str> = calling
        .and_then(|c| c.get("allowedFunctionNames"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    conv.tool_choice = match calling.and_then(|c| c.get("mode")).and_then(Value::as_str) {
        Some("NONE") => ToolChoice::None,
        Some("ANY") => match allowed.as_slice() {
            [one] => ToolChoice::Named((*one).to_string()),
            _ => ToolChoice::Required,
        },
        _ => ToolChoice::Auto,
    };
    conv.schema = req.pointer("/generationConfig/responseSchema").cloned();
    conv.max_tokens = req
        .pointer("/generationConfig/maxOutputTokens")
        .and_then(Value::as_u64);
    conv.stop = req
        .pointer("/generationConfig/stopSequences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    conv
}

#[derive(Default)]
struct Parts {
    text: String,
    words: u64,
    images: u64,
    only_function_responses: bool,
    last_response: String,
}

fn parts(list: &Value) -> Parts {
    let mut out = Parts::default();
    let Some(list) = list.as_array() else {
        return out;
    };
    out.only_function_responses = !list.is_empty();
    for part in list {
        let is_response = part.get("functionResponse").is_some();
        out.only_function_responses &= is_response;
        if let Some(t) = part.get("text").and_then(Value::as_str) {
            out.words += answer::word_count(t);
            out.text.push_str(t);
        } else if part.get("inlineData").is_some() || part.get("fileData").is_some() {
            out.images += 1;
        } else if let Some(r) = part.pointer("/functionResponse/response") {
            // The tool's text: `response.content` (as the gateway sends it), else the JSON.
            let text = match r.get("content") {
                Some(Value::String(s)) => s.clone(),
                _ => r.to_string(),
            };
            out.words += answer::word_count(&text);
            out.last_response = text;
        }
    }
    out
}

fn tool_def(decl: &Value) -> Option<ToolDef> {
    Some(ToolDef {
        name: decl.get("name")?.as_str()?.to_string(),
        schema: decl
            .get("parameters")
            .or_else(|| decl.get("parametersJsonSchema"))
            .cloned()
            .unwrap_or(Value::Null),
    })
}

/// Everything an answer needs, whole or streamed.
struct Out<'a> {
    ans: &'a Answer,
    model: &'a str,
    prompt: u64,
    candidates_tokens: u64,
    candidates: u64,
    thoughts: bool,
    ctx: Ctx<'a>,
}

impl Out<'_> {
    fn finish(&self) -> &'static str {
        match self.ans {
            Answer::Text {
                finish: Finish::MaxTokens,
                ..
            } => "MAX_TOKENS",
            _ => "STOP",
        }
    }

    fn usage(&self, last: bool) -> Value {
        if !last {
            return json!({"promptTokenCount": self.prompt, "totalTokenCount": self.prompt});
        }
        let thoughts = if self.thoughts { THOUGHT_TOKENS } else { 0 };
        let mut u = Map::new();
        u.insert("promptTokenCount".into(), json!(self.prompt));
        u.insert("candidatesTokenCount".into(), json!(self.candidates_tokens));
        if self.thoughts {
            u.insert("thoughtsTokenCount".into(), json!(THOUGHT_TOKENS));
        }
        u.insert(
            "totalTokenCount".into(),
            json!(self.prompt + self.candidates_tokens + thoughts),
        );
        u.insert(
            "promptTokensDetails".into(),
            json!([{"modality": "TEXT", "tokenCount": self.prompt}]),
        );
        Value::Object(u)
    }

    fn thought_part(&self) -> Value {
        json!({"text": THOUGHT, "thought": true})
    }

    /// The answer's own parts (no thought).
    fn answer_parts(&self) -> Vec<Value> {
        match self.ans {
            Answer::Text { text, .. } => vec![json!({"text": text})],
            Answer::ToolCall { name, args } => vec![json!({
                "functionCall": {"name": name, "args": Value::Object(args.clone())},
                "thoughtSignature": signature(self.ctx.n),
            })],
        }
    }

    /// A response object whose every candidate holds `parts`.
    fn response(&self, parts: &[Value], finish: Option<&str>, last: bool) -> Value {
        let candidates: Vec<Value> = (0..self.candidates)
            .map(|i| {
                let mut c = Map::new();
                c.insert("content".into(), json!({"parts": parts, "role": "model"}));
                if let Some(f) = finish {
                    c.insert("finishReason".into(), json!(f));
                }
                c.insert("index".into(), json!(i));
                Value::Object(c)
            })
            .collect();
        json!({
            "candidates": candidates,
            "usageMetadata": self.usage(last),
            "modelVersion": self.model,
            "responseId": format!("resp_mock_{}", self.ctx.n),
        })
    }

    fn whole(&self) -> Value {
        let mut parts = Vec::new();
        if self.thoughts {
            parts.push(self.thought_part());
        }
        parts.extend(self.answer_parts());
        self.response(&parts, Some(self.finish()), true)
    }

    /// Stream chunks: the thought, then text word by word (the finish reason and full
    /// usage ride on the last piece), or the whole function call in one chunk.
    fn chunks(&self) -> Vec<Value> {
        let mut out = Vec::new();
        if self.thoughts {
            out.push(self.response(&[self.thought_part()], None, false));
        }
        let pieces: Vec<Value> = match self.ans {
            Answer::Text { text, .. } => answer::word_pieces(text)
                .into_iter()
                .map(|p| json!({"text": p}))
                .collect(),
            Answer::ToolCall { .. } => self.answer_parts(),
        };
        let n = pieces.len();
        if n == 0 {
            out.push(self.response(&[json!({"text": ""})], Some(self.finish()), true));
        }
        for (i, piece) in pieces.into_iter().enumerate() {
            let last = i + 1 == n;
            let finish = last.then(|| self.finish());
            out.push(self.response(&[piece], finish, last));
        }
        out
    }
}

/// A base64 thought signature, as Gemini 3 attaches to function calls.
pub fn signature(n: u64) -> String {
    base64(format!("sig_mock_{n}").as_bytes())
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                let idx = ((n >> (18 - 6 * k)) & 63) as usize;
                out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Google's canonical status name and a typical message per HTTP status.
fn status_name(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("INVALID_ARGUMENT", "Request contains an invalid argument."),
        401 => (
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
        ),
        403 => (
            "PERMISSION_DENIED",
            "The caller does not have permission (mock).",
        ),
        404 => ("NOT_FOUND", "Requested entity was not found."),
        409 => ("ABORTED", "The operation was aborted."),
        429 => (
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted (e.g. check quota).",
        ),
        499 => ("CANCELLED", "The operation was cancelled."),
        503 => (
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
        ),
        504 => (
            "DEADLINE_EXCEEDED",
            "Deadline expired before operation could complete.",
        ),
        s if s >= 500 => ("INTERNAL", "An internal error has occurred."),
        _ => ("FAILED_PRECONDITION", "Precondition check failed."),
    }
}

pub fn error_object(status: u16, message: &str, name: &str) -> Value {
    if status == 429 {
        let retry =
            json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}]);
        return json!({"error": {"code": status, "message": message, "status": name, "details": retry}});
    }
    json!({"error": {"code": status, "message": message, "status": name}})
}

pub fn error_with(status: u16, message: &str, name: &str) -> Reply {
    Reply::json(status, &error_object(status, message, name))
}

/// The error response Google sends with `status`.
pub fn error(status: u16) -> Reply {
    let (name, message) = status_name(status);
    error_with(status, message, name)
}

/// An error sent inside an already started SSE stream.
pub fn error_event(status: u16) -> String {
    let (name, message) = status_name(status);
    format!("data: {}\r\n\r\n", error_object(status, message, name))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    const CTX: Ctx<'static> = Ctx {
        name: "gem",
        n: 4,
        created: 0,
    };
    const PATH: &str = "/v1beta/models/gemini-x:generateContent";

    fn body_json(reply: &Reply) -> Value {
        match &reply.payload {
            Payload::Whole(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
            Payload::Events(_) | Payload::Binary(_) => Value::Null,
        }
    }

    #[test]
    fn paths() {
        assert_eq!(
            model_and_method("/v1/projects/p/locations/l/publishers/google/models/g-2:streamGenerateContent?alt=sse"),
            Some(("g-2", "streamGenerateContent"))
        );
        assert_eq!(mode(PATH), Mode::Whole);
        assert_eq!(
            mode("/v1beta/models/g:streamGenerateContent?alt=sse"),
            Mode::Sse
        );
        assert_eq!(
            mode("/v1beta/models/g:streamGenerateContent"),
            Mode::JsonArray
        );
    }

    #[test]
    fn text_answer_and_usage() {
        let body = json!({"systemInstruction":{"parts":[{"text":"be nice"}]},
            "contents":[{"role":"user","parts":[{"text":"hi there"},{"inlineData":{"mimeType":"image/png","data":"AA=="}}]}],
            "generationConfig":{"candidateCount":2}});
        let reply = respond(body.to_string().as_bytes(), PATH, CTX);
        let v = body_json(&reply);
        assert_eq!(v["modelVersion"], "gemini-x");
        assert_eq!(v["responseId"], "resp_mock_4");
        assert_eq!(v["candidates"][1]["index"], 1);
        assert_eq!(
            v["candidates"][0]["content"]["parts"],
            json!([{"text": "mock gem says: hi there [images: 1]"}])
        );
        assert_eq!(v["candidates"][0]["finishReason"], "STOP");
        // system 2+3, user 2+85+3; 7 words × 2 candidates
        assert_eq!(v["usageMetadata"]["promptTokenCount"], 95);
        assert_eq!(v["usageMetadata"]["candidatesTokenCount"], 14);
        assert_eq!(reply.usage.map(|u| u.completion_tokens), Some(14));
    }

    #[test]
    fn function_call_round_trip() {
        let tools = json!([{"functionDeclarations":[{"name":"w","parameters":{"type":"object","properties":{"c":{"type":"string"}},"required":["c"]}}]}]);
        let body = json!({"tools":tools,"toolConfig":{"functionCallingConfig":{"mode":"ANY"}},
            "contents":[{"role":"user","parts":[{"text":"x"}]}]});
        let v = body_json(&respond(body.to_string().as_bytes(), PATH, CTX));
        let part = &v["candidates"][0]["content"]["parts"][0];
        assert_eq!(
            part["functionCall"],
            json!({"name":"w","args":{"c":"mock"}})
        );
        assert_eq!(part["thoughtSignature"], "c2lnX21vY2tfNA==");
        let body = json!({"tools":tools,"contents":[
            {"role":"user","parts":[{"text":"x"}]},
            {"role":"model","parts":[{"functionCall":{"name":"w","args":{"c":"mock"}}}]},
            {"role":"user","parts":[{"functionResponse":{"name":"w","response":{"content":"rainy"}}}]}]});
        let v = body_json(&respond(body.to_string().as_bytes(), PATH, CTX));
        assert_eq!(
            v["candidates"][0]["content"]["parts"][0]["text"],
            "mock gem got tool result: rainy"
        );
        let body = json!({"tools":tools,"toolConfig":{"functionCallingConfig":{"mode":"NONE"}},
            "contents":[{"role":"user","parts":[{"text":"x"}]}]});
        let v = body_json(&respond(body.to_string().as_bytes(), PATH, CTX));
        assert!(v["candidates"][0]["content"]["parts"][0]["text"].is_string());
    }

    #[test]
    fn sse_stream_with_thoughts_and_limits() {
        let body = json!({"contents":[{"role":"user","parts":[{"text":"a b c"}]}],
            "generationConfig":{"maxOutputTokens":4,"thinkingConfig":{"includeThoughts":true,"thinkingBudget":1024}}});
        let reply = respond(
            body.to_string().as_bytes(),
            "/v1beta/models/g:streamGenerateContent?alt=sse",
            CTX,
        );
        let Payload::Events(events) = &reply.payload else {
            panic!("not a stream");
        };
        assert!(events
            .iter()
            .all(|e| e.starts_with("data: {") && e.ends_with("}\r\n\r\n")));
        let chunks: Vec<Value> = events
            .iter()
            .map(|e| {
                serde_json::from_str(e.trim_start_matches("data: ").trim_end())
                    .unwrap_or(Value::Null)
            })
            .collect();
        assert_eq!(
            chunks[0]["candidates"][0]["content"]["parts"][0]["thought"],
            true
        );
        let text: String = chunks[1..]
            .iter()
            .filter_map(|c| c["candidates"][0]["content"]["parts"][0]["text"].as_str())
            .collect();
        assert_eq!(text, "mock gem says: a");
        let last = chunks.last().cloned().unwrap_or_default();
        assert_eq!(last["candidates"][0]["finishReason"], "MAX_TOKENS");
        assert_eq!(last["usageMetadata"]["thoughtsTokenCount"], 2);
        assert_eq!(reply.usage.map(|u| u.completion_tokens), Some(6));
    }

    #[test]
    fn json_array_stream_and_errors() {
        let body = json!({"contents":[{"role":"user","parts":[{"text":"hey"}]}]});
        let v = body_json(&respond(
            body.to_string().as_bytes(),
            "/v1beta/models/g:streamGenerateContent",
            CTX,
        ));
        assert_eq!(v.as_array().map(Vec::len), Some(4));
        let e = body_json(&respond(b"{}", PATH, CTX));
        assert_eq!(e["error"]["status"], "INVALID_ARGUMENT");
        assert_eq!(e["error"]["code"], 400);
        assert_eq!(
            body_json(&error(429))["error"]["details"][0]["retryDelay"],
            "1s"
        );
        assert_eq!(body_json(&error(503))["error"]["status"], "UNAVAILABLE");
        assert!(error_event(503).starts_with("data: {\"error\""));
        assert_eq!(signature(1), "c2lnX21vY2tfMQ==");
        assert_eq!(base64(b"ab"), "YWI=");
    }
}
