//! AWS request signing (Signature Version 4) and the hash functions it needs,
//! written here rather than pulled in as crates: SHA-256 and HMAC are small, and the
//! filter stays free of dependencies that would grow the `.wasm`.
pub mod hmac;
pub mod sha256;
pub mod sigv4;

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            if let Some(&d) = DIGITS.get(usize::from(nibble)) {
                s.push(char::from(d));
            }
        }
    }
    s
}
