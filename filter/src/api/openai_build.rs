//! OpenAI chat requests the gateway builds itself (for clients of another dialect,
//! starting from `ChatRequest::default()`): text made into a [`Text`], and the request
//! written back as OpenAI JSON for the providers that take that format as it is.
//!
//! The writer puts the fields in a fixed order (the order the golden vectors of
//! `/v1/messages` to OpenAI-format providers pin) and leaves out every unset one.

use serde::ser::{Error as _, Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::value::RawValue;

use super::openai::{
    ChatRequest, Content, ContentPart, FunctionCall, FunctionDef, ImageUrl, JsonSchemaFormat,
    Message, NamedToolChoice, ResponseFormat, Stop, StreamOptions, Tool, ToolCall, ToolChoice,
};
use super::text::Text;

/// `s` as the JSON string literal a parsed request would hold.
pub fn text(s: &str) -> Result<Text, serde_json::Error> {
    let raw = RawValue::from_string(serde_json::to_string(s)?)?;
    Text::from_raw(raw).map_err(serde_json::Error::custom)
}

/// The request as OpenAI JSON.
pub fn to_vec(req: &ChatRequest) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Written(req))
}

/// Serialises a borrowed value with the writer below (the types are `api::openai`'s).
struct Written<'a, T>(&'a T);

fn entry<M: SerializeMap, T: Serialize + ?Sized>(
    map: &mut M,
    key: &'static str,
    value: Option<&T>,
) -> Result<(), M::Error> {
    match value {
        Some(v) => map.serialize_entry(key, v),
        None => Ok(()),
    }
}

fn list<S: Serializer, T>(s: S, items: &[T]) -> Result<S::Ok, S::Error>
where
    for<'a> Written<'a, T>: Serialize,
{
    let mut seq = s.serialize_seq(Some(items.len()))?;
    for item in items {
        seq.serialize_element(&Written(item))?;
    }
    seq.end()
}

impl Serialize for Written<'_, ChatRequest> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        if r.logit_bias.is_some() {
            return Err(S::Error::custom("logit_bias cannot be written"));
        }
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("model", &r.model)?;
        m.serialize_entry("messages", &Written(&r.messages))?;
        entry(&mut m, "max_tokens", r.max_tokens.as_ref())?;
        entry(
            &mut m,
            "max_completion_tokens",
            r.max_completion_tokens.as_ref(),
        )?;
        entry(&mut m, "stop", r.stop.as_ref().map(Written).as_ref())?;
        entry(&mut m, "temperature", r.temperature.as_ref())?;
        entry(&mut m, "top_p", r.top_p.as_ref())?;
        entry(&mut m, "tools", r.tools.as_ref().map(Written).as_ref())?;
        entry(
            &mut m,
            "tool_choice",
            r.tool_choice.as_ref().map(Written).as_ref(),
        )?;
        entry(
            &mut m,
            "parallel_tool_calls",
            r.parallel_tool_calls.as_ref(),
        )?;
        entry(&mut m, "user", r.user.as_ref())?;
        entry(&mut m, "n", r.n.as_ref())?;
        let format = r.response_format.as_ref().map(Written);
        entry(&mut m, "response_format", format.as_ref())?;
        entry(&mut m, "reasoning_effort", r.reasoning_effort.as_ref())?;
        entry(&mut m, "seed", r.seed.as_ref())?;
        entry(&mut m, "frequency_penalty", r.frequency_penalty.as_ref())?;
        entry(&mut m, "presence_penalty", r.presence_penalty.as_ref())?;
        entry(&mut m, "logprobs", r.logprobs.as_ref())?;
        entry(&mut m, "top_logprobs", r.top_logprobs.as_ref())?;
        entry(&mut m, "stream", r.stream.as_ref())?;
        let options = r.stream_options.as_ref().map(Written);
        entry(&mut m, "stream_options", options.as_ref())?;
        m.end()
    }
}

impl Serialize for Written<'_, Vec<Message>> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        list(s, self.0)
    }
}

impl Serialize for Written<'_, Message> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self.0 {
            Message::System { content } => {
                m.serialize_entry("role", "system")?;
                m.serialize_entry("content", &Written(content))?;
            }
            Message::Developer { content } => {
                m.serialize_entry("role", "developer")?;
                m.serialize_entry("content", &Written(content))?;
            }
            Message::User { content } => {
                m.serialize_entry("role", "user")?;
                m.serialize_entry("content", &Written(content))?;
            }
            Message::Assistant {
                content,
                tool_calls,
            } => {
                m.serialize_entry("role", "assistant")?;
                m.serialize_entry("content", &content.as_ref().map(Written))?;
                entry(
                    &mut m,
                    "tool_calls",
                    tool_calls.as_ref().map(Written).as_ref(),
                )?;
            }
            Message::Tool {
                content,
                tool_call_id,
            } => {
                m.serialize_entry("role", "tool")?;
                m.serialize_entry("tool_call_id", tool_call_id)?;
                m.serialize_entry("content", &Written(content))?;
            }
        }
        m.end()
    }
}

impl Serialize for Written<'_, Content> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Content::Text(t) => t.serialize(s),
            Content::Parts(parts) => list(s, parts),
        }
    }
}

impl Serialize for Written<'_, ContentPart> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self.0 {
            ContentPart::Text { text } => {
                m.serialize_entry("type", "text")?;
                m.serialize_entry("text", text)?;
            }
            ContentPart::ImageUrl { image_url } => {
                m.serialize_entry("type", "image_url")?;
                m.serialize_entry("image_url", &Written(image_url))?;
            }
            ContentPart::Unsupported => {
                return Err(S::Error::custom("a content part of an unsupported type"))
            }
        }
        m.end()
    }
}

impl Serialize for Written<'_, ImageUrl> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("url", &self.0.url)?;
        entry(&mut m, "detail", self.0.detail.as_ref())?;
        m.end()
    }
}

impl Serialize for Written<'_, Vec<ToolCall>> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        list(s, self.0)
    }
}

impl Serialize for Written<'_, ToolCall> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &c.id)?;
        m.serialize_entry("type", c.kind.as_deref().unwrap_or("function"))?;
        m.serialize_entry("function", &Written(&c.function))?;
        m.end()
    }
}

impl Serialize for Written<'_, FunctionCall> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", &self.0.name)?;
        m.serialize_entry("arguments", &self.0.arguments)?;
        m.end()
    }
}

impl Serialize for Written<'_, Vec<Tool>> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        list(s, self.0)
    }
}

impl Serialize for Written<'_, Tool> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", &self.0.kind)?;
        m.serialize_entry("function", &Written(&self.0.function))?;
        m.end()
    }
}

impl Serialize for Written<'_, FunctionDef> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", &f.name)?;
        entry(&mut m, "description", f.description.as_ref())?;
        entry(&mut m, "parameters", f.parameters.as_deref())?;
        m.end()
    }
}

impl Serialize for Written<'_, ToolChoice> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            ToolChoice::Mode(mode) => s.serialize_str(mode),
            ToolChoice::Named(named) => Written(named).serialize(s),
        }
    }
}

impl Serialize for Written<'_, NamedToolChoice> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", &self.0.kind)?;
        m.serialize_entry("function", &Name(&self.0.function.name))?;
        m.end()
    }
}

/// `{"name": …}`
struct Name<'a>(&'a str);

impl Serialize for Name<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("name", self.0)?;
        m.end()
    }
}

impl Serialize for Written<'_, Stop> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Stop::One(one) => s.serialize_str(one),
            Stop::Many(many) => many.serialize(s),
        }
    }
}

impl Serialize for Written<'_, StreamOptions> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        entry(&mut m, "include_usage", self.0.include_usage.as_ref())?;
        m.end()
    }
}

impl Serialize for Written<'_, ResponseFormat> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", &self.0.kind)?;
        let schema = self.0.json_schema.as_ref().map(Written);
        entry(&mut m, "json_schema", schema.as_ref())?;
        m.end()
    }
}

impl Serialize for Written<'_, JsonSchemaFormat> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0;
        let mut m = s.serialize_map(None)?;
        entry(&mut m, "name", f.name.as_ref())?;
        entry(&mut m, "description", f.description.as_ref())?;
        entry(&mut m, "schema", f.schema.as_deref())?;
        entry(&mut m, "strict", f.strict.as_ref())?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever the writer writes, the parser reads back to the same bytes.
    #[test]
    fn written_requests_read_back_the_same() {
        let body = br#"{"model":"m","messages":[{"role":"system","content":"be \"brief\""},{"role":"developer","content":"d"},{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:x","detail":"low"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}],"max_tokens":5,"stop":["x"],"temperature":0.5,"top_p":1.0,"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false,"user":"u","n":1,"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"},"strict":true}},"reasoning_effort":"low","seed":3,"stream":true,"stream_options":{"include_usage":true}}"#;
        let req: ChatRequest = serde_json::from_slice(body).unwrap();
        let written = to_vec(&req).unwrap();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            std::str::from_utf8(body).unwrap()
        );
    }

    #[test]
    fn a_default_request_writes_model_and_messages_only() {
        let req = ChatRequest {
            model: "m".into(),
            messages: vec![Message::User {
                content: Content::Text(text("line\n\"q\"").unwrap()),
            }],
            ..ChatRequest::default()
        };
        assert_eq!(
            to_vec(&req).unwrap(),
            br#"{"model":"m","messages":[{"role":"user","content":"line\n\"q\""}]}"#
        );
    }

    #[test]
    fn unwritable_parts_are_errors() {
        let req = ChatRequest {
            messages: vec![Message::User {
                content: Content::Parts(vec![ContentPart::Unsupported]),
            }],
            ..ChatRequest::default()
        };
        assert!(to_vec(&req).is_err());
    }
}
