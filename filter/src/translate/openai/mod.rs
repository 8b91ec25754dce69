//! OpenAI and OpenAI-compatible upstreams: the body goes through byte for byte except
//! `model` (and `stream_options`, so that every stream reports usage).

#[cfg(test)]
mod cases;
pub mod embeddings;
mod translator;

use crate::api::openai::{ChatRequest, ChunkProbe, UsageProbe};
use crate::codec::json_splice::{find_top_level, insert_first, splice};
use crate::codec::sse::{self, SseParser};
use crate::config::Provider;
use crate::error::GatewayError;
use crate::translate::request_parts::concat;
use crate::translate::{
    chunks, errors, ResponseOut, StreamMapper, StreamSettings, UpstreamRequest, MAX_EVENT_BYTES,
};
use crate::usage::TokenUsage;

const INCLUDE_USAGE: &[u8] = br#"{"include_usage":true}"#;

pub fn request(
    provider: &Provider,
    upstream_model: &str,
    req: &ChatRequest,
    raw: &[u8],
) -> Result<UpstreamRequest, GatewayError> {
    Ok(UpstreamRequest {
        path: concat(&provider.base_path, "/chat/completions"),
        headers: headers(provider),
        body: chat_body(upstream_model, req, raw)?,
    })
}

pub fn headers(provider: &Provider) -> Vec<(&'static str, String)> {
    match &provider.api_key {
        Some(key) => vec![("authorization", concat("Bearer ", key.expose()))],
        None => Vec::new(),
    }
}

/// The client's chat body with `model` swapped and usage asked for (`None`: unchanged).
pub fn chat_body(
    upstream_model: &str,
    req: &ChatRequest,
    raw: &[u8],
) -> Result<Option<Vec<u8>>, GatewayError> {
    let mut body = rewrite_model(raw, &req.model, upstream_model)?;
    // Ask for the usage chunk even when the client did not, so streams are accounted;
    // the stream mapper hides that chunk from such clients.
    if req.is_stream() && !req.wants_usage_chunk() {
        let current = body.as_deref().unwrap_or(raw);
        let updated = match find_top_level(current, "stream_options") {
            Some(range) => Some(splice(current, range, INCLUDE_USAGE)),
            None => insert_first(current, "stream_options", INCLUDE_USAGE),
        };
        body = Some(updated.ok_or_else(|| GatewayError::internal("could not set stream_options"))?);
    }
    Ok(body)
}

/// `raw` with its top-level `model` replaced, or `None` when it already names `upstream`.
pub fn rewrite_model(
    raw: &[u8],
    client_model: &str,
    upstream: &str,
) -> Result<Option<Vec<u8>>, GatewayError> {
    if client_model == upstream {
        return Ok(None);
    }
    let quoted = serde_json::to_vec(upstream)
        .map_err(|e| GatewayError::internal(format!("model name: {e}")))?;
    let range = find_top_level(raw, "model")
        .ok_or_else(|| GatewayError::internal("request body lost its model field"))?;
    Ok(Some(splice(raw, range, &quoted)))
}

pub fn response(status: u16, body: &[u8]) -> Result<ResponseOut, GatewayError> {
    if (200..300).contains(&status) {
        let probe: UsageProbe = serde_json::from_slice(body).map_err(|_| {
            GatewayError::bad_gateway("upstream returned a malformed chat completion")
        })?;
        if probe.choices.is_none() {
            return Err(GatewayError::bad_gateway(
                "upstream returned a chat completion without choices",
            ));
        }
        return Ok(ResponseOut {
            body: None,
            usage: probe
                .usage
                .as_ref()
                .map(TokenUsage::from_openai)
                .unwrap_or_default(),
        });
    }
    Err(error(status, body))
}

pub fn error(status: u16, body: &[u8]) -> GatewayError {
    errors::from_error_object(status, body)
}

/// Passes events through unchanged, reading usage on the way and hiding the usage
/// chunk from clients that did not ask for it. Ends like every other stream mapper:
/// `[DONE]`, or an error event and `[DONE]` (for an upstream error event, an event that
/// is not JSON, or a body that ends without `[DONE]`); nothing after that is relayed.
pub struct OpenAiStream {
    parser: SseParser,
    settings: StreamSettings,
    usage: TokenUsage,
    relayed_chars: u64,
    failed: bool,
    done: bool,
    events: Vec<sse::Event>,
}

impl OpenAiStream {
    pub fn new(settings: StreamSettings) -> Self {
        OpenAiStream {
            parser: SseParser::new(MAX_EVENT_BYTES),
            settings,
            usage: TokenUsage::default(),
            relayed_chars: 0,
            failed: false,
            done: false,
            events: Vec::new(),
        }
    }

    fn fail(&mut self, out: &mut Vec<u8>, e: &GatewayError) {
        self.failed = true;
        self.done = true;
        chunks::write_error_end(out, e);
    }

    fn emit(&mut self, out: &mut Vec<u8>) {
        for ev in std::mem::take(&mut self.events) {
            if self.done {
                break;
            }
            if ev.data == "[DONE]" {
                self.done = true;
                out.extend_from_slice(&ev.raw);
                continue;
            }
            let probe = match serde_json::from_str::<ChunkProbe<'_>>(&ev.data) {
                Ok(p) => p,
                Err(_) => {
                    let e = GatewayError::bad_gateway("upstream sent a malformed stream event");
                    self.fail(out, &e);
                    break;
                }
            };
            if probe.error.is_some() {
                // In the gateway's own error shape, like every other provider's.
                self.fail(out, &error(500, ev.data.as_bytes()));
                break;
            }
            self.relayed_chars += probe.answer_chars();
            if let Some(u) = &probe.usage {
                self.usage = TokenUsage::from_openai(u);
            }
            if probe.usage_only() && !self.settings.client_wants_usage {
                continue;
            }
            out.extend_from_slice(&ev.raw);
        }
    }
}

impl StreamMapper for OpenAiStream {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        let mut events = std::mem::take(&mut self.events);
        let res = self.parser.push(chunk, &mut events);
        self.events = events;
        self.emit(out);
        if res.is_err() && !self.done {
            self.fail(
                out,
                &GatewayError::bad_gateway("upstream stream event too large"),
            );
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        let mut events = std::mem::take(&mut self.events);
        self.parser.finish(&mut events);
        self.events = events;
        self.emit(out);
        if !self.done {
            let e = GatewayError::bad_gateway("upstream stream ended before [DONE]");
            self.fail(out, &e);
        }
    }

    fn usage(&self) -> TokenUsage {
        self.usage
    }

    fn failed(&self) -> bool {
        self.failed
    }

    fn relayed_chars(&self) -> u64 {
        self.relayed_chars
    }
}
