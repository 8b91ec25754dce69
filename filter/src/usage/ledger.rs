//! Usage counters in proxy-wasm shared data, so every Envoy worker adds to the same
//! numbers. Each key holds fixed-width little-endian u64 counters updated with a
//! get / compare-and-swap retry loop.

use crate::host::{cas_update, Host};

pub const FIELDS: usize = 5;
pub const REQUESTS: usize = 0;
pub const PROMPT_TOKENS: usize = 1;
pub const COMPLETION_TOKENS: usize = 2;
pub const ERRORS: usize = 3;
pub const COST_NANO_USD: usize = 4;

pub type Counters = [u64; FIELDS];

pub fn usage_key(model: &str, provider: &str, upstream_model: &str) -> String {
    crate::strs::concat(&["llm:usage:", model, "|", provider, "|", upstream_model])
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
    cas_update(host, key, |value| {
        let mut current = value.map(decode).unwrap_or_default();
        for (c, d) in current.iter_mut().zip(delta.iter()) {
            *c = c.saturating_add(*d);
        }
        Some(encode(&current))
    })
}

/// Create `key` with zeros unless it exists (called from `on_configure`).
pub fn ensure(host: &mut dyn Host, key: &str) {
    if host.shared_get(key).0.is_none() {
        // Create-only: if another worker counted into it meanwhile, keep its value.
        let _ = host.shared_set(key, &encode(&[0; FIELDS]), crate::host::CREATE_ONLY);
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
        assert!(add(&mut h, &k, &[1, 10, 5, 0, 7]));
        assert!(add(&mut h, &k, &[1, 3, 2, 1, 0]));
        assert_eq!(read(&h, &k), Some([2, 13, 7, 1, 7]));
        ensure(&mut h, &k);
        assert_eq!(read(&h, &k), Some([2, 13, 7, 1, 7]));
    }

    #[test]
    fn decode_tolerates_short_values() {
        assert_eq!(decode(&[1, 0, 0]), [0; FIELDS]);
        assert_eq!(decode(&encode(&[5, 6, 7, 8, 9])), [5, 6, 7, 8, 9]);
        // values written before the cost field existed still read
        assert_eq!(decode(&[1, 0, 0, 0, 0, 0, 0, 0]), [1, 0, 0, 0, 0]);
    }
}
