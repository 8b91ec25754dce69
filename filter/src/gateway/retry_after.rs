//! An upstream's `retry-after` is relayed only as a sane whole number of seconds: a
//! client told to wait 10^19 seconds (or given a value it cannot parse) either hangs or
//! breaks, and nothing the gateway relays may do that.

/// Longer than any provider's limit window that clients should sleep through.
pub const MAX_SECS: u64 = 86_400;

#[derive(Debug, PartialEq, Eq)]
pub enum Fix {
    /// Already a whole number of seconds within bounds.
    Keep,
    /// Too large (or overflowing): the bound instead.
    Set(u64),
    /// Not delay-seconds (an HTTP date, a fraction, garbage): dropped.
    Drop,
}

pub fn check(value: &str) -> Fix {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Fix::Drop;
    }
    match v.parse::<u64>() {
        Ok(n) if n <= MAX_SECS && v == value && (v.len() == 1 || !v.starts_with('0')) => Fix::Keep,
        Ok(n) => Fix::Set(n.min(MAX_SECS)),
        // Only digits, so only too many of them.
        Err(_) => Fix::Set(MAX_SECS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(check("30"), Fix::Keep);
        assert_eq!(check("0"), Fix::Keep);
        assert_eq!(check("86400"), Fix::Keep);
        assert_eq!(check("86401"), Fix::Set(MAX_SECS));
        assert_eq!(check("99999999999999999999"), Fix::Set(MAX_SECS));
        assert_eq!(check(" 7"), Fix::Set(7));
        assert_eq!(check("007"), Fix::Set(7));
        assert_eq!(check("1.5"), Fix::Drop);
        assert_eq!(check("-1"), Fix::Drop);
        assert_eq!(check("Wed, 21 Oct 2015 07:28:00 GMT"), Fix::Drop);
        assert_eq!(check(""), Fix::Drop);
    }
}
