//! The request fields OpenAI's `response` object repeats (`instructions`, `tools`,
//! `temperature` …), for answers the gateway writes itself (translated providers). The
//! client's own JSON text of each is kept (`RawValue`), read once from the body; the
//! `response` object writes it back, or OpenAI's default where the client sent none.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// What the client sent, as it sent it (`null` counts as not sent).
#[derive(Debug, Default, Deserialize)]
pub struct Echo {
    #[serde(default)]
    instructions: Option<Box<RawValue>>,
    #[serde(default)]
    max_output_tokens: Option<Box<RawValue>>,
    #[serde(default)]
    max_tool_calls: Option<Box<RawValue>>,
    #[serde(default)]
    metadata: Option<Box<RawValue>>,
    #[serde(default)]
    parallel_tool_calls: Option<Box<RawValue>>,
    #[serde(default)]
    prompt_cache_key: Option<Box<RawValue>>,
    #[serde(default)]
    reasoning: Option<Box<RawValue>>,
    #[serde(default)]
    safety_identifier: Option<Box<RawValue>>,
    #[serde(default)]
    service_tier: Option<Box<RawValue>>,
    #[serde(default)]
    temperature: Option<Box<RawValue>>,
    #[serde(default)]
    text: Option<Box<RawValue>>,
    #[serde(default)]
    tool_choice: Option<Box<RawValue>>,
    #[serde(default)]
    tools: Option<Box<RawValue>>,
    #[serde(default)]
    top_logprobs: Option<Box<RawValue>>,
    #[serde(default)]
    top_p: Option<Box<RawValue>>,
    #[serde(default)]
    truncation: Option<Box<RawValue>>,
    #[serde(default)]
    user: Option<Box<RawValue>>,
}

impl Echo {
    /// A request that sent none of them (answers the gateway relays rather than writes).
    pub const NONE: Echo = Echo {
        instructions: None,
        max_output_tokens: None,
        max_tool_calls: None,
        metadata: None,
        parallel_tool_calls: None,
        prompt_cache_key: None,
        reasoning: None,
        safety_identifier: None,
        service_tier: None,
        temperature: None,
        text: None,
        tool_choice: None,
        tools: None,
        top_logprobs: None,
        top_p: None,
        truncation: None,
        user: None,
    };

    /// The echoed fields of a request body already known to be a valid request.
    pub fn of(body: &str) -> Echo {
        serde_json::from_str(body).unwrap_or_default()
    }

    /// The members of the `response` object: the client's values, else OpenAI's defaults.
    pub fn fields(&self) -> Echoed<'_> {
        Echoed {
            instructions: sent(&self.instructions),
            max_output_tokens: sent(&self.max_output_tokens),
            max_tool_calls: sent(&self.max_tool_calls),
            metadata: Or::of(sent(&self.metadata), Empty {}),
            parallel_tool_calls: Or::of(sent(&self.parallel_tool_calls), true),
            prompt_cache_key: sent(&self.prompt_cache_key),
            reasoning: Or::of(
                sent(&self.reasoning),
                ReasoningOut {
                    effort: None,
                    summary: None,
                },
            ),
            safety_identifier: sent(&self.safety_identifier),
            service_tier: Or::of(sent(&self.service_tier), "default"),
            temperature: Or::of(sent(&self.temperature), 1.0),
            text: Or::of(
                sent(&self.text),
                TextOut {
                    format: FormatOut { kind: "text" },
                },
            ),
            tool_choice: Or::of(sent(&self.tool_choice), "auto"),
            tools: Or::of(sent(&self.tools), [(); 0]),
            top_logprobs: Or::of(sent(&self.top_logprobs), 0),
            top_p: Or::of(sent(&self.top_p), 1.0),
            truncation: Or::of(sent(&self.truncation), "disabled"),
            user: sent(&self.user),
        }
    }
}

/// A member the client sent (`null` counts as not sent).
fn sent(v: &Option<Box<RawValue>>) -> Option<&RawValue> {
    v.as_deref().filter(|r| r.get() != "null")
}

/// The client's JSON text, or the default.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
pub enum Or<'a, T> {
    Sent(&'a RawValue),
    Default(T),
}

impl<'a, T> Or<'a, T> {
    fn of(sent: Option<&'a RawValue>, default: T) -> Self {
        match sent {
            Some(r) => Or::Sent(r),
            None => Or::Default(default),
        }
    }
}

/// `{}`
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Empty {}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct ReasoningOut {
    pub effort: Option<()>,
    pub summary: Option<()>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct TextOut {
    pub format: FormatOut,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct FormatOut {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// The echoed members, flattened into the `response` object.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Echoed<'a> {
    pub instructions: Option<&'a RawValue>,
    pub max_output_tokens: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tool_calls: Option<&'a RawValue>,
    pub metadata: Or<'a, Empty>,
    pub parallel_tool_calls: Or<'a, bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<&'a RawValue>,
    pub reasoning: Or<'a, ReasoningOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<&'a RawValue>,
    pub service_tier: Or<'a, &'static str>,
    pub temperature: Or<'a, f64>,
    pub text: Or<'a, TextOut>,
    pub tool_choice: Or<'a, &'static str>,
    pub tools: Or<'a, [(); 0]>,
    pub top_logprobs: Or<'a, u32>,
    pub top_p: Or<'a, f64>,
    pub truncation: Or<'a, &'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a RawValue>,
}
