//! Numbers and wire formats of the proxy-wasm ABI 0.2.1, as Envoy (proxy-wasm-cpp-host) uses them.

/// `proxy_status_t` (Envoy's `WasmResult`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Status {
    Ok = 0,
    NotFound = 1,
    BadArgument = 2,
    InvalidMemoryAccess = 6,
    Empty = 7,
    CasMismatch = 8,
    BrokenConnection = 11,
    Unimplemented = 12,
}

impl Status {
    pub(crate) fn code(self) -> u32 {
        self as u32
    }
}

/// `proxy_log_level_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
    Critical = 5,
}

impl LogLevel {
    pub(crate) fn from_u32(level: u32) -> Option<LogLevel> {
        Some(match level {
            0 => LogLevel::Trace,
            1 => LogLevel::Debug,
            2 => LogLevel::Info,
            3 => LogLevel::Warn,
            4 => LogLevel::Error,
            5 => LogLevel::Critical,
            _ => return None,
        })
    }
}

/// `proxy_buffer_type_t`.
pub(crate) mod buffer {
    pub const HTTP_REQUEST_BODY: u32 = 0;
    pub const HTTP_RESPONSE_BODY: u32 = 1;
    pub const DOWNSTREAM_DATA: u32 = 2;
    pub const UPSTREAM_DATA: u32 = 3;
    pub const HTTP_CALL_RESPONSE_BODY: u32 = 4;
    pub const GRPC_RECEIVE_BUFFER: u32 = 5;
    pub const VM_CONFIGURATION: u32 = 6;
    pub const PLUGIN_CONFIGURATION: u32 = 7;
    pub const CALL_DATA: u32 = 8;
}

/// `proxy_map_type_t`.
pub(crate) mod map {
    pub const HTTP_REQUEST_HEADERS: u32 = 0;
    pub const HTTP_REQUEST_TRAILERS: u32 = 1;
    pub const HTTP_RESPONSE_HEADERS: u32 = 2;
    pub const HTTP_RESPONSE_TRAILERS: u32 = 3;
    pub const GRPC_RECEIVE_INITIAL_METADATA: u32 = 4;
    pub const GRPC_RECEIVE_TRAILING_METADATA: u32 = 5;
    pub const HTTP_CALL_RESPONSE_HEADERS: u32 = 6;
    pub const HTTP_CALL_RESPONSE_TRAILERS: u32 = 7;

    pub fn name(map_type: u32) -> &'static str {
        match map_type {
            HTTP_REQUEST_HEADERS => "HttpRequestHeaders",
            HTTP_REQUEST_TRAILERS => "HttpRequestTrailers",
            HTTP_RESPONSE_HEADERS => "HttpResponseHeaders",
            HTTP_RESPONSE_TRAILERS => "HttpResponseTrailers",
            GRPC_RECEIVE_INITIAL_METADATA => "GrpcReceiveInitialMetadata",
            GRPC_RECEIVE_TRAILING_METADATA => "GrpcReceiveTrailingMetadata",
            HTTP_CALL_RESPONSE_HEADERS => "HttpCallResponseHeaders",
            HTTP_CALL_RESPONSE_TRAILERS => "HttpCallResponseTrailers",
            _ => "unknown map",
        }
    }
}

/// `proxy_stream_type_t`.
pub(crate) mod stream {
    pub const HTTP_REQUEST: u32 = 0;
    pub const HTTP_RESPONSE: u32 = 1;
    pub const DOWNSTREAM: u32 = 2;
    pub const UPSTREAM: u32 = 3;
}

/// `proxy_metric_type_t`, and Envoy's metric id layout: the low two bits of an id are its type,
/// ids grow by 4 per definition (`kMetricTypeMask`, `kMetricIdIncrement` in Envoy's wasm.h).
pub(crate) mod metric {
    pub const COUNTER: u32 = 0;
    pub const GAUGE: u32 = 1;
    pub const HISTOGRAM: u32 = 2;
    pub const TYPE_MASK: u32 = 0x3;
    pub const ID_INCREMENT: u32 = 0x4;
}

/// WASI errno values used by the hand-written WASI imports.
pub(crate) mod errno {
    pub const SUCCESS: u32 = 0;
    pub const BADF: u32 = 8;
    pub const FAULT: u32 = 21;
    pub const INVAL: u32 = 28;
    pub const NOSYS: u32 = 52;
    pub const SPIPE: u32 = 70;
}

/// Serializes header pairs the way the host hands them to the plugin:
/// `u32 count`, then `count` × (`u32 key_len`, `u32 value_len`), then each key and value
/// followed by a NUL byte. All integers little-endian.
pub(crate) fn serialize_pairs<'a>(
    pairs: impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
) -> Vec<u8> {
    let count = pairs.clone().count();
    let mut size = 4usize;
    for (k, v) in pairs.clone() {
        size += 8 + k.len() + v.len() + 2;
    }
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&u32_of(count).to_le_bytes());
    for (k, v) in pairs.clone() {
        out.extend_from_slice(&u32_of(k.len()).to_le_bytes());
        out.extend_from_slice(&u32_of(v.len()).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k);
        out.push(0);
        out.extend_from_slice(v);
        out.push(0);
    }
    out
}

fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Parses serialized pairs strictly, like proxy-wasm-cpp-host's `PairsUtil::toPairs`:
/// any inconsistency (short buffer, missing NUL terminator, trailing bytes) gives `None`.
/// An empty buffer is an empty map.
pub(crate) fn deserialize_pairs(bytes: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let count = usize::try_from(read_u32(bytes, 0)?).ok()?;
    let mut sizes = Vec::with_capacity(count.min(1024));
    let mut pos = 4usize;
    for _ in 0..count {
        let k = usize::try_from(read_u32(bytes, pos)?).ok()?;
        let v = usize::try_from(read_u32(bytes, pos + 4)?).ok()?;
        sizes.push((k, v));
        pos += 8;
    }
    let mut out = Vec::with_capacity(count.min(1024));
    for (k, v) in sizes {
        let key = take_nul_terminated(bytes, &mut pos, k)?;
        let value = take_nul_terminated(bytes, &mut pos, v)?;
        out.push((key, value));
    }
    if pos != bytes.len() {
        return None;
    }
    Some(out)
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(raw))
}

fn take_nul_terminated(bytes: &[u8], pos: &mut usize, len: usize) -> Option<Vec<u8>> {
    let end = pos.checked_add(len)?;
    let value = bytes.get(*pos..end)?.to_vec();
    if *bytes.get(end)? != 0 {
        return None;
    }
    *pos = end + 1;
    Some(value)
}

/// Joins a property path the way the SDK serializes it (parts separated by NUL).
pub(crate) fn property_path<S: AsRef<str>>(path: &[S]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, part) in path.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(part.as_ref().as_bytes());
    }
    out
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
    fn pairs_roundtrip_matches_sdk_layout() {
        let pairs: Vec<(&[u8], &[u8])> = vec![(b":method", b"GET"), (b"a", b"")];
        let bytes = serialize_pairs(pairs.iter().copied());
        let mut expected = vec![2, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        expected.extend_from_slice(b":method\0GET\0a\0\0");
        assert_eq!(bytes, expected);
        let back = deserialize_pairs(&bytes).unwrap();
        assert_eq!(
            back,
            vec![
                (b":method".to_vec(), b"GET".to_vec()),
                (b"a".to_vec(), vec![])
            ]
        );
    }

    #[test]
    fn malformed_pairs_are_rejected() {
        assert_eq!(deserialize_pairs(&[]), Some(vec![]));
        assert_eq!(deserialize_pairs(&[1, 0, 0]), None);
        assert_eq!(deserialize_pairs(&[1, 0, 0, 0, 1, 0, 0, 0]), None);
        let mut ok = serialize_pairs([(&b"k"[..], &b"v"[..])].iter().copied());
        ok.push(0);
        assert_eq!(deserialize_pairs(&ok), None, "trailing bytes");
        let mut bad = serialize_pairs([(&b"k"[..], &b"v"[..])].iter().copied());
        let last = bad.len() - 1;
        bad[last] = b'x';
        assert_eq!(deserialize_pairs(&bad), None, "missing NUL");
        assert_eq!(
            deserialize_pairs(&[0xff, 0xff, 0xff, 0xff]),
            None,
            "huge count"
        );
    }

    #[test]
    fn property_path_joins_with_nul() {
        assert_eq!(property_path(&["a", "b"]), b"a\0b".to_vec());
        assert_eq!(property_path::<&str>(&[]), Vec::<u8>::new());
    }
}
