//! Cloud identity endpoints issuing short-lived credentials that rotate: the GCP metadata
//! server, Azure IMDS, an OAuth2 token endpoint (client credentials), AWS IMDSv2, container
//! credentials and STS `AssumeRoleWithWebIdentity`. Every answer is a new credential valid
//! for `ttl_ms`. With `enforce` on (`POST /__mock/identity`), provider requests must carry
//! a credential issued here and not yet expired (or one of `keys`), else 401.

use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use hyper::header::HeaderMap;
use hyper::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default = "default_ttl")]
    pub ttl_ms: u64,
    /// The identity endpoints answer 503 (the metadata server is down).
    #[serde(default)]
    pub down: bool,
    /// Provider requests must present a valid credential.
    #[serde(default)]
    pub enforce: bool,
    /// Static keys accepted too (a key from a mounted Secret).
    #[serde(default)]
    pub keys: Vec<String>,
}

fn default_ttl() -> u64 {
    3_000
}

#[derive(Debug, Clone, Serialize)]
struct Issued {
    source: &'static str,
    token: String,
    /// AWS only: the key pair that goes with the session token.
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_access_key: Option<String>,
    expires_ms: u64,
}

struct Identity {
    settings: Settings,
    next: u64,
    issued: Vec<Issued>,
}

static IDENTITY: Mutex<Identity> = Mutex::new(Identity {
    settings: Settings {
        ttl_ms: 3_000,
        down: false,
        enforce: false,
        keys: Vec::new(),
    },
    next: 0,
    issued: Vec::new(),
});

fn lock() -> MutexGuard<'static, Identity> {
    IDENTITY.lock().unwrap_or_else(|p| p.into_inner())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub fn configure(settings: Settings) {
    let mut id = lock();
    id.settings = settings;
}

/// Settings and every credential issued so far (tests compare what providers saw).
pub fn report() -> String {
    let id = lock();
    json!({"settings": id.settings, "issued": id.issued}).to_string()
}

fn issue(source: &'static str, aws: bool) -> Option<Issued> {
    let mut id = lock();
    if id.settings.down {
        return None;
    }
    id.next += 1;
    let n = id.next;
    let issued = Issued {
        source,
        token: format!("{source}-token-{n}"),
        access_key_id: aws.then(|| format!("ASIAMOCK{n:08}")),
        secret_access_key: aws.then(|| format!("mock-secret-{n}")),
        expires_ms: now_ms() + id.settings.ttl_ms,
    };
    id.issued.push(issued.clone());
    Some(issued)
}

/// False when enforcement is on and the request presents no valid credential.
pub fn accepts(headers: &HeaderMap) -> bool {
    let id = lock();
    if !id.settings.enforce {
        return true;
    }
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let presented = get("x-amz-security-token")
        .or_else(|| get("authorization").and_then(|a| a.strip_prefix("Bearer ")))
        .or_else(|| get("x-api-key"))
        .or_else(|| get("api-key"))
        .or_else(|| get("x-goog-api-key"));
    let Some(p) = presented else {
        return false;
    };
    let now = now_ms();
    id.settings.keys.iter().any(|k| k == p)
        || id.issued.iter().any(|i| i.token == p && now < i.expires_ms)
}

pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

fn answer(status: u16, content_type: &'static str, body: String) -> Option<Answer> {
    Some(Answer {
        status,
        content_type,
        body,
    })
}

fn unavailable() -> Option<Answer> {
    answer(503, "text/plain", "identity endpoint down".into())
}

fn seconds(ttl_ms: u64) -> u64 {
    ttl_ms.div_ceil(1000)
}

/// Whether `path_and_query` names one of the identity endpoints (never a provider path).
pub fn is_identity_path(path_and_query: &str) -> bool {
    let route = path_and_query.split('?').next().unwrap_or("");
    route.starts_with("/computeMetadata/")
        || route.starts_with("/metadata/identity/")
        || route.ends_with("/oauth2/v2.0/token")
        || route.starts_with("/latest/")
        || route.starts_with("/v2/credentials")
        || route == "/v1/credentials"
        || path_and_query.contains("Action=AssumeRoleWithWebIdentity")
}

/// The identity endpoint for `path`, if it is one.
pub fn handle(method: &Method, path: &str, headers: &HeaderMap, body: &[u8]) -> Option<Answer> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ttl = lock().settings.ttl_ms;
    let (route, _query) = path.split_once('?').unwrap_or((path, ""));
    if route.starts_with("/computeMetadata/v1/instance/service-accounts/")
        && route.ends_with("/token")
    {
        if get("metadata-flavor") != "Google" {
            return answer(403, "text/plain", "missing Metadata-Flavor: Google".into());
        }
        let Some(t) = issue("gcp", false) else {
            return unavailable();
        };
        let body =
            json!({"access_token": t.token, "expires_in": seconds(ttl), "token_type": "Bearer"});
        return answer(200, "application/json", body.to_string());
    }
    if route == "/metadata/identity/oauth2/token" {
        if get("metadata") != "true" {
            return answer(
                400,
                "application/json",
                r#"{"error":"invalid_request"}"#.into(),
            );
        }
        let Some(t) = issue("azure", false) else {
            return unavailable();
        };
        let body = json!({"access_token": t.token, "expires_in": seconds(ttl).to_string(),
            "expires_on": ((t.expires_ms) / 1000).to_string(), "resource": "https://cognitiveservices.azure.com",
            "token_type": "Bearer"});
        return answer(200, "application/json", body.to_string());
    }
    if route.ends_with("/oauth2/v2.0/token") && method == Method::POST {
        let form = String::from_utf8_lossy(body);
        let ok = form.contains("grant_type=client_credentials")
            && form.contains("client_secret=mock-client-secret");
        if !ok {
            return answer(
                401,
                "application/json",
                r#"{"error":"invalid_client"}"#.into(),
            );
        }
        let Some(t) = issue("oauth2", false) else {
            return unavailable();
        };
        let body =
            json!({"access_token": t.token, "expires_in": seconds(ttl), "token_type": "Bearer"});
        return answer(200, "application/json", body.to_string());
    }
    aws(method, route, path, headers)
}

fn aws_json(t: &Issued) -> String {
    json!({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": t.access_key_id,
        "SecretAccessKey": t.secret_access_key, "Token": t.token,
        "Expiration": rfc3339(t.expires_ms / 1000), "LastUpdated": rfc3339(now_ms() / 1000)})
    .to_string()
}

fn aws(method: &Method, route: &str, path: &str, headers: &HeaderMap) -> Option<Answer> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    const ROLE: &str = "mock-role";
    if route == "/latest/api/token" && method == Method::PUT {
        return answer(200, "text/plain", "imds-session".into());
    }
    if let Some(rest) = route.strip_prefix("/latest/meta-data/iam/security-credentials") {
        if get("x-aws-ec2-metadata-token") != "imds-session" {
            return answer(401, "text/plain", String::new());
        }
        return match rest.trim_start_matches('/') {
            "" => answer(200, "text/plain", ROLE.into()),
            ROLE => match issue("aws", true) {
                Some(t) => answer(200, "application/json", aws_json(&t)),
                None => unavailable(),
            },
            _ => answer(404, "text/plain", String::new()),
        };
    }
    if route.starts_with("/v2/credentials") || route == "/v1/credentials" {
        return match issue("aws", true) {
            Some(t) => answer(200, "application/json", aws_json(&t)),
            None => unavailable(),
        };
    }
    if path.contains("Action=AssumeRoleWithWebIdentity") {
        let Some(t) = issue("aws", true) else {
            return unavailable();
        };
        let xml = format!(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
            t.access_key_id.unwrap_or_default(),
            t.secret_access_key.unwrap_or_default(),
            t.token,
            rfc3339(t.expires_ms / 1000)
        );
        return answer(200, "text/xml", xml);
    }
    None
}

/// `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, Howard Hinnant's algorithm).
fn rfc3339(unix: u64) -> String {
    let days = i64::try_from(unix / 86_400).unwrap_or(0);
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
