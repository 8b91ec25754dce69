//! The provider's answer to a stored-response call (`GET`/`DELETE /v1/responses/{id}`…):
//! relayed without any credential it echoes, as every other answer is. A JSON (or any
//! non-stream) answer is held whole and redacted; a stream (`GET …?stream=true`) is
//! redacted event by event as it passes.

use super::exchange::{Action, Exchange, State};
use super::redact::{redact, redact_answer, secrets_for};
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
    if end_of_stream {
        return Action::Continue;
    }
    let stream = headers
        .get("content-type")
        .is_some_and(|c| c.starts_with(crate::translate::EVENT_STREAM));
    // Its length may change once redacted.
    if headers.get("content-length").is_some() {
        host.remove_response_header("content-length");
    }
    if stream {
        x.state = State::StoredStream;
        return Action::Continue;
    }
    x.state = State::StoredHeld;
    Action::Pause
}

pub fn on_body(x: &mut Exchange, host: &mut dyn Host, size: usize, eos: bool) -> Action {
    let secrets = || secrets_for(&x.cfg.secrets, &x.cfg.providers);
    match x.state {
        State::StoredHeld if !eos => Action::Buffer,
        State::StoredHeld => {
            let body = host.response_body(size);
            if let Some(clean) = redact_answer(&body, &secrets()) {
                host.set_response_body(size, &clean);
            }
            Action::Continue
        }
        State::StoredStream => {
            let chunk = host.response_body(size);
            if let Some(clean) = redact(&chunk, &secrets()) {
                host.set_response_body(size, &clean);
            }
            Action::Continue
        }
        _ => Action::Continue,
    }
}
