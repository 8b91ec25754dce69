//! Content capture for a forwarded request: which secrets its texts are cleaned of.

use super::capture::Capture;
use super::exchange::Exchange;
use super::inbound::Endpoint;
use super::redact::secrets_for;
use crate::config::Secret;

/// Capture for the request `x` forwards (its body `raw`), redacting what
/// a failed answer's redaction does (`redact::secrets_for`) and the client's own key.
pub fn for_request(
    x: &Exchange,
    endpoint: Endpoint,
    raw: &[u8],
    cap: usize,
) -> Option<Box<Capture>> {
    let mut secrets = secrets_for(&x.cfg.secrets, &x.cfg.providers).into_owned();
    for name in ["authorization", "x-api-key"] {
        let Some(v) = x.request_headers.get(name).map(str::trim) else {
            continue;
        };
        // `Bearer sk-…`, `Basic …`: the credential is what follows the scheme.
        let key = v.split_once(' ').map_or(v, |(_, k)| k.trim());
        if key.len() >= MIN_CLIENT_KEY {
            secrets.push(Secret::observed(key));
        }
    }
    Capture::start(endpoint, raw, cap, secrets).map(Box::new)
}

/// A client key shorter than this is not searched for (it would blank ordinary words).
const MIN_CLIENT_KEY: usize = 8;
