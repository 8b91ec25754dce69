//! The access-log value's request part (`%FILTER_STATE(wasm.llm:PLAIN)%`): what the
//! client asked (its path, request id and model name, not the rewritten upstream path),
//! the time to first byte, and the routing or limit decision. `x-llm-decision` carries the
//! decision to admin keys (or every client with `decision_header`).

use super::decision::{Decision, HEADER};
use crate::config::Config;
use crate::host::Host;
use crate::strs::push_u64;
use crate::translate::finish::FinishReasons;

/// What the client asked, and what the gateway decided.
pub struct Asked<'a> {
    pub path: &'a str,
    pub request_id: Option<&'a str>,
    pub decision: &'a Decision,
}

/// ` path=… request_id=… request_model=… ttft_ms=… strategy=… …` (appended to the
/// usage part; `-` for what is unknown).
pub fn request_part(
    asked: &Asked<'_>,
    request_model: Option<&str>,
    ttft_ms: Option<u64>,
    attempts: Option<u32>,
) -> String {
    let mut s = String::with_capacity(96 + asked.path.len());
    s.push_str(" path=");
    s.push_str(or_dash(asked.path));
    s.push_str(" request_id=");
    s.push_str(asked.request_id.map_or("-", or_dash));
    s.push_str(" request_model=");
    s.push_str(request_model.map_or("-", or_dash));
    s.push_str(" ttft_ms=");
    match ttft_ms {
        Some(t) => push_u64(&mut s, t),
        None => s.push('-'),
    }
    let decision = asked.decision.render(attempts);
    if !decision.is_empty() {
        s.push(' ');
        s.push_str(&decision);
    }
    s
}

/// ` finish_reasons=stop,length` (one per choice; `-` when none is known), onto `s`.
pub fn push_finish_part(s: &mut String, reasons: &FinishReasons) {
    s.push_str(" finish_reasons=");
    if reasons.is_empty() {
        s.push('-');
    }
    let mut first = true;
    reasons.each(|r| {
        if !first {
            s.push(',');
        }
        first = false;
        // An upstream's own reason never breaks the line's fields.
        s.push_str(if r.contains(',') { "-" } else { or_dash(r) });
    });
}

/// A value never holds a space or control character: log parsers split on spaces.
fn or_dash(v: &str) -> &str {
    if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "-"
    } else {
        v
    }
}

/// A request the gateway answered itself: `status=… error=…` and the request part.
pub fn refusal(asked: &Asked<'_>, host: &mut dyn Host, status: u16, code: &str) {
    let mut s = String::from("status=");
    push_u64(&mut s, u64::from(status));
    s.push_str(" error=");
    s.push_str(code);
    s.push_str(&request_part(asked, None, None, None));
    host.set_log_field("llm", &s);
}

/// The decision header, for callers that get it: admin keys, or everyone with
/// `decision_header`.
pub fn header(
    cfg: &Config,
    caller: Option<usize>,
    d: &Decision,
    attempts: Option<u32>,
) -> Option<(&'static str, String)> {
    let admin = cfg
        .access
        .as_ref()
        .zip(caller)
        .and_then(|(a, i)| a.key(i))
        .is_some_and(|k| k.admin);
    if !(cfg.decision_header || admin) {
        return None;
    }
    let v = d.render(attempts);
    (!v.is_empty()).then_some((HEADER, v))
}
