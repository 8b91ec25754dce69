//! `Authorization: Basic` on `/llm/` pages: a browser can open the dashboard only with
//! its own login prompt (it cannot add a bearer header to a navigation), so the
//! password is the key and the user name is ignored.

/// The password of a Basic credential, if `authorization` is one.
pub fn password(authorization: &str) -> Option<String> {
    let (scheme, rest) = authorization.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = decode_base64(rest.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, pass) = text.split_once(':')?;
    (!pass.is_empty()).then(|| pass.to_string())
}

fn sextet(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Standard alphabet, padding optional; None on any other byte.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let body = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in body.as_bytes() {
        acc = (acc << 6) | sextet(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_the_key() {
        // base64("admin:sk-admin") and base64(":k") (no user name).
        assert_eq!(
            password("Basic YWRtaW46c2stYWRtaW4=").as_deref(),
            Some("sk-admin")
        );
        assert_eq!(password("basic Oms=").as_deref(), Some("k"));
    }

    #[test]
    fn anything_else_is_no_credential() {
        assert_eq!(password("Bearer sk-1"), None);
        assert_eq!(password("Basic !!!"), None);
        assert_eq!(password("Basic YWRtaW4="), None); // "admin": no colon
        assert_eq!(password("Basic YWRtaW46"), None); // "admin:": empty password
        assert_eq!(password("Basic"), None);
    }
}
