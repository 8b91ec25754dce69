//! The request headers as Envoy hands them over in one host call (proxy-wasm's map
//! format), read without an allocation per header: one string and one index. Kept so
//! that later writes can skip values the client already sent (`content-type:
//! application/json`, say): each single-header host call costs ~1,300 instructions of
//! crossing into Envoy alone (measured with bench/icount.py). Replacing the whole map in
//! one call (`proxy_set_header_map_pairs`) measured dearer still: Envoy removes and
//! re-adds every header.

#[derive(Debug, Default, Clone)]
pub struct Headers {
    /// Every name and value, back to back.
    text: String,
    /// (name start, name end, value end) in `text`; the value starts at the name's end.
    spans: Vec<(usize, usize, usize)>,
}

impl Headers {
    /// From `[count][(name len, value len)…][name\0value\0…]` (little-endian u32s).
    /// Malformed input yields the pairs that could be read; bytes that are not UTF-8 are
    /// replaced (a header that must match exactly then simply does not).
    pub fn from_wire(bytes: &[u8]) -> Self {
        let u32_at = |i: usize| {
            bytes
                .get(i..i.saturating_add(4))
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(|b| u32::from_le_bytes(b) as usize)
        };
        let Some(count) = u32_at(0) else {
            return Headers::default();
        };
        let mut raw: Vec<(&[u8], &[u8])> = Vec::with_capacity(count.min(256));
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
            raw.push((k, v));
        }
        let mut h = Headers {
            text: String::with_capacity(raw.iter().map(|(k, v)| k.len() + v.len()).sum()),
            spans: Vec::with_capacity(raw.len()),
        };
        // Names and values follow the length table: one check of them all, eight bytes
        // per step, instead of a UTF-8 walk per piece (headers are nearly always ASCII).
        let table = 4usize.saturating_add(count.saturating_mul(8));
        if crate::strs::is_ascii(bytes.get(table..).unwrap_or_default()) {
            for (k, v) in raw {
                // SAFETY: every piece lies inside the region just checked to be ASCII,
                // which is valid UTF-8.
                let (k, v) = unsafe {
                    (
                        std::str::from_utf8_unchecked(k),
                        std::str::from_utf8_unchecked(v),
                    )
                };
                h.push(k, v);
            }
            return h;
        }
        for (k, v) in raw {
            h.push(&text(k), &text(v));
        }
        h
    }

    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Self {
        let mut h = Headers::default();
        for (k, v) in pairs {
            h.push(k.as_ref(), v.as_ref());
        }
        h
    }

    fn push(&mut self, name: &str, value: &str) {
        let start = self.text.len();
        self.text.push_str(name);
        let name_end = self.text.len();
        self.text.push_str(value);
        self.spans.push((start, name_end, self.text.len()));
    }

    /// Every (name, value), in Envoy's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans
            .iter()
            .filter_map(|&(s, n, e)| Some((self.text.get(s..n)?, self.text.get(n..e)?)))
    }

    /// The value of header `i` if its name is `name`: lengths first, bytes only then (this
    /// runs for every header the gateway looks at, over every header the client sent).
    #[inline(always)]
    fn value_if(&self, span: (usize, usize, usize), name: &str) -> Option<&str> {
        let (s, n, e) = span;
        if n.wrapping_sub(s) != name.len()
            || self.text.as_bytes().get(s..n) != Some(name.as_bytes())
        {
            return None;
        }
        self.text.get(n..e)
    }

    /// The first value of `name` (names as Envoy keeps them: lowercase).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.spans
            .iter()
            .find_map(|&span| self.value_if(span, name))
    }

    /// `name` has exactly this one value: setting it again would change nothing.
    pub fn has_only(&self, name: &str, value: &str) -> bool {
        let mut same = self
            .spans
            .iter()
            .filter_map(|&span| self.value_if(span, name));
        matches!((same.next(), same.next()), (Some(v), None) if v == value)
    }
}

/// Header bytes as text: checked once (nearly always valid, and `from_utf8_lossy`'s
/// chunked walk costs more), replaced only where they are not UTF-8.
fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// The map format proxy-wasm uses for headers (see `Headers::from_wire`).
pub fn to_wire<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Vec<u8> {
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
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn wire_round_trip_and_lookups() {
        let pairs = [
            (":path", "/v1/chat/completions"),
            ("x", "1"),
            ("x", "1"),
            ("empty", ""),
        ];
        let h = Headers::from_wire(&to_wire(&pairs));
        assert_eq!(h.get(":path"), Some("/v1/chat/completions"));
        assert_eq!(h.get("empty"), Some(""));
        assert_eq!(h.get("absent"), None);
        assert!(h.has_only(":path", "/v1/chat/completions"));
        assert!(!h.has_only(":path", "/v1/"));
        assert!(!h.has_only("x", "1")); // repeated: a write would collapse it
        assert!(!h.has_only("absent", ""));
    }

    #[test]
    fn hostile_bytes_never_panic() {
        let mut w = to_wire(&[("a", "b\u{e9}"), ("c", "d")]);
        let n = w.len();
        w[n - 2] = 0xff; // a value byte that is not UTF-8
        let h = Headers::from_wire(&w);
        assert_eq!(h.get("a"), Some("b\u{e9}"));
        assert_eq!(h.get("c"), Some("\u{fffd}"));
        for cut in 0..w.len() {
            let _ = Headers::from_wire(&w[..cut]);
        }
        let mut huge = w.clone();
        huge[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Headers::from_wire(&huge).get("a"), None);
    }
}
