//! Writing named SSE events (`event: <name>` / `data: <json>`), as the Anthropic and
//! Responses stream writers send them.

use serde::Serialize;

/// Writes `data` as one event named `name`; writes nothing and answers `false` when it
/// does not serialise (a half-written event would break the client's parser).
pub fn write_named<T: Serialize + ?Sized>(out: &mut Vec<u8>, name: &str, data: &T) -> bool {
    let Ok(json) = serde_json::to_vec(data) else {
        return false;
    };
    put_named(out, name, &json);
    true
}

/// Writes one event named `name` whose data is `json` (already written).
pub fn put_named(out: &mut Vec<u8>, name: &str, json: &[u8]) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    out.extend_from_slice(json);
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_event_bytes() {
        let mut out = Vec::new();
        assert!(write_named(&mut out, "ping", &[1, 2]));
        assert_eq!(out, b"event: ping\ndata: [1,2]\n\n");
    }
}
