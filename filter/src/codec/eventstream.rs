//! Incremental decoder for the AWS event stream framing
//! (`application/vnd.amazon.eventstream`), used by Bedrock's streaming APIs.
//!
//! A message is: total length (u32 BE), headers length (u32 BE), CRC-32 of those
//! 8 bytes (the prelude CRC), the headers, the payload, and a CRC-32 of everything
//! before it. Network chunks split messages anywhere, so bytes are held until a whole
//! message has arrived. The prelude CRC is checked as soon as 12 bytes are there, so a
//! corrupt length is caught before we wait for (or buffer) that many bytes.

use super::crc32::crc32;

const PRELUDE: usize = 12;
const CRC: usize = 4;
/// The smallest message: prelude and message CRC, no headers, no payload.
const MIN_MESSAGE: usize = PRELUDE + CRC;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(Vec<u8>),
    String(String),
    Timestamp(i64),
    Uuid([u8; 16]),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub headers: Vec<(String, HeaderValue)>,
    pub payload: Vec<u8>,
}

impl Message {
    /// A string header (`:event-type`, `:message-type`, …).
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|(k, v)| match v {
            HeaderValue::String(s) if k == name => Some(s.as_str()),
            _ => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    PreludeCrc,
    MessageCrc,
    /// Total length below the minimum, headers longer than the message, or a message
    /// above the limit.
    Length(u32),
    /// Malformed headers section.
    Headers(&'static str),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::PreludeCrc => f.write_str("prelude CRC mismatch"),
            DecodeError::MessageCrc => f.write_str("message CRC mismatch"),
            DecodeError::Length(n) => write!(f, "invalid message length {n}"),
            DecodeError::Headers(why) => write!(f, "malformed headers: {why}"),
        }
    }
}

pub struct Decoder {
    buf: Vec<u8>,
    max_message: usize,
    /// After an error the framing is lost for good.
    broken: Option<DecodeError>,
}

impl Decoder {
    pub fn new(max_message: usize) -> Self {
        Decoder {
            buf: Vec::new(),
            max_message,
            broken: None,
        }
    }

    /// Feed bytes; complete messages are appended to `out` (also those before an error).
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<Message>) -> Result<(), DecodeError> {
        if let Some(e) = &self.broken {
            return Err(e.clone());
        }
        self.buf.extend_from_slice(chunk);
        let mut start = 0;
        let result = loop {
            let rest = self.buf.get(start..).unwrap_or(&[]);
            match next_message(rest, self.max_message) {
                Ok(Some((msg, used))) => {
                    out.push(msg);
                    start += used;
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        self.buf.drain(..start.min(self.buf.len()));
        if let Err(e) = &result {
            self.broken = Some(e.clone());
            self.buf.clear();
        }
        result
    }

    /// Bytes received that are not part of a complete message yet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([
        *s.first()?,
        *s.get(1)?,
        *s.get(2)?,
        *s.get(3)?,
    ]))
}

/// One message from the front of `b`, or `None` when more bytes are needed.
fn next_message(b: &[u8], max: usize) -> Result<Option<(Message, usize)>, DecodeError> {
    let (Some(total), Some(headers_len), Some(prelude_crc)) = (be32(b, 0), be32(b, 4), be32(b, 8))
    else {
        return Ok(None);
    };
    if crc32(b.get(..8).unwrap_or(&[])) != prelude_crc {
        return Err(DecodeError::PreludeCrc);
    }
    let total_len = total as usize;
    let headers_len = headers_len as usize;
    if total_len < MIN_MESSAGE || total_len > max || headers_len > total_len - MIN_MESSAGE {
        return Err(DecodeError::Length(total));
    }
    let Some(whole) = b.get(..total_len) else {
        return Ok(None);
    };
    let body_end = total_len - CRC;
    let message_crc = be32(whole, body_end).ok_or(DecodeError::Length(total))?;
    if crc32(whole.get(..body_end).unwrap_or(&[])) != message_crc {
        return Err(DecodeError::MessageCrc);
    }
    let headers_end = PRELUDE + headers_len;
    let headers = parse_headers(whole.get(PRELUDE..headers_end).unwrap_or(&[]))?;
    let payload = whole.get(headers_end..body_end).unwrap_or(&[]).to_vec();
    Ok(Some((Message { headers, payload }, total_len)))
}

/// Reads `n` bytes at the cursor.
fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], DecodeError> {
    if b.len() < n {
        return Err(DecodeError::Headers("truncated header"));
    }
    let (head, rest) = b.split_at(n);
    *b = rest;
    Ok(head)
}

fn take_array<const N: usize>(b: &mut &[u8]) -> Result<[u8; N], DecodeError> {
    let s = take(b, N)?;
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    Ok(a)
}

fn parse_headers(mut b: &[u8]) -> Result<Vec<(String, HeaderValue)>, DecodeError> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let [name_len] = take_array::<1>(&mut b)?;
        let name = std::str::from_utf8(take(&mut b, usize::from(name_len))?)
            .map_err(|_| DecodeError::Headers("header name is not UTF-8"))?
            .to_string();
        let [kind] = take_array::<1>(&mut b)?;
        let value = match kind {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(i8::from_be_bytes(take_array(&mut b)?)),
            3 => HeaderValue::Short(i16::from_be_bytes(take_array(&mut b)?)),
            4 => HeaderValue::Int(i32::from_be_bytes(take_array(&mut b)?)),
            5 => HeaderValue::Long(i64::from_be_bytes(take_array(&mut b)?)),
            6 | 7 => {
                let len = usize::from(u16::from_be_bytes(take_array(&mut b)?));
                let bytes = take(&mut b, len)?.to_vec();
                if kind == 6 {
                    HeaderValue::Bytes(bytes)
                } else {
                    HeaderValue::String(
                        String::from_utf8(bytes)
                            .map_err(|_| DecodeError::Headers("string header is not UTF-8"))?,
                    )
                }
            }
            8 => HeaderValue::Timestamp(i64::from_be_bytes(take_array(&mut b)?)),
            9 => HeaderValue::Uuid(take_array(&mut b)?),
            _ => return Err(DecodeError::Headers("unknown header value type")),
        };
        out.push((name, value));
    }
    Ok(out)
}

/// Encode one message (string headers only): used by tests and golden tooling.
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let total = (PRELUDE + h.len() + payload.len() + CRC) as u32;
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// A JSON `event` message of type `kind`, as Bedrock sends them (for tests).
#[cfg(test)]
pub fn json_event(kind: &str, payload: &str) -> Vec<u8> {
    encode(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::json_event as event;
    use super::*;

    #[test]
    fn decodes_split_anywhere() {
        let mut stream = event("messageStart", r#"{"role":"assistant"}"#);
        stream.extend(event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"hé"}}"#,
        ));
        stream.extend(encode(&[], b""));
        for cut in 0..=stream.len() {
            for cut2 in cut..=stream.len() {
                let mut d = Decoder::new(1 << 20);
                let mut out = Vec::new();
                d.push(&stream[..cut], &mut out).unwrap();
                d.push(&stream[cut..cut2], &mut out).unwrap();
                d.push(&stream[cut2..], &mut out).unwrap();
                assert_eq!(out.len(), 3, "{cut}/{cut2}");
                assert_eq!(d.pending(), 0);
                assert_eq!(out[0].header_str(":event-type"), Some("messageStart"));
                assert_eq!(
                    out[1].payload,
                    r#"{"contentBlockIndex":0,"delta":{"text":"hé"}}"#.as_bytes()
                );
                assert_eq!(out[2], Message::default());
            }
        }
    }

    /// The AWS event stream specification's test vector `int32_header`: a message with
    /// one int32 header (`event-type` = 0x0000A00C) and the payload `{'foo':'bar'}`.
    #[test]
    fn aws_vector_int32_header() {
        let mut msg = Vec::new();
        let headers: &[u8] = &[
            10, b'e', b'v', b'e', b'n', b't', b'-', b't', b'y', b'p', b'e', 4, 0x00, 0x00, 0xA0,
            0x0C,
        ];
        let payload = b"{'foo':'bar'}";
        let total = (12 + headers.len() + payload.len() + 4) as u32;
        msg.extend_from_slice(&total.to_be_bytes());
        msg.extend_from_slice(&(headers.len() as u32).to_be_bytes());
        let pc = crc32(&msg);
        msg.extend_from_slice(&pc.to_be_bytes());
        msg.extend_from_slice(headers);
        msg.extend_from_slice(payload);
        let c = crc32(&msg);
        msg.extend_from_slice(&c.to_be_bytes());
        // The published encoding of this message.
        assert_eq!(
            msg[..12],
            [0x00, 0x00, 0x00, 0x2D, 0x00, 0x00, 0x00, 0x10, 0x41, 0xC4, 0x24, 0xB8]
        );
        assert_eq!(msg[msg.len() - 4..], [0x36, 0xF4, 0x80, 0xA0]);
        let mut out = Vec::new();
        Decoder::new(1024).push(&msg, &mut out).unwrap();
        assert_eq!(
            out[0].headers,
            vec![("event-type".to_string(), HeaderValue::Int(0xA00C))]
        );
        assert_eq!(out[0].payload, payload);
    }

    #[test]
    fn all_header_types() {
        let mut h = Vec::new();
        let mut add = |name: &str, kind: u8, value: &[u8]| {
            h.push(name.len() as u8);
            h.extend_from_slice(name.as_bytes());
            h.push(kind);
            h.extend_from_slice(value);
        };
        add("t", 0, &[]);
        add("f", 1, &[]);
        add("b", 2, &[0xff]);
        add("s", 3, &[0x01, 0x02]);
        add("l", 5, &[0, 0, 0, 0, 0, 0, 0, 7]);
        add("y", 6, &[0, 2, 0xde, 0xad]);
        add("ts", 8, &[0, 0, 0, 0, 0, 0, 0, 9]);
        add("u", 9, &[1; 16]);
        let parsed = parse_headers(&h).unwrap();
        assert_eq!(parsed[0].1, HeaderValue::Bool(true));
        assert_eq!(parsed[1].1, HeaderValue::Bool(false));
        assert_eq!(parsed[2].1, HeaderValue::Byte(-1));
        assert_eq!(parsed[3].1, HeaderValue::Short(0x0102));
        assert_eq!(parsed[4].1, HeaderValue::Long(7));
        assert_eq!(parsed[5].1, HeaderValue::Bytes(vec![0xde, 0xad]));
        assert_eq!(parsed[6].1, HeaderValue::Timestamp(9));
        assert_eq!(parsed[7].1, HeaderValue::Uuid([1; 16]));
        assert!(parse_headers(&[1, b'x', 42]).is_err());
        assert!(parse_headers(&[5, b'x']).is_err());
        assert!(parse_headers(&[1, b'x', 7, 0, 9, b'a']).is_err());
    }

    #[test]
    fn crc_and_length_errors() {
        let good = event("messageStop", r#"{"stopReason":"end_turn"}"#);

        let mut bad_prelude = good.clone();
        bad_prelude[8] ^= 1;
        let mut out = Vec::new();
        // Only the prelude is needed to see it.
        assert_eq!(
            Decoder::new(1 << 20).push(&bad_prelude[..12], &mut out),
            Err(DecodeError::PreludeCrc)
        );

        let mut bad_payload = good.clone();
        let n = bad_payload.len();
        bad_payload[n - 6] ^= 0x20;
        let mut d = Decoder::new(1 << 20);
        assert_eq!(d.push(&bad_payload, &mut out), Err(DecodeError::MessageCrc));
        // Broken for good.
        assert_eq!(d.push(&good, &mut out), Err(DecodeError::MessageCrc));
        assert!(out.is_empty());

        // Too large for the limit: refused at the prelude, nothing buffered.
        let mut d = Decoder::new(good.len() - 1);
        assert_eq!(
            d.push(&good[..12], &mut out),
            Err(DecodeError::Length(good.len() as u32))
        );
        assert_eq!(d.pending(), 0);

        // A total length below the minimum, with a valid prelude CRC.
        let mut tiny = vec![0, 0, 0, 8, 0, 0, 0, 0];
        let c = crc32(&tiny);
        tiny.extend_from_slice(&c.to_be_bytes());
        assert_eq!(
            Decoder::new(1024).push(&tiny, &mut out),
            Err(DecodeError::Length(8))
        );
    }
}
