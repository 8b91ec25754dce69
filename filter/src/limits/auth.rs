//! Who is calling: a virtual key (`Authorization: Bearer <key>` or `x-api-key`),
//! looked up by its SHA-256 hash, or the mesh peer principal.

use sha2::{Digest, Sha256};

use crate::config::access::Access;

/// The key the client presented, if any.
pub fn presented_key(authorization: Option<&str>, x_api_key: Option<&str>) -> Option<String> {
    if let Some(v) = authorization {
        let v = v.trim();
        let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
        if scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty() {
            return Some(rest.trim().to_string());
        }
    }
    x_api_key
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
}

pub fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Index of the caller in `access.keys`.
pub fn identify(access: &Access, key: Option<&str>, principal: Option<&str>) -> Option<usize> {
    if let Some(k) = key {
        return access.by_hash.get(&hash(k)).copied();
    }
    principal.and_then(|p| access.by_principal.get(p).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_vector() {
        let h = hash("abc");
        assert_eq!(
            h[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "FIPS 180-2 test vector for \"abc\""
        );
    }

    #[test]
    fn presented() {
        assert_eq!(
            presented_key(Some("Bearer sk-1"), None).as_deref(),
            Some("sk-1")
        );
        assert_eq!(
            presented_key(Some("bearer  sk-2 "), None).as_deref(),
            Some("sk-2")
        );
        assert_eq!(
            presented_key(Some("Basic xyz"), Some("k3")).as_deref(),
            Some("k3")
        );
        assert_eq!(presented_key(Some("Bearer "), None), None);
        assert_eq!(presented_key(None, Some("  ")), None);
    }
}
