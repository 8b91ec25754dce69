//! The one read-modify-write of a shared-data value: get, compute, compare-and-swap,
//! retried while another worker wrote in between.

use crate::host::{CasResult, Host};

/// Tries for counts that must not be lost (usage, totals, rate windows): enough for any
/// realistic contention between workers.
pub const COUNTS: usize = 64;
/// Tries for target health: a lost update is recorded again by the next answer, so the
/// response path gives up sooner.
pub const HEALTH: usize = 16;

/// Update the value under `key` with at most `tries` attempts. `f` gets the current
/// value (None if absent) and returns the new one, or None to leave it unchanged. False
/// if the update was lost (host failure, or contention beyond `tries`).
pub fn update<V: AsRef<[u8]>>(
    host: &mut dyn Host,
    key: &str,
    tries: usize,
    mut f: impl FnMut(Option<&[u8]>) -> Option<V>,
) -> bool {
    for _ in 0..tries {
        let (value, cas) = host.shared_get(key);
        let Some(next) = f(value.as_deref()) else {
            return true;
        };
        match host.shared_set(key, next.as_ref(), create_or(cas)) {
            CasResult::Ok => return true,
            CasResult::Mismatch => continue,
            CasResult::Failed => return false,
        }
    }
    false
}

/// Create `key` with `value` unless it exists; a value another worker wrote meanwhile
/// is kept.
pub fn ensure(host: &mut dyn Host, key: &str, value: &[u8]) {
    if host.shared_get(key).0.is_none() {
        let _ = host.shared_set(key, value, CREATE_ONLY);
    }
}

/// The CAS token to write with: the one read, or for a key that did not exist a token no
/// real value carries. Envoy (like the fakes) writes unconditionally with 0, but with any
/// other token it creates a missing key and refuses to overwrite one that another worker
/// created in the meantime: so a first write can no longer erase a concurrent one.
pub fn create_or(cas: u32) -> u32 {
    if cas == 0 {
        CREATE_ONLY
    } else {
        cas
    }
}

/// See `create_or`: Envoy's tokens count up from 1 and never reach this.
pub const CREATE_ONLY: u32 = u32::MAX;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::FakeHost;

    #[test]
    fn unchanged_writes_nothing_and_ensure_keeps_a_value() {
        let mut h = FakeHost::default();
        assert!(update(&mut h, "k", COUNTS, |_| None::<Vec<u8>>));
        assert!(h.shared.is_empty());
        assert!(update(&mut h, "k", HEALTH, |v| {
            assert_eq!(v, None);
            Some([7u8])
        }));
        ensure(&mut h, "k", &[0]);
        assert_eq!(h.shared_get("k").0, Some(vec![7]));
    }
}
