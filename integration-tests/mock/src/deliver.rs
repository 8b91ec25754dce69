//! Puts a [`Reply`] on the wire, shaped by a [`FaultSpec`]: delays, resets, cuts and
//! small network chunks.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Body, Frame};
use hyper::Response;
use tokio::sync::mpsc;

use crate::faults::FaultSpec;
use crate::reply::{Payload, Reply};
use crate::sse;

/// The error type of services and bodies. A concrete type (not `Box<dyn Error>`) keeps
/// hyper's `Into<Box<dyn Error>>` bounds from tripping higher-ranked lifetime inference.
pub type BoxError = std::io::Error;
pub type RespBody = BoxBody<Bytes, BoxError>;

/// Pause between frames when writing in small chunks, so each goes out on its own.
const CHUNK_GAP: Duration = Duration::from_millis(1);
/// Pause before aborting a cut response, so the frames before it are flushed.
const CUT_GAP: Duration = Duration::from_millis(20);

/// A body fed frame by frame from a task.
struct ChannelBody {
    rx: mpsc::Receiver<Result<Frame<Bytes>, BoxError>>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.get_mut().rx.poll_recv(cx)
    }
}

/// An error that makes hyper drop the connection.
pub fn fault_error(what: &'static str) -> BoxError {
    std::io::Error::other(what)
}

/// Wraps any error into [`BoxError`].
pub fn boxed<E: std::error::Error + Send + Sync + 'static>(e: E) -> BoxError {
    std::io::Error::other(e)
}

pub fn full(bytes: impl Into<Bytes>) -> RespBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// How the body goes out.
#[derive(Debug, PartialEq)]
struct Wire {
    frames: Vec<Vec<u8>>,
    /// Abort the connection after the frames.
    abort: bool,
    /// Explicit content-length (whole bodies only).
    content_length: Option<usize>,
}

fn plan(payload: Payload, fault: &FaultSpec) -> Wire {
    let mut wire = match payload {
        Payload::Whole(body) => {
            let len = body.len();
            match fault.cut_after_events {
                Some(_) => Wire {
                    frames: vec![body.get(..len / 2).unwrap_or_default().to_vec()],
                    abort: true,
                    content_length: Some(len),
                },
                None => Wire {
                    frames: vec![body],
                    abort: false,
                    content_length: Some(len),
                },
            }
        }
        Payload::Events(events) => {
            let keep = fault.cut_after_events.unwrap_or(events.len());
            Wire {
                frames: events
                    .into_iter()
                    .take(keep)
                    .map(String::into_bytes)
                    .collect(),
                abort: fault.cut_after_events.is_some(),
                content_length: None,
            }
        }
        Payload::Binary(frames) => {
            let keep = fault.cut_after_events.unwrap_or(frames.len());
            Wire {
                frames: frames.into_iter().take(keep).collect(),
                abort: fault.cut_after_events.is_some(),
                content_length: None,
            }
        }
    };
    if let Some(size) = fault.chunk_bytes {
        wire.frames = sse::rechunk(&wire.frames.concat(), size);
    }
    wire
}

/// Builds the response; `Err` makes hyper close the connection without a response.
pub async fn deliver(reply: Reply, fault: &FaultSpec) -> Result<Response<RespBody>, BoxError> {
    if let Some(ms) = fault.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if fault.is_reset() {
        return Err(fault_error("mock fault: reset"));
    }
    let mut builder = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let wire = plan(reply.payload, fault);
    let simple = !wire.abort
        && wire.content_length.is_some()
        && wire.frames.len() == 1
        && fault.event_delay_ms.is_none();
    if simple {
        let body = wire.frames.concat();
        return builder.body(full(body)).map_err(boxed);
    }
    if let Some(len) = wire.content_length {
        builder = builder.header("content-length", len);
    }
    let gap = match (fault.event_delay_ms, fault.chunk_bytes) {
        (Some(ms), _) => Some(Duration::from_millis(ms)),
        (None, Some(_)) => Some(CHUNK_GAP),
        (None, None) => None,
    };
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(feed(tx, wire, gap));
    builder.body(ChannelBody { rx }.boxed()).map_err(boxed)
}

async fn feed(tx: mpsc::Sender<Result<Frame<Bytes>, BoxError>>, wire: Wire, gap: Option<Duration>) {
    for (i, frame) in wire.frames.into_iter().enumerate() {
        if i > 0 {
            match gap {
                Some(d) => tokio::time::sleep(d).await,
                None => tokio::task::yield_now().await,
            }
        }
        if tx.send(Ok(Frame::data(Bytes::from(frame)))).await.is_err() {
            return;
        }
    }
    if wire.abort {
        tokio::time::sleep(CUT_GAP).await;
        let _ = tx.send(Err(fault_error("mock fault: cut"))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events() -> Payload {
        Payload::Events(vec![
            "data: 1\n\n".into(),
            "data: 2\n\n".into(),
            "data: 3\n\n".into(),
        ])
    }

    #[test]
    fn cut_events() {
        let fault = FaultSpec {
            cut_after_events: Some(2),
            ..FaultSpec::default()
        };
        let wire = plan(events(), &fault);
        assert_eq!(
            wire.frames,
            vec![b"data: 1\n\n".to_vec(), b"data: 2\n\n".to_vec()]
        );
        assert!(wire.abort);
        assert_eq!(wire.content_length, None);
    }

    #[test]
    fn cut_whole_sends_half() {
        let fault = FaultSpec {
            cut_after_events: Some(0),
            ..FaultSpec::default()
        };
        let wire = plan(Payload::Whole(b"0123456789".to_vec()), &fault);
        assert_eq!(wire.frames, vec![b"01234".to_vec()]);
        assert_eq!(wire.content_length, Some(10));
        assert!(wire.abort);
    }

    #[test]
    fn chunked_events_split_mid_line() {
        let fault = FaultSpec {
            chunk_bytes: Some(4),
            ..FaultSpec::default()
        };
        let wire = plan(events(), &fault);
        assert_eq!(wire.frames.len(), 27 / 4 + 1);
        assert_eq!(
            wire.frames.concat(),
            b"data: 1\n\ndata: 2\n\ndata: 3\n\n".to_vec()
        );
        assert!(!wire.abort);
    }
}
