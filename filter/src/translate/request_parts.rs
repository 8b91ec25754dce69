//! Pieces of an OpenAI chat request that the Anthropic, Bedrock and Gemini builders read
//! the same way: tool-call arguments as JSON objects, the tool choice, base64 data-URI
//! images, stop sequences, and the error for a content part a provider cannot take.

use serde_json::value::RawValue;

use crate::api::openai::{self as oa, ChatRequest};
use crate::error::GatewayError;

/// OpenAI's `tool_choice`, checked; each provider maps it to its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolChoice<'a> {
    Auto,
    Required,
    None,
    /// This function must be called.
    Function(&'a str),
}

/// The request's `tool_choice`, if any: a mode OpenAI defines or a named function.
pub fn tool_choice(req: &ChatRequest) -> Result<Option<ToolChoice<'_>>, GatewayError> {
    Ok(Some(match &req.tool_choice {
        None => return Ok(None),
        Some(oa::ToolChoice::Mode(m)) => match m.as_str() {
            "auto" => ToolChoice::Auto,
            "required" => ToolChoice::Required,
            "none" => ToolChoice::None,
            _ => {
                return Err(GatewayError::bad_field(
                    "tool_choice",
                    "tool_choice must be \"auto\", \"none\", \"required\" or a named function",
                ))
            }
        },
        Some(oa::ToolChoice::Named(n)) => {
            if n.kind != "function" {
                return Err(GatewayError::bad_field(
                    "tool_choice.type",
                    "only function tool choices are supported",
                ));
            }
            ToolChoice::Function(&n.function.name)
        }
    }))
}

/// `tools[i]` is a function: the only kind of tool the providers take.
pub fn function_tool(i: usize, t: &oa::Tool) -> Result<(), GatewayError> {
    if t.kind != "function" {
        return Err(GatewayError::bad_field(
            format!("tools[{i}].type"),
            "only function tools are supported",
        ));
    }
    Ok(())
}

/// Tool-call arguments, per message and per call (empty for messages without calls).
/// OpenAI sends them as JSON text inside a string; the other providers want the object
/// itself, so anything but a JSON object (blank counts as `{}`) is refused.
pub struct ToolArguments(Vec<Vec<Box<RawValue>>>);

impl ToolArguments {
    pub fn parse(req: &ChatRequest) -> Result<Self, GatewayError> {
        let mut out = Vec::with_capacity(req.messages.len());
        for (i, m) in req.messages.iter().enumerate() {
            let mut calls = Vec::new();
            if let oa::Message::Assistant {
                tool_calls: Some(tc),
                ..
            } = m
            {
                for (j, c) in tc.iter().enumerate() {
                    let bad = || {
                        GatewayError::bad_field(
                            format!("messages[{i}].tool_calls[{j}].function.arguments"),
                            "tool call arguments must be a JSON object",
                        )
                    };
                    let text = c.function.arguments.trim();
                    let text = if text.is_empty() { "{}" } else { text };
                    let raw = RawValue::from_string(text.to_string()).map_err(|_| bad())?;
                    if !raw.get().starts_with('{') {
                        return Err(bad());
                    }
                    calls.push(raw);
                }
            }
            out.push(calls);
        }
        Ok(ToolArguments(out))
    }

    /// The arguments of call `j` of message `i`.
    pub fn get(&self, i: usize, j: usize) -> Result<&RawValue, GatewayError> {
        self.0
            .get(i)
            .and_then(|calls| calls.get(j))
            .map(AsRef::as_ref)
            .ok_or_else(|| GatewayError::internal("tool arguments lost"))
    }
}

/// `data:<media type>;base64,<data>` (content part `j` of message `i`) → (media type,
/// data); `None` when the URL is not a `data:` URI at all.
pub fn base64_data_uri(
    url: &str,
    i: usize,
    j: usize,
) -> Result<Option<(&str, &str)>, GatewayError> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Ok(None);
    };
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| GatewayError::bad_field(image_param(i, j), "malformed data URI"))?;
    let media_type = meta.strip_suffix(";base64").ok_or_else(|| {
        GatewayError::bad_field(image_param(i, j), "data URI images must be base64")
    })?;
    Ok(Some((media_type, data)))
}

/// The parameter an image error names.
pub fn image_param(i: usize, j: usize) -> String {
    format!("messages[{i}].content[{j}].image_url.url")
}

/// A user turn left without content once blank text is dropped: refused rather than
/// skipped, which would change the request (ending on an assistant turn reads as a
/// prefill to continue).
pub fn empty_user_turn(i: usize) -> GatewayError {
    GatewayError::bad_field(
        format!("messages[{i}].content"),
        "a user message needs content that is not empty or whitespace only",
    )
}

pub fn unsupported_part(i: usize, j: usize, why: &str) -> GatewayError {
    GatewayError::bad_field(format!("messages[{i}].content[{j}]"), why)
}

/// The parts of user message `i` as a provider's blocks (Anthropic and Bedrock): blank
/// text dropped, images through `image`, any other part refused naming `provider`.
pub fn user_part_blocks<'a, B>(
    parts: &'a [oa::ContentPart],
    i: usize,
    provider: &str,
    text: impl Fn(&'a crate::api::text::Text) -> B,
    image: impl Fn(&'a str, usize) -> Result<B, GatewayError>,
) -> Result<Vec<B>, GatewayError> {
    let mut out = Vec::with_capacity(parts.len());
    for (j, p) in parts.iter().enumerate() {
        match p {
            oa::ContentPart::Text { text: t } if t.is_blank() => {}
            oa::ContentPart::Text { text: t } => out.push(text(t)),
            oa::ContentPart::ImageUrl { image_url } => out.push(image(&image_url.url, j)?),
            oa::ContentPart::Unsupported => {
                let why =
                    format!("this content part type is not supported by the provider ({provider})");
                return Err(unsupported_part(i, j, &why));
            }
        }
    }
    Ok(out)
}

/// `stop` as a list, `None` when absent or empty.
pub fn stop_sequences(req: &ChatRequest) -> Option<Vec<String>> {
    req.stop
        .as_ref()
        .map(|s| match s {
            oa::Stop::One(s) => vec![s.clone()],
            oa::Stop::Many(v) => v.clone(),
        })
        .filter(|v| !v.is_empty())
}

/// `stop` without blank entries (which Anthropic refuses), `None` when nothing is left.
pub fn nonblank_stop_sequences(req: &ChatRequest) -> Option<Vec<String>> {
    let mut v = stop_sequences(req)?;
    v.retain(|s| !s.trim().is_empty());
    (!v.is_empty()).then_some(v)
}

/// Whether `stop` has an empty or whitespace-only entry.
pub fn blank_stop(req: &ChatRequest) -> bool {
    match &req.stop {
        None => false,
        Some(oa::Stop::One(s)) => s.trim().is_empty(),
        Some(oa::Stop::Many(v)) => v.iter().any(|s| s.trim().is_empty()),
    }
}

/// Anthropic's and Bedrock Converse's temperature range is [0, 1] (OpenAI's [0, 2]).
pub const TEMPERATURE_MAX_UNIT: f64 = 1.0;

/// The client's temperature clamped to [0, 1] (reported by `unhonoured` when it was above).
pub fn unit_temperature(req: &ChatRequest) -> Option<f64> {
    req.temperature.map(|t| t.min(TEMPERATURE_MAX_UNIT))
}

/// A client-chosen model name that becomes one path segment once percent-encoded (Bedrock
/// model ids and ARNs). Encoding keeps `.`, so `.` and `..` would stay dot segments that a
/// normalising proxy between the gateway and the provider resolves to another path.
pub fn encoded_path_segment(name: &str) -> Result<String, GatewayError> {
    if matches!(name, "" | "." | "..") {
        return Err(GatewayError::bad_field(
            "model",
            "this model name cannot be a path segment (empty, . and .. are refused)",
        ));
    }
    Ok(crate::aws::sigv4::uri_encode(name, false))
}

/// `a` followed by `b` in one exact allocation (paths and header values on every request,
/// where `format!` costs several times more).
pub fn concat(a: &str, b: &str) -> String {
    let mut s = String::with_capacity(a.len() + b.len());
    s.push_str(a);
    s.push_str(b);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_refuse_dot_segments() {
        for bad in ["", ".", ".."] {
            assert_eq!(
                encoded_path_segment(bad).unwrap_err().status,
                400,
                "{bad:?}"
            );
        }
        assert_eq!(encoded_path_segment("a..b").unwrap(), "a..b");
        assert_eq!(encoded_path_segment("../x").unwrap(), "..%2Fx");
        assert_eq!(encoded_path_segment("m:0").unwrap(), "m%3A0");
    }
}
