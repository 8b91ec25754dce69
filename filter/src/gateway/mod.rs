//! The per-request flow in the gateway position, written against `Host` so it runs
//! natively in tests. The proxy-wasm glue calls one method per Envoy callback.

mod access;
mod access_log;
mod account;
mod attempt;
mod basic_auth;
mod capture;
mod capture_start;
mod capture_wire;
mod charge;
mod count_tokens;
mod decision;
mod exchange;
mod fleet_admit;
mod fleet_call;
mod fleet_state;
mod fleet_usage;
mod flight;
mod inbound;
mod models_api;
pub mod observe;
mod ops;
mod redact;
mod request;
mod response;
mod response_owner;
mod retry_after;
mod spans;
mod state_api;
mod state_limits;
mod stored_relay;
mod stored_responses;
mod usage_api;

use crate::config::Role;
use crate::host::Host;
use exchange::State;
pub use exchange::{Action, Exchange};

/// One method per Envoy callback, dispatched by the filter's role.
impl Exchange {
    pub fn on_request_headers(&mut self, host: &mut dyn Host, end_of_stream: bool) -> Action {
        match self.cfg.role {
            Role::Gateway => request::on_headers(self, host, end_of_stream),
            Role::Upstream => attempt::on_headers(self, host, end_of_stream),
        }
    }

    pub fn on_request_body(&mut self, host: &mut dyn Host, size: usize, eos: bool) -> Action {
        self.body_size = size;
        match self.cfg.role {
            Role::Gateway => request::on_body(self, host, size, eos),
            Role::Upstream => attempt::on_body(self, host, size, eos),
        }
    }

    /// Trailers end the request (Envoy's decompressor adds some): the body held so far
    /// is all there is.
    pub fn on_request_trailers(&mut self, host: &mut dyn Host) -> Action {
        match self.state {
            State::ReadingBody(_) | State::Draining { .. } => {
                let size = self.body_size;
                self.on_request_body(host, size, true)
            }
            _ => Action::Continue,
        }
    }

    pub fn on_response_headers(&mut self, host: &mut dyn Host, end_of_stream: bool) -> Action {
        if matches!(self.state, State::Stored) {
            return stored_relay::on_headers(self, host, end_of_stream);
        }
        response::on_headers(self, host, end_of_stream)
    }

    pub fn on_response_body(&mut self, host: &mut dyn Host, size: usize, eos: bool) -> Action {
        if matches!(self.state, State::StoredHeld | State::StoredStream) {
            return stored_relay::on_body(self, host, size, eos);
        }
        response::on_body(self, host, size, eos)
    }

    /// The request is over (completed, failed or abandoned): account it exactly once.
    pub fn on_log(&mut self, host: &mut dyn Host) {
        if self.cfg.role == Role::Upstream {
            return; // the gateway position accounts the request once, whatever the attempts
        }
        // Taken out: a second `on_log` finds nothing left to account.
        if let State::Forwarded(flight) = std::mem::replace(&mut self.state, State::Done) {
            let ttft = flight
                .answer
                .first_byte_ms
                .map(|t| t.saturating_sub(self.start_ms));
            let request_part = access_log::request_part(
                &self.asked(),
                Some(&flight.ask.model),
                ttft,
                None, // the usage part has them
            );
            let decision = self
                .trace
                .as_ref()
                .map(|t| (t, self.decision.render(Some(flight.answer.attempts))));
            account::record(
                &self.cfg,
                &self.worker,
                self.caller,
                self.start_ms,
                &flight,
                &request_part,
                decision.as_ref().map(|(t, d)| (*t, d.as_str())),
                host,
            );
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_access;
#[cfg(test)]
mod tests_audit;
#[cfg(test)]
mod tests_bedrock;
#[cfg(test)]
mod tests_capture;
#[cfg(test)]
mod tests_count_tokens;
#[cfg(test)]
mod tests_count_upstream;
#[cfg(test)]
mod tests_embeddings;
#[cfg(test)]
mod tests_endings;
#[cfg(test)]
mod tests_family;
#[cfg(test)]
mod tests_fleet;
#[cfg(test)]
mod tests_forward;
#[cfg(test)]
mod tests_json;
#[cfg(test)]
mod tests_messages;
#[cfg(test)]
mod tests_observe;
#[cfg(test)]
mod tests_plausible;
#[cfg(test)]
mod tests_relay;
#[cfg(test)]
mod tests_state;
