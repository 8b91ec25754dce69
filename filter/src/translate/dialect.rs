//! The client's dialect of a stream, and the one place a provider's event decoder is
//! joined with that dialect's writer: a new dialect (the Responses API) is one variant
//! and one arm here.

use crate::codec::framed::Framing;
use crate::translate::chunks::ChunkWriter;
use crate::translate::events::{mapper, Decode};
use crate::translate::messages::stream::MessagesWriter;
use crate::translate::responses::names::ToolNames;
use crate::translate::responses::stream::ResponsesWriter;
use crate::translate::{StreamMapper, StreamSettings};

/// What the client reads: the dialect a stream is written in. A provider's decoder is
/// joined with the writer for it here, so a new dialect is one variant and one arm.
#[derive(Debug, Clone)]
pub enum Dialect {
    /// OpenAI `chat.completion.chunk` events.
    Chat(StreamSettings),
    /// Anthropic Messages events (`/v1/messages` served by another provider).
    Messages { created: u64 },
    /// OpenAI Responses API events (`/v1/responses` served by another provider); tool
    /// names are mapped back to what the client declared.
    Responses {
        created: u64,
        names: std::sync::Arc<ToolNames>,
        /// The request fields the `response` object repeats.
        echo: std::sync::Arc<crate::api::responses_echo::Echo>,
    },
}

impl Dialect {
    /// The answer's `created` time, for decoders whose provider does not send one.
    pub fn created(&self) -> u64 {
        match self {
            Dialect::Chat(settings) => settings.created,
            Dialect::Messages { created } | Dialect::Responses { created, .. } => *created,
        }
    }
}

/// The stream mapper for `decoder`'s frames, written in `to`.
pub fn render<F, D>(framing: F, decoder: D, to: Dialect) -> Box<dyn StreamMapper>
where
    F: Framing + 'static,
    D: Decode<Frame = F::Frame> + 'static,
{
    match to {
        Dialect::Chat(settings) => mapper(framing, decoder, ChunkWriter::new(settings)),
        Dialect::Messages { .. } => mapper(framing, decoder, MessagesWriter::new()),
        Dialect::Responses {
            created,
            names,
            echo,
        } => mapper(framing, decoder, ResponsesWriter::new(created, names, echo)),
    }
}
