//! The `bedrock` kind's own fields and settings. AWS Bedrock (Converse API): credentials
//! come from the environment, an access key pair (plus an optional session token) for
//! SigV4, or a Bedrock API key (bearer, the common `api_key_env`).

use serde::Deserialize;

use crate::config::kind::{KindInput, KindSettings};
use crate::config::{err, ConfigError, Defaults, Secret};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBedrock {
    pub region: String,
    pub access_key_id_env: Option<String>,
    pub secret_access_key_env: Option<String>,
    pub session_token_env: Option<String>,
}

#[derive(Debug)]
pub struct BedrockSettings {
    pub region: String,
    /// `None`: authenticate with the Bedrock API key in the provider's `api_key` (bearer).
    pub credentials: Option<AwsCredentials>,
}

/// SigV4 credentials. Every part is a `Secret`, so none can reach a log.
#[derive(Debug)]
pub struct AwsCredentials {
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

impl KindSettings for BedrockSettings {
    type Raw = RawBedrock;

    fn build(raw: RawBedrock, input: &KindInput<'_>) -> Result<(Self, Defaults), ConfigError> {
        let RawBedrock {
            region,
            access_key_id_env,
            secret_access_key_env,
            session_token_env,
        } = raw;
        if region.is_empty()
            || region.len() > 64
            || !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return err(
                input.field("region"),
                "must be an AWS region such as us-east-1",
            );
        }
        let secret = |name: &str, var: &str| Secret::from_env(&input.field(name), var, input.env);
        let credentials = match (access_key_id_env, secret_access_key_env, input.api_key_env) {
            (Some(id), Some(key), None) => Some(AwsCredentials {
                access_key_id: secret("access_key_id_env", &id)?,
                secret_access_key: secret("secret_access_key_env", &key)?,
                session_token: match session_token_env {
                    Some(var) => Some(secret("session_token_env", &var)?),
                    None => None,
                },
            }),
            (None, None, Some(_)) if session_token_env.is_none() => None,
            // Unless `credential` leaves signing to Envoy (checked in config/credential.rs).
            (None, None, None) => None,
            (_, _, Some(_)) => {
                return err(
                    input.field("api_key_env"),
                    "use either api_key_env or the access key variables, not both",
                )
            }
            _ => {
                return err(
                    input.field("secret_access_key_env"),
                    "access_key_id_env and secret_access_key_env go together",
                )
            }
        };
        let defaults = Defaults {
            // Signed requests name the regional endpoint; a custom host (a VPC endpoint,
            // a proxy) replaces it.
            host: Some(format!("bedrock-runtime.{region}.amazonaws.com")),
            // Bedrock paths start at the root: /model/{id}/converse.
            base_path: Some(String::new()),
            preset: None,
        };
        Ok((
            BedrockSettings {
                region,
                credentials,
            },
            defaults,
        ))
    }
}
