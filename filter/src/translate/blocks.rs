//! Events → the dialects whose answer is a list of blocks written one after the other:
//! Anthropic content blocks (`messages::stream`) and Responses output items
//! (`responses::stream`). Both open a block for reasoning, text or each tool call,
//! append deltas to the open one, close it when another begins, and end with the finish
//! reason and usage; only the events they write differ.

use crate::error::GatewayError;
use crate::translate::events::{Event, Identity, Writer};
use crate::usage::TokenUsage;

/// The sort of a block, a tool call by its provider index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Reasoning,
    Text,
    Call(u32),
}

/// A block to open.
#[derive(Debug, Clone, Copy)]
pub enum Block<'a> {
    Reasoning,
    Text,
    Call {
        index: u32,
        id: &'a str,
        name: &'a str,
    },
}

/// One block dialect's writer. Choices are not told apart: these clients ask for one.
pub trait BlockWriter {
    /// The answer begins: the dialect's opening events (once).
    fn start(&mut self, out: &mut Vec<u8>, id: &str, model: &str);
    /// The sort of the open block, if one is open.
    fn open_kind(&self) -> Option<Kind>;
    /// Closes the open block (if any) and opens `block`.
    fn open(&mut self, out: &mut Vec<u8>, block: Block<'_>);
    /// Appends `text` to the open block.
    fn delta(&mut self, out: &mut Vec<u8>, text: &str);
    /// Closes the open block (if any).
    fn close(&mut self, out: &mut Vec<u8>);
    /// The answer's OpenAI finish reason.
    fn finished(&mut self, reason: &str);
    fn usage(&mut self, usage: TokenUsage);
    /// The stream ended well: the dialect's closing events.
    fn done(&mut self, out: &mut Vec<u8>);
    /// The stream failed.
    fn fail(&mut self, out: &mut Vec<u8>, e: &GatewayError);
}

/// Makes the open block one of `kind` (reasoning or text), then appends `text`.
fn append<B: BlockWriter>(w: &mut B, out: &mut Vec<u8>, block: Block<'_>, text: &str) {
    if text.is_empty() {
        return;
    }
    if w.open_kind() != Some(block.kind()) {
        w.open(out, block);
    }
    w.delta(out, text);
}

/// Appends tool-call text to call `index` if it is the open block: providers send calls
/// one after the other, so a delta of a closed call cannot be placed (and does not come).
fn arguments<B: BlockWriter>(w: &mut B, out: &mut Vec<u8>, index: u32, text: &str) {
    if !text.is_empty() && w.open_kind() == Some(Kind::Call(index)) {
        w.delta(out, text);
    }
}

impl Block<'_> {
    fn kind(&self) -> Kind {
        match self {
            Block::Reasoning => Kind::Reasoning,
            Block::Text => Kind::Text,
            Block::Call { index, .. } => Kind::Call(*index),
        }
    }
}

impl<B: BlockWriter> Writer for B {
    fn write(&mut self, ev: &Event<'_>, ident: &Identity, out: &mut Vec<u8>) {
        match *ev {
            Event::Start => self.start(out, &ident.id, &ident.model),
            Event::Role { .. } => {}
            Event::Reasoning { text, .. } => append(self, out, Block::Reasoning, text),
            Event::Text { text, .. } => append(self, out, Block::Text, text),
            Event::ToolCall {
                index,
                id,
                name,
                arguments: text,
                ..
            } => {
                self.open(out, Block::Call { index, id, name });
                arguments(self, out, index, text);
            }
            Event::ToolArguments {
                index,
                arguments: text,
                ..
            } => arguments(self, out, index, text),
            Event::Finish { reason, .. } => {
                self.close(out);
                self.finished(reason);
            }
            Event::Usage(u) => self.usage(u),
            Event::Done => self.done(out),
            Event::Error(e) => self.fail(out, e),
        }
    }
}
