//! Hand-written JSON output for the hottest bodies. serde_json's derived serialisers
//! escape every field name at run time and keep state per field; here names are literal
//! bytes, and values are written exactly as serde_json writes them (the tests compare
//! byte for byte). Kept because it pays on the request path: measured with
//! bench/icount.py, see bench/fastpaths.md.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::strs::{has_zero_byte, HIGH, LOW};

/// A JSON string, escaped as serde_json escapes it: `"` `\` and the short forms of
/// `\b \t \n \f \r`, other control characters as `\u00xx` (lowercase hex), everything
/// else (`/`, DEL, non-ASCII) verbatim.
pub fn str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    while let Some(at) = next_escape(bytes, start) {
        out.extend_from_slice(bytes.get(start..at).unwrap_or_default());
        escape(out, bytes.get(at).copied().unwrap_or_default());
        start = at + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

/// A JSON string literal (quotes and escapes included), verbatim.
pub fn raw(out: &mut Vec<u8>, raw: &RawValue) {
    out.extend_from_slice(raw.get().as_bytes());
}

pub fn bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// Decimal digits, as itoa (which serde_json uses) writes them.
pub fn u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// `[a,b,…]`, each item written by `item`.
pub fn array<T>(out: &mut Vec<u8>, items: &[T], mut item: impl FnMut(&mut Vec<u8>, &T)) {
    let Ok(()) = try_array(out, items, |out, x| {
        item(out, x);
        Ok::<(), std::convert::Infallible>(())
    });
}

/// `array` where writing an item can fail (where it delegates to serde).
pub fn try_array<T, E>(
    out: &mut Vec<u8>,
    items: &[T],
    mut item: impl FnMut(&mut Vec<u8>, &T) -> Result<(), E>,
) -> Result<(), E> {
    out.push(b'[');
    for (k, x) in items.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        item(out, x)?;
    }
    out.push(b']');
    Ok(())
}

/// A float exactly as serde_json writes it (ryu's shortest form; `null` if not finite):
/// the formatting is delegated rather than reproduced.
pub fn f64(out: &mut Vec<u8>, x: f64) -> Result<(), serde_json::Error> {
    serde_json::to_writer(&mut *out, &x)
}

/// Any other value through serde_json: for rare or complex parts of a body.
pub fn value<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> Result<(), serde_json::Error> {
    serde_json::to_writer(&mut *out, v)
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether any of the eight bytes needs an escape: below 0x20, `"` or `\`.
fn word_needs_escape(w: u64) -> bool {
    // Below 0x20: the byte minus 0x20 borrows into its high bit while the byte's own
    // high bit is clear (exact for limits up to 0x80).
    let below = w.wrapping_sub(LOW * 0x20) & !w & HIGH != 0;
    below
        || has_zero_byte(w ^ (LOW * u64::from(b'"')))
        || has_zero_byte(w ^ (LOW * u64::from(b'\\')))
}

/// The index of the first byte from `from` on that needs an escape. Eight bytes per step
/// (most strings need none), then byte by byte within the word that has one.
fn next_escape(bytes: &[u8], from: usize) -> Option<usize> {
    let rest = bytes.get(from..)?;
    let mut base = from;
    let mut chunks = rest.chunks_exact(8);
    for chunk in &mut chunks {
        let word = <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes);
        if word_needs_escape(word) {
            if let Some(k) = chunk.iter().position(|&b| needs_escape(b)) {
                return Some(base + k);
            }
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| needs_escape(b))
        .map(|k| base + k)
}

fn escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => 0,
    };
    if short != 0 {
        out.extend_from_slice(&[b'\\', short]);
        return;
    }
    let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
    let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
    out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hi, lo]);
}

#[cfg(test)]
#[path = "json_out_tests.rs"]
mod tests;
