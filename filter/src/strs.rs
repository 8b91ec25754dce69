//! Building small strings without `format!`: in the Wasm VM, `core::fmt` (a vtable call per
//! argument, padding logic per integer) showed up as a large share of the filter's time per
//! request (measured with bench/icount.py), spent on shared-data keys and the access-log
//! value. Integers go through `itoa`, which serde_json already compiles in. And the
//! word-at-a-time scans (below) that pay for their lines.

/// The parts back to back, in one allocation.
pub fn concat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// `n` in decimal, as `format!("{n}")` writes it.
pub fn push_u64(s: &mut String, n: u64) {
    s.push_str(itoa::Buffer::new().format(n));
}

/// `n` as `format!("{:09}", n)` writes it for `n` below 10⁹ (nanodollars after the point).
pub fn push_u64_09(s: &mut String, n: u64) {
    let mut buf = itoa::Buffer::new();
    let d = buf.format(n);
    for _ in d.len()..9 {
        s.push('0');
    }
    s.push_str(d);
}

// Word-at-a-time scans: the VM has 64-bit integers but a 32-bit `usize`, so core's and
// memchr's word loops take four bytes per step where these take eight. They run over every
// message text and the whole request body; measured with bench/icount.py against `memchr`
// and `chars().count()`: see bench/fastpaths.md.

/// 0x01 and 0x80 in every byte of a word.
pub const LOW: u64 = 0x0101_0101_0101_0101;
pub const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `w` is zero (exact as to whether, not where).
pub fn has_zero_byte(w: u64) -> bool {
    w.wrapping_sub(LOW) & !w & HIGH != 0
}

/// The bytes eight at a time, and the tail.
pub fn words(bytes: &[u8]) -> (impl Iterator<Item = u64> + '_, &[u8]) {
    let chunks = bytes.chunks_exact(8);
    let tail = chunks.remainder();
    let words = chunks.map(|c| <[u8; 8]>::try_from(c).map_or(0, u64::from_le_bytes));
    (words, tail)
}

/// Whether `byte` occurs in `hay`.
pub fn contains_byte(hay: &[u8], byte: u8) -> bool {
    let pattern = LOW.wrapping_mul(u64::from(byte));
    let (mut words, tail) = words(hay);
    // A zero byte in `w ^ pattern` is a match.
    words.any(|w| has_zero_byte(w ^ pattern)) || tail.contains(&byte)
}

/// Characters in `s`: bytes that are not UTF-8 continuation bytes (`10xxxxxx`).
pub fn char_count(s: &str) -> usize {
    let (words, tail) = words(s.as_bytes());
    let continuation: u32 = words.map(|w| (w & !(w << 1) & HIGH).count_ones()).sum();
    let tail_cont = tail.iter().filter(|b| **b & 0xc0 == 0x80).count();
    s.len() - continuation as usize - tail_cont
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_byte_finds_every_position() {
        for len in 0..30usize {
            let hay: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(!contains_byte(&hay, b'\\'));
            for pos in 0..len {
                let mut h = hay.clone();
                h[pos] = b'\\';
                assert!(contains_byte(&h, b'\\'), "{len} {pos}");
                // Bytes next to the pattern's value must not match (borrow across bytes).
                h[pos] = b'\\' + 1;
                assert!(!contains_byte(&h, b'\\'), "{len} {pos}");
            }
        }
        assert!(contains_byte(&[0x80, 0xff, 0x00], 0x00));
        assert!(!contains_byte(&[0x01; 17], 0x00));
    }

    #[test]
    fn char_count_matches_chars() {
        for s in [
            "",
            "a",
            "h\u{e9}llo w\u{f6}rld",
            "\u{65e5}\u{672c}\u{8a9e}\u{306e}\u{30c6}\u{30ad}\u{30b9}\u{30c8}",
            "emoji \u{1f389}\u{1f389} and ascii",
            &"\u{fc}".repeat(33),
        ] {
            assert_eq!(char_count(s), s.chars().count(), "{s}");
        }
    }

    #[test]
    fn integers_as_format_writes_them() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            12_345,
            999_999_999,
            1_000_000_000,
            u64::MAX,
        ] {
            let mut s = String::from("x=");
            push_u64(&mut s, n);
            assert_eq!(s, format!("x={n}"));
            let mut z = String::new();
            push_u64_09(&mut z, n);
            assert_eq!(z, format!("{n:09}"));
        }
    }

    #[test]
    fn concat_joins_in_order() {
        assert_eq!(concat(&["llm:", "a", "|", "", "b"]), "llm:a|b");
        assert_eq!(concat(&[]), "");
    }
}
