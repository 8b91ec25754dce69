//! `GET`/`DELETE /v1/responses/{id}` (and `…/input_items`, `…/cancel`): responses that a
//! provider stored, read or deleted there. The gateway keeps none, so these go to the
//! first configured provider that serves the Responses API, with its credential; the
//! client's key was checked like on every `/v1/*` path.

use super::exchange::{Action, Exchange};
use super::request::{apply, Keep};
use crate::error::GatewayError;
use crate::headers::Headers;
use crate::host::Host;
use crate::translate::{responses, UpstreamRequest};

pub const PREFIX: &str = "/v1/responses/";

/// `rest`: the path after `/v1/responses` (query included).
pub fn forward(x: &mut Exchange, host: &mut dyn Host, headers: &Headers, rest: &str) -> Action {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    // Ids and the sub-resources are plain segments: nothing that changes the path's meaning.
    let plain = path.split('/').skip(1).all(|seg| {
        !seg.is_empty()
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    let query_ok = query
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_-=&.,%".contains(&b));
    if !plain || !query_ok {
        return x.reply_error(host, &GatewayError::not_found(path));
    }
    let Some(provider) = x.cfg.providers.iter().find(|p| responses::native(p)) else {
        let mut e = GatewayError::not_found(path);
        e.message = "No provider of this gateway stores responses (the gateway keeps none)".into();
        return x.reply_error(host, &e);
    };
    let up = UpstreamRequest {
        path: responses::stored_path(provider, rest),
        headers: responses::stored_headers(provider),
        body: None,
    };
    let keep = Keep {
        route_header: &x.cfg.route_header,
        per_attempt: false,
    };
    apply(host, 0, &[], provider, &up, headers, keep);
    host.set_request_header(&x.cfg.route_header, &provider.cluster);
    Action::Continue
}
