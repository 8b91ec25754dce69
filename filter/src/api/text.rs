//! Text that passes through the gateway unchanged, kept as the JSON string literal it came
//! in (quotes and escapes included) and written out verbatim: no unescaping into a
//! `String` on the way in, no escaping again on the way out. Most of a chat request's and
//! an answer's bytes are such text.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A JSON string literal, checked to hold a valid string: serde_json's raw capture
/// already checks UTF-8, control characters and escape syntax; `\u` surrogates must also
/// pair up, as when serde_json decodes a `String`.
pub struct Text {
    raw: Box<RawValue>,
    /// Whether the literal has escapes (decoding it then allocates).
    escaped: bool,
}

const NOT_A_STRING: &str = "invalid type: expected a string";
const LONE_SURROGATE: &str = "lone leading surrogate in hex escape";

impl Text {
    /// `raw` must be one JSON value; anything but a valid string is refused.
    pub fn from_raw(raw: Box<RawValue>) -> Result<Text, &'static str> {
        let inner = inner(raw.get()).ok_or(NOT_A_STRING)?;
        let escaped = crate::strs::contains_byte(inner.as_bytes(), b'\\');
        if escaped && !paired_surrogates(inner) {
            return Err(LONE_SURROGATE);
        }
        Ok(Text { raw, escaped })
    }

    /// The literal, quotes included.
    pub fn raw(&self) -> &RawValue {
        &self.raw
    }

    pub fn is_empty(&self) -> bool {
        self.raw.get().len() == 2
    }

    /// Empty or whitespace only (providers such as Anthropic and Bedrock refuse such text
    /// blocks). Reads the literal up to its first non-blank character, which for real
    /// text is the first one; only text starting with non-ASCII or an unusual escape is
    /// decoded.
    pub fn is_blank(&self) -> bool {
        let inner = inner(self.raw.get()).unwrap_or("");
        let mut rest = inner.as_bytes();
        loop {
            match rest {
                [] => return true,
                [b' ', tail @ ..] | [b'\\', b'n' | b't' | b'r' | b'f', tail @ ..] => rest = tail,
                [b'\\', b'u', b'0', b'0', b'2', b'0', tail @ ..]
                | [b'\\', b'u', b'0', b'0', b'0', b'9' | b'a' | b'A' | b'd' | b'D', tail @ ..] => {
                    rest = tail
                }
                [b, ..] if b.is_ascii() && *b != b'\\' => return false,
                // Non-ASCII (Unicode spaces) or another escape: decide on the decoded text.
                _ => return self.as_str().trim().is_empty(),
            }
        }
    }

    /// The decoded text: borrowed from the literal when it has no escapes.
    pub fn as_str(&self) -> Cow<'_, str> {
        let inner = inner(self.raw.get()).unwrap_or("");
        if !self.escaped {
            return Cow::Borrowed(inner);
        }
        // Checked when built, so this cannot fail; the literal is the fallback anyway.
        serde_json::from_str::<String>(self.raw.get()).map_or(Cow::Borrowed(inner), Cow::Owned)
    }

    pub fn char_count(&self) -> usize {
        crate::strs::char_count(&self.as_str())
    }
}

/// The inside of a string literal (without its quotes); `None` if it is no string.
fn inner(lit: &str) -> Option<&str> {
    lit.strip_prefix('"')?.strip_suffix('"')
}

/// Whether every `\u` surrogate escape of a well-formed literal's inside is a high one
/// directly followed by a low one. Only literals with escapes are walked.
fn paired_surrogates(inner: &str) -> bool {
    let mut rest = inner;
    let mut want_low = false;
    while let Some(pos) = rest.find('\\') {
        if want_low && pos != 0 {
            return false;
        }
        let esc = rest.get(pos + 1..).unwrap_or("");
        let Some(hex) = esc.strip_prefix('u') else {
            if want_low {
                return false;
            }
            rest = esc.get(1..).unwrap_or(""); // the escaped character is ASCII
            continue;
        };
        let Some(n) = hex.get(..4).and_then(|h| u16::from_str_radix(h, 16).ok()) else {
            return false;
        };
        match n {
            0xD800..=0xDBFF if !want_low => want_low = true,
            0xDC00..=0xDFFF if want_low => want_low = false,
            _ if want_low => return false,
            0xDC00..=0xDFFF => return false,
            _ => {}
        }
        rest = hex.get(4..).unwrap_or("");
    }
    !want_low
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Text::from_raw(Box::<RawValue>::deserialize(d)?).map_err(de::Error::custom)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

/// Like a `String`'s: the decoded text, quoted.
impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.as_str(), f)
    }
}

/// Outgoing text: a client's or provider's literal verbatim, or text the gateway made.
#[derive(Debug)]
pub enum TextOut<'a> {
    Json(&'a Text),
    Str(&'a str),
    Owned(String),
}

impl<'a> TextOut<'a> {
    pub fn as_str(&self) -> Cow<'_, str> {
        match self {
            TextOut::Json(t) => t.as_str(),
            TextOut::Str(t) => Cow::Borrowed(t),
            TextOut::Owned(t) => Cow::Borrowed(t),
        }
    }

    /// Appends `more` to `acc`: a lone piece stays as it is, joined pieces are decoded.
    pub fn append(acc: &mut Option<TextOut<'a>>, more: TextOut<'a>) {
        *acc = Some(match acc.take() {
            None => more,
            Some(TextOut::Owned(mut s)) => {
                s.push_str(&more.as_str());
                TextOut::Owned(s)
            }
            Some(first) => TextOut::Owned(first.as_str().into_owned() + &more.as_str()),
        });
    }
}

impl Serialize for TextOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TextOut::Json(t) => t.serialize(s),
            TextOut::Str(t) => s.serialize_str(t),
            TextOut::Owned(t) => s.serialize_str(t),
        }
    }
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;
