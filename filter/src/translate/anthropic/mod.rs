//! OpenAI Chat Completions → Anthropic Messages, and the answer back.

#[cfg(test)]
mod cases;
pub mod options;
pub mod settings;
pub mod stream;
pub mod translator;
pub mod wire;
mod wire_out;

use serde_json::value::RawValue;

use crate::api::openai::{
    self as oa, ChatRequest, ChatResponse, Choice, Content, ContentPart, ResponseMessage,
    ToolCallOut,
};
use crate::api::text::{Text, TextOut};
use crate::config::ProviderCommon;
use crate::error::GatewayError;
use crate::translate::anthropic::wire as an;
use crate::translate::request_parts::{
    self, base64_data_uri, concat, empty_user_turn, image_param, nonblank_stop_sequences,
    unit_temperature, unsupported_part, user_part_blocks, ToolArguments, ToolChoice,
};
use crate::translate::{errors, ResponseOut, UpstreamRequest};
use crate::usage::TokenUsage;
use options::JSON_TOOL;
use settings::AnthropicSettings;

pub fn request(
    provider: &ProviderCommon,
    settings: &AnthropicSettings,
    upstream_model: &str,
    req: &ChatRequest,
) -> Result<UpstreamRequest, GatewayError> {
    let body = build(settings, upstream_model, req)?;
    let mut headers = vec![("anthropic-version", settings.version.clone())];
    if let Some(key) = &provider.api_key {
        headers.push(("x-api-key", key.expose().to_string()));
    }
    Ok(UpstreamRequest {
        path: concat(&provider.base_path, "/messages"),
        headers,
        body: Some(body),
    })
}

/// The Anthropic request body (golden vectors test this directly).
pub fn build(
    settings: &AnthropicSettings,
    upstream_model: &str,
    req: &ChatRequest,
) -> Result<Vec<u8>, GatewayError> {
    build_body(
        &BodyOptions {
            model: Some(upstream_model),
            anthropic_version: None,
            default_max_tokens: settings.default_max_tokens,
        },
        req,
    )
}

/// What differs between Anthropic's own API and Anthropic models hosted elsewhere
/// (Vertex AI: model in the path, API version in the body).
pub struct BodyOptions<'a> {
    pub model: Option<&'a str>,
    pub anthropic_version: Option<&'a str>,
    pub default_max_tokens: u32,
}

/// The Messages request body for any host of Anthropic models.
pub fn build_body(opts: &BodyOptions<'_>, req: &ChatRequest) -> Result<Vec<u8>, GatewayError> {
    if req.n.is_some_and(|n| n > 1) {
        return Err(GatewayError::bad_field(
            "n",
            "n > 1 is not supported by this model's provider (anthropic)",
        ));
    }
    let empty_schema = crate::translate::empty_schema()?;
    let plan = options::plan(req, opts.default_max_tokens, empty_schema)?;
    let mut system: Vec<&Text> = Vec::new();
    let mut messages: Vec<an::Message> = Vec::new();
    let args = ToolArguments::parse(req)?;
    for (i, m) in req.messages.iter().enumerate() {
        let (role, blocks) = match m {
            oa::Message::System { content } | oa::Message::Developer { content } => {
                system_text(content, i, &mut system)?;
                continue;
            }
            oa::Message::User { content } => {
                let blocks = user_blocks(content, i)?;
                if blocks.is_empty() {
                    return Err(empty_user_turn(i));
                }
                (an::Role::User, blocks)
            }
            oa::Message::Assistant {
                content,
                tool_calls,
            } => {
                let mut blocks = match content {
                    Some(c) => text_blocks(c, i)?,
                    None => Vec::new(),
                };
                for (j, c) in tool_calls.iter().flatten().enumerate() {
                    let input = args.get(i, j)?;
                    blocks.push(an::Block::ToolUse {
                        id: &c.id,
                        name: &c.function.name,
                        input,
                    });
                }
                (an::Role::Assistant, blocks)
            }
            oa::Message::Tool {
                content,
                tool_call_id,
            } => (
                an::Role::User,
                vec![an::Block::ToolResult {
                    tool_use_id: tool_call_id,
                    content: text_blocks(content, i)?,
                }],
            ),
        };
        if blocks.is_empty() {
            continue; // e.g. an assistant turn with empty content and no tool calls
        }
        crate::translate::turns::push(&mut messages, role, blocks);
    }
    if messages.is_empty() {
        return Err(GatewayError::bad_field(
            "messages",
            "at least one user or assistant message is required",
        ));
    }
    let tools = match &req.tools {
        Some(tools) if !tools.is_empty() => {
            let mut out = Vec::with_capacity(tools.len());
            for (i, t) in tools.iter().enumerate() {
                request_parts::function_tool(i, t)?;
                if t.function.name == JSON_TOOL {
                    return Err(GatewayError::bad_field(
                        format!("tools[{i}].function.name"),
                        format!("the tool name {JSON_TOOL} is reserved by the gateway"),
                    ));
                }
                out.push(an::Tool {
                    name: &t.function.name,
                    description: t.function.description.as_deref(),
                    input_schema: t.function.parameters.as_deref().unwrap_or(empty_schema),
                });
            }
            Some(out)
        }
        _ => None,
    };
    let tool_choice = match plan.json_tool {
        Some(_) => Some(an::ToolChoice::Tool {
            name: JSON_TOOL,
            disable_parallel_tool_use: None,
        }),
        None => tool_choice(req, tools.is_some())?,
    };
    let tools = match plan.json_tool {
        Some(tool) => Some(vec![tool]),
        None => tools,
    };
    let body = an::MessagesRequest {
        model: opts.model,
        anthropic_version: opts.anthropic_version,
        messages,
        system: system_out(&system, plan.system_suffix.as_deref()),
        max_tokens: plan.max_tokens,
        stop_sequences: nonblank_stop_sequences(req),
        temperature: unit_temperature(req).filter(|_| !plan.drop_temperature),
        top_p: req.top_p.filter(|_| !plan.drop_top_p),
        tool_choice,
        tools,
        metadata: req.user.as_deref().map(|u| an::Metadata { user_id: u }),
        stream: req.stream.filter(|s| *s),
        thinking: plan.thinking,
    };
    // About the size of the client's body: one allocation, no regrowth.
    let mut out = Vec::with_capacity(raw_len_hint(req) + 512);
    body.write_json(&mut out)
        .map_err(|e| GatewayError::internal(format!("serialise: {e}")))?;
    Ok(out)
}

/// The bytes of the client's texts, which dominate the Anthropic body's size.
fn raw_len_hint(req: &ChatRequest) -> usize {
    req.messages
        .iter()
        .map(|m| match m {
            oa::Message::System { content }
            | oa::Message::Developer { content }
            | oa::Message::User { content }
            | oa::Message::Tool { content, .. }
            | oa::Message::Assistant {
                content: Some(content),
                ..
            } => match content {
                Content::Text(t) => t.raw().get().len(),
                Content::Parts(p) => 64 * p.len(),
            },
            oa::Message::Assistant { content: None, .. } => 0,
        })
        .sum()
}

fn tool_choice<'a>(
    req: &'a ChatRequest,
    has_tools: bool,
) -> Result<Option<an::ToolChoice<'a>>, GatewayError> {
    let disable = req.parallel_tool_calls.and_then(|p| (!p).then_some(true));
    let choice = match request_parts::tool_choice(req)? {
        None if disable.is_some() && has_tools => an::ToolChoice::Auto {
            disable_parallel_tool_use: disable,
        },
        None => return Ok(None),
        Some(ToolChoice::Auto) => an::ToolChoice::Auto {
            disable_parallel_tool_use: disable,
        },
        Some(ToolChoice::Required) => an::ToolChoice::Any {
            disable_parallel_tool_use: disable,
        },
        Some(ToolChoice::None) => an::ToolChoice::None,
        Some(ToolChoice::Function(name)) => an::ToolChoice::Tool {
            name,
            disable_parallel_tool_use: disable,
        },
    };
    if !has_tools && !matches!(choice, an::ToolChoice::None) {
        return Err(GatewayError::bad_field(
            "tool_choice",
            "tool_choice is set but no tools are given",
        ));
    }
    // Anthropic rejects tool_choice "none" without tools; without tools it means nothing.
    Ok(if has_tools { Some(choice) } else { None })
}

/// The system prompt: a lone client text verbatim, else the texts joined by blank lines.
fn system_out<'a>(texts: &[&'a Text], suffix: Option<&'a str>) -> Option<TextOut<'a>> {
    match (texts, suffix) {
        ([], None) => None,
        ([one], None) => Some(TextOut::Json(one)),
        ([], Some(s)) => Some(TextOut::Str(s)),
        _ => {
            let mut out = String::new();
            let all = texts
                .iter()
                .map(|t| t.as_str())
                .chain(suffix.map(Into::into));
            for (k, t) in all.enumerate() {
                if k > 0 {
                    out.push_str("\n\n");
                }
                out.push_str(&t);
            }
            Some(TextOut::Owned(out))
        }
    }
}

fn system_text<'a>(
    content: &'a Content,
    i: usize,
    out: &mut Vec<&'a Text>,
) -> Result<(), GatewayError> {
    // Anthropic refuses blank text blocks, the system prompt's included.
    match content {
        Content::Text(t) if t.is_blank() => {}
        Content::Text(t) => out.push(t),
        Content::Parts(parts) => {
            for (j, p) in parts.iter().enumerate() {
                match p {
                    ContentPart::Text { text } if text.is_blank() => {}
                    ContentPart::Text { text } => out.push(text),
                    _ => return Err(unsupported_part(i, j, "system messages take text only")),
                }
            }
        }
    }
    Ok(())
}

/// Text blocks, without the blank ones Anthropic refuses.
fn text_blocks(content: &Content, i: usize) -> Result<Vec<an::Block<'_>>, GatewayError> {
    match content {
        Content::Text(t) if t.is_blank() => Ok(Vec::new()),
        Content::Text(t) => Ok(vec![an::Block::Text { text: t }]),
        Content::Parts(parts) => {
            let mut out = Vec::with_capacity(parts.len());
            for (j, p) in parts.iter().enumerate() {
                match p {
                    ContentPart::Text { text } if text.is_blank() => {}
                    ContentPart::Text { text } => out.push(an::Block::Text { text }),
                    _ => return Err(unsupported_part(i, j, "only text parts are allowed here")),
                }
            }
            Ok(out)
        }
    }
}

fn user_blocks(content: &Content, i: usize) -> Result<Vec<an::Block<'_>>, GatewayError> {
    let Content::Parts(parts) = content else {
        return text_blocks(content, i);
    };
    user_part_blocks(
        parts,
        i,
        "anthropic",
        |text| an::Block::Text { text },
        |url, j| image(url, i, j),
    )
}

fn image(url: &str, i: usize, j: usize) -> Result<an::Block<'_>, GatewayError> {
    if let Some((media_type, data)) = base64_data_uri(url, i, j)? {
        if !matches!(
            media_type,
            "image/jpeg" | "image/png" | "image/gif" | "image/webp"
        ) {
            return Err(GatewayError::bad_field(
                image_param(i, j),
                "image type must be image/jpeg, image/png, image/gif or image/webp",
            ));
        }
        return Ok(an::Block::Image {
            source: an::ImageSource::Base64 { media_type, data },
        });
    }
    if url.starts_with("https://") || url.starts_with("http://") {
        return Ok(an::Block::Image {
            source: an::ImageSource::Url { url },
        });
    }
    Err(GatewayError::bad_field(
        image_param(i, j),
        "image_url must be a data: URI or an http(s) URL",
    ))
}

pub fn finish_reason(stop_reason: Option<&str>) -> Option<&'static str> {
    Some(match stop_reason? {
        "end_turn" | "stop_sequence" | "pause_turn" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    })
}

pub fn response(status: u16, body: &[u8], created: u64) -> Result<ResponseOut, GatewayError> {
    if !(200..300).contains(&status) {
        return Err(error(status, body));
    }
    // Checked as a whole, then parsed without serde checking each string again.
    let text = std::str::from_utf8(body).map_err(|_| {
        GatewayError::bad_gateway("upstream returned a malformed Anthropic message")
    })?;
    let msg: an::MessagesResponse = serde_json::from_str(text).map_err(|_| {
        GatewayError::bad_gateway("upstream returned a malformed Anthropic message")
    })?;
    let usage = TokenUsage::from_anthropic(&msg.usage);
    let mut text: Option<TextOut<'_>> = None;
    let mut reasoning: Option<String> = None;
    let mut calls = Vec::new();
    for block in &msg.content {
        match (
            block.kind.as_ref(),
            &block.text,
            &block.id,
            &block.name,
            &block.input,
        ) {
            ("text", Some(t), ..) => TextOut::append(&mut text, TextOut::Json(t)),
            ("thinking", ..) => {
                if let Some(t) = &block.thinking {
                    reasoning.get_or_insert_with(String::new).push_str(t);
                }
            }
            // A json_schema answer: the forced tool's input is the message text.
            ("tool_use", _, _, Some(name), input) if name == JSON_TOOL => TextOut::append(
                &mut text,
                TextOut::Str(input.as_deref().map(RawValue::get).unwrap_or("{}")),
            ),
            ("tool_use", _, Some(id), Some(name), input) => calls.push(ToolCallOut {
                id,
                kind: "function",
                function: oa::FunctionOut {
                    name,
                    arguments: input.as_deref().map(RawValue::get).unwrap_or("{}"),
                },
            }),
            ("tool_use", ..) => {
                return Err(GatewayError::bad_gateway(
                    "upstream returned a tool_use block without id or name",
                ))
            }
            // Redacted thinking, server tool blocks: no OpenAI field here.
            _ => {}
        }
    }
    let finish = match finish_reason(msg.stop_reason.as_deref()) {
        // Only the json_schema tool was used: for the client, the answer just ended.
        Some("tool_calls") if calls.is_empty() => Some("stop"),
        other => other,
    };
    let out = ChatResponse {
        id: &msg.id,
        object: "chat.completion",
        created,
        model: &msg.model,
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: "assistant",
                content: text,
                reasoning_content: reasoning,
                tool_calls: (!calls.is_empty()).then_some(calls),
            },
            logprobs: None,
            finish_reason: finish,
        }],
        usage: usage.to_openai(),
    };
    Ok(ResponseOut::chat(&out, body.len(), usage))
}

/// Anthropic's error body has OpenAI's shape (`{"error":{"type","message"}}`).
pub fn error(status: u16, body: &[u8]) -> GatewayError {
    errors::from_error_object(status, body)
}
