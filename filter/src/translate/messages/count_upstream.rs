//! Token counting by providers whose API counts a prompt in their own format: the
//! Messages body becomes the chat request it would be sent as, that provider's request
//! body is built as for an answer, and its prompt part goes to the counting endpoint.
//!
//! * Gemini (AI Studio): `…/models/{m}:countTokens` with `{"generateContentRequest":{…}}`
//!   (so that the system instruction and tools are counted too) → `{"totalTokens": n}`.
//! * Gemini on Vertex AI: `…/publishers/google/models/{m}:countTokens` with the contents,
//!   system instruction and tools at the top → `{"totalTokens": n}`.
//! * Bedrock, Claude models: `…/model/{id}/count-tokens` with
//!   `{"input":{"converse":{messages, system, toolConfig}}}`, signed → `{"inputTokens": n}`.
//!   Bedrock counts only for Anthropic's models; the others are estimated.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::to_openai;
use crate::api::anthropic_server::MessagesRequest;
use crate::config::{Provider, ProviderKind};
use crate::error::GatewayError;
use crate::translate::translator::{Answer, Call};
use crate::translate::{bedrock, provider, ResponseMeta, UpstreamRequest};

/// Whether `provider` has an API that counts `upstream_model`'s prompts.
pub fn counts(provider: &Provider, upstream_model: &str) -> bool {
    match provider.kind {
        ProviderKind::Gemini(_) | ProviderKind::Vertex(_) => true,
        ProviderKind::Bedrock(_) => upstream_model.contains("anthropic."),
        _ => false,
    }
}

/// The prompt part of a Gemini `generateContent` body.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct GeminiPrompt<'a> {
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(borrow)]
    contents: &'a RawValue,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    system_instruction: Option<&'a RawValue>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    tools: Option<&'a RawValue>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeminiCount<'a> {
    generate_content_request: GeminiPrompt<'a>,
}

/// The prompt part of a Converse body (what `ConverseTokensRequest` takes).
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConversePrompt<'a> {
    #[serde(borrow)]
    messages: &'a RawValue,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    system: Option<&'a RawValue>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    tool_config: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct BedrockCount<'a> {
    input: BedrockInput<'a>,
}

#[derive(Serialize)]
struct BedrockInput<'a> {
    converse: ConversePrompt<'a>,
}

fn built(e: serde_json::Error) -> GatewayError {
    GatewayError::internal(format!("count request: {e}"))
}

pub fn request(
    provider: &Provider,
    upstream_model: &str,
    req: &MessagesRequest,
    now_ms: u64,
) -> Result<UpstreamRequest, GatewayError> {
    let mut chat = to_openai::build(provider, upstream_model, req)?.chat;
    chat.stream = None;
    chat.stream_options = None;
    let call = Call::new(provider, upstream_model, &[], now_ms);
    let answer = provider::of(provider).request(&call, &chat)?;
    let body = answer
        .body
        .ok_or_else(|| GatewayError::internal("count request without a body"))?;
    match &provider.kind {
        ProviderKind::Gemini(_) | ProviderKind::Vertex(_) => {
            let path = answer
                .path
                .strip_suffix(":generateContent")
                .map(|p| crate::strs::concat(&[p, ":countTokens"]))
                .ok_or_else(|| GatewayError::internal("unexpected Gemini path"))?;
            let mut prompt: GeminiPrompt<'_> = serde_json::from_slice(&body).map_err(built)?;
            let body = if matches!(provider.kind, ProviderKind::Gemini(_)) {
                let model = crate::strs::concat(&["models/", gemini_model(upstream_model)]);
                prompt.model = Some(&model);
                serde_json::to_vec(&GeminiCount {
                    generate_content_request: prompt,
                })
            } else {
                prompt.model = None;
                serde_json::to_vec(&prompt)
            }
            .map_err(built)?;
            Ok(UpstreamRequest {
                path,
                headers: answer.headers,
                body: Some(body),
            })
        }
        ProviderKind::Bedrock(settings) => {
            let path = answer
                .path
                .strip_suffix("/converse")
                .map(|p| crate::strs::concat(&[p, "/count-tokens"]))
                .ok_or_else(|| GatewayError::internal("unexpected Bedrock path"))?;
            let converse: ConversePrompt<'_> = serde_json::from_slice(&body).map_err(built)?;
            let body = serde_json::to_vec(&BedrockCount {
                input: BedrockInput { converse },
            })
            .map_err(built)?;
            // The signature covers path and body: both changed.
            let headers =
                bedrock::auth_headers(provider, settings, &path, &body, bedrock::JSON, now_ms)?;
            Ok(UpstreamRequest {
                path,
                headers,
                body: Some(body),
            })
        }
        _ => Err(GatewayError::internal(
            "token counting is estimated for this provider",
        )),
    }
}

fn gemini_model(upstream_model: &str) -> &str {
    upstream_model
        .strip_prefix("models/")
        .unwrap_or(upstream_model)
}

/// `{"totalTokens": n}` (Gemini, Vertex AI) or `{"inputTokens": n}` (Bedrock).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Counted {
    #[serde(default)]
    total_tokens: Option<u64>,
    #[serde(default)]
    input_tokens: Option<u64>,
}

/// The provider's count (its errors as for an answer: the provider's error mapping).
pub fn count(
    provider: &Provider,
    status: u16,
    body: &[u8],
    meta: &ResponseMeta<'_>,
) -> Result<u64, GatewayError> {
    if !(200..300).contains(&status) {
        let answer = Answer::new(provider, status, body, 0, meta);
        return Err(provider::of(provider).error(&answer));
    }
    let counted: Counted = serde_json::from_slice(body)
        .map_err(|_| GatewayError::bad_gateway("upstream returned a malformed token count"))?;
    match provider.kind {
        ProviderKind::Bedrock(_) => counted
            .input_tokens
            .ok_or_else(|| GatewayError::bad_gateway("upstream returned no token count")),
        // Google leaves a zero out (proto3 JSON): an empty prompt counts nothing.
        _ => Ok(counted.total_tokens.unwrap_or(0)),
    }
}
