//! Building small strings without `format!`: in the Wasm VM, `core::fmt` (a vtable call per
//! argument, padding logic per integer) cost ~6% of the filter's time per request, spent on
//! shared-data keys and the access-log value.

/// The parts back to back, in one allocation.
pub fn concat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// The decimal digits of `n` (as `format!("{n}")` and itoa write them), in `buf`.
pub fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    // Digits from the last; a u64 has at most 20, so `at` stays within 0..20.
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        at -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.get(at..).unwrap_or_default()
}

/// Digits as text (they are ASCII).
fn digits(d: &[u8]) -> &str {
    std::str::from_utf8(d).unwrap_or_default()
}

/// `n` in decimal, as `format!("{n}")` writes it.
pub fn push_u64(s: &mut String, n: u64) {
    s.push_str(digits(decimal(n, &mut [0; 20])));
}

/// `n` as `format!("{:09}", n)` writes it for `n` below 10⁹ (nanodollars after the point).
pub fn push_u64_09(s: &mut String, n: u64) {
    let mut buf = [0; 20];
    let d = digits(decimal(n, &mut buf));
    for _ in d.len()..9 {
        s.push('0');
    }
    s.push_str(d);
}

/// 0x01 and 0x80 in every byte of a word.
pub const LOW: u64 = 0x0101_0101_0101_0101;
pub const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `w` is zero (exact as to whether, not where).
pub fn has_zero_byte(w: u64) -> bool {
    w.wrapping_sub(LOW) & !w & HIGH != 0
}

/// The bytes eight at a time (the VM has 64-bit integers but a 32-bit `usize`, so core's
/// word-at-a-time loops take four), and the tail.
fn words(bytes: &[u8]) -> (impl Iterator<Item = u64> + '_, &[u8]) {
    let chunks = bytes.chunks_exact(8);
    let tail = chunks.remainder();
    let words = chunks.map(|c| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        u64::from_le_bytes(w)
    });
    (words, tail)
}

/// `std::str::from_utf8(..).ok()`, with the ASCII prefix (usually all of a JSON body)
/// checked eight bytes per step; core's check takes four at a time in the VM.
pub fn utf8(bytes: &[u8]) -> Option<&str> {
    let (words, _) = words(bytes);
    let ascii = words.take_while(|w| w & HIGH == 0).count() * 8;
    // Everything before the first word with a high bit is ASCII, so `ascii` is a
    // character boundary and the rest is checked on its own.
    std::str::from_utf8(bytes.get(ascii..)?).ok()?;
    // SAFETY: an ASCII prefix followed by valid UTF-8 is valid UTF-8.
    Some(unsafe { std::str::from_utf8_unchecked(bytes) })
}

/// Whether every byte is ASCII (below 0x80).
pub fn is_ascii(bytes: &[u8]) -> bool {
    let (mut words, tail) = words(bytes);
    words.all(|w| w & HIGH == 0) && tail.is_ascii()
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
    fn is_ascii_sees_a_high_byte_anywhere() {
        for len in 0..30usize {
            let text = vec![b'a'; len];
            assert!(is_ascii(&text));
            for pos in 0..len {
                for high in [0x80, 0xc3, 0xff] {
                    let mut t = text.clone();
                    t[pos] = high;
                    assert!(!is_ascii(&t), "{len} {pos} {high}");
                }
            }
        }
    }

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
    fn utf8_agrees_with_std() {
        let mut cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"plain ascii that is longer than one word".to_vec(),
            "ascii then é then more ascii text".as_bytes().to_vec(),
            "日本語".as_bytes().to_vec(),
        ];
        // Broken sequences at every offset around the word boundaries.
        for at in 0..20 {
            for bad in [&[0xffu8][..], &[0xc3], &[0xe6, 0x97], &[0xed, 0xa0, 0x80]] {
                let mut v = b"abcdefghijklmnopqrstuvwxyz".to_vec();
                v.splice(at..at, bad.iter().copied());
                cases.push(v);
            }
        }
        for c in cases {
            assert_eq!(utf8(&c), std::str::from_utf8(&c).ok(), "{c:?}");
        }
    }

    #[test]
    fn char_count_matches_chars() {
        for s in [
            "",
            "a",
            "héllo wörld",
            "日本語のテキストです",
            "emoji 🎉🎉 and ascii",
            &"ü".repeat(33),
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
