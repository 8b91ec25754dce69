//! `GET`/`DELETE /v1/responses/{id}` (and `…/input_items`, `…/cancel`): responses that a
//! provider stored, read or deleted there. The gateway keeps none, so these go to the
//! first configured provider that serves the Responses API, with its credential; the
//! client's key was checked like on every `/v1/*` path.

use crate::config::{Config, Provider};
use crate::error::GatewayError;
use crate::translate::{responses, UpstreamRequest};

pub const PREFIX: &str = "/v1/responses/";

/// Where the request goes. `rest`: the path after `/v1/responses` (query included).
pub fn route<'a>(
    cfg: &'a Config,
    method: &str,
    rest: &str,
) -> Result<(&'a Provider, UpstreamRequest), GatewayError> {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    // OpenAI's stored-response operations, and nothing else of the provider's API.
    let mut segments = path.split('/').skip(1);
    let allowed: &[&str] = match (segments.next(), segments.next(), segments.next()) {
        (Some(_), None, _) => &["GET", "DELETE"],
        (Some(_), Some("input_items"), None) => &["GET"],
        (Some(_), Some("cancel"), None) => &["POST"],
        _ => {
            return Err(GatewayError::not_found(&crate::strs::concat(&[
                "/v1/responses",
                path,
            ])))
        }
    };
    if !allowed.contains(&method) {
        return Err(GatewayError::method_not_allowed(method));
    }
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
        return Err(GatewayError::not_found(&crate::strs::concat(&[
            "/v1/responses",
            path,
        ])));
    }
    let Some(provider) = cfg.providers.iter().find(|p| responses::native(p)) else {
        let mut e = GatewayError::not_found(path);
        e.message = "No provider of this gateway stores responses (the gateway keeps none)".into();
        return Err(e);
    };
    let up = UpstreamRequest {
        path: responses::stored_path(provider, rest),
        headers: responses::stored_headers(provider),
        body: None,
    };
    Ok((provider, up))
}
