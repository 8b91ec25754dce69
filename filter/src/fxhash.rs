//! A fast non-cryptographic hasher (rustc's FxHash scheme: a word at a time) for the
//! per-VM caches keyed by long metric names. std's SipHash costs ~10 instructions per
//! byte, paid on every counter update; nothing here is keyed by client input an attacker
//! could use to force collisions that matter (the caches are bounded and rebuilt).

use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            for (d, s) in w.iter_mut().zip(rest) {
                *d = *s;
            }
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

pub type FxBuildHasher = BuildHasherDefault<FxHasher>;
pub type FxHashMap<K, V> = std::collections::HashMap<K, V, FxBuildHasher>;

/// One hash over several strings (separated, so ("ab","c") and ("a","bc") differ).
pub fn hash_strs(parts: &[&str]) -> u64 {
    let mut h = FxHasher::default();
    for p in parts {
        h.write(p.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_parts_and_tails() {
        assert_ne!(hash_strs(&["ab", "c"]), hash_strs(&["a", "bc"]));
        assert_ne!(hash_strs(&["abcdefgh1"]), hash_strs(&["abcdefgh2"]));
        assert_ne!(hash_strs(&["a"]), hash_strs(&["a\0"]));
        assert_eq!(hash_strs(&["m", "p"]), hash_strs(&["m", "p"]));
    }

    #[test]
    fn works_as_a_map_hasher() {
        let mut m: FxHashMap<String, u32> = FxHashMap::default();
        m.insert("llmgw.requests_total.gen_ai_request_model.x".into(), 1);
        assert_eq!(
            m.get("llmgw.requests_total.gen_ai_request_model.x"),
            Some(&1)
        );
        assert_eq!(m.get("llmgw.requests_total.gen_ai_request_model.y"), None);
    }
}
