//! An ordered, multi-valued header map with Envoy's key handling (keys are lower-cased).

use std::fmt;

/// Header map as Envoy keeps it: keys lower-cased, duplicates allowed, insertion order kept,
/// pseudo-headers (`:path`, …) ahead of regular ones. Values are bytes (HTTP/1 allows obs-text).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HeaderMap {
    entries: Vec<(String, Vec<u8>)>,
}

impl HeaderMap {
    pub fn new() -> HeaderMap {
        HeaderMap::default()
    }

    /// Builds a map from pairs, lower-casing keys (what Envoy's codecs do).
    pub fn from_pairs<K: AsRef<str>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.add(k.as_ref(), v.as_ref());
        }
        map
    }

    pub(crate) fn from_raw(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.add(&String::from_utf8_lossy(&k), &v);
        }
        map
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// First value of `name` (case-insensitive), lossily decoded as UTF-8.
    pub fn get(&self, name: &str) -> Option<String> {
        self.get_bytes(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// First value of `name` (case-insensitive) as raw bytes.
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        let key = name.to_ascii_lowercase();
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// All values of `name`, in order.
    pub fn get_all(&self, name: &str) -> Vec<String> {
        let key = name.to_ascii_lowercase();
        self.entries
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get_bytes(name).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// All entries as `(key, value)` strings (values decoded lossily).
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
            .collect()
    }

    /// Entries sorted by key then value: handy for order-insensitive comparisons.
    pub fn sorted_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = self.to_pairs();
        pairs.sort();
        pairs
    }

    /// Appends a value (Envoy `addCopy`).
    pub fn add(&mut self, name: &str, value: &[u8]) {
        let key = name.to_ascii_lowercase();
        let entry = (key, value.to_vec());
        if entry.0.starts_with(':') {
            // Envoy keeps pseudo-headers in front of regular headers.
            let at = self
                .entries
                .iter()
                .position(|(k, _)| !k.starts_with(':'))
                .unwrap_or(self.entries.len());
            self.entries.insert(at, entry);
        } else {
            self.entries.push(entry);
        }
    }

    /// Sets a single value (Envoy `setCopy`): the first existing entry keeps its position,
    /// any further entries with that key are removed.
    pub fn replace(&mut self, name: &str, value: &[u8]) {
        let key = name.to_ascii_lowercase();
        match self.entries.iter().position(|(k, _)| *k == key) {
            Some(first) => {
                let mut index = 0usize;
                self.entries.retain(|(k, _)| {
                    let keep = *k != key || index == first;
                    index += 1;
                    keep
                });
                if let Some(entry) = self.entries.get_mut(first) {
                    entry.1 = value.to_vec();
                }
            }
            None => self.add(&key, value),
        }
    }

    /// Removes every value of `name`.
    pub fn remove(&mut self, name: &str) {
        let key = name.to_ascii_lowercase();
        self.entries.retain(|(k, _)| *k != key);
    }

    pub(crate) fn serialize(&self) -> Vec<u8> {
        crate::abi::serialize_pairs(
            self.entries
                .iter()
                .map(|(k, v)| (k.as_bytes(), v.as_slice())),
        )
    }
}

impl fmt::Debug for HeaderMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.entries
                    .iter()
                    .map(|(k, v)| (k, String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;

    #[test]
    fn keys_are_lowercased_and_pseudo_headers_stay_in_front() {
        let mut map = HeaderMap::from_pairs(&[(":method", "POST"), ("Content-Type", "a")]);
        map.add(":path", b"/x");
        assert_eq!(
            map.to_pairs(),
            vec![
                (":method".into(), "POST".into()),
                (":path".into(), "/x".into()),
                ("content-type".into(), "a".into())
            ]
        );
        assert_eq!(map.get("CONTENT-TYPE").as_deref(), Some("a"));
    }

    #[test]
    fn replace_keeps_first_position_and_drops_duplicates() {
        let mut map = HeaderMap::from_pairs(&[("a", "1"), ("b", "2"), ("a", "3")]);
        map.replace("A", b"9");
        assert_eq!(
            map.to_pairs(),
            vec![("a".into(), "9".into()), ("b".into(), "2".into())]
        );
        map.replace("c", b"4");
        assert_eq!(map.get("c").as_deref(), Some("4"));
        map.remove("a");
        assert!(!map.contains("a"));
    }
}
