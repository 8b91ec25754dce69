//! How deeply a JSON body nests, and whether it is UTF-8. serde_json
//! bounds the recursion of what it reads into typed fields (128), but skips ignored and raw
//! (`RawValue`) values without a bound, and those are forwarded: the whole body is bounded
//! here so a provider never gets a body the gateway would not have parsed. String contents,
//! the bulk of a body, are skipped eight bytes per step (`strs`'s word scans).

use crate::strs::{has_zero_byte, words, LOW};

/// Arrays and objects inside one another, at most (serde_json's own limit for typed values).
pub const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotUtf8,
    TooDeep,
}

/// `json` as text, unless it is not UTF-8 or nests arrays and objects more than `max`
/// deep (brackets inside strings do not count). Any bytes are accepted: other malformed
/// JSON is left for the parser to refuse.
pub fn text_within(json: &[u8], max: usize) -> Result<&str, Refusal> {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = json.get(i) {
        i += 1;
        match b {
            b'"' => i = string_end(json, i),
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(Refusal::TooDeep);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    std::str::from_utf8(json).map_err(|_| Refusal::NotUtf8)
}

const QUOTES: u64 = LOW.wrapping_mul(b'"' as u64);
const BACKSLASHES: u64 = LOW.wrapping_mul(b'\\' as u64);

/// Whether any byte of `w` is a quote or a backslash.
fn quote_or_backslash(w: u64) -> bool {
    has_zero_byte(w ^ QUOTES) || has_zero_byte(w ^ BACKSLASHES)
}

/// The index after the quote that closes the string whose contents start at `i` (the end
/// of `json` when it is not closed).
fn string_end(json: &[u8], mut i: usize) -> usize {
    loop {
        // Eight bytes at a time while they hold neither a quote nor a backslash.
        let (words, _) = words(json.get(i..).unwrap_or_default());
        i += 8 * words.take_while(|w| !quote_or_backslash(*w)).count();
        // Then byte by byte up to the quote or backslash (or the end).
        loop {
            let Some(&b) = json.get(i) else {
                return json.len();
            };
            i += 1;
            if b == b'"' {
                return i;
            }
            if b == b'\\' {
                i += 1;
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exceeds(json: &[u8], max: usize) -> bool {
        text_within(json, max) == Err(Refusal::TooDeep)
    }

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
    fn text_is_checked_as_utf8_on_the_way() {
        let long = "é".repeat(20);
        for ok in [
            "{}",
            "{\"a\":\"é\"}",
            &format!("{{\"a\":\"{long}\"}}"),
            "[\"\\é\"]",
        ] {
            assert_eq!(text_within(ok.as_bytes(), 4), Ok(ok), "{ok}");
        }
        for bad in [
            &b"{\"a\":\"\xff\"}"[..],
            b"{\"a\":\"abcdefghijklmnop\xc3\"}",
            b"[\"\\\xff\"]",
            b"\xe9",
            b"[1,\"abcdefgh\",\xc3",
        ] {
            assert_eq!(text_within(bad, 4), Err(Refusal::NotUtf8), "{bad:?}");
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
