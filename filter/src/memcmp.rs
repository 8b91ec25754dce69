//! `memcmp` for the Wasm VM, eight bytes per step. wasi-libc's (musl's) compares one byte
//! per loop iteration; every slice and string comparison in the filter (metric names of
//! ~150 bytes looked up per request, header names, map keys, serde's field names) goes
//! through it, and it was the largest single function in the VM's profile (perf with
//! wasmtime's perf map, `wasm-bench chat-anthropic`: 12.6% of the filter's samples).
//! Rust's `[u8] == [u8]` and `Ord` call `memcmp`; defining it here keeps the linker from
//! taking libc's. Natively, only the tests use `compare` (against `<[u8]>::cmp`).

// Natively only the tests use it.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

/// `memcmp`'s contract on two equally long slices: negative, zero or positive as `a` sorts
/// before, equal to or after `b`, comparing bytes as unsigned.
pub fn compare(a: &[u8], b: &[u8]) -> i32 {
    let mut wa = a.chunks_exact(8);
    let mut wb = b.chunks_exact(8);
    for (x, y) in (&mut wa).zip(&mut wb) {
        let (x, y) = (word(x), word(y));
        if x != y {
            // Little-endian: the first differing byte is the lowest differing one.
            let shift = (x ^ y).trailing_zeros() & !7;
            return i32::from((x >> shift) as u8) - i32::from((y >> shift) as u8);
        }
    }
    for (x, y) in wa.remainder().iter().zip(wb.remainder()) {
        if x != y {
            return i32::from(*x) - i32::from(*y);
        }
    }
    0
}

fn word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(bytes.get(..8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(w)
}

/// # Safety
/// The C contract: `a` and `b` point to at least `n` readable bytes each.
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    if n == 0 {
        return 0;
    }
    // SAFETY: the caller's contract (above); n > 0, so the pointers are not dangling.
    let (a, b) = unsafe {
        (
            std::slice::from_raw_parts(a, n),
            std::slice::from_raw_parts(b, n),
        )
    };
    compare(a, b)
}

/// LLVM may emit `bcmp` (equality only) for `memcmp(..) == 0`.
///
/// # Safety
/// As for [`memcmp`].
#[cfg(target_arch = "wasm32")]
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the same contract.
    unsafe { memcmp(a, b, n) }
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering;

    fn sign(n: i32) -> Ordering {
        n.cmp(&0)
    }

    #[test]
    fn agrees_with_slice_ordering_at_every_length_and_position() {
        // Every length 0..40 (word and tail paths), a difference at every position, in
        // both directions, with bytes on both sides of 0x80 (unsigned comparison).
        for len in 0..40usize {
            let base: Vec<u8> = (0..len).map(|i| (i * 37 % 251) as u8).collect();
            assert_eq!(compare(&base, &base), 0);
            for pos in 0..len {
                for delta in [1u8, 0x7f, 0x80, 0xff] {
                    let mut other = base.clone();
                    other[pos] = other[pos].wrapping_add(delta);
                    // A later difference must not hide an earlier one.
                    if pos + 1 < len {
                        other[len - 1] ^= 0x55;
                    }
                    assert_eq!(
                        sign(compare(&base, &other)),
                        base.cmp(&other),
                        "{len} {pos}"
                    );
                    assert_eq!(
                        sign(compare(&other, &base)),
                        other.cmp(&base),
                        "{len} {pos}"
                    );
                }
            }
        }
    }

    #[test]
    fn returns_the_difference_of_the_first_unequal_bytes() {
        assert_eq!(compare(b"abcdefgh-x", b"abcdefgh-z"), -2);
        assert_eq!(
            compare(b"abcdefgZ", b"abcdefgA"),
            i32::from(b'Z') - i32::from(b'A')
        );
        assert_eq!(compare(&[0xff; 9], &[0x00; 9]), 255);
    }
}
