//! Target health and latency in shared data: what routing reads before a choice and
//! the response path records after an answer.

use super::{cas, keys};
use crate::config::HealthSettings;
use crate::host::Host;
use crate::routing::health::{HealthState, Outcome};
use crate::routing::strategy::ewma;

const ENCODED_LEN: usize = 12;

pub fn encode(h: &HealthState) -> [u8; ENCODED_LEN] {
    let mut out = [0u8; ENCODED_LEN];
    let (a, b) = out.split_at_mut(4);
    a.copy_from_slice(&h.consecutive_failures.to_le_bytes());
    b.copy_from_slice(&h.cooldown_until_ms.to_le_bytes());
    out
}

/// Anything malformed reads as healthy: losing health state must never block traffic.
pub fn decode(bytes: &[u8]) -> HealthState {
    let (Some(a), Some(b)) = (bytes.get(0..4), bytes.get(4..12)) else {
        return HealthState::default();
    };
    let (Ok(a), Ok(b)) = (<[u8; 4]>::try_from(a), <[u8; 8]>::try_from(b)) else {
        return HealthState::default();
    };
    HealthState {
        consecutive_failures: u32::from_le_bytes(a),
        cooldown_until_ms: u64::from_le_bytes(b),
    }
}

pub fn read(host: &dyn Host, provider: &str, model: &str) -> HealthState {
    host.shared_get(&keys::health(provider, model))
        .0
        .map(|v| decode(&v))
        .unwrap_or_default()
}

/// Record an answer's status; nothing is written when the state does not change (the
/// common healthy case), so a healthy gateway does one shared read per response.
pub fn record(host: &mut dyn Host, s: &HealthSettings, provider: &str, model: &str, status: u16) {
    let outcome = Outcome::from_status(status);
    let key = keys::health(provider, model);
    let now = host.now_ms();
    cas::update(host, &key, cas::HEALTH, |value| {
        let current = value.map(decode).unwrap_or_default();
        let next = current.record(outcome, now, s);
        (next != current).then(|| encode(&next))
    });
}

/// The target's moving average of time to first byte (µs), if any was recorded.
pub fn latency(host: &dyn Host, provider: &str, model: &str) -> Option<u64> {
    host.shared_get(&keys::latency(provider, model))
        .0
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map(u64::from_le_bytes)
}

pub fn record_latency(host: &mut dyn Host, provider: &str, model: &str, sample_us: u64) {
    let key = keys::latency(provider, model);
    cas::update(host, &key, cas::COUNTS, |v| {
        let prev = v
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_le_bytes);
        Some(ewma(prev, sample_us).to_le_bytes())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let h = HealthState {
            consecutive_failures: 7,
            cooldown_until_ms: 123_456_789_000,
        };
        assert_eq!(decode(&encode(&h)), h);
        assert_eq!(decode(b"xx"), HealthState::default());
    }
}
