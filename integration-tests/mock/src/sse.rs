//! Server-sent event framing and network re-chunking.

use serde_json::Value;

/// `data: <json>\n\n`
pub fn data(value: &Value) -> String {
    format!("data: {value}\n\n")
}

/// `data: [DONE]\n\n`
pub fn done() -> String {
    String::from("data: [DONE]\n\n")
}

/// `event: <name>\ndata: <json>\n\n`
pub fn named(event: &str, value: &Value) -> String {
    format!("event: {event}\ndata: {value}\n\n")
}

/// Re-splits a byte string into pieces of at most `size` bytes (`size` 0 means 1).
pub fn rechunk(bytes: &[u8], size: usize) -> Vec<Vec<u8>> {
    bytes.chunks(size.max(1)).map(<[u8]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn framing() {
        assert_eq!(data(&json!({"a":1})), "data: {\"a\":1}\n\n");
        assert_eq!(
            named("ping", &json!({"type":"ping"})),
            "event: ping\ndata: {\"type\":\"ping\"}\n\n"
        );
        assert_eq!(done(), "data: [DONE]\n\n");
    }

    #[test]
    fn rechunking() {
        let parts = rechunk(b"abcdefg", 3);
        assert_eq!(parts, vec![b"abc".to_vec(), b"def".to_vec(), b"g".to_vec()]);
        assert_eq!(rechunk(b"ab", 0).len(), 2);
    }
}
