//! A call to the fleet store from a request, and the 503 when it is out of reach.

use crate::background::Call;
use crate::config::fleet::Fleet;
use crate::error::GatewayError;
use crate::host::Host;

/// One call to the store from this request (its answer: `Exchange::on_call_answer`).
pub fn call(host: &mut dyn Host, fleet: &Fleet, path: &str, body: &[u8]) -> Option<u32> {
    let headers = [
        (":method", "POST"),
        (":path", path),
        (":authority", fleet.authority.as_str()),
        ("content-type", "application/json"),
    ];
    host.dispatch_call(&Call {
        cluster: &fleet.cluster,
        headers: &headers,
        body,
        timeout_ms: fleet.timeout_ms,
    })
}

/// 503: the store is out of reach (fail_closed, or a report only the store can give).
pub fn store_unavailable() -> GatewayError {
    let mut e = GatewayError::upstream(
        503,
        "api_error",
        "The gateway's limit store is unavailable; try again shortly",
    );
    e.code = Some("store_unavailable");
    e.with_retry_after(Some(1))
}
