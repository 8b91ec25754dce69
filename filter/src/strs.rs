//! Building small strings without `format!`: in the Wasm VM, `core::fmt` (a vtable call per
//! argument, padding logic per integer) showed up as a large share of the filter's time per
//! request (measured with bench/icount.py), spent on shared-data keys and the access-log
//! value. Integers go through `itoa`, which serde_json already compiles in.

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

#[cfg(test)]
mod tests {
    use super::*;

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
