//! AWS Signature Version 4 for one request, with the payload hash in
//! `x-amz-content-sha256`. Checked against botocore's `SigV4Auth` in
//! `tests/sigv4_botocore.rs`.

use super::hash::{hmac_sha256, sha256};
use super::hex;

pub struct Credentials<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
}

/// What gets signed. `path` is exactly what goes on the wire (already percent-encoded);
/// `headers` are the request's own headers to sign and must include `host`.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Raw query string without `?`; empty for none.
    pub query: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
}

pub struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
}

/// The headers to add to the request: `x-amz-date`, `x-amz-content-sha256`,
/// `x-amz-security-token` (with a session token) and `authorization`.
pub fn sign(
    req: &Request<'_>,
    creds: &Credentials<'_>,
    scope: &Scope<'_>,
    now_ms: u64,
) -> Vec<(&'static str, String)> {
    let amz_date = amz_date(now_ms / 1000);
    let date = amz_date.get(..8).unwrap_or("");
    let payload_hash = hex(&sha256(req.payload));

    let mut added: Vec<(&'static str, String)> = vec![
        ("x-amz-date", amz_date.clone()),
        ("x-amz-content-sha256", payload_hash.clone()),
    ];
    if let Some(token) = creds.session_token {
        added.push(("x-amz-security-token", token.to_string()));
    }

    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), trim_all(v)))
        .chain(added.iter().map(|(k, v)| (k.to_string(), trim_all(v))))
        .collect();
    headers.sort();
    // Repeated names are joined with commas, in order of appearance.
    let mut merged: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (k, v) in headers {
        match merged.last_mut() {
            Some((last, value)) if *last == k => {
                value.push(',');
                value.push_str(&v);
            }
            _ => merged.push((k, v)),
        }
    }
    let signed_headers = merged
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let mut canonical = String::new();
    canonical.push_str(&req.method.to_ascii_uppercase());
    canonical.push('\n');
    canonical.push_str(&canonical_uri(req.path));
    canonical.push('\n');
    canonical.push_str(&canonical_query(req.query));
    canonical.push('\n');
    for (k, v) in &merged {
        canonical.push_str(k);
        canonical.push(':');
        canonical.push_str(v);
        canonical.push('\n');
    }
    canonical.push('\n');
    canonical.push_str(&signed_headers);
    canonical.push('\n');
    canonical.push_str(&payload_hash);

    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{credential_scope}\n{}",
        hex(&sha256(canonical.as_bytes()))
    );
    let k_date = hmac_sha256(
        format!("AWS4{}", creds.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac_sha256(&k_date, scope.region.as_bytes());
    let k_service = hmac_sha256(&k_region, scope.service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    let signature = hex(&hmac_sha256(&k_signing, string_to_sign.as_bytes()));
    added.push((
        "authorization",
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
            creds.access_key_id
        ),
    ));
    added
}

/// Trim, and collapse inner runs of spaces to one (SigV4 "Trimall").
fn trim_all(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Unreserved characters per RFC 3986, the only bytes SigV4 leaves unencoded.
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encode every byte but the unreserved ones (and `/` when `keep_slash`).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Services other than S3 encode the already-encoded path once more
/// (`%3A` becomes `%253A`), as botocore does.
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_string();
    }
    uri_encode(path, true)
}

/// Pairs sorted by name, then value (botocore's order for a query taken from the URL).
fn canonical_query(query: &str) -> String {
    if query.is_empty() {
        return String::new();
    }
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `YYYYMMDDTHHMMSSZ` for a Unix time in seconds (UTC).
pub fn amz_date(unix: u64) -> String {
    // Below 2^48 days: always fits.
    let days = i64::try_from(unix / 86_400).unwrap_or_default();
    let secs = unix % 86_400;
    let (y, m, d) = crate::limits::period::civil(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(amz_date(4_107_542_399), "21000228T235959Z");
    }

    #[test]
    fn encoding() {
        assert_eq!(
            uri_encode("anthropic.claude-3-5-sonnet-20240620-v1:0", false),
            "anthropic.claude-3-5-sonnet-20240620-v1%3A0"
        );
        assert_eq!(uri_encode("a/b c~", false), "a%2Fb%20c~");
        assert_eq!(
            canonical_uri("/model/a%3A0/converse"),
            "/model/a%253A0/converse"
        );
        assert_eq!(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
    }

    /// AWS's published SigV4 test suite, case `post-vanilla` (service `service`,
    /// the documented example credentials).
    #[test]
    fn aws_suite_post_vanilla_shape() {
        let headers = [("Host", "example.amazonaws.com")];
        let req = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            payload: b"",
        };
        let creds = Credentials {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token: None,
        };
        let scope = Scope {
            region: "us-east-1",
            service: "service",
        };
        let out = sign(&req, &creds, &scope, 1_440_938_160_000);
        let auth = &out.iter().find(|(k, _)| *k == "authorization").unwrap().1;
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
        ));
        assert_eq!(out[0], ("x-amz-date", "20150830T123600Z".to_string()));
    }
}
