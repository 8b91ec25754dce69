//! How deeply a JSON body nests. serde_json bounds the recursion of what it reads into
//! typed fields (128), but skips ignored and raw (`RawValue`) values without a bound, and
//! those are forwarded: the whole body is bounded here so a provider never gets a body
//! the gateway would not have parsed. One pass; string contents, the bulk of a body, are
//! skipped eight bytes per step.

use crate::strs::{has_zero_byte, LOW};

/// Arrays and objects inside one another, at most (serde_json's own limit for typed values).
pub const MAX_DEPTH: usize = 128;

const QUOTES: u64 = LOW.wrapping_mul(b'"' as u64);
const BACKSLASHES: u64 = LOW.wrapping_mul(b'\\' as u64);

/// Whether `json` nests arrays and objects more than `max` deep. Brackets inside strings
/// do not count. Any bytes are accepted: malformed JSON is left for the parser to refuse.
pub fn exceeds(json: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = json.get(i) {
        match b {
            b'"' => {
                i = string_end(json, i + 1);
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    false
}

/// The index after the quote that closes the string whose contents start at `i`
/// (the end of `json` when it is not closed).
fn string_end(json: &[u8], mut i: usize) -> usize {
    loop {
        // Eight bytes at a time while they hold neither a quote nor a backslash.
        while let Some(w) = json.get(i..i + 8).and_then(|c| <[u8; 8]>::try_from(c).ok()) {
            let w = u64::from_le_bytes(w);
            if has_zero_byte(w ^ QUOTES) || has_zero_byte(w ^ BACKSLASHES) {
                break;
            }
            i += 8;
        }
        // Then byte by byte up to the quote or backslash (or the end).
        loop {
            match json.get(i) {
                None => return json.len(),
                Some(b'"') => return i + 1,
                Some(b'\\') => {
                    i += 2;
                    break;
                }
                Some(_) => i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        let mut s = String::new();
        for i in 0..depth {
            s.push_str(if i % 2 == 0 { "[" } else { "{\"k\":" });
        }
        s.push('1');
        for i in (0..depth).rev() {
            s.push(if i % 2 == 0 { ']' } else { '}' });
        }
        s
    }

    #[test]
    fn counts_arrays_and_objects_up_to_the_limit() {
        assert!(!exceeds(nested(4).as_bytes(), 4));
        assert!(exceeds(nested(5).as_bytes(), 4));
        assert!(!exceeds(nested(MAX_DEPTH).as_bytes(), MAX_DEPTH));
        assert!(exceeds(nested(10_000).as_bytes(), MAX_DEPTH));
        assert!(!exceeds(br#"{"a":[1,{"b":[]}],"c":{}}"#, 4));
        assert!(exceeds(br#"{"a":[1,{"b":[]}],"c":{}}"#, 3));
        assert!(exceeds(br#"{"a":[1,{"b":[[]]}]}"#, 4));
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        // Long strings take the eight-bytes-per-step path; short ones the byte path;
        // escaped quotes and backslashes do not end a string.
        for pad in ["", "abcdefghijklmnopqrstuvwxyz0123456789"] {
            let s = format!(r#"{{"a":"{pad}[[[[{{{{\"[[\\","b":"{pad}\\\\"}}"#);
            assert!(serde_json::from_str::<serde_json::Value>(&s).is_ok(), "{s}");
            assert!(!exceeds(s.as_bytes(), 1), "{s}");
            let deep = format!(r#"{{"a":"{pad}\"]","b":[[1]]}}"#);
            assert!(exceeds(deep.as_bytes(), 2), "{deep}");
            assert!(!exceeds(deep.as_bytes(), 3), "{deep}");
        }
    }

    #[test]
    fn any_bytes_end_without_panic() {
        for s in [
            &b""[..],
            b"\"",
            b"\"\\",
            b"[\"abc",
            b"]]]]",
            b"\"abcdefgh\\",
            b"{{",
        ] {
            let _ = exceeds(s, 1);
        }
        assert!(!exceeds(b"]]]][", 1));
    }
}
