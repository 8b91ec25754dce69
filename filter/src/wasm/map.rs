//! proxy-wasm's header map format, as `proxy_get_header_map_pairs` returns it and
//! `proxy_send_local_response` takes it: `[count][(name len, value len)…][name\0value\0…]`,
//! lengths as little-endian u32s, each name and value followed by a NUL the lengths do not
//! count. Plain code (compiled natively too, for its tests).

// Natively only the tests use it.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use crate::headers::Headers;

/// The (name, value) pairs of `bytes`. Malformed input yields the pairs that could be read.
pub fn pairs(bytes: &[u8]) -> Vec<(&[u8], &[u8])> {
    let u32_at = |i: usize| {
        bytes
            .get(i..i.saturating_add(4))
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(|b| u32::from_le_bytes(b) as usize)
    };
    let Some(count) = u32_at(0) else {
        return Vec::new();
    };
    // Bounded: a hostile count must not reserve memory the bytes cannot back.
    let mut out = Vec::with_capacity(count.min(bytes.len() / 8));
    let mut p = 4usize.saturating_add(count.saturating_mul(8));
    for n in 0..count {
        let at = 4usize.saturating_add(n.saturating_mul(8));
        let (Some(kl), Some(vl)) = (u32_at(at), u32_at(at.saturating_add(4))) else {
            break;
        };
        let key = bytes.get(p..p.saturating_add(kl));
        p = p.saturating_add(kl).saturating_add(1);
        let value = bytes.get(p..p.saturating_add(vl));
        p = p.saturating_add(vl).saturating_add(1);
        let (Some(k), Some(v)) = (key, value) else {
            break;
        };
        out.push((k, v));
    }
    out
}

/// A header map read from the host.
pub fn decode(bytes: &[u8]) -> Headers {
    Headers::from_bytes(&pairs(bytes))
}

/// `pairs` in the map format.
pub fn encode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Vec<u8> {
    let bytes: usize = pairs
        .iter()
        .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 10)
        .sum();
    let mut out = Vec::with_capacity(4 + bytes);
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.as_ref().len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.as_ref().len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_ref().as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_ref().as_bytes());
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three headers, one repeated name and one empty value, written out by hand.
    #[rustfmt::skip]
    const MAP: &[u8] = &[
        // three pairs
        3, 0, 0, 0,
        // lengths of (":path", "/v1/chat/completions")
        5, 0, 0, 0, 20, 0, 0, 0,
        // lengths of ("x", "1")
        1, 0, 0, 0, 1, 0, 0, 0,
        // lengths of ("x", "")
        1, 0, 0, 0, 0, 0, 0, 0,
        // ":path" NUL
        b':', b'p', b'a', b't', b'h', 0,
        // "/v1/chat/completions" NUL
        b'/', b'v', b'1', b'/', b'c', b'h', b'a', b't', b'/',
        b'c', b'o', b'm', b'p', b'l', b'e', b't', b'i', b'o', b'n', b's', 0,
        // "x" NUL "1" NUL
        b'x', 0, b'1', 0,
        // "x" NUL "" NUL
        b'x', 0, 0,
    ];

    #[test]
    fn decodes_the_hand_written_map() {
        let want: [(&[u8], &[u8]); 3] = [
            (b":path", b"/v1/chat/completions"),
            (b"x", b"1"),
            (b"x", b""),
        ];
        assert_eq!(pairs(MAP), want);
        let h = decode(MAP);
        assert_eq!(h.get(":path"), Some("/v1/chat/completions"));
        assert_eq!(h.get("x"), Some("1"));
        assert!(!h.has_only("x", "1"));
    }

    #[test]
    fn encodes_the_hand_written_map() {
        let pairs = [(":path", "/v1/chat/completions"), ("x", "1"), ("x", "")];
        assert_eq!(encode(&pairs), MAP);
        assert_eq!(encode::<&str, &str>(&[]), [0, 0, 0, 0]);
    }

    #[test]
    fn hostile_bytes_never_panic() {
        let mut w = encode(&[("a", "b\u{e9}"), ("c", "d")]);
        let n = w.len();
        w[n - 2] = 0xff; // a value byte that is not UTF-8
        let h = decode(&w);
        assert_eq!(h.get("a"), Some("b\u{e9}"));
        assert_eq!(h.get("c"), Some("\u{fffd}"));
        for cut in 0..w.len() {
            let _ = decode(&w[..cut]);
        }
        // The pairs before a cut, none after it (the last value ends before its NUL).
        assert_eq!(pairs(&MAP[..MAP.len() - 1]).len(), 3);
        assert_eq!(pairs(&MAP[..MAP.len() - 2]).len(), 2);
        let mut huge = w.clone();
        huge[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&huge).get("a"), None);
        assert!(pairs(&[]).is_empty());
    }
}
