//! `/v1/responses` to OpenAI-format providers that serve the Responses API: the client's
//! body goes through with `model` rewritten; answers and events come back unchanged,
//! usage read on the way (`input_tokens`/`output_tokens`, cached input tokens).

use crate::api::responses::{EventProbe, ResponseProbe, UsageProbe};
use crate::codec::framed::{FrameError, FrameHandler, Framed, MAX_EVENT_BYTES};
use crate::codec::sse::{self, SseParser};
use crate::config::{Provider, ProviderKind};
use crate::error::GatewayError;
use crate::translate::events::Tally;
use crate::translate::request_parts::concat;
use crate::translate::{azure, openai, ResponseOut, StreamMapper, UpstreamRequest};
use crate::usage::TokenUsage;

/// The upstream path of the Responses API (also the prefix of `/responses/{id}`).
pub fn path(provider: &Provider) -> String {
    match provider.kind {
        // Azure serves the Responses API on its v1 surface, the deployment in `model`.
        ProviderKind::Azure(_) => concat(&provider.base_path, "/v1/responses"),
        _ => concat(&provider.base_path, "/responses"),
    }
}

pub fn headers(provider: &Provider) -> Vec<(&'static str, String)> {
    match &provider.kind {
        ProviderKind::Azure(settings) => azure::headers(provider, settings),
        _ => openai::headers(provider),
    }
}

pub fn request(
    provider: &Provider,
    upstream_model: &str,
    client_model: &str,
    raw: &[u8],
) -> Result<UpstreamRequest, GatewayError> {
    Ok(UpstreamRequest {
        path: path(provider),
        headers: headers(provider),
        body: openai::rewrite_model(raw, client_model, upstream_model)?,
    })
}

fn usage_of(u: &UsageProbe) -> TokenUsage {
    TokenUsage {
        prompt: u.input_tokens,
        completion: u.output_tokens,
        cached_prompt: u
            .input_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens),
        reasoning: u
            .output_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens),
    }
}

pub fn response(status: u16, body: &[u8]) -> Result<ResponseOut, GatewayError> {
    if !(200..300).contains(&status) {
        return Err(openai::error(status, body));
    }
    let probe: ResponseProbe = serde_json::from_slice(body)
        .map_err(|_| GatewayError::bad_gateway("upstream returned a malformed response object"))?;
    Ok(ResponseOut {
        body: None,
        usage: probe.usage.as_ref().map(usage_of).unwrap_or_default(),
    })
}

/// Relays a Responses stream, reading usage from its terminal event. A stream that
/// ends without one (or with an event that is not JSON) ends in `response.failed`.
pub fn stream() -> Box<dyn StreamMapper> {
    Box::new(Framed::new(
        SseParser::new(MAX_EVENT_BYTES),
        Relay {
            head: Default::default(),
            usage: TokenUsage::default(),
            relayed_chars: 0,
            next_seq: 0,
            failed: false,
            done: false,
        },
    ))
}

struct Relay {
    /// The response's id, creation time and model, from its first event: a failure the
    /// gateway adds names the same response (SDKs check).
    head: (String, u64, String),
    usage: TokenUsage,
    relayed_chars: u64,
    next_seq: u64,
    failed: bool,
    done: bool,
}

impl Relay {
    fn fail(&mut self, out: &mut Vec<u8>, message: &str) {
        self.failed = true;
        self.done = true;
        let (id, created, model) = &self.head;
        let head = super::from_chat::Head {
            id,
            created: *created,
            model,
            echo: crate::api::responses_echo::Echo::NONE.fields(),
        };
        super::stream::write_failed(out, head, self.next_seq, message);
    }
}

impl FrameHandler for Relay {
    type Frame = sse::Event;

    fn frame(&mut self, ev: &sse::Event, out: &mut Vec<u8>) {
        let Ok(probe) = serde_json::from_str::<EventProbe<'_>>(&ev.data) else {
            return self.fail(out, "upstream sent a malformed stream event");
        };
        if let Some(n) = probe.sequence_number {
            self.next_seq = n.saturating_add(1);
        }
        if let Some(d) = &probe.delta {
            self.relayed_chars += d.chars().count() as u64;
        }
        if let Some(r) = &probe.response {
            if let Some(u) = &r.usage {
                self.usage = usage_of(u);
            }
            if let (Some(id), true) = (&r.id, self.head.0.is_empty()) {
                self.head = (
                    id.clone(),
                    r.created_at.unwrap_or(0),
                    r.model.clone().unwrap_or_default(),
                );
            }
        }
        match probe.kind.as_ref() {
            "response.completed" | "response.incomplete" => self.done = true,
            "response.failed" | "error" => {
                self.done = true;
                self.failed = true;
            }
            _ => {}
        }
        out.extend_from_slice(&ev.raw);
    }

    fn done(&self) -> bool {
        self.done
    }

    fn broken(&mut self, error: &FrameError, out: &mut Vec<u8>) {
        self.fail(out, &error.message());
    }

    fn ended(&mut self, out: &mut Vec<u8>) {
        self.fail(out, "upstream stream ended before the response completed");
    }
}

impl Tally for Relay {
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
