//! `MessagesRequest` written by hand: the same bytes as its derived `Serialize`. The
//! frame, the messages' roles and text blocks and the scalar options are literal bytes;
//! the rare, nested parts (tools, tool choice, thinking, non-text blocks) still go
//! through serde_json. The tests hold the two together. Measured with bench/icount.py:
//! see bench/fastpaths.md.

use crate::api::json_out as j;
use crate::translate::anthropic::wire::{Block, Message, MessagesRequest, Role};

impl MessagesRequest<'_> {
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        // `messages` is never skipped, so a comma goes before every field but the first
        // written, which is `model`, `anthropic_version` or `messages`.
        out.push(b'{');
        if let Some(m) = self.model {
            out.extend_from_slice(b"\"model\":");
            j::str(out, m);
            out.push(b',');
        }
        if let Some(v) = self.anthropic_version {
            out.extend_from_slice(b"\"anthropic_version\":");
            j::str(out, v);
            out.push(b',');
        }
        out.extend_from_slice(b"\"messages\":");
        j::try_array(out, &self.messages, |out, m| m.write_json(out))?;
        if let Some(s) = &self.system {
            out.extend_from_slice(b",\"system\":");
            s.write_json(out);
        }
        out.extend_from_slice(b",\"max_tokens\":");
        j::u64(out, self.max_tokens.into());
        if let Some(stops) = &self.stop_sequences {
            out.extend_from_slice(b",\"stop_sequences\":");
            j::array(out, stops, |out, s| j::str(out, s));
        }
        if let Some(t) = self.temperature {
            out.extend_from_slice(b",\"temperature\":");
            j::f64(out, t)?;
        }
        if let Some(p) = self.top_p {
            out.extend_from_slice(b",\"top_p\":");
            j::f64(out, p)?;
        }
        if let Some(tools) = &self.tools {
            out.extend_from_slice(b",\"tools\":");
            j::value(out, tools)?;
        }
        if let Some(c) = &self.tool_choice {
            out.extend_from_slice(b",\"tool_choice\":");
            j::value(out, c)?;
        }
        if let Some(m) = &self.metadata {
            out.extend_from_slice(b",\"metadata\":{\"user_id\":");
            j::str(out, m.user_id);
            out.push(b'}');
        }
        if let Some(s) = self.stream {
            out.extend_from_slice(b",\"stream\":");
            j::bool(out, s);
        }
        if let Some(t) = &self.thinking {
            out.extend_from_slice(b",\"thinking\":");
            j::value(out, t)?;
        }
        out.push(b'}');
        Ok(())
    }
}

impl Message<'_> {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        let head: &[u8] = match self.role {
            Role::User => b"{\"role\":\"user\",\"content\":",
            Role::Assistant => b"{\"role\":\"assistant\",\"content\":",
        };
        out.extend_from_slice(head);
        j::try_array(out, &self.content, |out, b| match b {
            // Internally tagged: serde writes the tag first, then the fields.
            Block::Text { text } => {
                out.extend_from_slice(b"{\"type\":\"text\",\"text\":");
                j::raw(out, text.raw());
                out.push(b'}');
                Ok(())
            }
            other => j::value(out, other),
        })?;
        out.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
#[path = "wire_out_tests.rs"]
mod tests;
