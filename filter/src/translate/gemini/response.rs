//! Gemini answers and Google errors → OpenAI (shared by AI Studio and Vertex AI).

use serde_json::value::RawValue;

use crate::api::openai::{self as oa, ChatResponse, Choice, ResponseMessage, ToolCallOut};
use crate::api::text::TextOut;
use crate::error::GatewayError;
use crate::translate::gemini::wire::{
    self as gm, ErrorBody, GenerateContentResponse, UsageMetadata,
};
use crate::translate::gemini::SIGNATURE_MARKER;
use crate::translate::{errors, ResponseOut};
use crate::usage::TokenUsage;

pub fn usage(u: &UsageMetadata) -> TokenUsage {
    // promptTokenCount already includes cached content. candidatesTokenCount excludes
    // thoughts, which Google bills as output: completion = candidates + thoughts, and
    // the thoughts are its reasoning part (as OpenAI's reasoning_tokens are).
    let prompt = match (u.prompt_token_count, u.tool_use_prompt_token_count) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    };
    let completion = match (u.candidates_token_count, u.thoughts_token_count) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    };
    TokenUsage {
        prompt,
        completion,
        cached_prompt: u.cached_content_token_count,
        reasoning: u.thoughts_token_count,
    }
}

pub fn finish_reason(reason: &str, has_calls: bool) -> &'static str {
    match reason {
        "MAX_TOKENS" => "length",
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => "content_filter",
        _ if has_calls => "tool_calls",
        _ => "stop",
    }
}

/// The OpenAI tool call id for the `n`-th call of an answer, carrying the thought
/// signature (if any) so that the client sends it back with the call.
pub fn tool_call_id(n: usize, signature: Option<&str>) -> String {
    match signature {
        Some(sig) if !sig.is_empty() => format!("call_{n}{SIGNATURE_MARKER}{sig}"),
        _ => format!("call_{n}"),
    }
}

pub fn args_text(args: Option<&RawValue>) -> &str {
    args.map(RawValue::get).unwrap_or("{}")
}

/// One candidate, collected into owned parts before the borrowed OpenAI shape.
struct Collected<'a> {
    index: u32,
    text: Option<String>,
    reasoning: Option<String>,
    calls: Vec<(String, &'a str, &'a str)>,
    finish: Option<&'static str>,
}

pub fn response(status: u16, body: &[u8], created: u64) -> Result<ResponseOut, GatewayError> {
    if !(200..300).contains(&status) {
        return Err(error(status, body));
    }
    let msg: GenerateContentResponse = serde_json::from_slice(body)
        .map_err(|_| GatewayError::bad_gateway("upstream returned a malformed Gemini answer"))?;
    if let Some(e) = &msg.error {
        return Err(google_error(e.code.unwrap_or(502), e, body));
    }
    let usage = msg.usage_metadata.as_ref().map(usage).unwrap_or_default();
    let mut collected = Vec::new();
    let mut n_calls = 0usize;
    for (pos, c) in msg.candidates.iter().flatten().enumerate() {
        let mut out = Collected {
            index: c
                .index
                .unwrap_or_else(|| u32::try_from(pos).unwrap_or(u32::MAX)),
            text: None,
            reasoning: None,
            calls: Vec::new(),
            finish: None,
        };
        let parts = c.content.as_ref().and_then(|c| c.parts.as_ref());
        for p in parts.into_iter().flatten() {
            if let Some(call) = &p.function_call {
                let id = tool_call_id(n_calls, p.thought_signature.as_deref());
                n_calls += 1;
                out.calls
                    .push((id, call.name.as_str(), args_text(call.args.as_deref())));
            } else if let Some(t) = &p.text {
                let slot = if p.thought == Some(true) {
                    &mut out.reasoning
                } else {
                    &mut out.text
                };
                slot.get_or_insert_with(String::new).push_str(t);
            }
        }
        out.finish = c
            .finish_reason
            .as_deref()
            .map(|r| finish_reason(r, !out.calls.is_empty()));
        collected.push(out);
    }
    if collected.is_empty() {
        // The prompt itself was blocked: no candidates, a block reason instead.
        if msg
            .prompt_feedback
            .as_ref()
            .is_some_and(|f| f.block_reason.is_some())
        {
            collected.push(Collected {
                index: 0,
                text: None,
                reasoning: None,
                calls: Vec::new(),
                finish: Some("content_filter"),
            });
        } else {
            return Err(GatewayError::bad_gateway(
                "upstream returned a Gemini answer without candidates",
            ));
        }
    }
    // Gemini's candidate indices may be sparse (0, 7, 999000): the client gets choices
    // 0..n in Gemini's order.
    collected.sort_by_key(|c| c.index);
    let fallback_id = format!("chatcmpl-gemini-{created}");
    let out = ChatResponse {
        id: msg.response_id.as_deref().unwrap_or(&fallback_id),
        object: "chat.completion",
        created,
        model: msg.model_version.as_deref().unwrap_or(""),
        choices: collected
            .iter()
            .enumerate()
            .map(|(k, c)| Choice {
                index: u32::try_from(k).unwrap_or(u32::MAX),
                message: ResponseMessage {
                    role: "assistant",
                    content: c.text.as_deref().map(TextOut::Str),
                    reasoning_content: c.reasoning.clone(),
                    tool_calls: (!c.calls.is_empty()).then(|| {
                        c.calls
                            .iter()
                            .map(|(id, name, args)| ToolCallOut {
                                id,
                                kind: "function",
                                function: oa::FunctionOut {
                                    name,
                                    arguments: args,
                                },
                            })
                            .collect()
                    }),
                },
                logprobs: None,
                finish_reason: c.finish,
            })
            .collect(),
        usage: usage.to_openai(),
    };
    Ok(ResponseOut::chat(&out, body.len(), usage))
}

/// A Google error body (`{"error":{…}}`, or a one-element array of it as the JSON
/// streaming mode sends) → the OpenAI error shape.
pub fn error(status: u16, body: &[u8]) -> GatewayError {
    // Checked by the first byte: serde would also read a struct from an array.
    let is_array = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let parsed = if is_array {
        serde_json::from_slice::<Vec<gm::ErrorEnvelope>>(body)
            .ok()
            .and_then(|mut list| list.pop())
    } else {
        serde_json::from_slice::<gm::ErrorEnvelope>(body).ok()
    };
    match parsed {
        Some(env) => google_error(status, &env.error, body),
        None => errors::from_upstream(status, None, None, body),
    }
}

/// `status` is the HTTP status; Google's canonical status name, when present, decides
/// throttling (429) and overload (503) whatever the HTTP status said.
pub fn google_error(status: u16, e: &ErrorBody, body: &[u8]) -> GatewayError {
    let name = e.status.as_deref().unwrap_or("");
    let effective = match name {
        "RESOURCE_EXHAUSTED" => 429,
        "UNAVAILABLE" => 503,
        "DEADLINE_EXCEEDED" if !(400..600).contains(&status) => 504,
        _ => status,
    };
    let kind = match name {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => {
            Some("invalid_request_error")
        }
        "UNAUTHENTICATED" => Some("authentication_error"),
        "PERMISSION_DENIED" => Some("permission_error"),
        "NOT_FOUND" => Some("not_found_error"),
        "RESOURCE_EXHAUSTED" => Some("rate_limit_error"),
        "UNAVAILABLE" => Some("overloaded_error"),
        _ => None,
    };
    errors::from_upstream(effective, kind, e.message.as_deref(), body)
        .with_retry_after(retry_after(e))
}

/// Seconds from a `google.rpc.RetryInfo` detail (`"retryDelay": "37s"`), rounded up.
fn retry_after(e: &ErrorBody) -> Option<u64> {
    let delay = e
        .details
        .iter()
        .flatten()
        .filter(|d| d.kind.as_deref().is_some_and(|k| k.ends_with("RetryInfo")))
        .find_map(|d| d.retry_delay.as_deref())?;
    let secs: f64 = delay.strip_suffix('s')?.parse().ok()?;
    if !(0.0..=86_400.0).contains(&secs) {
        return None;
    }
    // Bounded above, so the conversion cannot overflow.
    Some(secs.ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_info() {
        let body = br#"{"error":{"code":429,"message":"Quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}"#;
        let e = error(429, body);
        assert_eq!(e.status, 429);
        assert_eq!(e.kind, "rate_limit_error");
        assert_eq!(e.retry_after, Some(2));
        assert_eq!(e.message, "Quota");
    }

    #[test]
    fn status_name_decides() {
        let e = error(
            500,
            br#"[{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}]"#,
        );
        assert_eq!(e.status, 503);
        let e = error(
            400,
            br#"{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}"#,
        );
        assert_eq!((e.status, e.kind), (400, "invalid_request_error"));
        let e = error(502, b"<html>");
        assert_eq!(e.status, 502);
    }
}
