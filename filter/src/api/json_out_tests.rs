#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;

fn ours(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    str(&mut out, s);
    out
}

fn serde(s: &str) -> Vec<u8> {
    serde_json::to_vec(s).unwrap()
}

#[test]
fn every_ascii_byte_escapes_as_serde_json() {
    for b in 0u8..=0x7f {
        let c = char::from(b).to_string();
        assert_eq!(ours(&c), serde(&c), "byte {b:#04x}");
    }
}

/// Each ASCII byte at every position of strings around the eight-byte steps of the scan,
/// among plain bytes and among other bytes that need escapes.
#[test]
fn every_ascii_byte_at_every_position() {
    for b in 0u8..=0x7f {
        for len in 1..=19 {
            for at in 0..len {
                for fill in ['a', '"', '\u{1f}', 'é'] {
                    let mut s: Vec<char> = vec![fill; len];
                    s[at] = char::from(b);
                    let s: String = s.into_iter().collect();
                    assert_eq!(ours(&s), serde(&s), "{s:?}");
                }
            }
        }
    }
}

#[test]
fn utf8_and_mixed_strings() {
    let cases = [
        "",
        "plain ascii text that is longer than a word or two",
        "/ slash and DEL \u{7f} stay",
        "é ü ñ 中文 日本語 한국어",
        "emoji 😀👍🏽🇫🇷 and ZWJ 👨‍👩‍👧",
        "\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}",
        "line\nbreak\r\n\ttab \"quoted\" back\\slash \u{8}\u{c}",
        "\u{0}\u{1}\u{2}\u{1f} controls",
        "\u{2028}\u{2029} separators stay verbatim",
        "{\"json\":\"in a string\",\"n\":[1,2,3]}",
        "ends with escape\n",
        "\"",
        "\\\\\\\\\\\\\\\\\\",
    ];
    for s in cases {
        assert_eq!(ours(s), serde(s), "{s:?}");
    }
}

#[test]
fn integers_as_serde_json() {
    let mut values = vec![0, 1, 9, 10, 99, 100, 1_700_000_000, u64::MAX, u64::MAX - 1];
    values.extend((0..20).map(|k| 10u64.pow(k)));
    values.extend((1..20).map(|k| 10u64.pow(k) - 1));
    for n in values {
        let mut out = Vec::new();
        u64(&mut out, n);
        assert_eq!(out, serde_json::to_vec(&n).unwrap(), "{n}");
    }
}

#[test]
fn floats_as_serde_json() {
    let values = [
        0.0,
        -0.0,
        0.7,
        1.0,
        1e-7,
        123456.789,
        2.0e20,
        1e15,
        1e16,
        1e17,
        f64::MIN_POSITIVE,
        f64::MAX,
        -1.5,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for x in values {
        let mut out = Vec::new();
        f64(&mut out, x).unwrap();
        assert_eq!(out, serde_json::to_vec(&x).unwrap(), "{x}");
    }
    let mut out = Vec::new();
    f64(&mut out, f64::NAN).unwrap();
    assert_eq!(out, b"null");
}

#[test]
fn bools_and_raw() {
    for b in [true, false] {
        let mut out = Vec::new();
        bool(&mut out, b);
        assert_eq!(out, serde_json::to_vec(&b).unwrap());
    }
    let lit = RawValue::from_string(r#""a\u00e9\n""#.to_string()).unwrap();
    let mut out = Vec::new();
    raw(&mut out, &lit);
    assert_eq!(out, serde_json::to_vec(&lit).unwrap());
}
