//! Claude's `thinking` and `output_config.effort` (Claude Code sends both) for providers
//! reached through the chat translators, which take OpenAI's `reasoning_effort`:
//!
//! * `thinking: enabled` (the client asks for thinking): its effort (`max` → `high`), or
//!   without one the effort whose budget is nearest above `budget_tokens` (the budgets of
//!   `translate::anthropic::options::budget`);
//! * `thinking: adaptive` (the model decides whether to think; Claude Code's default):
//!   nothing, the provider's default. Sending `reasoning_effort` would make providers
//!   refuse every request to a model that does not reason (OpenAI's `gpt-4o-mini` does);
//! * an effort that does not come with `enabled` has no equivalent then: not honoured (a
//!   warning, or 400 in strict mode), as is `context_management` (no provider but
//!   Anthropic edits context server-side). `cache_control` is a caching hint with no
//!   effect on the answer; OpenAI and Gemini cache prompt prefixes on their own, so it
//!   is dropped without a warning.

use crate::api::anthropic_server::MessagesRequest;
use crate::error::GatewayError;

pub struct Reasoning {
    pub effort: Option<String>,
    pub unhonoured: Vec<&'static str>,
}

fn effort_of(effort: &str) -> Result<&'static str, GatewayError> {
    match effort {
        "low" => Ok("low"),
        "medium" => Ok("medium"),
        "high" | "max" => Ok("high"),
        _ => Err(GatewayError::bad_field(
            "output_config.effort",
            "output_config.effort: must be low, medium, high or max",
        )),
    }
}

fn effort_for_budget(budget: u32) -> &'static str {
    match budget {
        0..=2048 => "low",
        2049..=8192 => "medium",
        _ => "high",
    }
}

pub fn of(req: &MessagesRequest) -> Result<Reasoning, GatewayError> {
    let effort = match &req.output_config {
        Some(c) => c.effort.as_deref().map(effort_of).transpose()?,
        None => None,
    };
    let mut unhonoured = Vec::new();
    let thinking = req.thinking.as_ref();
    let chosen = match thinking.map(|t| (t.kind.as_str(), t.budget_tokens)) {
        Some(("enabled", budget)) => effort.or(budget.map(effort_for_budget)),
        None | Some(("adaptive" | "disabled", _)) => {
            if effort.is_some() {
                unhonoured.push("output_config.effort");
            }
            None
        }
        Some(_) => {
            return Err(GatewayError::bad_field(
                "thinking.type",
                "thinking.type: must be enabled, adaptive or disabled",
            ))
        }
    };
    if req.context_management.is_some() {
        unhonoured.push("context_management");
    }
    Ok(Reasoning {
        effort: chosen.map(str::to_string),
        unhonoured,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasoning(body: &str) -> Result<Reasoning, GatewayError> {
        of(&serde_json::from_str(body).unwrap())
    }

    const MSG: &str = r#""model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"}]"#;

    #[test]
    fn thinking_and_effort_become_reasoning_effort() {
        let cases = [
            (
                r#""thinking":{"type":"enabled","budget_tokens":1024}"#,
                Some("low"),
            ),
            (
                r#""thinking":{"type":"enabled","budget_tokens":5000}"#,
                Some("medium"),
            ),
            (
                r#""thinking":{"type":"enabled","budget_tokens":30000}"#,
                Some("high"),
            ),
            (
                r#""thinking":{"type":"enabled","budget_tokens":30000},"output_config":{"effort":"low"}"#,
                Some("low"),
            ),
            (
                r#""thinking":{"type":"enabled","budget_tokens":2000},"output_config":{"effort":"max"}"#,
                Some("high"),
            ),
            (r#""thinking":{"type":"adaptive"}"#, None),
            (r#""thinking":{"type":"disabled"}"#, None),
        ];
        for (extra, want) in cases {
            let r = reasoning(&format!("{{{MSG},{extra}}}")).unwrap();
            assert_eq!(r.effort.as_deref(), want, "{extra}");
            assert!(r.unhonoured.is_empty(), "{extra}");
        }
    }

    #[test]
    fn what_has_no_equivalent_is_named() {
        let r = reasoning(&format!(
            r#"{{{MSG},"output_config":{{"effort":"high"}},"context_management":{{"edits":[]}}}}"#
        ))
        .unwrap();
        assert_eq!(r.effort, None);
        assert_eq!(r.unhonoured, ["output_config.effort", "context_management"]);
        // Adaptive thinking is the provider's default; its effort cannot be given.
        let r = reasoning(&format!(
            r#"{{{MSG},"thinking":{{"type":"adaptive"}},"output_config":{{"effort":"high"}}}}"#
        ))
        .unwrap();
        assert_eq!(
            (r.effort, r.unhonoured),
            (None, vec!["output_config.effort"])
        );
        let bad = reasoning(&format!(r#"{{{MSG},"output_config":{{"effort":"huge"}}}}"#));
        assert_eq!(
            bad.err().and_then(|e| e.param).as_deref(),
            Some("output_config.effort")
        );
        let bad = reasoning(&format!(r#"{{{MSG},"thinking":{{"type":"sometimes"}}}}"#));
        assert_eq!(
            bad.err().and_then(|e| e.param).as_deref(),
            Some("thinking.type")
        );
    }
}
