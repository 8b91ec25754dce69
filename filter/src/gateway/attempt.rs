//! The per-attempt position (`role: upstream`): an upstream HTTP filter in the
//! virtual-model cluster. Envoy runs it for every attempt, with the original body, after
//! it picked the endpoint; the endpoint's metadata (`filter_metadata.llm.provider` and
//! `.model`) says what to translate for. The response side is shared with the gateway
//! position (see `response.rs`).

use super::exchange::{Action, Exchange, State};
use super::flight::{Flight, Route};
use super::inbound::{Endpoint, Inbound};
use super::request::{apply, Keep};
use crate::config::Target;
use crate::error::GatewayError;
use crate::host::Host;

fn metadata(host: &dyn Host, field: &str) -> Option<String> {
    let v = host.property(&[
        "xds",
        "upstream_host_metadata",
        "filter_metadata",
        "llm",
        field,
    ])?;
    let s = String::from_utf8(v).ok()?;
    (!s.is_empty()).then_some(s)
}

pub fn on_headers(x: &mut Exchange, host: &mut dyn Host, end_of_stream: bool) -> Action {
    let (Some(provider), Some(model)) = (metadata(host, "provider"), metadata(host, "model"))
    else {
        let e =
            GatewayError::internal("the chosen endpoint has no filter_metadata.llm.provider/model");
        return x.reply_error(host, &e);
    };
    let Some(index) = x.cfg.provider_index(&provider) else {
        let e = GatewayError::internal(format!("endpoint names unknown provider {provider:?}"));
        return x.reply_error(host, &e);
    };
    // Read once: the body callback removes only the credentials that are there.
    x.request_headers = host.request_headers();
    if end_of_stream {
        return x.reply_error(host, &GatewayError::bad_request("request body is empty"));
    }
    x.target = Some(Target {
        provider: index,
        model,
        weight: 1,
        context_window: None,
    });
    // The gateway position sends chat in OpenAI's format, and Responses requests as they
    // are (to the cluster's `responses` path): each attempt translates what it got.
    let path = x.request_headers.get(":path").unwrap_or_default();
    let endpoint = if path.split('?').next().unwrap_or("").ends_with("/responses") {
        Endpoint::Responses
    } else {
        Endpoint::Chat
    };
    x.endpoint = endpoint;
    x.state = State::ReadingBody(endpoint);
    Action::Pause
}

pub fn on_body(x: &mut Exchange, host: &mut dyn Host, size: usize, eos: bool) -> Action {
    let State::ReadingBody(endpoint) = x.state else {
        return Action::Continue;
    };
    if !eos {
        return Action::Buffer;
    }
    let raw = host.request_body(size);
    let Some(target) = x.target.clone() else {
        return Action::Continue;
    };
    let now = host.now_ms();
    let result = Inbound::parse(endpoint, &raw).and_then(|req| {
        let provider = x
            .cfg
            .provider(target.provider)
            .ok_or_else(|| GatewayError::internal("unknown provider"))?;
        // Unhonoured fields were already logged (or refused) by the gateway position.
        let (mut up, _unhonoured) = req.translate(provider, &target.model, &raw, now)?;
        crate::credential::attach(provider, now, &mut up.headers)?;
        apply(
            host,
            size,
            &raw,
            provider,
            &up,
            &x.request_headers,
            // Envoy keeps header changes across attempts: whatever an earlier attempt's
            // provider needed (its credentials) goes unless this one allows or sets it.
            Keep {
                route_header: &x.cfg.route_header,
                per_attempt: true,
            },
        );
        let route = Route {
            target,
            health_at_request: Default::default(),
            track_latency: false,
        };
        // Admission and accounting belong to the gateway position.
        Ok(Flight::new(&req, raw.len(), route, Default::default(), 0))
    });
    match result {
        Ok(flight) => {
            x.state = State::Forwarded(Box::new(flight));
            Action::Continue
        }
        Err(e) => x.reply_error(host, &e),
    }
}
