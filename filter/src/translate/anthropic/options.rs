//! OpenAI options that Anthropic has no field of the same name for:
//! `response_format` and `reasoning_effort` (the fields it cannot honour are listed in
//! `unhonoured.rs`).
//!
//! * `json_object` → a system instruction to answer with one JSON object.
//! * `json_schema` → a forced tool named [`JSON_TOOL`] whose input schema is the
//!   client's schema; its input comes back as the message text (`finish_reason`
//!   "stop"). Anthropic refuses forced tools next to extended thinking, and the forced
//!   tool would hide the client's own tools, so with tools or `reasoning_effort` the
//!   schema goes into a system instruction instead (best effort either way: Anthropic
//!   does not guarantee schema adherence).
//! * `reasoning_effort` → `thinking.budget_tokens` ([`budget`]); `max_tokens` is raised
//!   above the budget when the client set none.

use serde_json::value::RawValue;

use crate::api::openai::{ChatRequest, ToolChoice};
use crate::error::GatewayError;
use crate::translate::anthropic::wire as an;

/// The tool that carries a `json_schema` answer. Reserved: client tools may not use it.
pub const JSON_TOOL: &str = "json_response";

/// Anthropic's smallest thinking budget.
pub const MIN_BUDGET: u32 = 1024;

const JSON_OBJECT_INSTRUCTION: &str =
    "Respond with a single valid JSON object and nothing else (no prose, no code fences).";

/// What the request builder does beyond the one-to-one field mapping.
pub struct Plan<'a> {
    pub max_tokens: u32,
    pub thinking: Option<an::ThinkingConfig>,
    /// Replaces the client's (absent) tools and forces their use.
    pub json_tool: Option<an::Tool<'a>>,
    /// Appended to the system prompt.
    pub system_suffix: Option<String>,
    /// Extended thinking takes no `temperature` and `top_p` only from 0.95 up.
    pub drop_temperature: bool,
    pub drop_top_p: bool,
}

/// `reasoning_effort` → thinking budget in tokens (`None`: no thinking).
pub fn budget(effort: Option<&str>) -> Result<Option<u32>, GatewayError> {
    Ok(match effort {
        None | Some("none") => None,
        Some("minimal") => Some(MIN_BUDGET),
        Some("low") => Some(2048),
        Some("medium") => Some(8192),
        Some("high") => Some(16384),
        Some(_) => {
            return Err(GatewayError::bad_field(
                "reasoning_effort",
                "reasoning_effort must be none, minimal, low, medium or high",
            ))
        }
    })
}

fn thinking_on(req: &ChatRequest) -> bool {
    matches!(budget(req.reasoning_effort.as_deref()), Ok(Some(_)))
}

pub fn drops_temperature(req: &ChatRequest) -> bool {
    thinking_on(req) && req.temperature.is_some_and(|t| t != 1.0)
}

pub fn drops_top_p(req: &ChatRequest) -> bool {
    thinking_on(req) && req.top_p.is_some_and(|p| p < 0.95)
}

pub fn plan<'a>(
    req: &'a ChatRequest,
    default_max_tokens: u32,
    empty_schema: &'a RawValue,
) -> Result<Plan<'a>, GatewayError> {
    let client_max = req.max_completion_tokens.or(req.max_tokens);
    let (max_tokens, thinking) = match (budget(req.reasoning_effort.as_deref())?, client_max) {
        (None, max) => (max.unwrap_or(default_max_tokens), None),
        (Some(b), None) => (b.saturating_add(default_max_tokens), Some(b)),
        (Some(b), Some(max)) => {
            // The budget must stay below max_tokens: shrink it to half the room.
            let b = if b < max {
                b
            } else {
                (max / 2).max(MIN_BUDGET)
            };
            if b >= max {
                return Err(GatewayError::bad_field(
                    "reasoning_effort",
                    format!(
                        "reasoning_effort needs max_completion_tokens above {MIN_BUDGET} on this model's provider (anthropic)"
                    ),
                ));
            }
            (max, Some(b))
        }
    };
    if thinking.is_some() {
        let forced = match &req.tool_choice {
            Some(ToolChoice::Mode(m)) => m == "required",
            Some(ToolChoice::Named(_)) => true,
            None => false,
        };
        if forced {
            return Err(GatewayError::bad_field(
                "tool_choice",
                "reasoning_effort cannot be combined with a required or named tool_choice on this model's provider (anthropic)",
            ));
        }
    }
    let has_tools = req.tools.as_ref().is_some_and(|t| !t.is_empty());
    let (json_tool, system_suffix) = match &req.response_format {
        None => (None, None),
        Some(f) => match f.kind.as_str() {
            "text" => (None, None),
            "json_object" => (None, Some(JSON_OBJECT_INSTRUCTION.to_string())),
            "json_schema" => {
                let spec = f.json_schema.as_ref().ok_or_else(|| {
                    GatewayError::bad_field(
                        "response_format.json_schema",
                        "json_schema is required when type is json_schema",
                    )
                })?;
                let schema = spec.schema.as_deref().unwrap_or(empty_schema);
                if has_tools || thinking.is_some() {
                    let text = format!(
                        "Respond with a single JSON value that matches this JSON schema (named {:?}) and nothing else (no prose, no code fences):\n{}",
                        spec.name.as_deref().unwrap_or("response"),
                        schema.get()
                    );
                    (None, Some(text))
                } else {
                    let tool = an::Tool {
                        name: JSON_TOOL,
                        description: Some(
                            spec.description
                                .as_deref()
                                .unwrap_or("Give the answer as this tool's input."),
                        ),
                        input_schema: schema,
                    };
                    (Some(tool), None)
                }
            }
            _ => {
                return Err(GatewayError::bad_field(
                    "response_format.type",
                    "response_format.type must be text, json_object or json_schema",
                ))
            }
        },
    };
    Ok(Plan {
        max_tokens,
        thinking: thinking.map(|budget_tokens| an::ThinkingConfig {
            kind: "enabled",
            budget_tokens,
        }),
        json_tool,
        system_suffix,
        drop_temperature: drops_temperature(req),
        drop_top_p: drops_top_p(req),
    })
}
