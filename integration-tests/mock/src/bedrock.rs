//! AWS Bedrock Converse (`POST /model/{id}/converse`) and ConverseStream
//! (`/converse-stream`, binary event stream): request checks as strict as Bedrock's,
//! answers, stream events, exceptions.

use serde_json::{json, Value};

use crate::answer::{self, Answer, Conversation, Finish, ToolChoice, ToolDef};
use crate::eventstream;
use crate::openai::Ctx;
use crate::reply::{Reply, Usage};

/// Which operation a path names.
pub fn operation(path: &str) -> Option<bool> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let mut parts = rest.rsplitn(3, '/');
    let op = parts.next()?;
    let model = parts.next()?;
    let prefix = parts.next()?;
    if model.is_empty() || !(prefix == "model" || prefix.ends_with("/model")) {
        return None;
    }
    match op {
        "converse" => Some(false),
        "converse-stream" => Some(true),
        _ => None,
    }
}

/// Answers a Converse body; `stream` for ConverseStream.
pub fn respond(body: &[u8], stream: bool, ctx: Ctx<'_>) -> Reply {
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => {
            return error_with(
                400,
                "SerializationException",
                "Unexpected token in the request body (mock).",
            )
        }
    };
    if !req.is_object() {
        return error_with(
            400,
            "ValidationException",
            "The request body must be an object.",
        );
    }
    let conv = match conversation(&req) {
        Ok(c) => c,
        Err(msg) => return error_with(400, "ValidationException", &msg),
    };
    let ans = answer::answer(&conv, ctx.name);
    let usage = Usage {
        prompt_tokens: conv.prompt_tokens,
        completion_tokens: ans.completion_tokens(),
        reasoning_tokens: 0,
    };
    let reply = if stream {
        Reply::binary(stream_events(&ans, usage, ctx), usage)
    } else {
        Reply::json(200, &converse_output(&ans, usage, ctx)).with_usage(usage)
    };
    reply.with_header("x-amzn-requestid", &format!("req_mock_{}", ctx.n))
}

/// The provider-independent view of a Converse request, or Bedrock's validation message.
pub fn conversation(req: &Value) -> Result<Conversation, String> {
    let Some(messages) = req.get("messages").and_then(Value::as_array) else {
        return Err("The messages field is required (mock).".into());
    };
    if messages.is_empty() {
        return Err("A conversation must start with a user message. Try again with a conversation that starts with a user message.".into());
    }
    let mut conv = Conversation::default();
    if let Some(system) = req.get("system").and_then(Value::as_array) {
        let mut words = 0;
        for (i, block) in system.iter().enumerate() {
            match block.get("text").and_then(Value::as_str) {
                Some(t) if !t.trim().is_empty() => words += answer::word_count(t),
                _ => return Err(format!("The text field in the SystemContentBlock object at system.{i} is blank. Add text to the text field, and try again.")),
            }
        }
        conv.prompt_tokens += answer::MESSAGE_TOKENS + words;
    }
    let has_tool_config = req.get("toolConfig").is_some();
    let mut previous: Option<&str> = None;
    for (i, msg) in messages.iter().enumerate() {
        let role = msg.get("role").and_then(Value::as_str).unwrap_or("");
        if i == 0 && role != "user" {
            return Err("A conversation must start with a user message. Try again with a conversation that starts with a user message.".into());
        }
        if !matches!(role, "user" | "assistant") {
            return Err(format!(
                "messages.{i}.role: must be user or assistant (mock)."
            ));
        }
        if previous == Some(role) {
            return Err("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.".into());
        }
        previous = Some(role);
        let Some(blocks) = msg
            .get("content")
            .and_then(Value::as_array)
            .filter(|b| !b.is_empty())
        else {
            return Err(format!("The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to the content field and try again."));
        };
        let mut text = String::new();
        let mut words = 0;
        let mut images = 0;
        let mut only_results = true;
        let mut last_result = String::new();
        for (j, block) in blocks.iter().enumerate() {
            let at = format!("messages.{i}.content.{j}");
            if let Some(t) = block.get("text") {
                let t = t.as_str().unwrap_or("");
                if t.trim().is_empty() {
                    return Err(format!("The text field in the ContentBlock object at {at} is blank. Add text to the text field, and try again."));
                }
                words += answer::word_count(t);
                text.push_str(t);
                only_results = false;
            } else if let Some(img) = block.get("image") {
                check_image(img, &at)?;
                images += 1;
                only_results = false;
            } else if let Some(tu) = block.get("toolUse") {
                if tu.get("toolUseId").and_then(Value::as_str).is_none()
                    || tu.get("name").and_then(Value::as_str).is_none()
                    || !tu.get("input").is_some_and(Value::is_object)
                {
                    return Err(format!(
                        "{at}.toolUse: toolUseId, name and an input object are required (mock)."
                    ));
                }
                only_results = false;
            } else if let Some(tr) = block.get("toolResult") {
                let (result_text, result_words) = tool_result(tr, &at)?;
                words += result_words;
                last_result = result_text;
            } else {
                return Err(format!("{at}: unsupported content block (mock)."));
            }
            let tool_block = block.get("toolUse").is_some() || block.get("toolResult").is_some();
            if tool_block && !has_tool_config {
                return Err("The toolConfig field must be defined when using toolUse and toolResult content blocks.".into());
            }
        }
        conv.prompt_tokens += answer::MESSAGE_TOKENS + words + images * answer::IMAGE_TOKENS;
        if role == "user" {
            conv.user_images += images;
            conv.last_user_text = text;
            conv.tool_result = only_results.then_some(last_result);
        }
    }
    if let Some(tc) = req.get("toolConfig") {
        let Some(tools) = tc
            .get("tools")
            .and_then(Value::as_array)
            .filter(|t| !t.is_empty())
        else {
            return Err("toolConfig.tools: at least one tool is required (mock).".into());
        };
        for (i, t) in tools.iter().enumerate() {
            let spec = t.get("toolSpec");
            let name = spec.and_then(|s| s.get("name")).and_then(Value::as_str);
            let schema = spec.and_then(|s| s.pointer("/inputSchema/json"));
            match (name, schema) {
                (Some(name), Some(schema)) => conv.tools.push(ToolDef {
                    name: name.to_string(),
                    schema: schema.clone(),
                }),
                _ => {
                    return Err(format!(
                    "toolConfig.tools.{i}.toolSpec: name and inputSchema.json are required (mock)."
                ))
                }
            }
        }
        conv.tool_choice = match tc.get("toolChoice") {
            None => ToolChoice::Auto,
            Some(c) if c.get("auto").is_some() => ToolChoice::Auto,
            Some(c) if c.get("any").is_some() => ToolChoice::Required,
            Some(c) => match c.pointer("/tool/name").and_then(Value::as_str) {
                Some(name) => ToolChoice::Named(name.to_string()),
                None => {
                    return Err(
                        "toolConfig.toolChoice: one of auto, any, tool is required (mock).".into(),
                    )
                }
            },
        };
    }
    if let Some(ic) = req.get("inferenceConfig") {
        conv.max_tokens = ic.get("maxTokens").and_then(Value::as_u64);
        conv.stop = ic
            .get("stopSequences")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
    }
    Ok(conv)
}

fn check_image(img: &Value, at: &str) -> Result<(), String> {
    let format = img.get("format").and_then(Value::as_str).unwrap_or("");
    if !matches!(format, "png" | "jpeg" | "gif" | "webp") {
        return Err(format!(
            "{at}.image.format: must be png, jpeg, gif or webp (mock)."
        ));
    }
    let bytes = img
        .pointer("/source/bytes")
        .and_then(Value::as_str)
        .unwrap_or("");
    let base64 = !bytes.is_empty()
        && bytes.len().is_multiple_of(4)
        && bytes
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if !base64 {
        return Err(format!("{at}.image.source.bytes: must be base64 (mock)."));
    }
    Ok(())
}

/// `(text, words)` of a toolResult block.
fn tool_result(tr: &Value, at: &str) -> Result<(String, u64), String> {
    if tr.get("toolUseId").and_then(Value::as_str).is_none() {
        return Err(format!("{at}.toolResult.toolUseId is required (mock)."));
    }
    let Some(content) = tr.get("content").and_then(Value::as_array) else {
        return Err(format!("{at}.toolResult.content is required (mock)."));
    };
    let mut text = String::new();
    for c in content {
        if let Some(t) = c.get("text").and_then(Value::as_str) {
            text.push_str(t);
        } else if let Some(j) = c.get("json") {
            text.push_str(&j.to_string());
        }
    }
    let words = answer::word_count(&text);
    Ok((text, words))
}

fn stop_reason(ans: &Answer) -> &'static str {
    match ans {
        Answer::ToolCall { .. } => "tool_use",
        Answer::Text { finish, .. } => match finish {
            Finish::Stop => "end_turn",
            Finish::MaxTokens => "max_tokens",
            Finish::StopSequence(_) => "stop_sequence",
        },
    }
}

fn tool_id(ctx: Ctx<'_>) -> String {
    format!("tooluse_mock_{}", ctx.n)
}

fn usage_json(usage: Usage) -> Value {
    json!({
        "inputTokens": usage.prompt_tokens,
        "outputTokens": usage.completion_tokens,
        "totalTokens": usage.prompt_tokens + usage.completion_tokens,
    })
}

/// The Converse response body.
pub fn converse_output(ans: &Answer, usage: Usage, ctx: Ctx<'_>) -> Value {
    let block = match ans {
        Answer::Text { text, .. } => json!({"text": text}),
        Answer::ToolCall { name, args } => {
            json!({"toolUse": {"toolUseId": tool_id(ctx), "name": name, "input": args}})
        }
    };
    json!({
        "output": {"message": {"role": "assistant", "content": [block]}},
        "stopReason": stop_reason(ans),
        "usage": usage_json(usage),
        "metrics": {"latencyMs": 7},
    })
}

/// Bedrock pads event payloads with a `p` field of varying length.
fn padded(mut v: Value, n: usize) -> Value {
    const PAD: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "p".into(),
            Value::from(PAD.get(..n % PAD.len()).unwrap_or("")),
        );
    }
    v
}

/// The documented ConverseStream event sequence, one binary message each.
pub fn stream_events(ans: &Answer, usage: Usage, ctx: Ctx<'_>) -> Vec<Vec<u8>> {
    let mut events = vec![eventstream::event(
        "messageStart",
        &padded(json!({"role": "assistant"}), 3),
    )];
    match ans {
        Answer::Text { text, .. } => {
            for (k, piece) in answer::word_pieces(text).into_iter().enumerate() {
                events.push(eventstream::event(
                    "contentBlockDelta",
                    &padded(
                        json!({"contentBlockIndex": 0, "delta": {"text": piece}}),
                        k + 5,
                    ),
                ));
            }
        }
        Answer::ToolCall { name, .. } => {
            events.push(eventstream::event(
                "contentBlockStart",
                &padded(
                    json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": tool_id(ctx), "name": name}}}),
                    9,
                ),
            ));
            let args = ans.args_json();
            for piece in answer::split_even(&args, 2) {
                events.push(eventstream::event(
                    "contentBlockDelta",
                    &padded(
                        json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": piece}}}),
                        2,
                    ),
                ));
            }
        }
    }
    events.push(eventstream::event(
        "contentBlockStop",
        &padded(json!({"contentBlockIndex": 0}), 4),
    ));
    events.push(eventstream::event(
        "messageStop",
        &padded(json!({"stopReason": stop_reason(ans)}), 6),
    ));
    events.push(eventstream::event(
        "metadata",
        &json!({"usage": usage_json(usage), "metrics": {"latencyMs": 7}}),
    ));
    events
}

/// Exception name and message Bedrock answers with for a status.
fn exception(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("ValidationException", "Invalid request (mock)."),
        403 => (
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
        ),
        404 => (
            "ResourceNotFoundException",
            "Could not resolve the foundation model from the provided model identifier.",
        ),
        408 => (
            "ModelTimeoutException",
            "Model has timed out in processing the request.",
        ),
        424 => ("ModelErrorException", "The model returned an error (mock)."),
        429 => (
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        ),
        503 => ("ServiceUnavailableException", "Service Unavailable (mock)."),
        s if s >= 500 => ("InternalServerException", "Internal server error (mock)."),
        _ => ("ValidationException", "Invalid request (mock)."),
    }
}

pub fn error_with(status: u16, kind: &str, message: &str) -> Reply {
    Reply::json(status, &json!({ "message": message })).with_header(
        "x-amzn-errortype",
        &format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
    )
}

/// The error response Bedrock sends with `status`.
pub fn error(status: u16) -> Reply {
    let (kind, message) = exception(status);
    error_with(status, kind, message)
}

/// An exception message inside a started stream (names are lowerCamelCase there).
pub fn error_event(status: u16) -> Vec<u8> {
    let kind = match status {
        429 => "throttlingException",
        400 => "validationException",
        424 => "modelStreamErrorException",
        503 => "serviceUnavailableException",
        _ => "internalServerException",
    };
    eventstream::exception(kind, exception(status).1)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::reply::Payload;

    const CTX: Ctx<'static> = Ctx {
        name: "bedrock",
        n: 4,
        created: 0,
    };

    fn body_json(reply: &Reply) -> Value {
        match &reply.payload {
            Payload::Whole(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
            _ => Value::Null,
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
    fn operations() {
        assert_eq!(operation("/model/a%3A0/converse"), Some(false));
        assert_eq!(operation("/model/a/converse-stream"), Some(true));
        assert_eq!(operation("/proxy/model/a/converse"), Some(false));
        assert_eq!(operation("/model//converse"), None);
        assert_eq!(operation("/v1/messages"), None);
        assert_eq!(operation("/model/a/invoke"), None);
    }

    #[test]
    fn text_answer_and_usage() {
        let body = json!({"system":[{"text":"be nice"}],"messages":[{"role":"user","content":[
            {"text":"hi there"},{"image":{"format":"png","source":{"bytes":"iVBORw0K"}}}]}],
            "inferenceConfig":{"maxTokens":100}});
        let reply = respond(body.to_string().as_bytes(), false, CTX);
        assert_eq!(reply.status, 200);
        let v = body_json(&reply);
        assert_eq!(
            v["output"]["message"]["content"][0]["text"],
            "mock bedrock says: hi there [images: 1]"
        );
        assert_eq!(v["stopReason"], "end_turn");
        // system 3+2, user 3+2+85
        assert_eq!(
            v["usage"],
            json!({"inputTokens":95,"outputTokens":7,"totalTokens":102})
        );
        assert_eq!(header(&reply, "x-amzn-requestid"), Some("req_mock_4"));
    }

    #[test]
    fn strict_like_bedrock() {
        let cases = [
            json!({"messages":[]}),
            json!({"messages":[{"role":"assistant","content":[{"text":"x"}]}]}),
            json!({"messages":[{"role":"user","content":[{"text":"a"}]},{"role":"user","content":[{"text":"b"}]}]}),
            json!({"messages":[{"role":"user","content":[{"text":"  "}]}]}),
            json!({"messages":[{"role":"user","content":[]}]}),
            json!({"messages":[{"role":"user","content":[{"image":{"format":"svg","source":{"bytes":"AAAA"}}}]}]}),
            json!({"messages":[{"role":"user","content":[{"text":"a"}]},{"role":"assistant","content":[{"toolUse":{"toolUseId":"t","name":"f","input":{}}}]}]}),
            json!({"system":[{"text":""}],"messages":[{"role":"user","content":[{"text":"a"}]}]}),
        ];
        for body in cases {
            let reply = respond(body.to_string().as_bytes(), false, CTX);
            assert_eq!(reply.status, 400, "{body}");
            assert!(header(&reply, "x-amzn-errortype")
                .unwrap()
                .starts_with("ValidationException:"));
            assert!(body_json(&reply)["message"].is_string());
        }
        assert_eq!(respond(b"{", false, CTX).status, 400);
    }

    #[test]
    fn tools_round_trip() {
        let tc = json!({"tools":[{"toolSpec":{"name":"w","inputSchema":{"json":{"type":"object","properties":{"c":{"type":"string"}},"required":["c"]}}}}],"toolChoice":{"any":{}}});
        let body = json!({"toolConfig": tc, "messages":[{"role":"user","content":[{"text":"x"}]}]});
        let v = body_json(&respond(body.to_string().as_bytes(), false, CTX));
        assert_eq!(
            v["output"]["message"]["content"][0]["toolUse"],
            json!({"toolUseId":"tooluse_mock_4","name":"w","input":{"c":"mock"}})
        );
        assert_eq!(v["stopReason"], "tool_use");
        let body = json!({"toolConfig": tc, "messages":[
            {"role":"user","content":[{"text":"x"}]},
            {"role":"assistant","content":[{"toolUse":{"toolUseId":"tooluse_mock_4","name":"w","input":{"c":"mock"}}}]},
            {"role":"user","content":[{"toolResult":{"toolUseId":"tooluse_mock_4","content":[{"text":"rainy"}]}}]}]});
        let v = body_json(&respond(body.to_string().as_bytes(), false, CTX));
        assert_eq!(
            v["output"]["message"]["content"][0]["text"],
            "mock bedrock got tool result: rainy"
        );
    }

    #[test]
    fn stream_is_binary_event_stream() {
        let body = json!({"messages":[{"role":"user","content":[{"text":"yo"}]}]});
        let reply = respond(body.to_string().as_bytes(), true, CTX);
        assert_eq!(
            header(&reply, "content-type"),
            Some("application/vnd.amazon.eventstream")
        );
        let Payload::Binary(frames) = &reply.payload else {
            panic!()
        };
        // start, 4 text pieces, block stop, message stop, metadata
        assert_eq!(frames.len(), 8);
        for f in frames {
            let n = f.len();
            assert_eq!(
                u32::from_be_bytes([f[n - 4], f[n - 3], f[n - 2], f[n - 1]]),
                eventstream::crc32(&f[..n - 4])
            );
        }
        assert!(String::from_utf8_lossy(&frames[7]).contains("\"inputTokens\":4"));
    }

    #[test]
    fn errors() {
        let r = error(429);
        assert_eq!(r.status, 429);
        assert!(header(&r, "x-amzn-errortype")
            .unwrap()
            .starts_with("ThrottlingException:"));
        assert!(String::from_utf8_lossy(&error_event(429)).contains("throttlingException"));
    }
}
