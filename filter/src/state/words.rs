//! Shared-data values are fixed-width little-endian u64 fields.

pub fn encode(fields: &[u64]) -> Vec<u8> {
    fields.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Fields missing from a short (older or damaged) value read as zero.
pub fn decode<const N: usize>(bytes: &[u8]) -> [u64; N] {
    let mut out = [0u64; N];
    for (slot, chunk) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        if let Ok(b) = <[u8; 8]>::try_from(chunk) {
            *slot = u64::from_le_bytes(b);
        }
    }
    out
}
