//! Credentials out of what a provider says: an upstream that echoes the key it was sent
//! (in a JSON error message or plain text) must not hand it to the client. Runs only
//! on failed answers, so a successful request pays nothing.

use std::borrow::Cow;

use crate::config::credential::Credential;
use crate::config::{Provider, Secret};

pub const REDACTED: &[u8] = b"[REDACTED]";

/// What a provider's failed answer must not echo: the configured credentials and the
/// tokens the filter fetched (they rotate, so they are not in the list the configuration
/// built) for every provider, not only the one that answered, as for configured keys.
pub fn secrets_for<'a>(configured: &'a [Secret], providers: &[Provider]) -> Cow<'a, [Secret]> {
    let mut all = Cow::Borrowed(configured);
    for p in providers {
        if let Credential::Fetched(f) = &p.credential {
            if let Some(t) = f.current.borrow().as_ref() {
                all.to_mut().push(t.value.clone());
            }
        }
    }
    all
}

/// A failed answer's body without credentials. JSON is first rewritten in its plain
/// form (a provider may spell `s` as `\u0073`, `/` as `\/`), then searched.
// A provider's error body is any JSON: read as a value only to write it back plainly.
#[allow(clippy::disallowed_types)]
pub fn redact_answer(body: &[u8], secrets: &[Secret]) -> Option<Vec<u8>> {
    if secrets.is_empty() {
        return None;
    }
    let plain = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_vec(&v).ok());
    match plain {
        Some(json) => redact(&json, secrets),
        None => redact(body, secrets),
    }
}

/// `text` with every occurrence of every secret replaced, also as it is written inside
/// a JSON string (`"` and `\` escaped); `None` when there was nothing to replace.
pub fn redact(text: &[u8], secrets: &[Secret]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for secret in secrets {
        let plain = secret.expose();
        let quoted = serde_json::to_string(plain).unwrap_or_default();
        let in_json = quoted
            .get(1..quoted.len().saturating_sub(1))
            .unwrap_or_default();
        let forms = if in_json == plain {
            [plain, ""]
        } else {
            [plain, in_json]
        };
        for form in forms {
            if form.is_empty() {
                continue;
            }
            let current = out.as_deref().unwrap_or(text);
            if let Some(replaced) = replace_all(current, form.as_bytes()) {
                out = Some(replaced);
            }
        }
    }
    out
}

/// A `String` version for error messages already parsed out of a body.
pub fn redact_str(text: &str, secrets: &[Secret]) -> Option<String> {
    redact(text.as_bytes(), secrets).map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn replace_all(hay: &[u8], needle: &[u8]) -> Option<Vec<u8>> {
    let first = *needle.first()?;
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut i = 0;
    while let Some(rest) = hay.get(i..) {
        let Some(at) = rest.iter().position(|&b| b == first) else {
            break;
        };
        let start = i + at;
        if hay.get(start..start + needle.len()) == Some(needle) {
            let o = out.get_or_insert_with(|| Vec::with_capacity(hay.len()));
            o.extend_from_slice(hay.get(copied..start).unwrap_or_default());
            o.extend_from_slice(REDACTED);
            copied = start + needle.len();
            i = copied;
        } else {
            i = start + 1;
        }
    }
    let mut o = out?;
    o.extend_from_slice(hay.get(copied..).unwrap_or_default());
    Some(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn secrets() -> Vec<Secret> {
        let doc = br#"{"providers":[
            {"name":"oa","kind":"openai","cluster":"c","api_key_env":"K"},
            {"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1",
             "access_key_id_env":"ID","secret_access_key_env":"SECRET","session_token_env":"TOKEN"}],
            "allow_provider_model": true}"#;
        let env = |k: &str| {
            Some(match k {
                "K" => "sk-live-abcdef123456".to_string(),
                "ID" => "AKIAEXAMPLE12345".to_string(),
                "SECRET" => "wJalr/XUtnFEMI+K7MDENG".to_string(),
                _ => "FwoGZXIvYXdzEJr//session".to_string(),
            })
        };
        parse(doc, &env).unwrap().secrets
    }

    #[test]
    fn every_configured_credential_is_replaced_in_json_and_text() {
        let s = secrets();
        assert_eq!(s.len(), 4);
        let json = br#"{"error":{"message":"Incorrect API key provided: sk-live-abcdef123456. Also sk-live-abcdef123456","secret":"wJalr\/XUtnFEMI+K7MDENG","t":"FwoGZXIvYXdzEJr//session","id":"\u0041KIAEXAMPLE12345"}}"#;
        let out = String::from_utf8(redact_answer(json, &s).unwrap()).unwrap();
        for leaked in ["sk-live", "wJalr", "FwoGZ", "AKIA"] {
            assert!(!out.contains(leaked), "{out}");
        }
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["error"]["message"],
            "Incorrect API key provided: [REDACTED]. Also [REDACTED]"
        );
        let text = "denied for key sk-live-abcdef123456\n";
        assert_eq!(redact_str(text, &s).unwrap(), "denied for key [REDACTED]\n");
        assert_eq!(redact(b"nothing here: sk-live-abc", &s), None);
    }
}
