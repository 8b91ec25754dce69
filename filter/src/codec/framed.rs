//! One framed reader for every upstream stream: bytes in, whole frames (SSE events or
//! AWS event-stream messages) out to a [`FrameHandler`]. It owns what every stream
//! mapper used to repeat: holding partial frames, the size limit, stopping once the
//! handler is done, and ending a stream whose body stops early.

use super::eventstream::{self, Message};
use super::sse::{self, SseParser};

/// Largest single frame held while waiting for its end.
pub const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// Why the bytes could not be framed. The text names the failure for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    TooLarge,
    Corrupt(eventstream::DecodeError),
    /// The body ended inside a frame that cannot be completed.
    Truncated,
}

impl FrameError {
    pub fn message(&self) -> String {
        match self {
            FrameError::TooLarge => "upstream stream event too large".to_string(),
            FrameError::Corrupt(e) => format!("upstream event stream is corrupt: {e}"),
            FrameError::Truncated => "upstream stream ended in the middle of a message".to_string(),
        }
    }
}

/// A byte framing: SSE or the AWS event stream.
pub trait Framing {
    type Frame;
    fn push(&mut self, chunk: &[u8], out: &mut Vec<Self::Frame>) -> Result<(), FrameError>;
    /// The body ended: flush what counts as a last frame, or say it was cut short.
    fn finish(&mut self, out: &mut Vec<Self::Frame>) -> Result<(), FrameError>;
}

impl Framing for SseParser {
    type Frame = sse::Event;

    fn push(&mut self, chunk: &[u8], out: &mut Vec<sse::Event>) -> Result<(), FrameError> {
        SseParser::push(self, chunk, out).map_err(|_| FrameError::TooLarge)
    }

    fn finish(&mut self, out: &mut Vec<sse::Event>) -> Result<(), FrameError> {
        SseParser::finish(self, out);
        Ok(())
    }
}

impl Framing for eventstream::Decoder {
    type Frame = Message;

    fn push(&mut self, chunk: &[u8], out: &mut Vec<Message>) -> Result<(), FrameError> {
        eventstream::Decoder::push(self, chunk, out).map_err(FrameError::Corrupt)
    }

    fn finish(&mut self, _out: &mut Vec<Message>) -> Result<(), FrameError> {
        if self.pending() > 0 {
            return Err(FrameError::Truncated);
        }
        Ok(())
    }
}

/// What a stream does with whole frames.
pub trait FrameHandler {
    type Frame;
    /// Handle one frame (called only while not [`done`](Self::done)).
    fn frame(&mut self, frame: &Self::Frame, out: &mut Vec<u8>);
    /// The stream reached its end (or failed): later bytes are ignored.
    fn done(&self) -> bool;
    /// The bytes could not be framed: end the stream with this error.
    fn broken(&mut self, error: &FrameError, out: &mut Vec<u8>);
    /// The body ended (all frames handled) before the stream was done.
    fn ended(&mut self, out: &mut Vec<u8>);
}

/// A framing and the handler its frames go to.
pub struct Framed<F: Framing, H> {
    framing: F,
    frames: Vec<F::Frame>,
    pub handler: H,
}

impl<F: Framing, H: FrameHandler<Frame = F::Frame>> Framed<F, H> {
    pub fn new(framing: F, handler: H) -> Self {
        Framed {
            framing,
            frames: Vec::new(),
            handler,
        }
    }

    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.handler.done() {
            return;
        }
        let res = self.framing.push(chunk, &mut self.frames);
        self.drain(res, out);
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.handler.done() {
            return;
        }
        let res = self.framing.finish(&mut self.frames);
        self.drain(res, out);
        if !self.handler.done() {
            self.handler.ended(out);
        }
    }

    /// Frames complete before a framing error are still handled, then the error ends
    /// the stream.
    fn drain(&mut self, res: Result<(), FrameError>, out: &mut Vec<u8>) {
        for frame in self.frames.drain(..) {
            if self.handler.done() {
                break;
            }
            self.handler.frame(&frame, out);
        }
        if let Err(e) = res {
            if !self.handler.done() {
                self.handler.broken(&e, out);
            }
        }
    }
}
