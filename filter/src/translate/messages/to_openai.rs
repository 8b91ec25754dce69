//! Anthropic Messages request → the internal (OpenAI-shaped) chat request, built in code,
//! for every non-Anthropic provider.
//!
//! * `system` (string or text blocks) → one system message, and each `role: "system"`
//!   entry of `messages` → a system message at its place; text blocks are joined
//!   with a blank line, here and in user/assistant turns, so that servers which only
//!   take string content (several OpenAI-compatible ones) work.
//! * user `tool_result` blocks → `tool` messages, placed before the rest of that turn;
//!   images (base64 or URL) → `image_url` parts; assistant `tool_use` → `tool_calls`
//!   (arguments = the input's JSON text); thinking blocks are not sent back.
//! * `tools` (client tools only), `tool_choice` (auto/any/tool/none,
//!   `disable_parallel_tool_use`), `stop_sequences`, `temperature`, `top_p`,
//!   `metadata.user_id` → `user`, `stream` (+ `include_usage`).
//! * `max_tokens` → `max_completion_tokens`, or `max_tokens` for presets whose
//!   servers only read that.
//! * `thinking` / `output_config.effort` → `reasoning_effort` ([`super::reasoning`]).
//! * Not honoured (dropped, or 400 in strict mode): `top_k`, `context_management`, an
//!   effort without thinking.

use serde_json::value::RawValue;

use crate::api::anthropic_server::{Block, MessagesRequest};
use crate::api::openai::{
    ChatRequest, Content as ChatContent, ContentPart, FunctionCall, FunctionDef, ImageUrl, Message,
    NamedFunction, NamedToolChoice, Stop, StreamOptions, Tool, ToolCall, ToolChoice,
};
use crate::api::openai_build;
use crate::config::Provider;
use crate::error::GatewayError;

pub struct Built {
    pub chat: ChatRequest,
    pub unhonoured: Vec<&'static str>,
}

/// A user turn's part before it is known whether the turn is text only.
enum Part<'a> {
    Text(&'a str),
    Image(String),
}

fn text(s: &str) -> Result<ChatContent, GatewayError> {
    openai_build::text(s)
        .map(ChatContent::Text)
        .map_err(|e| GatewayError::internal(format!("text: {e}")))
}

/// A message's content after the second parsing step.
enum Content {
    Text(String),
    Blocks(Vec<Block>),
}

fn content(raw: &RawValue, param: &str) -> Result<Content, GatewayError> {
    let text = raw.get().trim_start();
    let parsed = if text.starts_with('"') {
        serde_json::from_str::<String>(text).map(Content::Text)
    } else {
        serde_json::from_str::<Vec<Block>>(text).map(Content::Blocks)
    };
    parsed.map_err(|e| {
        GatewayError::bad_field(
            param,
            format!("{param}: must be a string or a list of content blocks ({e})"),
        )
    })
}

fn unsupported(param: String, what: &str) -> GatewayError {
    GatewayError::bad_field(
        param.clone(),
        format!("{param}: {what} is not supported by this model's provider (OpenAI format)"),
    )
}

/// Text of a list of blocks that may only hold text.
fn joined_text(blocks: &[Block], param: &str) -> Result<String, GatewayError> {
    let mut parts = Vec::with_capacity(blocks.len());
    for (j, b) in blocks.iter().enumerate() {
        match (b.kind.as_str(), &b.text) {
            ("text", Some(t)) => parts.push(t.as_str()),
            (kind, _) => {
                return Err(unsupported(
                    format!("{param}.{j}"),
                    &format!("a {kind:?} block here"),
                ))
            }
        }
    }
    Ok(parts.join("\n\n"))
}

fn image_url(b: &Block, param: String) -> Result<String, GatewayError> {
    let source = b.source.as_ref().ok_or_else(|| {
        GatewayError::bad_field(param.clone(), format!("{param}: source is required"))
    })?;
    match (
        source.kind.as_str(),
        &source.media_type,
        &source.data,
        &source.url,
    ) {
        ("base64", Some(media), Some(data), _) => Ok(format!("data:{media};base64,{data}")),
        ("url", _, _, Some(url)) => Ok(url.clone()),
        (kind, ..) => Err(unsupported(
            param,
            &format!("an image source of type {kind:?}"),
        )),
    }
}

fn tool_result_text(b: &Block, param: &str) -> Result<String, GatewayError> {
    let param = format!("{param}.content");
    match &b.content {
        None => Ok(String::new()),
        Some(raw) => match content(raw, &param)? {
            Content::Text(t) => Ok(t),
            Content::Blocks(inner) => joined_text(&inner, &param),
        },
    }
}

pub fn build(
    provider: &Provider,
    upstream_model: &str,
    req: &MessagesRequest,
) -> Result<Built, GatewayError> {
    let empty_schema = crate::translate::empty_schema()?;
    let system = match &req.system {
        None => None,
        Some(raw) => match content(raw, "system")? {
            Content::Text(t) => Some(t),
            Content::Blocks(b) => Some(joined_text(&b, "system")?),
        },
    };
    // Parse every content first: the parts borrow from it.
    let contents = req
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| content(&m.content, &format!("messages.{i}.content")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut messages: Vec<Message> = Vec::new();
    if let Some(s) = system.filter(|s| !s.is_empty()) {
        messages.push(Message::System { content: text(&s)? });
    }
    for (i, (m, c)) in req.messages.iter().zip(&contents).enumerate() {
        // A system entry inside `messages` stays at its place (see `super::system`).
        if m.role == "system" {
            let joined;
            let t = match c {
                Content::Text(t) => t,
                Content::Blocks(b) => {
                    joined = joined_text(b, &format!("messages.{i}.content"))?;
                    &joined
                }
            };
            if !t.trim().is_empty() {
                messages.push(Message::System { content: text(t)? });
            }
            continue;
        }
        let blocks = match c {
            Content::Text(t) if m.role == "user" => {
                messages.push(Message::User { content: text(t)? });
                continue;
            }
            Content::Text(t) => {
                messages.push(Message::Assistant {
                    content: Some(text(t)?),
                    tool_calls: None,
                });
                continue;
            }
            Content::Blocks(b) => b,
        };
        if m.role == "user" {
            let mut parts: Vec<Part<'_>> = Vec::new();
            for (j, b) in blocks.iter().enumerate() {
                match (b.kind.as_str(), &b.text) {
                    ("text", Some(t)) => parts.push(Part::Text(t)),
                    ("image", _) => parts.push(Part::Image(image_url(
                        b,
                        format!("messages.{i}.content.{j}"),
                    )?)),
                    ("tool_result", _) => {
                        let result = tool_result_text(b, &format!("messages.{i}.content.{j}"))?;
                        let id = b.tool_use_id.as_deref().ok_or_else(|| {
                            GatewayError::bad_field(
                                format!("messages.{i}.content.{j}.tool_use_id"),
                                format!("messages.{i}.content.{j}.tool_use_id: Field required"),
                            )
                        })?;
                        messages.push(Message::Tool {
                            tool_call_id: id.to_string(),
                            content: text(&result)?,
                        });
                    }
                    (kind, _) => {
                        return Err(unsupported(
                            format!("messages.{i}.content.{j}"),
                            &format!("a {kind:?} block in a user turn"),
                        ))
                    }
                }
            }
            if parts.is_empty() {
                continue;
            }
            let all_text: Option<Vec<&str>> = parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => Some(*t),
                    Part::Image(_) => None,
                })
                .collect();
            let content = match all_text {
                Some(texts) => text(&texts.join("\n\n"))?,
                None => ChatContent::Parts(
                    parts
                        .into_iter()
                        .map(|p| match p {
                            Part::Text(t) => openai_build::text(t)
                                .map(|text| ContentPart::Text { text })
                                .map_err(|e| GatewayError::internal(format!("text: {e}"))),
                            Part::Image(url) => Ok(ContentPart::ImageUrl {
                                image_url: ImageUrl { url, detail: None },
                            }),
                        })
                        .collect::<Result<_, _>>()?,
                ),
            };
            messages.push(Message::User { content });
        } else {
            let mut texts: Vec<&str> = Vec::new();
            let mut calls: Vec<ToolCall> = Vec::new();
            for (j, b) in blocks.iter().enumerate() {
                match (b.kind.as_str(), &b.text) {
                    ("text", Some(t)) => texts.push(t),
                    ("tool_use", _) => {
                        let param = format!("messages.{i}.content.{j}");
                        let (Some(id), Some(name)) = (&b.id, &b.name) else {
                            return Err(GatewayError::bad_field(
                                param.clone(),
                                format!("{param}: tool_use needs id and name"),
                            ));
                        };
                        calls.push(ToolCall {
                            id: id.clone(),
                            kind: Some("function".into()),
                            function: FunctionCall {
                                name: name.clone(),
                                arguments: b
                                    .input
                                    .as_deref()
                                    .map(RawValue::get)
                                    .unwrap_or("{}")
                                    .to_string(),
                            },
                        });
                    }
                    // The provider cannot check Anthropic's signatures; leave them out.
                    ("thinking" | "redacted_thinking", _) => {}
                    (kind, _) => {
                        return Err(unsupported(
                            format!("messages.{i}.content.{j}"),
                            &format!("a {kind:?} block in an assistant turn"),
                        ))
                    }
                }
            }
            if texts.is_empty() && calls.is_empty() {
                continue;
            }
            messages.push(Message::Assistant {
                content: match texts.is_empty() {
                    true => None,
                    false => Some(text(&texts.join("\n\n"))?),
                },
                tool_calls: (!calls.is_empty()).then_some(calls),
            });
        }
    }
    let tools = match &req.tools {
        Some(tools) if !tools.is_empty() => {
            let mut out = Vec::with_capacity(tools.len());
            for (i, t) in tools.iter().enumerate() {
                if !matches!(t.kind.as_deref(), None | Some("custom")) {
                    return Err(unsupported(
                        format!("tools.{i}.type"),
                        &format!("the server tool {:?}", t.kind.as_deref().unwrap_or("")),
                    ));
                }
                out.push(Tool {
                    kind: "function".into(),
                    function: FunctionDef {
                        name: t.name.clone(),
                        description: t.description.clone(),
                        parameters: Some(
                            t.input_schema
                                .clone()
                                .unwrap_or_else(|| empty_schema.to_owned()),
                        ),
                    },
                });
            }
            Some(out)
        }
        _ => None,
    };
    let (tool_choice, parallel_tool_calls) = match (&req.tool_choice, tools.is_some()) {
        (Some(c), true) => {
            let choice = match c.kind.as_str() {
                "auto" => ToolChoice::Mode("auto".into()),
                "any" => ToolChoice::Mode("required".into()),
                "none" => ToolChoice::Mode("none".into()),
                "tool" => ToolChoice::Named(NamedToolChoice {
                    kind: "function".into(),
                    function: NamedFunction {
                        name: c.name.clone().ok_or_else(|| {
                            GatewayError::bad_field(
                                "tool_choice.name",
                                "tool_choice.name: Field required",
                            )
                        })?,
                    },
                }),
                _ => {
                    return Err(GatewayError::bad_field(
                        "tool_choice.type",
                        "tool_choice.type: must be auto, any, tool or none",
                    ))
                }
            };
            let parallel = c.disable_parallel_tool_use.filter(|d| *d).map(|_| false);
            (Some(choice), parallel)
        }
        _ => (None, None),
    };
    let reasoning = super::reasoning::of(req)?;
    let legacy = provider.preset.is_some_and(|p| p.legacy_max_tokens());
    let stream = req.is_stream();
    let chat = ChatRequest {
        model: upstream_model.to_string(),
        messages,
        max_tokens: req.max_tokens.filter(|_| legacy),
        max_completion_tokens: req.max_tokens.filter(|_| !legacy),
        stop: req
            .stop_sequences
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(|s| Stop::Many(s.clone())),
        temperature: req.temperature,
        top_p: req.top_p,
        tools,
        tool_choice,
        parallel_tool_calls,
        user: req.metadata.as_ref().and_then(|m| m.user_id.clone()),
        stream: stream.then_some(true),
        stream_options: stream.then_some(StreamOptions {
            include_usage: Some(true),
        }),
        reasoning_effort: reasoning.effort,
        ..ChatRequest::default()
    };
    let mut unhonoured = Vec::new();
    if req.top_k.is_some() {
        unhonoured.push("top_k");
    }
    unhonoured.extend(reasoning.unhonoured);
    Ok(Built { chat, unhonoured })
}
