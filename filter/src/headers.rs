//! A header map as Envoy hands it over in one host call (decoded from proxy-wasm's map
//! format in `wasm/map.rs`), kept without an allocation per header: one string and one
//! index. Callers look headers up here rather than one host call per header (a call that
//! returns data is among the dearest, see bench/hostcalls.md), and skip writes that would
//! change nothing. Cheap to clone (shared), so the Envoy host can keep the snapshot it
//! handed out and decide between adding and replacing a header.

use std::rc::Rc;

#[derive(Debug, Default, Clone)]
pub struct Headers(Rc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// Every name and value, back to back.
    text: String,
    /// (name start, name end, value end) in `text`; the value starts at the name's end.
    spans: Vec<(usize, usize, usize)>,
}

impl Headers {
    /// From (name, value) byte pairs. Bytes that are not UTF-8 are replaced (a header that
    /// must match exactly then simply does not). Headers are nearly always ASCII: the
    /// pieces are copied back to back and checked once, as a whole.
    pub fn from_bytes(pairs: &[(&[u8], &[u8])]) -> Self {
        let mut text = Vec::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len()).sum());
        let mut spans = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let start = text.len();
            text.extend_from_slice(k);
            let name_end = text.len();
            text.extend_from_slice(v);
            spans.push((start, name_end, text.len()));
        }
        // Valid as a whole and cut at character boundaries: every piece is valid.
        if let Ok(text) = String::from_utf8(text) {
            if spans
                .iter()
                .all(|&(s, n, _)| text.is_char_boundary(s) && text.is_char_boundary(n))
            {
                return Headers(Rc::new(Inner { text, spans }));
            }
        }
        let mut h = Inner::default();
        for (k, v) in pairs {
            h.push(&String::from_utf8_lossy(k), &String::from_utf8_lossy(v));
        }
        Headers(Rc::new(h))
    }

    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Self {
        let mut h = Inner::default();
        for (k, v) in pairs {
            h.push(k.as_ref(), v.as_ref());
        }
        Headers(Rc::new(h))
    }

    /// Every (name, value), in Envoy's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let h = &*self.0;
        h.spans
            .iter()
            .filter_map(|&(s, n, e)| Some((h.text.get(s..n)?, h.text.get(n..e)?)))
    }

    /// The first value of `name` (names as Envoy keeps them: lowercase).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .spans
            .iter()
            .find_map(|&span| self.0.value_if(span, name))
    }

    /// `name` has exactly this one value: setting it again would change nothing.
    pub fn has_only(&self, name: &str, value: &str) -> bool {
        let mut same = self
            .0
            .spans
            .iter()
            .filter_map(|&span| self.0.value_if(span, name));
        matches!((same.next(), same.next()), (Some(v), None) if v == value)
    }
}

impl Inner {
    fn push(&mut self, name: &str, value: &str) {
        let start = self.text.len();
        self.text.push_str(name);
        let name_end = self.text.len();
        self.text.push_str(value);
        self.spans.push((start, name_end, self.text.len()));
    }

    /// The value of header `span` if its name is `name`: lengths first, bytes only then
    /// (this runs for every header the gateway looks at, over every header the client sent).
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let pairs = [
            (":path", "/v1/chat/completions"),
            ("x", "1"),
            ("x", "1"),
            ("empty", ""),
        ];
        let h = Headers::from_pairs(&pairs);
        assert_eq!(h.get(":path"), Some("/v1/chat/completions"));
        assert_eq!(h.get("empty"), Some(""));
        assert_eq!(h.get("absent"), None);
        assert!(h.has_only(":path", "/v1/chat/completions"));
        assert!(!h.has_only(":path", "/v1/"));
        assert!(!h.has_only("x", "1")); // repeated: a write would collapse it
        assert!(!h.has_only("absent", ""));
        assert_eq!(h.iter().count(), 4);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_replaced_per_piece() {
        let e_acute = "\u{e9}".as_bytes();
        let h = Headers::from_bytes(&[(b"a", e_acute), (b"c", &[0xff])]);
        assert_eq!(h.get("a"), Some("\u{e9}"));
        assert_eq!(h.get("c"), Some("\u{fffd}"));
        // Valid together but not apart: a character split between a name and its value.
        let (first, second) = e_acute.split_at(1);
        let h = Headers::from_bytes(&[(first, second)]);
        assert_eq!(h.iter().next(), Some(("\u{fffd}", "\u{fffd}")));
    }
}
