//! `/v1/responses` to OpenAI-format providers that serve the Responses API: the client's
//! body goes through with `model` rewritten; answers and events come back unchanged,
//! usage read on the way (`input_tokens`/`output_tokens`, cached input tokens).

use crate::api::responses::{EventProbe, ResponseProbe, UsageProbe};
use crate::codec::sse;
use crate::config::{Provider, ProviderKind};
use crate::error::GatewayError;
use crate::translate::finish::FinishReasons;
use crate::translate::relay::{self, Relay, Seen};
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
        finish_reasons: FinishReasons::of([probe.finish_reason()]),
    })
}

/// Relays a Responses stream, reading usage from its terminal event. A stream that
/// ends without one (or with an event that is not JSON) ends in `response.failed`.
pub fn stream() -> Box<dyn StreamMapper> {
    relay::stream(Relayed {
        head: Default::default(),
        next_seq: 0,
    })
}

struct Relayed {
    /// The response's id, creation time and model, from its first event: a failure the
    /// gateway adds names the same response (SDKs check).
    head: (String, u64, String),
    next_seq: u64,
}

impl Relay for Relayed {
    const ENDED: &'static str = "upstream stream ended before the response completed";

    fn frame(&mut self, ev: &sse::Event, seen: &mut Seen, out: &mut Vec<u8>) {
        let Ok(probe) = serde_json::from_str::<EventProbe<'_>>(&ev.data) else {
            seen.fail();
            return self.write_failure("upstream sent a malformed stream event", out);
        };
        if let Some(n) = probe.sequence_number {
            self.next_seq = n.saturating_add(1);
        }
        if let Some(d) = &probe.delta {
            seen.read.relayed_chars += d.chars().count() as u64;
        }
        if let Some(r) = &probe.response {
            if let Some(u) = &r.usage {
                seen.read.usage = usage_of(u);
            }
            if let Some(reason) = r.finish_reason() {
                seen.read.finish.set(0, reason);
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
            "response.completed" | "response.incomplete" => seen.done = true,
            "response.failed" | "error" => seen.fail(),
            _ => {}
        }
        out.extend_from_slice(&ev.raw);
    }

    fn write_failure(&mut self, message: &str, out: &mut Vec<u8>) {
        let (id, created, model) = &self.head;
        let head = super::from_chat::Head {
            id,
            created: *created,
            model,
            echo: crate::api::responses_echo::Echo::NONE.fields(),
        };
        super::stream::write_failed(out, head, self.next_seq, message);
    }

    fn response_id(&self) -> Option<&str> {
        Some(self.head.0.as_str()).filter(|id| !id.is_empty())
    }
}

/// The id of a stored response object (a 2xx answer's body).
pub fn response_id(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<ResponseProbe>(body).ok()?.id
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_finished_response_has_its_chat_finish_reason() {
        let mut m = super::stream();
        let mut out = Vec::new();
        for data in [
            r#"{"type":"response.created","sequence_number":0,"response":{"id":"r","status":"in_progress"}}"#,
            r#"{"type":"response.incomplete","sequence_number":1,"response":{"id":"r","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}}"#,
        ] {
            m.push(format!("data: {data}\n\n").as_bytes(), &mut out);
        }
        assert_eq!(m.finish_reasons().list(), ["length"]);
        let body = br#"{"id":"r","status":"completed","output":[]}"#;
        let out = super::response(200, body).unwrap();
        assert_eq!(out.finish_reasons.list(), ["stop"]);
    }
}
