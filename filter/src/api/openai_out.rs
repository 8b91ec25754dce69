//! `ChatResponse` written by hand: the same bytes as its derived `Serialize`
//! (field order, `skip_serializing_if`, `None` as `null`), without serde_json's
//! per-field machinery. The tests hold the two together. Measured with bench/icount.py:
//! see bench/fastpaths.md.

use super::json_out as j;
use super::openai::{ChatResponse, Choice, ResponseMessage, ToolCallOut, Usage};
use super::text::TextOut;

impl ChatResponse<'_> {
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"id\":");
        j::str(out, self.id);
        out.extend_from_slice(b",\"object\":");
        j::str(out, self.object);
        out.extend_from_slice(b",\"created\":");
        j::u64(out, self.created);
        out.extend_from_slice(b",\"model\":");
        j::str(out, self.model);
        out.extend_from_slice(b",\"choices\":");
        j::array(out, &self.choices, |out, c| c.write_json(out));
        out.extend_from_slice(b",\"usage\":");
        self.usage.write_json(out);
        out.push(b'}');
    }
}

impl Choice<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"index\":");
        j::u64(out, self.index.into());
        out.extend_from_slice(b",\"message\":");
        self.message.write_json(out);
        // `logprobs` is `Option<()>`: serde writes `Some(())` as `null` too.
        out.extend_from_slice(b",\"logprobs\":null,\"finish_reason\":");
        match self.finish_reason {
            Some(f) => j::str(out, f),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }
}

impl ResponseMessage<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"role\":");
        j::str(out, self.role);
        out.extend_from_slice(b",\"content\":");
        match &self.content {
            Some(t) => t.write_json(out),
            None => out.extend_from_slice(b"null"),
        }
        if let Some(r) = &self.reasoning_content {
            out.extend_from_slice(b",\"reasoning_content\":");
            j::str(out, r);
        }
        if let Some(calls) = &self.tool_calls {
            out.extend_from_slice(b",\"tool_calls\":");
            j::array(out, calls, |out, c| c.write_json(out));
        }
        out.push(b'}');
    }
}

impl ToolCallOut<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"id\":");
        j::str(out, self.id);
        out.extend_from_slice(b",\"type\":");
        j::str(out, self.kind);
        out.extend_from_slice(b",\"function\":{\"name\":");
        j::str(out, self.function.name);
        out.extend_from_slice(b",\"arguments\":");
        j::str(out, self.function.arguments);
        out.extend_from_slice(b"}}");
    }
}

impl Usage {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"prompt_tokens\":");
        j::u64(out, self.prompt_tokens);
        out.extend_from_slice(b",\"completion_tokens\":");
        j::u64(out, self.completion_tokens);
        out.extend_from_slice(b",\"total_tokens\":");
        j::u64(out, self.total_tokens);
        if let Some(d) = &self.prompt_tokens_details {
            out.extend_from_slice(b",\"prompt_tokens_details\":{\"cached_tokens\":");
            j::u64(out, d.cached_tokens);
            out.push(b'}');
        }
        if let Some(d) = &self.completion_tokens_details {
            out.extend_from_slice(b",\"completion_tokens_details\":{\"reasoning_tokens\":");
            j::u64(out, d.reasoning_tokens);
            out.push(b'}');
        }
        out.push(b'}');
    }
}

impl TextOut<'_> {
    /// A client's or provider's literal verbatim, the gateway's own text escaped.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            TextOut::Json(t) => j::raw(out, t.raw()),
            TextOut::Str(s) => j::str(out, s),
            TextOut::Owned(s) => j::str(out, s),
        }
    }
}

#[cfg(test)]
#[path = "openai_out_tests.rs"]
mod tests;
