//! Streams as events. A provider's decoder turns whole frames (from
//! [`codec::framed`](crate::codec::framed)) into [`Event`]s; a [`Writer`] renders them
//! in the client's dialect: OpenAI chat-completion chunks ([`chunks`](super::chunks)),
//! or Anthropic Messages and Responses events (block writers, [`blocks`](super::blocks)).
//! No dialect is reached by re-parsing another's bytes.
//!
//! [`EventStream`] joins one decoder and one writer (both static: the only dynamic call
//! per network chunk is the outer [`StreamMapper`]) and keeps what every stream tracks:
//! whether it ended, whether it failed, and how much answer it relayed.

use crate::codec::framed::{FrameError, FrameHandler, Framed, Framing};
use crate::error::GatewayError;
use crate::translate::finish::{FinishReasons, NONE};
use crate::translate::StreamMapper;
use crate::usage::TokenUsage;

/// One step of an answer. Choices and tool calls are numbered as OpenAI numbers them
/// (choice = position of first appearance; tool call = per choice, in order).
#[derive(Debug)]
pub enum Event<'a> {
    /// The answer's first output follows; its id and model are in [`Identity`].
    /// Emitted once, by the [`Sink`]: before the first output event, or when the decoder
    /// says so ([`Sink::start`]).
    Start,
    /// Choice `choice` begins (OpenAI's role chunk).
    Role {
        choice: u32,
    },
    Text {
        choice: u32,
        text: &'a str,
    },
    Reasoning {
        choice: u32,
        text: &'a str,
    },
    /// A tool call begins; `arguments` may already hold some (or all) of its JSON text.
    ToolCall {
        choice: u32,
        index: u32,
        id: &'a str,
        name: &'a str,
        arguments: &'a str,
    },
    /// More JSON text of tool call `index`.
    ToolArguments {
        choice: u32,
        index: u32,
        arguments: &'a str,
    },
    /// Choice `choice` ended, with OpenAI's finish reason (`stop`, `length`,
    /// `tool_calls`, `content_filter`).
    Finish {
        choice: u32,
        reason: &'a str,
    },
    /// The answer's usage, reported once near the end (before `Done`).
    Usage(TokenUsage),
    /// The stream ended well. Nothing follows.
    Done,
    /// The stream failed. Nothing follows.
    Error(&'a GatewayError),
}

impl Event<'_> {
    /// Characters of answer the event carries: what an abandoned stream is charged for.
    fn answer_chars(&self) -> u64 {
        let chars = |t: &str| t.chars().count() as u64;
        match self {
            Event::Text { text, .. } | Event::Reasoning { text, .. } => chars(text),
            Event::ToolCall { arguments, .. } | Event::ToolArguments { arguments, .. } => {
                chars(arguments)
            }
            _ => 0,
        }
    }

    /// Output of the answer (a chunk in the OpenAI stream): the answer starts before the
    /// first one.
    fn is_output(&self) -> bool {
        !matches!(self, Event::Start | Event::Done | Event::Error(_))
    }
}

/// The answer's id and model as the provider named them (OpenAI chunks repeat them).
#[derive(Debug, Default)]
pub struct Identity {
    pub id: String,
    pub model: String,
}

/// Renders events in one client dialect.
pub trait Writer {
    fn write(&mut self, ev: &Event<'_>, ident: &Identity, out: &mut Vec<u8>);
}

/// Turns a provider's frames into events.
pub trait Decode {
    type Frame;
    fn frame<W: Writer>(&mut self, frame: &Self::Frame, sink: &mut Sink<'_, W>);
    /// The body ended (every frame handled) and the stream is not done: close it
    /// (`Usage`, `Done`) or fail it.
    fn ended<W: Writer>(&mut self, sink: &mut Sink<'_, W>);
    fn usage(&self) -> TokenUsage;
    /// The answer characters relayed; `counted` is what the events carried.
    fn relayed_chars(&self, counted: u64) -> u64 {
        counted
    }
}

/// Content-block index → tool-call index, for providers that number tool calls by
/// their content block (Anthropic, Bedrock).
#[derive(Debug, Default)]
pub struct BlockTools(Vec<(u32, u32)>);

impl BlockTools {
    /// A tool call starts in `block`: its tool-call index.
    pub fn add(&mut self, block: u32) -> u32 {
        let tool = u32::try_from(self.0.len()).unwrap_or(u32::MAX);
        self.0.push((block, tool));
        tool
    }

    /// Deltas follow their block's start: searching from the newest block finds it at once.
    pub fn get(&self, block: u32) -> Option<u32> {
        self.0
            .iter()
            .rev()
            .find(|(b, _)| *b == block)
            .map(|(_, t)| *t)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What every event stream tracks besides its decoder and writer.
#[derive(Debug, Default)]
struct Progress {
    ident: Identity,
    started: bool,
    done: bool,
    failed: bool,
    relayed_chars: u64,
    finish: FinishReasons,
}

/// Where a decoder sends events; passes them to the writer and keeps the stream's state.
pub struct Sink<'a, W> {
    writer: &'a mut W,
    progress: &'a mut Progress,
    out: &'a mut Vec<u8>,
}

impl<W: Writer> Sink<'_, W> {
    pub fn emit(&mut self, ev: Event<'_>) {
        if ev.is_output() {
            self.start();
        }
        let p = &mut *self.progress;
        p.relayed_chars += ev.answer_chars();
        match ev {
            Event::Finish { choice, reason } => p.finish.set(choice, reason),
            Event::Done => p.done = true,
            Event::Error(_) => {
                p.done = true;
                p.failed = true;
            }
            _ => {}
        }
        self.writer.write(&ev, &p.ident, self.out);
    }

    /// Fail the stream with `e`.
    pub fn fail(&mut self, e: GatewayError) {
        self.emit(Event::Error(&e));
    }

    /// The answer has started (when it has not yet): `Start` goes to the writer.
    pub fn start(&mut self) {
        if !self.progress.started {
            self.progress.started = true;
            self.writer
                .write(&Event::Start, &self.progress.ident, self.out);
        }
    }

    /// The answer's id and model, as far as known; later output carries them.
    pub fn identify(&mut self, id: &str, model: &str) {
        let ident = &mut self.progress.ident;
        if ident.id != id {
            ident.id = id.to_string();
        }
        if ident.model != model {
            ident.model = model.to_string();
        }
    }
}

/// One decoder and one writer: the frame handler behind every translated stream.
pub struct EventStream<D, W> {
    decoder: D,
    writer: W,
    progress: Progress,
}

impl<D: Decode, W: Writer> EventStream<D, W> {
    fn sink<'a>(
        writer: &'a mut W,
        progress: &'a mut Progress,
        out: &'a mut Vec<u8>,
    ) -> Sink<'a, W> {
        Sink {
            writer,
            progress,
            out,
        }
    }
}

impl<D: Decode, W: Writer> FrameHandler for EventStream<D, W> {
    type Frame = D::Frame;

    fn frame(&mut self, frame: &D::Frame, out: &mut Vec<u8>) {
        let mut sink = Self::sink(&mut self.writer, &mut self.progress, out);
        self.decoder.frame(frame, &mut sink);
    }

    fn done(&self) -> bool {
        self.progress.done
    }

    fn broken(&mut self, error: &FrameError, out: &mut Vec<u8>) {
        let mut sink = Self::sink(&mut self.writer, &mut self.progress, out);
        sink.fail(GatewayError::bad_gateway(error.message()));
    }

    fn ended(&mut self, out: &mut Vec<u8>) {
        let mut sink = Self::sink(&mut self.writer, &mut self.progress, out);
        self.decoder.ended(&mut sink);
    }
}

/// What the gateway reads from a stream besides its bytes.
pub trait Tally {
    fn usage(&self) -> TokenUsage;
    fn failed(&self) -> bool;
    fn relayed_chars(&self) -> u64;
    /// See `StreamMapper::response_id`.
    fn response_id(&self) -> Option<&str> {
        None
    }

    /// The finish reasons read so far.
    fn finish_reasons(&self) -> &FinishReasons {
        &NONE
    }
}

impl<D: Decode, W: Writer> Tally for EventStream<D, W> {
    fn usage(&self) -> TokenUsage {
        self.decoder.usage()
    }

    fn failed(&self) -> bool {
        self.progress.failed
    }

    fn relayed_chars(&self) -> u64 {
        self.decoder.relayed_chars(self.progress.relayed_chars)
    }

    fn finish_reasons(&self) -> &FinishReasons {
        &self.progress.finish
    }
}

impl<F, H> StreamMapper for Framed<F, H>
where
    F: Framing,
    H: FrameHandler<Frame = F::Frame> + Tally,
{
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        Framed::push(self, chunk, out);
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        Framed::finish(self, out);
    }

    fn usage(&self) -> TokenUsage {
        self.handler.usage()
    }

    fn failed(&self) -> bool {
        self.handler.failed()
    }

    fn relayed_chars(&self) -> u64 {
        self.handler.relayed_chars()
    }

    fn response_id(&self) -> Option<&str> {
        self.handler.response_id()
    }

    fn finish_reasons(&self) -> &FinishReasons {
        self.handler.finish_reasons()
    }
}

/// The stream mapper for `decoder`'s frames (read with `framing`) written by `writer`.
pub fn mapper<F, D, W>(framing: F, decoder: D, writer: W) -> Box<dyn StreamMapper>
where
    F: Framing + 'static,
    D: Decode<Frame = F::Frame> + 'static,
    W: Writer + 'static,
{
    Box::new(Framed::new(
        framing,
        EventStream {
            decoder,
            writer,
            progress: Progress::default(),
        },
    ))
}
