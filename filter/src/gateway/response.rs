//! Response side: record health, then translate the answer (buffered or streamed).

use super::exchange::{Action, Exchange, State};
use super::flight::{Finish, Flight, ResponseMode};
use super::inbound::Endpoint;
use super::redact::{redact, redact_answer, redact_str, secrets_for};
use super::response_owner;
use super::retry_after::{self, Fix};
use crate::config::Config;
use crate::config::Role;
use crate::config::Upstream;
use crate::error::GatewayError;
use crate::host::Host;
use crate::routing::health::{HealthState, Outcome};
use crate::state;
use crate::translate::{self, ResponseMeta, StreamSettings, EVENT_STREAM};

const JSON: &str = "application/json";

pub fn on_headers(x: &mut Exchange, host: &mut dyn Host, end_of_stream: bool) -> Action {
    let State::Forwarded(flight) = &mut x.state else {
        return Action::Continue;
    };
    let cfg = &x.cfg;
    let Some(upstream) = cfg.upstream(flight.route.target.provider) else {
        return Action::Continue;
    };
    let provider = upstream.wire();
    // One host call for every response header we look at (kept for the body's translation).
    let headers = host.response_headers();
    let mut status = headers
        .get(":status")
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    if status == 529 && (cfg.role == Role::Upstream || !flight.ask.endpoint.anthropic_shaped()) {
        // Anthropic's "overloaded" is no status that Envoy's retry policies or OpenAI
        // clients know; 503 is what it means. Changed here, before the router decides
        // whether to retry. Anthropic-shaped clients (/v1/messages) keep their 529.
        host.set_response_header(":status", "503");
        status = 503;
    }
    // Response headers again: Envoy's own reply replacing an answer it could not deliver
    // (the upstream cut it, or it outgrew Envoy's buffer limit).
    let replaced = !matches!(flight.answer.response, ResponseMode::Waiting);
    if replaced && (200..300).contains(&flight.answer.status) {
        flight.answer.undelivered_success = true;
    }
    flight.answer.status = status;
    if let Some(value) = headers.get("retry-after") {
        match super::retry_after::check(value) {
            Fix::Keep => {}
            Fix::Set(secs) => host.set_response_header("retry-after", &secs.to_string()),
            Fix::Drop => host.remove_response_header("retry-after"),
        }
    }
    if let Upstream::Cluster(_) = upstream {
        // The per-attempt filter behind the cluster says who served this attempt (not
        // Envoy's own reply, which names no one).
        if !replaced {
            read_served(flight, &headers);
        }
    } else {
        // The target's health and latency were recorded with its own answer.
        if cfg.role == Role::Gateway && !replaced {
            let healthy_success = Outcome::from_status(status) == Outcome::Success
                && flight.route.health_at_request == HealthState::default();
            if !healthy_success {
                state::health::record(
                    host,
                    &cfg.health,
                    &provider.name,
                    &flight.route.target.model,
                    status,
                );
            }
            if flight.route.track_latency && (200..300).contains(&status) {
                let sample = host
                    .now_ms()
                    .saturating_sub(x.start_ms)
                    .saturating_mul(1000);
                state::health::record_latency(
                    host,
                    &provider.name,
                    &flight.route.target.model,
                    sample,
                );
            }
        }
        for (name, value) in [
            ("x-llm-provider", provider.name.as_str()),
            ("x-llm-model", flight.route.target.model.as_str()),
        ] {
            host.set_response_header(name, value);
        }
    }
    if let Some((k, v)) =
        super::access_log::header(cfg, x.caller, &x.decision, Some(flight.answer.attempts))
    {
        host.set_response_header(k, &v);
    }
    if let Some(status) = &flight.bill.admission.status {
        for (k, v) in super::access::headers(status) {
            host.set_response_header(k, &v);
        }
    }

    let content_type = headers.get("content-type");
    let is_sse =
        content_type.is_some_and(|c| c.starts_with(translate::stream_content_type(provider)));
    if end_of_stream {
        flight.answer.response = ResponseMode::Passing;
        if cfg.role == Role::Gateway {
            // No body at all (200, 204, an empty 500): no answer for the client either.
            return reply_empty(flight, host, &headers, &provider.name);
        }
        flight.answer.finish = if (200..300).contains(&status) {
            Finish::Clean
        } else {
            Finish::Failed
        };
        return Action::Continue;
    }
    if (200..300).contains(&status) && flight.ask.stream && is_sse {
        if headers.get("content-length").is_some() {
            host.remove_response_header("content-length");
        }
        let settings = StreamSettings {
            client_wants_usage: flight.ask.client_wants_usage,
            created: x.start_ms / 1000,
        };
        let mapper = {
            let header = |name: &str| headers.get(name).map(str::to_string);
            let meta = ResponseMeta {
                model: &flight.route.target.model,
                header: &header,
            };
            match flight.ask.endpoint {
                Endpoint::Messages | Endpoint::CountTokens => {
                    translate::messages::stream(provider, settings.created, &meta)
                }
                Endpoint::Chat | Endpoint::Embeddings => {
                    translate::stream(provider, settings, &meta)
                }
                Endpoint::Responses => translate::responses::stream(
                    provider,
                    settings.created,
                    &meta,
                    &flight.ask.responses,
                ),
            }
        };
        flight.answer.response = ResponseMode::Streaming(mapper);
        // Providers with a binary stream (Bedrock): the client gets SSE.
        host.set_response_header("content-type", EVENT_STREAM);
        return Action::Continue;
    }
    // Hold the headers: status and length may change once the whole body is known.
    flight.answer.response = ResponseMode::Buffering;
    flight.answer.response_headers = headers;
    Action::Pause
}

pub fn on_body(x: &mut Exchange, host: &mut dyn Host, size: usize, eos: bool) -> Action {
    let State::Forwarded(flight) = &mut x.state else {
        return Action::Continue;
    };
    let cfg = &x.cfg;
    let caller = response_owner::Caller::of(cfg, x.caller, x.runtime_key.as_deref());
    // Only a Responses answer to a gateway with keys can create a response to own.
    let owning = flight.ask.endpoint == Endpoint::Responses && cfg.access.is_some();
    match &mut flight.answer.response {
        ResponseMode::Streaming(mapper) => {
            let mut now = None;
            if flight.answer.first_byte_ms.is_none() && size > 0 {
                now = Some(host.now_ms());
                flight.answer.first_byte_ms = now;
            }
            let chunk = host.response_body(size);
            let mut out = Vec::with_capacity(chunk.len() + 64);
            mapper.push(&chunk, &mut out);
            if eos {
                mapper.finish(&mut out);
            }
            if owning && !flight.answer.owner_recorded {
                if let Some(id) = mapper.response_id() {
                    response_owner::record(caller, host, id);
                    flight.answer.owner_recorded = true;
                }
            }
            if !out.is_empty() {
                let now = now.unwrap_or_else(|| host.now_ms());
                flight.answer.chunk_gaps.chunk(now);
                if let Some(c) = &mut flight.capture {
                    c.stream(&out);
                }
            }
            flight.answer.usage = mapper.usage();
            let failed = mapper.failed();
            if eos {
                flight.answer.finish = if failed {
                    Finish::Failed
                } else {
                    Finish::Clean
                };
            }
            if failed {
                // A provider's error event may echo a credential.
                if let Some(clean) = redact(&out, &secrets_for(&cfg.secrets, &cfg.providers)) {
                    out = clean;
                }
            }
            if out != chunk {
                host.set_response_body(size, &out);
            }
            Action::Continue
        }
        ResponseMode::Buffering => {
            flight.answer.received_bytes = flight.answer.received_bytes.max(size as u64);
            if !eos {
                return Action::Buffer;
            }
            let body = host.response_body(size);
            buffered(cfg, flight, host, size, &body, x.start_ms);
            flight.end();
            let relayed =
                (200..300).contains(&flight.answer.status) && flight.answer.finish == Finish::Clean;
            if owning && relayed {
                let provider = cfg.provider(flight.route.target.provider);
                if let Some(id) = provider.and_then(|p| translate::responses::stored_id(p, &body)) {
                    response_owner::record(caller, host, &id);
                }
            }
            Action::Continue
        }
        ResponseMode::Waiting | ResponseMode::Passing => Action::Continue,
    }
}

fn buffered(
    cfg: &Config,
    flight: &mut Flight,
    host: &mut dyn Host,
    size: usize,
    body: &[u8],
    start_ms: u64,
) {
    let Some(provider) = cfg.provider(flight.route.target.provider) else {
        return;
    };
    // OpenAI's `created` is when the request was made (and the clock read is saved).
    let created = start_ms / 1000;
    let headers = std::mem::take(&mut flight.answer.response_headers);
    let declared = headers
        .get("content-length")
        .and_then(|l| l.trim().parse::<usize>().ok());
    if declared.is_some_and(|len| body.len() < len) && (200..300).contains(&flight.answer.status) {
        // The upstream closed before its whole answer: what it produced is charged.
        flight.answer.undelivered_success = true;
        let e = GatewayError::bad_gateway("upstream answer ended before its content-length");
        return reply_in_body(flight, host, size, &e);
    }
    // A failed answer may echo a credential: out of the raw body before it is parsed or
    // clipped (a clipped credential would no longer match).
    // Only failures are searched: the list (fetched tokens added) is built for them alone.
    let secrets = || secrets_for(&cfg.secrets, &cfg.providers);
    let redacted = if (200..300).contains(&flight.answer.status) {
        None
    } else {
        redact_answer(body, &secrets())
    };
    let body = redacted.as_deref().unwrap_or(body);
    let result = {
        let header = |name: &str| headers.get(name).map(str::to_string);
        let meta = ResponseMeta {
            model: &flight.route.target.model,
            header: &header,
        };
        match flight.ask.endpoint {
            Endpoint::Chat => {
                translate::response(provider, flight.answer.status, body, created, &meta)
            }
            Endpoint::Embeddings => translate::embeddings::response(
                provider,
                flight.answer.status,
                body,
                &meta,
                &flight.ask.embeddings,
            ),
            Endpoint::Messages => {
                translate::messages::response(provider, flight.answer.status, body, created, &meta)
            }
            Endpoint::CountTokens => translate::messages::count_tokens::response(
                provider,
                flight.answer.status,
                body,
                &meta,
            ),
            Endpoint::Responses => translate::responses::response(
                provider,
                flight.answer.status,
                body,
                created,
                &meta,
                &flight.ask.responses,
            ),
        }
    };
    if flight.ask.stream && (200..300).contains(&flight.answer.status) {
        // The client reads SSE: an answer that is not a stream cannot be passed on as one.
        let e = match result {
            Ok(out) => {
                flight.answer.usage = out.usage;
                GatewayError::bad_gateway("upstream answered a stream request without a stream")
            }
            Err(e) => e,
        };
        flight.fail();
        let b = flight.ask.endpoint.stream_error_body(&e);
        host.set_response_header("content-type", EVENT_STREAM);
        host.set_response_header("content-length", &b.len().to_string());
        host.set_response_body(size, &b);
        return;
    }
    let (status, new_body) = match result {
        Ok(out) => {
            flight.answer.usage = out.usage;
            flight.answer.finish_reasons = out.finish_reasons;
            if let Some(c) = &mut flight.capture {
                c.answer(out.body.as_deref().unwrap_or(body));
            }
            // Passed through untranslated: the redacted copy goes instead.
            (flight.answer.status, out.body.or_else(|| redacted.clone()))
        }
        Err(mut e) => {
            flight.fail();
            // JSON escapes (`\u0073k-…`) only match once parsed.
            if let Some(m) = redact_str(&e.message, &secrets()) {
                e.message = m;
            }
            if let Some(secs) = e.retry_after {
                let secs = secs.min(retry_after::MAX_SECS);
                host.set_response_header("retry-after", &secs.to_string());
            }
            (e.status, Some(flight.ask.endpoint.error_body(&e)))
        }
    };
    if status != flight.answer.status {
        host.set_response_header(":status", &status.to_string());
        // What the client got is what the counters say.
        flight.answer.status = status;
    }
    // Every buffered answer the client gets is JSON, whatever the upstream labelled it
    // (an upstream body passed on may keep its parameters, e.g. a charset). Only the
    // headers that change cost a host call (as on the request side).
    let labelled = headers.has_only("content-type", JSON)
        || (new_body.is_none()
            && headers
                .get("content-type")
                .is_some_and(|c| c.starts_with(JSON)));
    if !labelled {
        host.set_response_header("content-type", JSON);
    }
    if let Some(b) = new_body {
        host.set_response_header("content-length", &b.len().to_string());
        host.set_response_body(size, &b);
    }
}

/// Replaces the held answer with error `e` in the client's shape.
fn reply_in_body(flight: &mut Flight, host: &mut dyn Host, size: usize, e: &GatewayError) {
    flight.fail();
    flight.answer.status = e.status;
    let b = flight.ask.endpoint.error_body(e);
    host.set_response_header(":status", &e.status.to_string());
    host.set_response_header("content-type", JSON);
    host.set_response_header("content-length", &b.len().to_string());
    host.set_response_body(size, &b);
}

/// An upstream answer without a body becomes an error in the client's shape: 502 for
/// an empty success, the upstream's status otherwise. Sent as a local reply, since no
/// body callback follows.
fn reply_empty(
    flight: &mut Flight,
    host: &mut dyn Host,
    upstream: &crate::headers::Headers,
    provider: &str,
) -> Action {
    let status = flight.answer.status;
    let mut e = if (200..300).contains(&status) {
        GatewayError::bad_gateway(crate::strs::concat(&[
            "upstream returned an empty answer (status ",
            &status.to_string(),
            ")",
        ]))
    } else {
        translate::errors::from_upstream(status, None, None, b"")
    };
    if flight.ask.endpoint.anthropic_shaped() && status == 529 {
        e.status = 529; // Anthropic-shaped clients keep Anthropic's overloaded status
    }
    flight.fail();
    flight.answer.status = e.status;
    let body = flight.ask.endpoint.error_body(&e);
    let mut headers = vec![
        ("content-type", JSON),
        ("x-llm-provider", provider),
        ("x-llm-model", flight.route.target.model.as_str()),
    ];
    // A plain number of seconds passes on; anything else (a date, a huge number) does not.
    let retry = upstream
        .get("retry-after")
        .map(str::trim)
        .filter(|r| (1..=6).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_digit()));
    if let Some(r) = retry {
        headers.push(("retry-after", r));
    }
    host.send_local_response(e.status, &headers, &body);
    Action::Pause
}

/// Through a failover cluster: who served, and after how many attempts.
fn read_served(flight: &mut Flight, headers: &crate::headers::Headers) {
    let served_provider = headers.get("x-llm-provider").map(str::to_string);
    let served_model = headers.get("x-llm-model").map(str::to_string);
    let attempts = headers
        .get("x-envoy-attempt-count")
        .and_then(|a| a.trim().parse::<u32>().ok());
    flight.answer.served = served_provider.zip(served_model);
    flight.answer.attempts = attempts.unwrap_or(1);
}
