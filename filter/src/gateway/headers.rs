//! The request headers as read at the headers callback (one host call), kept so that
//! later writes can skip values the client already sent (`content-type:
//! application/json`, say): each single-header host call costs ~1,300 instructions of
//! crossing into Envoy alone (measured with bench/icount.py). Replacing the whole map in
//! one call (`proxy_set_header_map_pairs`) measured dearer still: Envoy removes and
//! re-adds every header, and building the copy in Wasm allocates for each one.

#[derive(Debug, Default, Clone)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// Names as Envoy keeps them (lowercase); lookups expect lowercase names.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Headers(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name` has exactly this one value: setting it again would change nothing.
    pub fn has_only(&self, name: &str, value: &str) -> bool {
        let mut same = self.0.iter().filter(|(k, _)| k == name);
        matches!((same.next(), same.next()), (Some((_, v)), None) if v == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_header_is_not_unchanged() {
        let h = Headers::new(vec![
            ("a".into(), "1".into()),
            ("x".into(), "1".into()),
            ("x".into(), "1".into()),
        ]);
        assert!(h.has_only("a", "1"));
        assert!(!h.has_only("a", "2"));
        assert!(!h.has_only("x", "1"));
        assert!(!h.has_only("absent", ""));
        assert_eq!(h.get("x"), Some("1"));
    }
}
