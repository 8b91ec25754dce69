//! `credential` on a provider, the same for every kind: where its credential comes from.
//!
//! * `env` (default): `api_key_env` (or Bedrock's key pair), read once at configuration.
//! * `file`, `aws`: Envoy writes the credential on the provider's cluster (the
//!   `credential_injector` filter with an SDS secret from a watched file; the
//!   `aws_request_signing` filter with its credential chain); the filter sends none.
//! * `gcp_metadata`, `azure_imds`, `oauth2_client_credentials`: the filter fetches a token
//!   from an Envoy cluster off the request path (`crate::credential`) and keeps it fresh.
//!
//! The raw block and what it becomes; `credential_build.rs` checks and builds it.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Deserialize;

use super::secret::Secret;

#[derive(Debug, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum RawCredential {
    Env(RawNothing),
    File(RawNothing),
    Aws(RawNothing),
    GcpMetadata(RawGcp),
    AzureImds(RawAzureImds),
    #[serde(rename = "oauth2_client_credentials")]
    OAuth2(RawOAuth2),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNothing {}

/// GKE Workload Identity / the GCE metadata server.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGcp {
    pub cluster: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub service_account: Option<String>,
}

/// Azure managed identity (IMDS).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAzureImds {
    pub cluster: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    /// A user-assigned identity; absent: the system-assigned one.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// OAuth2 client credentials grant (Microsoft Entra ID or any OAuth2 server).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOAuth2 {
    pub cluster: String,
    pub host: String,
    /// e.g. `/<tenant>/oauth2/v2.0/token`.
    pub token_path: String,
    pub client_id: String,
    pub client_secret_env: String,
    pub scope: String,
}

/// Where a provider's credential comes from, once validated.
#[derive(Debug, Default)]
pub enum Credential {
    /// Read from the environment at configuration (`api_key_env`).
    #[default]
    Env,
    /// Written by an Envoy filter on the provider's cluster.
    ByEnvoy,
    /// Fetched by the filter and refreshed in the background.
    Fetched(Rc<Fetched>),
}

#[derive(Debug)]
pub struct Fetched {
    pub source: &'static str,
    pub call: TokenCall,
    /// The token in use: written by the refresh job, read by every request.
    pub current: RefCell<Option<Token>>,
}

/// The HTTP call that yields a token (an OAuth2-style JSON answer).
#[derive(Debug)]
pub struct TokenCall {
    pub cluster: String,
    pub method: &'static str,
    pub authority: String,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    /// Form body with the client secret: a `Secret` so that it never reaches a log.
    pub body: Option<Secret>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub value: Secret,
    pub expires_at_ms: u64,
}

impl Token {
    pub fn new(value: String, expires_at_ms: u64) -> Token {
        Token {
            value: Secret(value),
            expires_at_ms,
        }
    }
}
