//! What every provider needs of a chat request, checked before routing: OpenAI's own
//! ranges and references, so a request OpenAI would refuse is refused the same way
//! whichever provider serves it (and never half-honoured, e.g. `n: 0` read as 1).

use crate::api::openai::{ChatRequest, ToolChoice};
use crate::error::GatewayError;

/// Every request names a model.
pub fn named_model(model: &str) -> Result<(), GatewayError> {
    if model.is_empty() {
        return Err(GatewayError::bad_field("model", "model must not be empty"));
    }
    Ok(())
}

pub fn validate(req: &ChatRequest) -> Result<(), GatewayError> {
    named_model(&req.model)?;
    if req.messages.is_empty() {
        return Err(GatewayError::bad_field(
            "messages",
            "messages must contain at least one message",
        ));
    }
    in_range("temperature", req.temperature, 2.0)?;
    in_range("top_p", req.top_p, 1.0)?;
    if req.n == Some(0) {
        return Err(GatewayError::bad_field("n", "n must be at least 1"));
    }
    if let Some(ToolChoice::Named(named)) = &req.tool_choice {
        let name = named.function.name.as_str();
        let declared = req.tools.iter().flatten().any(|t| t.function.name == name);
        if !declared {
            return Err(GatewayError::bad_field(
                "tool_choice",
                format!(
                    "tool_choice names the function {}, which is not among tools",
                    quoted(name)
                ),
            ));
        }
    }
    Ok(())
}

/// `value` within `0..=max` when present.
fn in_range(param: &'static str, value: Option<f64>, max: f64) -> Result<(), GatewayError> {
    match value {
        Some(v) if !(0.0..=max).contains(&v) => Err(GatewayError::bad_field(
            param,
            format!("{param} must be between 0 and {max}"),
        )),
        _ => Ok(()),
    }
}

/// A client's name in a message: JSON-quoted and clipped, so it cannot forge the text.
fn quoted(name: &str) -> String {
    let clipped: String = name.chars().take(64).collect();
    serde_json::to_string(&clipped).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str) -> Result<(), GatewayError> {
        let req: ChatRequest = serde_json::from_str(body)
            .map_err(|e| GatewayError::bad_request(format!("test body does not parse: {e}")))?;
        validate(&req)
    }

    fn param(body: &str) -> Option<String> {
        check(body).err().and_then(|e| e.param)
    }

    const MSGS: &str = r#""model":"m","messages":[{"role":"user","content":"hi"}]"#;

    #[test]
    fn openai_ranges() {
        for (field, ok, bad) in [
            ("temperature", ["0", "2", "0.7"], ["-0.1", "2.01", "1e9"]),
            ("top_p", ["0", "1", "0.5"], ["-1", "1.5", "2"]),
            ("n", ["1", "2", "8"], ["0", "0", "0"]),
        ] {
            for v in ok {
                let body = format!(r#"{{{MSGS},"{field}":{v}}}"#);
                assert!(check(&body).is_ok(), "{body}");
            }
            for v in bad {
                let body = format!(r#"{{{MSGS},"{field}":{v}}}"#);
                assert_eq!(param(&body).as_deref(), Some(field), "{body}");
            }
        }
    }

    #[test]
    fn named_tool_choice_must_name_a_declared_tool() {
        let tools = r#""tools":[{"type":"function","function":{"name":"get_weather"}}]"#;
        let named =
            |n: &str| format!(r#""tool_choice":{{"type":"function","function":{{"name":"{n}"}}}}"#);
        assert!(check(&format!("{{{MSGS},{tools},{}}}", named("get_weather"))).is_ok());
        for body in [
            format!("{{{MSGS},{tools},{}}}", named("delete_everything")),
            format!("{{{MSGS},{}}}", named("get_weather")),
            format!(r#"{{{MSGS},"tools":[],{}}}"#, named("get_weather")),
        ] {
            let e = check(&body).unwrap_err();
            assert_eq!(e.status, 400, "{body}");
            assert_eq!(e.param.as_deref(), Some("tool_choice"), "{body}");
        }
        // Modes are the translators' concern.
        assert!(check(&format!(r#"{{{MSGS},{tools},"tool_choice":"required"}}"#)).is_ok());
    }
}
