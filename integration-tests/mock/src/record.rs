//! What the mock remembers about every provider request.

use hyper::HeaderMap;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::faults::FaultSpec;
use crate::reply::Usage;

#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub seq: u64,
    pub method: String,
    /// Path including the query string.
    pub path: String,
    /// Lowercased name → value; repeated headers joined with ", ".
    pub headers: Map<String, Value>,
    /// The request body as (lossy) UTF-8.
    pub body: String,
    /// The usage the mock reported, or null for errors and faults.
    pub usage: Option<Usage>,
    /// The status sent; null when the connection was reset.
    pub status: Option<u16>,
    /// The fault applied (queue/default merged with `x-mock-*` headers), or null.
    pub fault: Option<FaultSpec>,
}

/// Header map as recorded: lowercased names, repeats joined with ", ".
pub fn headers_map(headers: &HeaderMap) -> Map<String, Value> {
    let mut out = Map::new();
    for name in headers.keys() {
        let joined = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        out.insert(name.as_str().to_ascii_lowercase(), Value::String(joined));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn joins_repeats() {
        let mut h = HeaderMap::new();
        h.append("x-a", HeaderValue::from_static("1"));
        h.append("x-a", HeaderValue::from_static("2"));
        h.append("Authorization", HeaderValue::from_static("Bearer k"));
        let m = headers_map(&h);
        assert_eq!(m.get("x-a"), Some(&Value::from("1, 2")));
        assert_eq!(m.get("authorization"), Some(&Value::from("Bearer k")));
    }
}
