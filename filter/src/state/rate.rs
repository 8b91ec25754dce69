//! Rate-limit windows in shared data (`keys::key_rate`, `keys::model_rate`): reserved
//! before a call, adjusted to the real count after it.

use super::{cas, words};
use crate::host::Host;
use crate::limits::rate::{self, Window};

pub fn encode(w: &Window) -> Vec<u8> {
    words::encode(&[w.id, w.requests, w.tokens])
}

pub fn decode(bytes: &[u8]) -> Window {
    let [id, requests, tokens] = words::decode(bytes);
    Window {
        id,
        requests,
        tokens,
    }
}

/// Read-modify-write of the window under `key` (a fresh one if absent): `f` returns the
/// window to store, or None to leave it. False if the write was lost.
pub fn update(host: &mut dyn Host, key: &str, mut f: impl FnMut(Window) -> Option<Window>) -> bool {
    cas::update(host, key, cas::COUNTS, |value| {
        f(value.map(decode).unwrap_or_default()).map(|w| encode(&w))
    })
}

/// Replace a reservation made in window `id` by the real numbers (see `rate::adjust`);
/// a key that does not exist stays absent.
pub fn adjust(host: &mut dyn Host, key: &str, id: u64, requests: i64, tokens: i64) {
    cas::update(host, key, cas::COUNTS, |value| {
        let w = value.map(decode)?;
        Some(encode(&rate::adjust(w, id, requests, tokens)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let w = Window {
            id: 9,
            requests: 8,
            tokens: 7,
        };
        assert_eq!(decode(&encode(&w)), w);
        assert_eq!(decode(b"x"), Window::default());
    }
}
