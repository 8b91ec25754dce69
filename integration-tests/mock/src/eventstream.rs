//! AWS event stream framing (`application/vnd.amazon.eventstream`) for the mock's
//! Bedrock streams: prelude (total length, headers length, CRC-32 of both), string
//! headers, payload, CRC-32 of the whole message.

/// CRC-32 (IEEE, reflected 0xEDB88320), bit by bit: the mock favours obviousness.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            let mask = (c & 1).wrapping_neg();
            c = (c >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !c
}

/// One message with string-valued headers (type 7).
pub fn message(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let total = 12 + h.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// A Bedrock stream event (`:message-type: event`) with a JSON payload.
pub fn event(kind: &str, payload: &serde_json::Value) -> Vec<u8> {
    message(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

/// A modelled exception inside a stream (`:message-type: exception`).
pub fn exception(kind: &str, message_text: &str) -> Vec<u8> {
    message(
        &[
            (":exception-type", kind),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        serde_json::json!({ "message": message_text })
            .to_string()
            .as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn framing() {
        let m = message(&[(":event-type", "x")], b"{}");
        assert_eq!(m.len(), 12 + (1 + 11 + 1 + 2 + 1) + 2 + 4);
        assert_eq!(
            u32::from_be_bytes([m[0], m[1], m[2], m[3]]) as usize,
            m.len()
        );
        let n = m.len();
        assert_eq!(
            u32::from_be_bytes([m[n - 4], m[n - 3], m[n - 2], m[n - 1]]),
            crc32(&m[..n - 4])
        );
    }
}
