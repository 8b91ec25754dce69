//! `response_format` and `reasoning_effort` on Bedrock, for Anthropic's Claude models
//! (the model id names `claude`): Converse has no field for either, so they are given
//! as the Anthropic translation gives them (`translate::anthropic::options`):
//!
//! * `json_schema` → a forced tool ([`JSON_TOOL`]) whose input schema is the client's
//!   schema; its input comes back as the message text. With client tools or thinking
//!   the schema goes into a system instruction instead; `json_object` → an instruction.
//! * `reasoning_effort` → `additionalModelRequestFields.thinking` with Anthropic's budget
//!   for that effort; `maxTokens` stays above the budget ([`DEFAULT_MAX_TOKENS`] more
//!   when the client set none). Thinking takes no `temperature` (and `top_p` only from
//!   0.95): they are left out, as for Anthropic.
//!
//! Other Bedrock models keep both fields unhonoured (dropped with a warning, or refused
//! in strict mode): their request fields differ per vendor.

use serde_json::value::RawValue;

use crate::api::openai::ChatRequest;
use crate::error::GatewayError;
use crate::translate::anthropic::options as claude;
pub use crate::translate::anthropic::options::JSON_TOOL;
use crate::translate::anthropic::wire::ThinkingConfig;
use crate::translate::bedrock::wire as br;

/// The answer's room beyond the thinking budget when the client set no maximum.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Whether a Bedrock model id (a base id, an inference profile or an ARN) is Claude's.
pub fn is_claude(model: &str) -> bool {
    model.contains("anthropic.claude") || model.contains("claude-")
}

/// What the Converse body gets beyond the one-to-one mapping.
#[derive(Default)]
pub struct Plan<'a> {
    pub max_tokens: Option<u32>,
    pub thinking: Option<ThinkingConfig>,
    pub json_tool: Option<br::Tool<'a>>,
    pub system_suffix: Option<String>,
    pub drop_temperature: bool,
    pub drop_top_p: bool,
}

pub fn plan<'a>(
    model: &str,
    req: &'a ChatRequest,
    empty_schema: &'a RawValue,
) -> Result<Plan<'a>, GatewayError> {
    let client_max = req.max_completion_tokens.or(req.max_tokens);
    if !is_claude(model) {
        return Ok(Plan {
            max_tokens: client_max,
            ..Plan::default()
        });
    }
    let p = claude::plan(req, DEFAULT_MAX_TOKENS, empty_schema)?;
    Ok(Plan {
        // Converse takes no maximum at all; one is only written when asked or needed.
        max_tokens: (client_max.is_some() || p.thinking.is_some()).then_some(p.max_tokens),
        thinking: p.thinking,
        json_tool: p.json_tool.map(|t| br::Tool {
            tool_spec: br::ToolSpec {
                name: t.name,
                description: t.description,
                input_schema: br::InputSchema {
                    json: t.input_schema,
                },
            },
        }),
        system_suffix: p.system_suffix,
        drop_temperature: p.drop_temperature,
        drop_top_p: p.drop_top_p,
    })
}

/// The fields of `unmapped` a request to `model` cannot get.
pub fn unmapped(model: &str, unmapped: &'static [&'static str]) -> Vec<&'static str> {
    let honoured: &[&str] = if is_claude(model) {
        &["response_format", "reasoning_effort"]
    } else {
        &[]
    };
    unmapped
        .iter()
        .copied()
        .filter(|f| !honoured.contains(f))
        .collect()
}

/// Thinking drops these (see [`claude::drops_temperature`]).
pub fn thinking_drops(model: &str, req: &ChatRequest) -> Vec<&'static str> {
    let mut out = Vec::new();
    if is_claude(model) {
        if claude::drops_temperature(req) {
            out.push("temperature");
        }
        if claude::drops_top_p(req) {
            out.push("top_p");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &str) -> ChatRequest {
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn claude_models_honour_both_fields_others_do_not() {
        let cfg = crate::config::parse(
            br#"{"providers":[{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1","api_key_env":"K"}],"allow_provider_model":true}"#,
            &|_| Some("k".to_string()),
        )
        .unwrap();
        let t = crate::translate::provider::of(&cfg.providers[0]);
        let r = req(
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"low","temperature":0.5,"response_format":{"type":"json_object"}}"#,
        );
        assert_eq!(
            t.unhonoured_at("us.anthropic.claude-sonnet-4-5-20250929-v1:0", &r),
            ["temperature"]
        );
        assert_eq!(
            t.unhonoured_at("meta.llama3-1-70b-instruct-v1:0", &r),
            ["response_format", "reasoning_effort"]
        );
        assert!(is_claude(
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku"
        ));
        assert!(!is_claude("amazon.nova-pro-v1:0"));
    }
}
