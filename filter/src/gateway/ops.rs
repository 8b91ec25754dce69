//! `/llm/…`: what the gateway serves operators (today `GET /llm/metrics`, the GenAI
//! histograms in the Prometheus text format). Admin keys only when access control is
//! configured; open otherwise, like Envoy's own stats.

use super::access;
use super::exchange::{Action, Exchange, State};
use crate::error::GatewayError;
use crate::host::Host;
use crate::telemetry::exposition;

pub const PREFIX: &str = "/llm/";
pub const METRICS_PATH: &str = "/llm/metrics";

pub fn serve(
    x: &mut Exchange,
    host: &mut dyn Host,
    path: &str,
    method: &str,
    credentials: (Option<&str>, Option<&str>),
) -> Action {
    x.endpoint_label = "/llm";
    if let Err(e) = admit(x, host, credentials) {
        return x.reply_error(host, &e);
    }
    match path {
        METRICS_PATH => {
            if method != "GET" {
                return x.reply_error(host, &GatewayError::method_not_allowed(method));
            }
            let body = exposition::render(host);
            host.send_local_response(200, &[("content-type", exposition::CONTENT_TYPE)], &body);
            x.state = State::Replied;
            Action::Pause
        }
        p => x.reply_error(host, &GatewayError::not_found(p)),
    }
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
