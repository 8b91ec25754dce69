//! Request side: recognise gateway endpoints, buffer the body, resolve and pick the
//! target, and rewrite the request for the chosen provider.

use super::decision::Decision;
use super::exchange::{Action, Exchange, State};
use super::flight::{Flight, Route};
use super::inbound::{Endpoint, Inbound};
use super::{
    access, count_tokens, fleet_admit, fleet_usage, models_api, ops, response_owner,
    stored_responses, usage_api,
};
use crate::config::{forward, Config, Provider, Strategy, Target};
use crate::error::GatewayError;
use crate::headers::Headers;
use crate::host::Host;
use crate::routing::health::HealthState;
use crate::routing::{resolve, select, strategy};
use crate::state;
use crate::telemetry::trace_context::{self, TraceContext};
use crate::translate;
use crate::usage::estimate;

pub const MODELS_PATH: &str = "/v1/models";
pub const USAGE_PATH: &str = "/v1/usage";
/// Anthropic-shaped clients get Anthropic-shaped errors under this prefix.
const MESSAGES_PREFIX: &str = "/v1/messages";

/// What `apply` keeps besides the provider's allow-list.
#[derive(Clone, Copy)]
pub struct Keep<'a> {
    /// Set (gateway position) or consumed by the route (per attempt) separately.
    pub route_header: &'a str,
    /// The per-attempt position: the client's headers were filtered already.
    pub per_attempt: bool,
}

pub fn on_headers(x: &mut Exchange, host: &mut dyn Host, end_of_stream: bool) -> Action {
    // One host call for every header we look at, kept to skip writes that change nothing
    // (host calls dominate the filter's cost).
    let headers = host.request_headers();
    let get = |name: &str| headers.get(name);
    // Nobody but the gateway chooses the cluster.
    if get(&x.cfg.route_header).is_some() {
        host.remove_request_header(&x.cfg.route_header);
    }
    let full_path = get(":path").unwrap_or_default();
    let path = full_path.split('?').next().unwrap_or("");
    let method = get(":method").unwrap_or_default().to_string();
    let declared = get("content-length").and_then(|v| v.trim().parse::<usize>().ok());
    x.start_ms = host.now_ms();
    if path.starts_with(ops::PREFIX) {
        let credentials = (get("authorization"), get("x-api-key"));
        return ops::serve(x, host, path, &method, credentials);
    }
    if !path.starts_with("/v1/") {
        return Action::Continue;
    }
    x.endpoint_label = super::observe::endpoint_label(path);
    x.client_path = path.to_string();
    x.request_id = get("x-request-id").map(str::to_string);
    if let Some(t) = &x.cfg.traces {
        let headers = trace_context::Headers {
            traceparent: get("traceparent"),
            b3: get("x-b3-traceid").zip(get("x-b3-spanid")),
            b3_sampled: get("x-b3-sampled"),
        };
        let ratio = t.sample_ratio;
        x.trace = Some(TraceContext::of(headers, ratio, || host.random_u64()));
    }
    if path.starts_with(MESSAGES_PREFIX) {
        x.endpoint = Endpoint::Messages;
    }
    if let Some(endpoint) = Endpoint::from_path(path) {
        x.endpoint = endpoint;
    }
    match access::authenticate(&x.cfg, host, get("authorization"), get("x-api-key")) {
        Ok(caller) => x.caller = caller,
        Err(e) => {
            // Fleet mode: an unlisted key may be a runtime key, for the model endpoints.
            match fleet_admit::runtime_key(x, get("authorization"), get("x-api-key"), path) {
                Some(sha) => x.runtime_key = Some(sha),
                None => return x.reply_error(host, &e),
            }
        }
    }
    match path {
        p if Endpoint::from_path(p).is_some() => {
            if method != "POST" {
                return x.reply_error(host, &GatewayError::method_not_allowed(&method));
            }
            if end_of_stream {
                return x.reply_error(host, &GatewayError::bad_request("request body is empty"));
            }
            // Envoy's decompressor (in the shipped configs) has already inflated gzip and
            // removed the header; anything still encoded cannot be read or translated.
            if let Some(enc) = get("content-encoding") {
                if !enc.trim().eq_ignore_ascii_case("identity") {
                    return x.reply_error(host, &GatewayError::unsupported_encoding(enc));
                }
            }
            if let Some(n) = declared.filter(|&n| n > x.cfg.max_body_bytes) {
                if n > drain_limit(x.cfg.max_body_bytes) {
                    return x.reply_error(host, &GatewayError::too_large(x.cfg.max_body_bytes));
                }
                drain(x, host, 0, false);
                return Action::Pause;
            }
            x.state = State::ReadingBody(x.endpoint);
            x.request_headers = headers;
            Action::Pause
        }
        MODELS_PATH => {
            if method != "GET" {
                return x.reply_error(host, &GatewayError::method_not_allowed(&method));
            }
            let body = models_api::list(x);
            host.send_local_response(200, &[("content-type", "application/json")], &body);
            x.state = State::Replied;
            Action::Pause
        }
        p if p.starts_with(models_api::MODEL_PREFIX) => {
            if method != "GET" {
                return x.reply_error(host, &GatewayError::method_not_allowed(&method));
            }
            match models_api::get(x, p) {
                Ok(body) => {
                    host.send_local_response(200, &[("content-type", "application/json")], &body);
                    x.state = State::Replied;
                    Action::Pause
                }
                Err(e) => x.reply_error(host, &e),
            }
        }
        USAGE_PATH => {
            if method != "GET" {
                return x.reply_error(host, &GatewayError::method_not_allowed(&method));
            }
            if let Some(fleet) = x.cfg.fleet.clone() {
                return fleet_usage::start(x, host, &fleet);
            }
            match usage_api::render(x, host) {
                Ok(body) => {
                    host.send_local_response(200, &[("content-type", "application/json")], &body);
                    x.state = State::Replied;
                    Action::Pause
                }
                Err(e) => x.reply_error(host, &e),
            }
        }
        p if p.starts_with(stored_responses::PREFIX) => {
            let rest = full_path.get("/v1/responses".len()..).unwrap_or("");
            let routed = stored_responses::route(&x.cfg, &method, rest).and_then(|routed| {
                let id = response_owner::id_in_path(
                    p.get(stored_responses::PREFIX.len()..).unwrap_or(""),
                );
                let caller = response_owner::Caller::of(&x.cfg, x.caller, None);
                response_owner::check(caller, host, id, None)?;
                access::count_request(&x.cfg, x.caller, x.start_ms, host)?;
                Ok(routed)
            });
            match routed {
                Ok((provider, up)) => {
                    let keep = Keep {
                        route_header: &x.cfg.route_header,
                        per_attempt: false,
                    };
                    apply(host, 0, &[], provider, &up, &headers, keep);
                    host.set_request_header(&x.cfg.route_header, &provider.cluster);
                    x.state = State::Stored;
                    Action::Continue
                }
                Err(e) => x.reply_error(host, &e),
            }
        }
        p => x.reply_error(host, &GatewayError::not_found(p)),
    }
}

/// A body over the limit is refused only once the client has sent it: an HTTP/1 client
/// that writes the whole body before reading (the official SDKs do) would otherwise see
/// the connection reset (Envoy closes it with the upload unread) instead of the 413.
/// What arrives is dropped as it comes, so nothing accumulates; past `drain_limit` the
/// gateway stops listening and refuses at once.
fn drain(x: &mut Exchange, host: &mut dyn Host, size: usize, eos: bool) -> Action {
    let seen = match x.state {
        State::Draining { seen } => seen.saturating_add(size),
        _ => size,
    };
    if eos || seen > drain_limit(x.cfg.max_body_bytes) {
        return x.reply_error(host, &GatewayError::too_large(x.cfg.max_body_bytes));
    }
    if size > 0 {
        host.set_request_body(size, &[]);
        x.body_size = 0;
    }
    x.state = State::Draining { seen };
    Action::Buffer
}

/// How much of an oversized body is read (and dropped) to answer it cleanly.
fn drain_limit(max_body_bytes: usize) -> usize {
    max_body_bytes.saturating_mul(4)
}

pub fn on_body(x: &mut Exchange, host: &mut dyn Host, size: usize, eos: bool) -> Action {
    if matches!(x.state, State::Draining { .. }) {
        return drain(x, host, size, eos);
    }
    let State::ReadingBody(endpoint) = x.state else {
        return Action::Continue;
    };
    if size > x.cfg.max_body_bytes {
        return drain(x, host, size, eos);
    }
    if !eos {
        return Action::Buffer;
    }
    let raw = host.request_body(size);
    let mut decision = Decision::default();
    let forwarded = forward(x, host, endpoint, size, &raw, &mut decision);
    x.decision = decision;
    match forwarded {
        Ok(Forwarded::Flight(mut flight)) => {
            let sampled = x.trace.is_some_and(|t| t.sampled);
            if let Some(cap) = x.cfg.traces.as_ref().and_then(|t| t.capture_max_bytes) {
                if sampled {
                    flight.capture = super::capture_start::for_request(x, endpoint, &raw, cap);
                }
            }
            // The provider's spans (if it traces) hang under the gateway's.
            if let Some(t) = &x.trace {
                host.set_request_header("traceparent", &t.traceparent());
            }
            // Fleet mode: held until the store's answer (`fleet_admit`).
            if flight
                .bill
                .admission
                .fleet
                .as_ref()
                .is_some_and(|f| f.pending())
            {
                x.state = State::Admitting(flight);
                return Action::Pause;
            }
            x.state = State::Forwarded(flight);
            Action::Continue
        }
        Ok(Forwarded::Replied) => {
            x.state = State::Replied;
            Action::Pause
        }
        Ok(Forwarded::Held(held)) => {
            x.state = State::Holding(held);
            Action::Pause
        }
        Err(e) => {
            x.decision.refused(&e);
            x.reply_error(host, &e)
        }
    }
}

/// Rewrite the request held by Envoy into what `provider` expects; `headers` are the
/// client's (or, per attempt, what reached the cluster), so that only the headers that
/// change cost a host call.
pub fn apply(
    host: &mut dyn Host,
    size: usize,
    raw: &[u8],
    provider: &Provider,
    up: &translate::UpstreamRequest,
    headers: &Headers,
    keep: Keep<'_>,
) {
    // One pass over the snapshot: remove what is there and neither allowed for this
    // provider nor written below (a write replaces it: no removal call needed).
    let mut removed: Vec<&str> = Vec::new();
    let for_kind = translate::of(provider).facts().client_headers;
    for (name, _) in headers.iter() {
        let written = matches!(name, "content-length" | "content-type")
            || name == keep.route_header
            || up.headers.iter().any(|(n, _)| *n == name);
        if written
            || removed.contains(&name)
            || forward::allowed(provider, for_kind, name, keep.per_attempt)
        {
            continue;
        }
        host.remove_request_header(name);
        removed.push(name);
    }
    let body_len = match &up.body {
        Some(body) => {
            host.set_request_body(size, body);
            body.len()
        }
        None => raw.len(),
    };
    // A header just removed must be written even when the client sent the same value.
    let mut set = |name: &str, value: &str| {
        if headers.has_only(name, value) && !removed.contains(&name) {
            return;
        }
        host.set_request_header(name, value);
    };
    set("content-length", &body_len.to_string());
    set("content-type", "application/json");
    for (name, value) in &up.headers {
        set(name, value);
    }
    set(":path", &up.path);
    if let Some(authority) = &provider.host {
        set(":authority", authority);
    }
}

/// Pick a target with the model's strategy, over shared health (and latency) state.
fn choose_target(
    x: &Exchange,
    host: &mut dyn Host,
    req: &Inbound,
    raw: &[u8],
    targets: &[Target],
    decision: &mut Decision,
) -> Result<(Target, HealthState), GatewayError> {
    let route = x.cfg.models.get(req.model());
    let strategy = route.map_or(Strategy::Weighted, |r| r.strategy);
    // The request's start: health cool-downs count in seconds (a host call saved).
    let now = x.start_ms;
    let mut candidates = Vec::with_capacity(targets.len());
    let mut extra = Vec::with_capacity(targets.len());
    for t in targets {
        let name = x.cfg.provider(t.provider).map_or("", |p| p.name.as_str());
        let health = state::health::read(host, name, &t.model);
        let latency_us = if strategy == Strategy::LowestLatency {
            state::health::latency(host, name, &t.model)
        } else {
            None
        };
        candidates.push(select::Candidate {
            weight: t.weight,
            health,
        });
        let identity = if strategy == Strategy::Sticky {
            strategy::fnv1a(format!("{name}/{}", t.model).as_bytes())
        } else {
            0
        };
        extra.push(strategy::Extra {
            latency_us,
            context_window: t.context_window,
            identity,
        });
    }
    let sticky_key = match (strategy, route.and_then(|r| r.sticky_header.as_deref())) {
        (Strategy::Sticky, Some(h)) => x.request_headers.get(h).map(|v| v.as_bytes().to_vec()),
        (Strategy::Sticky, None) => Some(match req {
            Inbound::Chat(chat) => estimate::prompt_prefix(chat, STICKY_PREFIX_BYTES),
            // The client's own name for the conversation a prompt cache serves.
            Inbound::Responses(r) if r.req.prompt_cache_key.is_some() => r
                .req
                .prompt_cache_key
                .as_deref()
                .unwrap_or_default()
                .as_bytes()
                .to_vec(),
            _ => raw
                .get(..STICKY_PREFIX_BYTES.min(raw.len()))
                .unwrap_or(&[])
                .to_vec(),
        }),
        _ => None,
    };
    let input = strategy::Input {
        candidates: &candidates,
        extra: &extra,
        now_ms: now,
        // A host call; only a choice between several targets needs it.
        random: if targets.len() > 1 {
            host.random_u64()
        } else {
            0
        },
        sticky_key: sticky_key.as_deref(),
        needed_tokens: if strategy == Strategy::ContextWindow {
            let (prompt, completion) = req.estimate(raw, x.cfg.token_estimator);
            prompt + completion
        } else {
            0
        },
    };
    let chosen = strategy::choose(strategy, &input);
    if let Ok(i) = chosen {
        // Names are built only where there was a choice to explain.
        let named: Vec<(String, &Target, HealthState)> = if targets.len() > 1 {
            targets
                .iter()
                .zip(&candidates)
                .map(|(t, c)| {
                    let p = x.cfg.provider(t.provider).map_or("", |p| p.name.as_str());
                    (crate::strs::concat(&[p, "/", &t.model]), t, c.health)
                })
                .collect()
        } else {
            Vec::new()
        };
        decision.routed(strategy, &named, i, now, input.needed_tokens);
        decision.candidates = targets.len();
    }
    match chosen {
        Ok(i) => targets
            .get(i)
            .cloned()
            .zip(candidates.get(i).map(|c| c.health))
            .ok_or_else(|| GatewayError::internal("no target to route to")),
        Err(strategy::NoRoute::TooLong) => Err(GatewayError::bad_field(
            "messages",
            "This request is longer than the context window of every model it could go to",
        )),
        Err(strategy::NoRoute::Empty) => Err(GatewayError::internal("no target to route to")),
    }
}

/// How much of the prompt identifies a conversation for prompt-cache affinity.
const STICKY_PREFIX_BYTES: usize = 2048;

/// What became of a request the gateway read.
enum Forwarded {
    Flight(Box<Flight>),
    /// The gateway answered it itself (a token count it estimated).
    Replied,
    /// Fleet mode: the gateway's own answer, sent once the store admits the request.
    Held(Box<count_tokens::Held>),
}

/// The gateway's token count, now, or once the store has admitted it.
fn count_tokens_reply(
    host: &mut dyn Host,
    local: count_tokens::Local,
    admission: access::Admission,
    model: &str,
    target: &Target,
) -> Forwarded {
    match admission.fleet {
        Some(reserved) if reserved.pending() => Forwarded::Held(Box::new(count_tokens::Held {
            reserved,
            local,
            model: model.to_string(),
            target: target.clone(),
        })),
        _ => {
            count_tokens::send(host, &local);
            Forwarded::Replied
        }
    }
}

fn forward(
    x: &Exchange,
    host: &mut dyn Host,
    endpoint: Endpoint,
    size: usize,
    raw: &[u8],
    decision: &mut Decision,
) -> Result<Forwarded, GatewayError> {
    let mut req = Inbound::parse(endpoint, raw)?;
    if let Inbound::Messages(m) = &mut req {
        let betas = x.request_headers.get("anthropic-beta");
        m.system_message_betas = translate::messages::system::betas(betas);
        m.client_betas = betas.map(str::to_string);
    }
    let targets = resolve::resolve(&x.cfg, req.model())?;
    let (target, health_at_request) = choose_target(x, host, &req, raw, &targets, decision)?;
    let provider = x
        .cfg
        .provider(target.provider)
        .ok_or_else(|| GatewayError::internal("target names an unknown provider"))?;
    let counting = match &req {
        Inbound::Messages(m) if m.count_only => Some(m),
        _ => None,
    };
    // A count the gateway estimates itself is computed before admission (a request it
    // cannot count uses no rate) and sent once admitted.
    let local = match counting {
        Some(m) => count_tokens::local(&x.cfg, provider, &target.model, m)?,
        None => None,
    };
    let translated = match local {
        Some(_) => None,
        None => {
            let (mut up, unhonoured) = req.translate(provider, &target.model, raw, x.start_ms)?;
            if let Inbound::Responses(r) = &req {
                if let Some(previous) = &r.req.previous_response_id {
                    let caller =
                        response_owner::Caller::of(&x.cfg, x.caller, x.runtime_key.as_deref());
                    response_owner::check(caller, host, previous, Some("previous_response_id"))?;
                }
            }
            crate::credential::attach(provider, x.start_ms, &mut up.headers)?;
            unhonoured_policy(&x.cfg, provider, &unhonoured)?;
            Some(up)
        }
    };
    // A count is one request of no tokens.
    let (estimate, completion_reserve) = match counting {
        Some(_) => (0, 0),
        None => req.estimate(raw, x.cfg.token_estimator),
    };
    let admission = match &x.cfg.fleet {
        Some(fleet) => fleet_admit::start(
            x,
            host,
            fleet,
            req.model(),
            &target,
            estimate + completion_reserve,
        )?,
        None => access::admit(
            &x.cfg,
            x.caller,
            x.start_ms,
            host,
            req.model(),
            &target,
            estimate + completion_reserve,
        )?,
    };
    let up = match translated {
        Some(up) => up,
        None => {
            let Some(local) = local else {
                return Err(GatewayError::internal("nothing to forward"));
            };
            return Ok(count_tokens_reply(
                host,
                local,
                admission,
                req.model(),
                &target,
            ));
        }
    };

    apply(
        host,
        size,
        raw,
        provider,
        &up,
        &x.request_headers,
        Keep {
            route_header: &x.cfg.route_header,
            per_attempt: false,
        },
    );
    // Envoy clears the route cache on every request-header change a Wasm filter makes
    // (onHeadersModified in its Wasm context), so this write alone makes it route again;
    // the `clear_route_cache` foreign call on top only cost (measured with bench/icount.py).
    host.set_request_header(&x.cfg.route_header, &provider.cluster);

    let route = Route {
        target,
        health_at_request,
        track_latency: x
            .cfg
            .models
            .get(req.model())
            .is_some_and(|r| r.strategy == Strategy::LowestLatency),
    };
    Ok(Forwarded::Flight(Box::new(Flight::new(
        &req,
        raw.len(),
        route,
        admission,
        estimate,
    ))))
}

/// Fields the provider cannot honour: refused in strict mode, otherwise dropped or
/// clamped (the translator already did) with a log line naming them.
fn unhonoured_policy(
    cfg: &Config,
    provider: &Provider,
    fields: &[&'static str],
) -> Result<(), GatewayError> {
    let Some(first) = fields.first() else {
        return Ok(());
    };
    let list = fields.join(", ");
    if cfg.strict {
        let mut e = GatewayError::bad_field(
            *first,
            format!(
                "this model's provider ({}) cannot honour: {list} (the gateway runs in strict mode)",
                provider.name
            ),
        );
        e.code = Some("unsupported_parameter");
        return Err(e);
    }
    log::warn!(
        "llm-gateway: dropped (or clamped to its range) request fields provider {} cannot honour: {list}",
        provider.name
    );
    Ok(())
}
