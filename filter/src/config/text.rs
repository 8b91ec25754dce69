//! What a configured string may hold where it ends up in a header.

pub fn header_safe(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// An Envoy cluster name, sent in the route header.
pub(super) fn cluster_name(s: &str) -> bool {
    !s.is_empty() && header_safe(s) && !s.contains(' ')
}
