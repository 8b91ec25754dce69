//! Usage counters per requested model and serving target (`keys::usage`), so every
//! Envoy worker adds to the same numbers: what `/v1/usage` and the ABI tests read.

use super::{cas, words};
use crate::host::Host;

pub const FIELDS: usize = 5;
pub const REQUESTS: usize = 0;
pub const PROMPT_TOKENS: usize = 1;
pub const COMPLETION_TOKENS: usize = 2;
pub const ERRORS: usize = 3;
pub const COST_NANO_USD: usize = 4;

pub type Counters = [u64; FIELDS];

pub fn encode(c: &Counters) -> Vec<u8> {
    words::encode(c)
}

pub fn decode(bytes: &[u8]) -> Counters {
    words::decode(bytes)
}

/// Add `delta` to the counters under `key`. Returns false if the update was lost.
pub fn add(host: &mut dyn Host, key: &str, delta: &Counters) -> bool {
    cas::update(host, key, cas::COUNTS, |value| {
        let mut current = value.map(decode).unwrap_or_default();
        for (c, d) in current.iter_mut().zip(delta.iter()) {
            *c = c.saturating_add(*d);
        }
        Some(encode(&current))
    })
}

/// Create `key` with zeros unless it exists (called from `on_configure`), so that
/// concurrent first writes from several workers cannot lose counts.
pub fn ensure(host: &mut dyn Host, key: &str) {
    cas::ensure(host, key, &encode(&[0; FIELDS]));
}

pub fn read(host: &dyn Host, key: &str) -> Option<Counters> {
    host.shared_get(key).0.map(|v| decode(&v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::FakeHost;
    use crate::state::keys;

    #[test]
    fn adds_accumulate() {
        let mut h = FakeHost::default();
        let k = keys::usage("m", "p", "u");
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
