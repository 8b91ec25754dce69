//! A Responses request → the gateway's internal chat request ([`ChatRequest`]), built in
//! code (never through JSON bytes), for providers that do not serve the Responses API.
//! The provider's own chat translator takes it from there.
//!
//! `instructions` → a system message; `input` (a string, or items: messages with text
//! and image parts, `function_call`/`custom_tool_call` → assistant tool calls, their
//! outputs → `tool` messages; reasoning items are not replayed); function, custom and
//! namespaced tools → functions (names in [`ToolNames`]); hosted tools are left out and
//! reported as fields the provider cannot honour.

use serde_json::value::RawValue;

use super::names::{flat, ToolNames};
use crate::api::openai::{
    ChatRequest, Content, ContentPart, FunctionCall, FunctionDef, ImageUrl, JsonSchemaFormat,
    Message, NamedFunction, NamedToolChoice, ResponseFormat, StreamOptions, Tool, ToolCall,
    ToolChoice,
};
use crate::api::openai_build;
use crate::api::responses::{self as r, Input, Item, ResponsesRequest};
use crate::api::text::Text;
use crate::error::GatewayError;

/// The chat request, and the fields (hosted tools…) left out.
pub struct Built {
    pub chat: ChatRequest,
    pub unhonoured: Vec<&'static str>,
}

/// The schema a `custom` (free-form) tool gets as a function.
const CUSTOM_SCHEMA: &str = r#"{"type":"object","properties":{"input":{"type":"string","description":"The tool's free-form input"}},"required":["input"],"additionalProperties":false}"#;

/// Hosted tools some providers run themselves; the others leave them out.
const HOSTED: &[&str] = &[
    "web_search",
    "web_search_preview",
    "file_search",
    "code_interpreter",
    "image_generation",
    "computer_use_preview",
    "computer_use",
    "mcp",
    "local_shell",
    "shell",
    "apply_patch",
    "tool_search",
];

/// Hosted tools' calls in the history: their results are already in the conversation's
/// text, and no other provider can replay them.
const HOSTED_CALLS: &[&str] = &[
    "web_search_call",
    "file_search_call",
    "code_interpreter_call",
    "image_generation_call",
    "computer_call",
    "computer_call_output",
    "mcp_list_tools",
    "mcp_call",
    "mcp_approval_request",
    "mcp_approval_response",
    "tool_search_call",
    "tool_search_output",
    "compaction",
];

pub fn text(s: &str) -> Result<Text, GatewayError> {
    openai_build::text(s).map_err(|e| GatewayError::internal(e.to_string()))
}

fn raw(s: &str) -> Result<Box<RawValue>, GatewayError> {
    RawValue::from_string(s.to_string()).map_err(|e| GatewayError::internal(e.to_string()))
}

/// The tool names the provider will see (collected before the input, whose calls use them).
pub fn tool_names(req: &ResponsesRequest) -> ToolNames {
    let mut names = ToolNames::default();
    for tool in req.tools.iter().flatten() {
        declare(&mut names, None, tool);
    }
    names
}

fn declare(names: &mut ToolNames, namespace: Option<&str>, tool: &r::Tool) {
    match (tool.kind.as_str(), tool.name.as_deref()) {
        ("function", Some(name)) => {
            names.declare(namespace, name, false);
        }
        ("custom", Some(name)) => {
            names.declare(namespace, name, true);
        }
        ("namespace", Some(ns)) if namespace.is_none() => {
            for inner in tool.tools.iter().flatten() {
                declare(names, Some(ns), inner);
            }
        }
        _ => {}
    }
}

pub fn build(req: &ResponsesRequest, names: &ToolNames) -> Result<Built, GatewayError> {
    let mut unhonoured = Vec::new();
    let mut messages = Vec::new();
    if let Some(instructions) = req.instructions.as_deref().filter(|i| !i.is_empty()) {
        messages.push(Message::System {
            content: Content::Text(text(instructions)?),
        });
    }
    match &req.input {
        Some(Input::Text(s)) => messages.push(Message::User {
            content: Content::Text(text(s)?),
        }),
        Some(Input::Items(items)) => {
            for (i, item) in items.iter().enumerate() {
                add_item(&mut messages, i, item)?;
            }
        }
        None => {}
    }
    let tools = tools(req, &mut unhonoured)?;
    let tool_choice = tool_choice(req, names, &mut unhonoured)?;
    let chat = ChatRequest {
        model: req.model.clone(),
        messages,
        stream: req.stream,
        // Every stream reports its usage (the Responses answer always carries it).
        stream_options: req.is_stream().then_some(StreamOptions {
            include_usage: Some(true),
        }),
        max_completion_tokens: req.max_output_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        tools: (!tools.is_empty()).then_some(tools),
        tool_choice,
        parallel_tool_calls: req.parallel_tool_calls,
        user: req.safety_identifier.clone().or_else(|| req.user.clone()),
        response_format: response_format(req)?,
        reasoning_effort: req.reasoning.as_ref().and_then(|r| r.effort.clone()),
        ..ChatRequest::default()
    };
    Ok(Built { chat, unhonoured })
}

fn tools(
    req: &ResponsesRequest,
    unhonoured: &mut Vec<&'static str>,
) -> Result<Vec<Tool>, GatewayError> {
    let mut out = Vec::new();
    for (i, tool) in req.tools.iter().flatten().enumerate() {
        match tool.kind.as_str() {
            "namespace" => {
                let ns = tool.name.as_deref().ok_or_else(|| missing_name(i))?;
                for inner in tool.tools.iter().flatten() {
                    out.push(function(Some(ns), inner, i)?);
                }
            }
            "function" | "custom" => out.push(function(None, tool, i)?),
            kind => match HOSTED.iter().find(|h| **h == kind) {
                Some(h) => {
                    if !unhonoured.contains(h) {
                        unhonoured.push(h);
                    }
                }
                None => {
                    return Err(GatewayError::bad_field(
                        format!("tools[{i}].type"),
                        format!("tools[{i}]: unknown tool type {kind:?}"),
                    ))
                }
            },
        }
    }
    Ok(out)
}

fn missing_name(i: usize) -> GatewayError {
    GatewayError::bad_field(
        format!("tools[{i}].name"),
        format!("tools[{i}].name: Field required"),
    )
}

fn function(namespace: Option<&str>, tool: &r::Tool, i: usize) -> Result<Tool, GatewayError> {
    let name = tool.name.as_deref().ok_or_else(|| missing_name(i))?;
    let parameters = match tool.kind.as_str() {
        "custom" => Some(raw(CUSTOM_SCHEMA)?),
        "function" => tool.parameters.as_ref().map(|p| raw(p.get())).transpose()?,
        kind => {
            return Err(GatewayError::bad_field(
                format!("tools[{i}].tools"),
                format!("tools[{i}]: a namespace holds function and custom tools, not {kind:?}"),
            ))
        }
    };
    Ok(Tool {
        kind: "function".to_string(),
        function: FunctionDef {
            name: flat(namespace, name),
            description: tool.description.clone(),
            parameters,
        },
    })
}

fn tool_choice(
    req: &ResponsesRequest,
    names: &ToolNames,
    unhonoured: &mut Vec<&'static str>,
) -> Result<Option<ToolChoice>, GatewayError> {
    Ok(match &req.tool_choice {
        None => None,
        Some(r::ToolChoice::Mode(m)) => match m.as_str() {
            "auto" | "none" | "required" => Some(ToolChoice::Mode(m.clone())),
            _ => {
                return Err(GatewayError::bad_field(
                    "tool_choice",
                    format!("tool_choice: unknown mode {m:?}"),
                ))
            }
        },
        Some(r::ToolChoice::Object(o)) => match (o.kind.as_str(), o.name.as_deref()) {
            ("function" | "custom", Some(name)) => {
                let declared = req.tools.iter().flatten().any(|t| {
                    t.name.as_deref() == Some(name)
                        && matches!(t.kind.as_str(), "function" | "custom")
                });
                if !declared && names.is_empty() {
                    return Err(GatewayError::bad_field(
                        "tool_choice",
                        format!("tool_choice names the tool {name:?}, which is not among tools"),
                    ));
                }
                Some(ToolChoice::Named(NamedToolChoice {
                    kind: "function".to_string(),
                    function: NamedFunction {
                        name: name.to_string(),
                    },
                }))
            }
            // A hosted tool or `allowed_tools`: the provider chooses among what it has.
            _ => {
                unhonoured.push("tool_choice");
                None
            }
        },
    })
}

fn response_format(req: &ResponsesRequest) -> Result<Option<ResponseFormat>, GatewayError> {
    let Some(format) = req.text.as_ref().and_then(|t| t.format.as_ref()) else {
        return Ok(None);
    };
    let json_schema = match format.kind.as_str() {
        "text" | "json_object" => None,
        "json_schema" => Some(JsonSchemaFormat {
            name: format.name.clone(),
            description: format.description.clone(),
            schema: format.schema.as_ref().map(|s| raw(s.get())).transpose()?,
            strict: format.strict,
        }),
        other => {
            return Err(GatewayError::bad_field(
                "text.format.type",
                format!("text.format.type: unknown format {other:?}"),
            ))
        }
    };
    Ok(Some(ResponseFormat {
        kind: format.kind.clone(),
        json_schema,
    }))
}

/// Text of a content: the string, or its text parts joined (assistant history, system).
fn joined(content: Option<&r::Content>) -> String {
    match content {
        None => String::new(),
        Some(r::Content::Text(s)) => s.clone(),
        Some(r::Content::Parts(parts)) => {
            let texts = parts
                .iter()
                .filter_map(|p| p.text.as_deref().or(p.refusal.as_deref()));
            texts.collect::<Vec<_>>().join("")
        }
    }
}

fn user_content(content: Option<&r::Content>, i: usize) -> Result<Content, GatewayError> {
    let parts = match content {
        None => return Ok(Content::Text(text("")?)),
        Some(r::Content::Text(s)) => return Ok(Content::Text(text(s)?)),
        Some(r::Content::Parts(parts)) => parts,
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        out.push(match (p.kind.as_str(), &p.image_url) {
            ("input_text" | "output_text" | "text", _) => ContentPart::Text {
                text: text(p.text.as_deref().unwrap_or(""))?,
            },
            ("input_image", Some(url)) => ContentPart::ImageUrl {
                image_url: ImageUrl {
                    url: url.clone(),
                    detail: p.detail.clone(),
                },
            },
            ("input_image", None) => {
                return Err(GatewayError::bad_field(
                    format!("input[{i}].content[{j}]"),
                    format!(
                        "input[{i}].content[{j}]: images by file_id need OpenAI's file store; send image_url (a data URI or URL)"
                    ),
                ))
            }
            // Files, audio…: the provider's translator refuses them, naming the part.
            _ => ContentPart::Unsupported,
        });
    }
    Ok(Content::Parts(out))
}

/// The assistant turn at the end of `messages`, opened if the last message is another.
fn open_assistant(messages: &mut Vec<Message>) {
    if !matches!(messages.last(), Some(Message::Assistant { .. })) {
        messages.push(Message::Assistant {
            content: None,
            tool_calls: None,
        });
    }
}

fn add_call(messages: &mut Vec<Message>, call_id: String, name: String, arguments: String) {
    open_assistant(messages);
    if let Some(Message::Assistant { tool_calls, .. }) = messages.last_mut() {
        tool_calls.get_or_insert_with(Vec::new).push(ToolCall {
            id: call_id,
            kind: Some("function".to_string()),
            function: FunctionCall { name, arguments },
        });
    }
}

fn required<'a>(v: &'a Option<String>, i: usize, field: &str) -> Result<&'a str, GatewayError> {
    v.as_deref().ok_or_else(|| {
        GatewayError::bad_field(
            format!("input[{i}].{field}"),
            format!("input[{i}].{field}: Field required"),
        )
    })
}

fn add_item(messages: &mut Vec<Message>, i: usize, item: &Item) -> Result<(), GatewayError> {
    let kind = item.kind.as_deref().unwrap_or("message");
    match kind {
        "message" => add_message(messages, i, item),
        "function_call" => {
            let name = flat(item.namespace.as_deref(), required(&item.name, i, "name")?);
            let call_id = required(&item.call_id, i, "call_id")?.to_string();
            let args = item.arguments.clone().unwrap_or_default();
            add_call(messages, call_id, name, args);
            Ok(())
        }
        "custom_tool_call" => {
            let name = flat(item.namespace.as_deref(), required(&item.name, i, "name")?);
            let call_id = required(&item.call_id, i, "call_id")?.to_string();
            let input = item.input.as_deref().unwrap_or("");
            let args = serde_json::to_string(&CustomArgs { input })
                .map_err(|e| GatewayError::internal(e.to_string()))?;
            add_call(messages, call_id, name, args);
            Ok(())
        }
        "function_call_output" | "custom_tool_call_output" => {
            let call_id = required(&item.call_id, i, "call_id")?.to_string();
            messages.push(Message::Tool {
                content: Content::Text(text(&joined(item.output.as_ref()))?),
                tool_call_id: call_id,
            });
            Ok(())
        }
        // Reasoning is the provider's own (signed or encrypted); another cannot replay it.
        "reasoning" => Ok(()),
        "item_reference" => Err(GatewayError::bad_field(
            format!("input[{i}]"),
            format!(
                "input[{i}]: item_reference needs response state, which only OpenAI-format providers serving the Responses API keep; send the item itself"
            ),
        )),
        k if HOSTED_CALLS.contains(&k) => Ok(()),
        k => Err(GatewayError::bad_field(
            format!("input[{i}].type"),
            format!("input[{i}]: item type {k:?} cannot be sent to this model's provider"),
        )),
    }
}

#[derive(serde::Serialize)]
struct CustomArgs<'a> {
    input: &'a str,
}

fn add_message(messages: &mut Vec<Message>, i: usize, item: &Item) -> Result<(), GatewayError> {
    let role = required(&item.role, i, "role")?;
    let content = item.content.as_ref();
    match role {
        "user" => messages.push(Message::User {
            content: user_content(content, i)?,
        }),
        "system" => messages.push(Message::System {
            content: Content::Text(text(&joined(content))?),
        }),
        "developer" => messages.push(Message::Developer {
            content: Content::Text(text(&joined(content))?),
        }),
        "assistant" => {
            let said = joined(content);
            if said.is_empty() {
                return Ok(());
            }
            // Text after the calls of a turn starts a new turn (its order matters).
            let after_calls = matches!(
                messages.last(),
                Some(Message::Assistant { tool_calls: Some(calls), .. }) if !calls.is_empty()
            );
            if after_calls {
                messages.push(Message::Assistant {
                    content: None,
                    tool_calls: None,
                });
            }
            open_assistant(messages);
            if let Some(Message::Assistant { content: slot, .. }) = messages.last_mut() {
                let joined_text = match slot.take() {
                    Some(Content::Text(t)) => crate::strs::concat(&[&t.as_str(), &said]),
                    _ => said,
                };
                *slot = Some(Content::Text(text(&joined_text)?));
            }
        }
        other => {
            return Err(GatewayError::bad_field(
                format!("input[{i}].role"),
                format!(
                    "input[{i}].role: must be \"user\", \"assistant\", \"system\" or \"developer\", not {other:?}"
                ),
            ))
        }
    }
    Ok(())
}
