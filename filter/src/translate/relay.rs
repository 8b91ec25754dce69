//! Streams passed through in the client's own dialect (OpenAI chunks to an OpenAI-format
//! provider's clients, Anthropic events to Anthropic, Responses events to a provider that
//! serves the Responses API). Every relay tracks the same things (usage, answer
//! characters, whether it ended or failed) and ends the same ways (an event it cannot
//! read, a broken framing, a body that stops early); only reading an event and writing a
//! failure are the dialect's.

use crate::codec::framed::{FrameError, FrameHandler, Framed, MAX_EVENT_BYTES};
use crate::codec::sse::{self, SseParser};
use crate::translate::events::Tally;
use crate::translate::finish::FinishReasons;
use crate::translate::StreamMapper;
use crate::usage::TokenUsage;

/// What an answer's events told so far: what its stream is charged for.
#[derive(Debug, Default)]
pub struct Read {
    pub usage: TokenUsage,
    /// Characters of answer relayed (see `StreamMapper`).
    pub relayed_chars: u64,
    pub finish: FinishReasons,
}

/// What a relay has read so far, and how its stream stands.
#[derive(Debug, Default)]
pub struct Seen {
    pub read: Read,
    pub done: bool,
    pub failed: bool,
}

impl Seen {
    /// The stream ends failed; the dialect writes the failure.
    pub fn fail(&mut self) {
        self.failed = true;
        self.done = true;
    }
}

/// One dialect's relay.
pub trait Relay {
    /// Relays `ev` (or a failure in its place), noting what it read in `seen`.
    fn frame(&mut self, ev: &sse::Event, seen: &mut Seen, out: &mut Vec<u8>);
    /// Writes the dialect's failure carrying `message`.
    fn write_failure(&mut self, message: &str, out: &mut Vec<u8>);
    /// What the client is told when the body ends before the dialect's last event.
    const ENDED: &'static str;
    /// See `StreamMapper::response_id`.
    fn response_id(&self) -> Option<&str> {
        None
    }
}

/// A [`Relay`] over SSE frames, tallied.
pub struct Relaying<R> {
    relay: R,
    seen: Seen,
}

pub fn stream<R: Relay + 'static>(relay: R) -> Box<dyn StreamMapper> {
    Box::new(Framed::new(
        SseParser::new(MAX_EVENT_BYTES),
        Relaying {
            relay,
            seen: Seen::default(),
        },
    ))
}

impl<R: Relay> Relaying<R> {
    fn fail(&mut self, message: &str, out: &mut Vec<u8>) {
        self.seen.fail();
        self.relay.write_failure(message, out);
    }
}

impl<R: Relay> FrameHandler for Relaying<R> {
    type Frame = sse::Event;

    fn frame(&mut self, ev: &sse::Event, out: &mut Vec<u8>) {
        self.relay.frame(ev, &mut self.seen, out);
    }

    fn done(&self) -> bool {
        self.seen.done
    }

    fn broken(&mut self, error: &FrameError, out: &mut Vec<u8>) {
        self.fail(&error.message(), out);
    }

    fn ended(&mut self, out: &mut Vec<u8>) {
        self.fail(R::ENDED, out);
    }
}

impl<R: Relay> Tally for Relaying<R> {
    fn usage(&self) -> TokenUsage {
        self.seen.read.usage
    }

    fn failed(&self) -> bool {
        self.seen.failed
    }

    fn relayed_chars(&self) -> u64 {
        self.seen.read.relayed_chars
    }

    fn response_id(&self) -> Option<&str> {
        self.relay.response_id()
    }

    fn finish_reasons(&self) -> &FinishReasons {
        &self.seen.read.finish
    }
}
