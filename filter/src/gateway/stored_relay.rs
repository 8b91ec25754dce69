//! The provider's answer to a stored-response call (`GET`/`DELETE /v1/responses/{id}`…):
//! passed through as it is, except that a failed answer is held and relayed without any
//! credential it echoes (as every other failed answer is).

use super::exchange::{Action, Exchange, State};
use super::redact::{redact_answer, secrets_for};
use super::retry_after::{self, Fix};
use crate::host::Host;

pub fn on_headers(x: &mut Exchange, host: &mut dyn Host, end_of_stream: bool) -> Action {
    let headers = host.response_headers();
    if let Some(value) = headers.get("retry-after") {
        match retry_after::check(value) {
            Fix::Keep => {}
            Fix::Set(secs) => host.set_response_header("retry-after", &secs.to_string()),
            Fix::Drop => host.remove_response_header("retry-after"),
        }
    }
    let success = headers
        .get(":status")
        .and_then(|s| s.parse::<u16>().ok())
        .is_some_and(|s| (200..300).contains(&s));
    if success || end_of_stream {
        return Action::Continue;
    }
    // Its length may change once redacted: held until the whole body is here.
    host.remove_response_header("content-length");
    x.state = State::StoredFailed;
    Action::Pause
}

pub fn on_body(x: &mut Exchange, host: &mut dyn Host, size: usize, eos: bool) -> Action {
    if !matches!(x.state, State::StoredFailed) {
        return Action::Continue;
    }
    if !eos {
        return Action::Buffer;
    }
    let body = host.response_body(size);
    if let Some(clean) = redact_answer(&body, &secrets_for(&x.cfg.secrets, &x.cfg.providers)) {
        host.set_response_body(size, &clean);
    }
    Action::Continue
}
