//! The token endpoints' answers: GCP metadata, Azure IMDS and OAuth2 token endpoints all
//! answer `{"access_token": …, "expires_in": …}`; IMDS writes the lifetime as a string.

use serde::Deserialize;

use crate::background::Answer;

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Lifetime,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Lifetime {
    Number(u64),
    Text(String),
}

/// Why a refresh failed: words for the log, never the answer's body (it may hold a token).
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    NoAnswer,
    Status(u16),
    Unreadable,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::NoAnswer => f.write_str("no answer (connection failed or timed out)"),
            Failure::Status(s) => write!(f, "status {s}"),
            Failure::Unreadable => {
                f.write_str("an answer without a usable access_token/expires_in")
            }
        }
    }
}

/// The token and its lifetime in seconds.
pub fn token(answer: &Answer) -> Result<(String, u64), Failure> {
    let Answer::Reply { status, body, .. } = answer else {
        return Err(Failure::NoAnswer);
    };
    if *status != 200 {
        return Err(Failure::Status(*status));
    }
    let t: TokenAnswer = serde_json::from_slice(body).map_err(|_| Failure::Unreadable)?;
    let seconds = match t.expires_in {
        Lifetime::Number(n) => n,
        Lifetime::Text(s) => s.trim().parse().map_err(|_| Failure::Unreadable)?,
    };
    // It goes into a header: nothing that could split or end one.
    let usable =
        !t.access_token.is_empty() && t.access_token.bytes().all(|b| (b'!'..=b'~').contains(&b));
    if !usable || seconds == 0 {
        return Err(Failure::Unreadable);
    }
    Ok((t.access_token, seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Answer {
        Answer::Reply {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn reads_gcp_azure_and_oauth2_answers() {
        let gcp = r#"{"access_token":"ya29.a","expires_in":3599,"token_type":"Bearer"}"#;
        assert_eq!(token(&reply(200, gcp)), Ok(("ya29.a".into(), 3599)));
        let imds = r#"{"access_token":"eyJ0","client_id":"x","expires_in":"86399","expires_on":"1","resource":"r","token_type":"Bearer"}"#;
        assert_eq!(token(&reply(200, imds)), Ok(("eyJ0".into(), 86399)));
    }

    #[test]
    fn refuses_what_cannot_be_sent() {
        assert_eq!(token(&Answer::Failed), Err(Failure::NoAnswer));
        assert_eq!(token(&reply(403, "{}")), Err(Failure::Status(403)));
        for bad in [
            r#"{"access_token":"a\r\nx: y","expires_in":10}"#,
            r#"{"access_token":"","expires_in":10}"#,
            r#"{"access_token":"a","expires_in":0}"#,
            r#"{"access_token":"a","expires_in":"soon"}"#,
            r#"{"access_token":"a"}"#,
            "<html>",
        ] {
            assert_eq!(token(&reply(200, bad)), Err(Failure::Unreadable), "{bad}");
        }
    }
}
