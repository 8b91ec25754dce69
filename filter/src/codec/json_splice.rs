//! Edit a few top-level members of a JSON object without re-serialising the rest.
//! The OpenAI passthrough uses it to swap `model` (and add `stream_options`) while
//! forwarding every other byte exactly as the client sent it. Input must already be
//! known to be valid JSON (it was parsed before) whose members the gateway reads are
//! unique (serde refuses a duplicate field, escaped or not); on anything unexpected we
//! return None and the caller falls back to a full rewrite.

use std::ops::Range;

/// Byte range of the value of top-level `key`, if present. Keys are matched by their
/// value, as every JSON parser reads them: `"mod\u0065l"` is `model`.
pub fn find_top_level(json: &[u8], key: &str) -> Option<Range<usize>> {
    member(json, key).map(|(_, value)| value)
}

/// `json` with the whole top-level member `key` (`"key":value`) replaced by `with`
/// (another member, written by the caller), or None when `key` is not there.
pub fn replace_member(json: &[u8], key: &str, with: &[u8]) -> Option<Vec<u8>> {
    let (start, value) = member(json, key)?;
    Some(splice(json, start..value.end, with))
}

/// Where top-level member `key` starts (its opening quote) and its value's range.
fn member(json: &[u8], key: &str) -> Option<(usize, Range<usize>)> {
    let mut i = skip_ws(json, 0);
    if json.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(json, i);
        match json.get(i)? {
            b'}' => return None,
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let key_start = i;
        let key_end = skip_string(json, i)?;
        let quoted_key = json.get(i..key_end)?;
        i = skip_ws(json, key_end);
        if json.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(json, i + 1);
        let value_end = skip_value(json, i)?;
        if key_is(quoted_key, key) {
            return Some((key_start, i..value_end));
        }
        i = value_end;
    }
}

/// Whether the JSON string literal `quoted` (quotes included) means `key`. Escapes are
/// rare in keys: only then is the literal decoded, by the parser that read the request.
fn key_is(quoted: &[u8], key: &str) -> bool {
    let inner = quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default();
    if !inner.contains(&b'\\') {
        return inner == key.as_bytes();
    }
    serde_json::from_slice::<String>(quoted).is_ok_and(|k| k == key)
}

/// Replace `range` of `json` with `with`.
pub fn splice(json: &[u8], range: Range<usize>, with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + with.len());
    out.extend_from_slice(json.get(..range.start).unwrap_or(&[]));
    out.extend_from_slice(with);
    out.extend_from_slice(json.get(range.end..).unwrap_or(&[]));
    out
}

/// Insert `"key":value,` right after the opening brace.
pub fn insert_first(json: &[u8], key: &str, value: &[u8]) -> Option<Vec<u8>> {
    let open = skip_ws(json, 0);
    if json.get(open) != Some(&b'{') {
        return None;
    }
    let after = skip_ws(json, open + 1);
    let empty = json.get(after) == Some(&b'}');
    let mut out = Vec::with_capacity(json.len() + key.len() + value.len() + 4);
    out.extend_from_slice(json.get(..=open)?);
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(value);
    if !empty {
        out.push(b',');
    }
    out.extend_from_slice(json.get(open + 1..)?);
    Some(out)
}

fn skip_ws(json: &[u8], mut i: usize) -> usize {
    while matches!(json.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// `i` points at a quote; returns the index after the closing quote.
fn skip_string(json: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        match json.get(j)? {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
}

fn skip_value(json: &[u8], i: usize) -> Option<usize> {
    match json.get(i)? {
        b'"' => skip_string(json, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match json.get(j)? {
                    b'"' => {
                        j = skip_string(json, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while let Some(b) = json.get(j) {
                if matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                    break;
                }
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_top_level_not_nested() {
        let j = br#"{"messages":[{"model":"x","c":"}\"]"}], "model" : "gpt-4o" ,"n":1}"#;
        let r = find_top_level(j, "model").unwrap();
        assert_eq!(&j[r.clone()], br#""gpt-4o""#);
        let out = splice(j, r, br#""claude""#);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["model"], "claude");
        assert_eq!(v["messages"][0]["model"], "x");
        assert_eq!(&j[find_top_level(j, "n").unwrap()], b"1");
        assert!(find_top_level(j, "absent").is_none());
    }

    #[test]
    fn escaped_keys_match_by_value() {
        let j = br#"{"mod\u0065l":"alias","stream_\u006fptions":{"include_usage":false},"\"q":1}"#;
        assert_eq!(&j[find_top_level(j, "model").unwrap()], br#""alias""#);
        let r = find_top_level(j, "stream_options").unwrap();
        assert_eq!(&j[r], br#"{"include_usage":false}"#);
        assert_eq!(&j[find_top_level(j, "\"q").unwrap()], b"1");
        // An escape that decodes to something else does not match.
        assert!(find_top_level(br#"{"mode\u004c":1}"#, "model").is_none());
        assert!(find_top_level(br#"{"mod\u0065":1}"#, "model").is_none());
    }

    #[test]
    fn replaces_a_whole_member() {
        let j = br#"{"messages":[{"model":"x"}], "model" : "alias" ,"n":1}"#;
        let out = replace_member(j, "model", br#""v":2"#).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"messages":[{"model":"x"}],"v":2,"n":1})
        );
        let first = replace_member(br#"{"model":"a"}"#, "model", br#""v":2"#).unwrap();
        assert_eq!(first, br#"{"v":2}"#);
        assert!(replace_member(j, "absent", b"").is_none());
    }

    #[test]
    fn insert_into_empty_and_non_empty() {
        let a = insert_first(b" { } ", "k", b"true").unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&a).unwrap()["k"],
            true
        );
        let b = insert_first(br#"{"a":1}"#, "k", br#"{"x":2}"#).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["k"]["x"], 2);
        assert_eq!(v["a"], 1);
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            &b""[..],
            b"{",
            b"{\"",
            b"{\"a\"",
            b"{\"a\":",
            b"{\"a\":[",
            b"[1]",
            b"{\"a\":\"\\",
        ] {
            let _ = find_top_level(s, "a");
            let _ = insert_first(s, "a", b"1");
            let _ = replace_member(s, "a", b"\"b\":1");
        }
    }
}
