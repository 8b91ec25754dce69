//! The configuration document exactly as users write it. Unknown fields are errors,
//! so a typo never silently turns a setting off.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub providers: Vec<RawProvider>,
    #[serde(default)]
    pub models: Vec<RawModel>,
    /// Accept `provider/model` names that are not listed under `models`.
    #[serde(default)]
    pub allow_provider_model: bool,
    #[serde(default)]
    pub max_body_bytes: Option<usize>,
    #[serde(default)]
    pub route_header: Option<String>,
    #[serde(default)]
    pub health: Option<RawHealth>,
    /// Virtual keys, mesh identities and teams; absent = no authentication.
    #[serde(default)]
    pub access: Option<super::access::RawAccess>,
    /// USD per million tokens, by upstream model.
    #[serde(default)]
    pub prices: Vec<super::pricing::RawPrice>,
}

/// Tagged by `kind`; each variant holds only the settings that provider understands.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RawProvider {
    #[serde(rename = "openai")]
    OpenAi(RawOpenAi),
    Anthropic(RawAnthropic),
    Bedrock(RawBedrock),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOpenAi {
    pub name: String,
    pub cluster: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub base_path: Option<String>,
    #[serde(default)]
    pub api_key_env: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAnthropic {
    pub name: String,
    pub cluster: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub base_path: Option<String>,
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub default_max_tokens: Option<u32>,
}

/// AWS Bedrock (Converse API). Credentials come from the environment: an access key
/// pair (plus an optional session token) for SigV4, or a Bedrock API key (bearer).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBedrock {
    pub name: String,
    pub cluster: String,
    pub region: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub base_path: Option<String>,
    #[serde(default)]
    pub access_key_id_env: Option<String>,
    #[serde(default)]
    pub secret_access_key_env: Option<String>,
    #[serde(default)]
    pub session_token_env: Option<String>,
    #[serde(default)]
    pub api_key_env: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub name: String,
    pub targets: Vec<RawTarget>,
    /// Requests and tokens per minute for this model, across all callers.
    #[serde(default)]
    pub rpm: Option<u64>,
    #[serde(default)]
    pub tpm: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub provider: String,
    pub model: String,
    #[serde(default)]
    pub weight: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealth {
    #[serde(default)]
    pub failure_threshold: Option<u32>,
    #[serde(default)]
    pub cooldown_ms: Option<u64>,
}
