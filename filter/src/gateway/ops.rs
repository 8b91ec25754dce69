//! `/llm/…`: what the gateway serves operators (today `GET /llm/metrics`, the GenAI
//! histograms in the Prometheus text format; `GET /llm/dashboard`, one self-contained
//! HTML page over `/llm/usage` and `/llm/state`). Admin keys only when access control is
//! configured; open otherwise, like Envoy's own stats.

use super::exchange::{Action, Exchange, State};
use super::{access, basic_auth, fleet_state, fleet_usage, state_api, usage_api};
use crate::error::GatewayError;
use crate::host::Host;
use crate::telemetry::exposition;

pub const PREFIX: &str = "/llm/";
pub const METRICS_PATH: &str = "/llm/metrics";
pub const DASHBOARD_PATH: &str = "/llm/dashboard";
/// `/v1/usage` under `/llm/`, where a browser that logged in to the dashboard with Basic
/// credentials sends them again by itself.
pub const USAGE_PATH: &str = "/llm/usage";
pub const STATE_PATH: &str = "/llm/state";

const JSON: [(&str, &str); 2] = [
    ("content-type", "application/json"),
    ("cache-control", "no-store"),
];
const DASHBOARD: &str = include_str!("dashboard.html");
const DASHBOARD_CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; \
    style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'";

pub fn serve(
    x: &mut Exchange,
    host: &mut dyn Host,
    path: &str,
    method: &str,
    credentials: (Option<&str>, Option<&str>),
) -> Action {
    x.endpoint_label = "/llm";
    let basic = credentials.0.and_then(basic_auth::password);
    let credentials = match &basic {
        Some(key) => (None, Some(key.as_str())),
        None => credentials,
    };
    if let Err(e) = admit(x, host, credentials) {
        // The browser's login prompt for the page (and for its data, should the page be
        // opened without a login first).
        let e = if e.status == 401 {
            e.with_header(
                "www-authenticate",
                "Basic realm=\"llm-gateway\"".to_string(),
            )
        } else {
            e
        };
        return x.reply_error(host, &e);
    }
    if method != "GET" && [DASHBOARD_PATH, USAGE_PATH, STATE_PATH, METRICS_PATH].contains(&path) {
        return x.reply_error(host, &GatewayError::method_not_allowed(method));
    }
    match path {
        DASHBOARD_PATH => {
            let headers = [
                ("content-type", "text/html; charset=utf-8"),
                ("cache-control", "no-store"),
                // The browser itself refuses anything from elsewhere, and framing.
                ("content-security-policy", DASHBOARD_CSP),
            ];
            reply(x, host, &headers, DASHBOARD.as_bytes())
        }
        // Fleet mode: the fleet's figures, as `/v1/usage` renders them.
        USAGE_PATH | STATE_PATH if x.cfg.fleet.is_some() => fleet_report(x, host, path),
        USAGE_PATH => match usage_api::render(x, host) {
            Ok(body) => reply(x, host, &JSON, &body),
            Err(e) => x.reply_error(host, &e),
        },
        STATE_PATH => match state_api::render(x, host) {
            Ok(body) => reply(x, host, &JSON, &body),
            Err(e) => x.reply_error(host, &e),
        },
        METRICS_PATH => {
            let body = exposition::render(host);
            reply(
                x,
                host,
                &[("content-type", exposition::CONTENT_TYPE)],
                &body,
            )
        }
        p => x.reply_error(host, &GatewayError::not_found(p)),
    }
}

fn fleet_report(x: &mut Exchange, host: &mut dyn Host, path: &str) -> Action {
    let Some(fleet) = x.cfg.fleet.clone() else {
        return x.reply_error(host, &GatewayError::not_found(path));
    };
    if path == STATE_PATH {
        fleet_state::start(x, host, &fleet)
    } else {
        fleet_usage::start(x, host, &fleet)
    }
}

fn reply(x: &mut Exchange, host: &mut dyn Host, headers: &[(&str, &str)], body: &[u8]) -> Action {
    host.send_local_response(200, headers, body);
    x.state = State::Replied;
    Action::Pause
}

/// With access control, only an admin key passes.
fn admit(
    x: &mut Exchange,
    host: &mut dyn Host,
    (authorization, x_api_key): (Option<&str>, Option<&str>),
) -> Result<(), GatewayError> {
    let Some(cfg_access) = &x.cfg.access else {
        return Ok(());
    };
    let caller = access::authenticate(&x.cfg, host, authorization, x_api_key)?;
    x.caller = caller;
    let admin = caller
        .and_then(|i| cfg_access.key(i))
        .is_some_and(|k| k.admin);
    if admin {
        Ok(())
    } else {
        Err(GatewayError::forbidden("/llm/ endpoints need an admin key"))
    }
}
