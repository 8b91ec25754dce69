//! Usage counters in proxy-wasm shared data, so every Envoy worker adds to the same
//! numbers. Each key holds fixed-width little-endian u64 counters updated with a
//! get / compare-and-swap retry loop.

use crate::host::{CasResult, Host};

pub const FIELDS: usize = 4;
pub const REQUESTS: usize = 0;
pub const PROMPT_TOKENS: usize = 1;
pub const COMPLETION_TOKENS: usize = 2;
pub const ERRORS: usize = 3;

/// Attempts before giving up on one update (only under extreme contention).
const MAX_CAS_ATTEMPTS: usize = 64;

pub type Counters = [u64; FIELDS];

pub fn usage_key(model: &str, provider: &str, upstream_model: &str) -> String {
    format!("llm:usage:{model}|{provider}|{upstream_model}")
}

pub fn encode(c: &Counters) -> Vec<u8> {
    c.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn decode(bytes: &[u8]) -> Counters {
    let mut out = [0u64; FIELDS];
    for (slot, chunk) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        if let Ok(b) = <[u8; 8]>::try_from(chunk) {
            *slot = u64::from_le_bytes(b);
        }
    }
    out
}

/// Add `delta` to the counters under `key`. Returns false if the update was lost.
pub fn add(host: &mut dyn Host, key: &str, delta: &Counters) -> bool {
    for _ in 0..MAX_CAS_ATTEMPTS {
        let (value, cas) = host.shared_get(key);
        let mut current = value.map(|v| decode(&v)).unwrap_or_default();
        for (c, d) in current.iter_mut().zip(delta.iter()) {
            *c = c.saturating_add(*d);
        }
        // A key that does not exist yet has no CAS token; Envoy then writes
        // unconditionally. Keys for configured targets are created at configure time,
        // which keeps that window closed for them.
        match host.shared_set(key, &encode(&current), cas) {
            CasResult::Ok => return true,
            CasResult::Mismatch => continue,
            CasResult::Failed => return false,
        }
    }
    false
}

/// Create `key` with zeros unless it exists (called from `on_configure`).
pub fn ensure(host: &mut dyn Host, key: &str) {
    if host.shared_get(key).0.is_none() {
        let _ = host.shared_set(key, &encode(&[0; FIELDS]), 0);
    }
}

pub fn read(host: &dyn Host, key: &str) -> Option<Counters> {
    host.shared_get(key).0.map(|v| decode(&v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::FakeHost;

    #[test]
    fn adds_accumulate() {
        let mut h = FakeHost::default();
        let k = usage_key("m", "p", "u");
        assert!(add(&mut h, &k, &[1, 10, 5, 0]));
        assert!(add(&mut h, &k, &[1, 3, 2, 1]));
        assert_eq!(read(&h, &k), Some([2, 13, 7, 1]));
        ensure(&mut h, &k);
        assert_eq!(read(&h, &k), Some([2, 13, 7, 1]));
    }

    #[test]
    fn decode_tolerates_short_values() {
        assert_eq!(decode(&[1, 0, 0]), [0; FIELDS]);
        assert_eq!(decode(&encode(&[5, 6, 7, 8])), [5, 6, 7, 8]);
    }
}
