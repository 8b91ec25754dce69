//! Hand-written `Deserialize` for the request's role-tagged messages and their content.
//! serde's derived internally tagged and untagged enums buffer every value through its
//! private `Content` tree before choosing a variant; these read the JSON once. The tag may
//! come after the other fields, so fields are read into locals and the variant built at
//! the end; a field whose meaning depends on a tag not yet seen is kept as raw JSON and
//! read (or ignored, as the derived code did) once the tag is known.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::openai::{Content, ContentPart, ImageUrl, Message, ToolCall, ToolChoice};
use super::text::Text;

const ROLES: &[&str] = &["system", "developer", "user", "assistant", "tool"];

/// A field that only some variants have: read when the tag says it is wanted, ignored when
/// it is not, kept raw while the tag is unknown.
enum Slot<T> {
    Absent,
    Value(T),
    Raw(Box<RawValue>),
    Ignored,
}

impl<T: DeserializeOwned> Slot<T> {
    /// Reads the next map value into the slot; `wanted` is `None` while the tag is unknown.
    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
        wanted: Option<bool>,
        name: &'static str,
    ) -> Result<(), A::Error> {
        if matches!(self, Slot::Value(_) | Slot::Raw(_)) && wanted != Some(false) {
            return Err(de::Error::duplicate_field(name));
        }
        *self = match wanted {
            Some(true) => Slot::Value(map.next_value()?),
            Some(false) => {
                map.next_value::<IgnoredAny>()?;
                Slot::Ignored
            }
            None => Slot::Raw(map.next_value()?),
        };
        Ok(())
    }

    /// The value once the tag is known to want it (`None` when absent).
    fn take<E: de::Error>(self) -> Result<Option<T>, E> {
        match self {
            Slot::Value(v) => Ok(Some(v)),
            Slot::Raw(raw) => serde_json::from_str(raw.get())
                .map(Some)
                .map_err(|e| E::custom(without_position(&e))),
            Slot::Absent | Slot::Ignored => Ok(None),
        }
    }
}

fn required<T, E: de::Error>(v: Option<T>, name: &'static str) -> Result<T, E> {
    v.ok_or_else(|| E::missing_field(name))
}

/// A map key: borrowed when the JSON key has no escapes, so matching it allocates nothing.
struct Key<'a>(std::borrow::Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(v.into()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(v.to_owned().into()))
            }
        }
        d.deserialize_str(V)
    }
}

/// A tag value (`role`, `type`), as the derived code reads a variant identifier.
struct Tag<'a>(std::borrow::Cow<'a, str>);

impl<'de> Deserialize<'de> for Tag<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tag<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("variant identifier")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Tag<'de>, E> {
                Ok(Tag(v.into()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Tag<'de>, E> {
                Ok(Tag(v.to_owned().into()))
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
}

fn role<E: de::Error>(tag: &str) -> Result<Role, E> {
    Ok(match tag {
        "system" => Role::System,
        "developer" => Role::Developer,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "tool" => Role::Tool,
        other => return Err(E::unknown_variant(other, ROLES)),
    })
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(MessageVisitor)
    }
}

struct MessageVisitor;

impl<'de> Visitor<'de> for MessageVisitor {
    type Value = Message;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("internally tagged enum Message")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Message, A::Error> {
        let mut role_tag: Option<Role> = None;
        // Outer `Option`: present; inner: `null` (allowed for assistant turns only).
        let mut content: Option<Option<Content>> = None;
        let mut tool_calls: Slot<Option<Vec<ToolCall>>> = Slot::Absent;
        let mut tool_call_id: Slot<String> = Slot::Absent;
        while let Some(key) = map.next_key::<Key>()? {
            match key.0.as_ref() {
                "role" => {
                    if role_tag.is_some() {
                        return Err(de::Error::duplicate_field("role"));
                    }
                    role_tag = Some(role(&map.next_value::<Tag>()?.0)?);
                }
                "content" => {
                    if content.is_some() {
                        return Err(de::Error::duplicate_field("content"));
                    }
                    content = Some(map.next_value()?);
                }
                "tool_calls" => {
                    let wanted = role_tag.map(|r| r == Role::Assistant);
                    tool_calls.read(&mut map, wanted, "tool_calls")?;
                }
                "tool_call_id" => {
                    let wanted = role_tag.map(|r| r == Role::Tool);
                    tool_call_id.read(&mut map, wanted, "tool_call_id")?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let role_tag = required(role_tag, "role")?;
        if role_tag == Role::Assistant {
            return Ok(Message::Assistant {
                content: content.flatten(),
                tool_calls: tool_calls.take()?.flatten(),
            });
        }
        let content = match content {
            None => return Err(de::Error::missing_field("content")),
            Some(None) => return Err(de::Error::custom(NOT_CONTENT)),
            Some(Some(c)) => c,
        };
        Ok(match role_tag {
            Role::System => Message::System { content },
            Role::Developer => Message::Developer { content },
            Role::User => Message::User { content },
            Role::Assistant | Role::Tool => Message::Tool {
                content,
                tool_call_id: required(tool_call_id.take()?, "tool_call_id")?,
            },
        })
    }
}

/// What the derived untagged `Content` said for a value that is neither form.
const NOT_CONTENT: &str = "data did not match any variant of untagged enum Content";

/// Read as raw JSON first: a string stays the client's literal ([`Text`]), an array is then
/// read as parts (a second pass over the parts only, which are rarely the bulk of a body).
impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        match raw.get().as_bytes().first() {
            Some(b'"') => Text::from_raw(raw)
                .map(Content::Text)
                .map_err(de::Error::custom),
            Some(b'[') => serde_json::from_str(raw.get())
                .map(Content::Parts)
                .map_err(|e| de::Error::custom(without_position(&e))),
            _ => Err(de::Error::custom(NOT_CONTENT)),
        }
    }
}

/// Read as raw JSON first, like [`Content`]: the derived untagged enum reported any error
/// inside a named choice (a duplicate `name`) only as "did not match any variant".
impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let read = match raw.get().as_bytes().first() {
            Some(b'"') => serde_json::from_str(raw.get()).map(ToolChoice::Mode),
            Some(b'{') => serde_json::from_str(raw.get()).map(ToolChoice::Named),
            _ => return Err(de::Error::custom(NOT_TOOL_CHOICE)),
        };
        read.map_err(|e| de::Error::custom(without_position(&e)))
    }
}

const NOT_TOOL_CHOICE: &str = "data did not match any variant of untagged enum ToolChoice";

/// An error's message without serde_json's "at line L column C" (positions inside the
/// re-read array; the outer parse adds the position in the body).
fn without_position(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(at) => msg.get(..at).unwrap_or(&msg).to_string(),
        None => msg,
    }
}

impl<'de> Deserialize<'de> for ContentPart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(PartVisitor)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PartType {
    Text,
    ImageUrl,
    Other,
}

struct PartVisitor;

impl<'de> Visitor<'de> for PartVisitor {
    type Value = ContentPart;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("internally tagged enum ContentPart")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ContentPart, A::Error> {
        let mut kind: Option<PartType> = None;
        let mut text: Slot<Text> = Slot::Absent;
        let mut image_url: Slot<ImageUrl> = Slot::Absent;
        while let Some(key) = map.next_key::<Key>()? {
            match key.0.as_ref() {
                "type" => {
                    if kind.is_some() {
                        return Err(de::Error::duplicate_field("type"));
                    }
                    kind = Some(match map.next_value::<Tag>()?.0.as_ref() {
                        "text" => PartType::Text,
                        "image_url" => PartType::ImageUrl,
                        _ => PartType::Other, // `#[serde(other)]`: refused by translators
                    });
                }
                "text" => text.read(&mut map, kind.map(|k| k == PartType::Text), "text")?,
                "image_url" => {
                    let wanted = kind.map(|k| k == PartType::ImageUrl);
                    image_url.read(&mut map, wanted, "image_url")?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(match required(kind, "type")? {
            PartType::Text => ContentPart::Text {
                text: required(text.take()?, "text")?,
            },
            PartType::ImageUrl => ContentPart::ImageUrl {
                image_url: required(image_url.take()?, "image_url")?,
            },
            PartType::Other => ContentPart::Unsupported,
        })
    }
}

#[cfg(test)]
#[path = "openai_de_tests.rs"]
mod tests;
