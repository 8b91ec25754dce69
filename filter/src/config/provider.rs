//! What a configured provider is, once validated (`build_provider.rs` builds it from the raw
//! document): kept apart from the building code so that the per-kind builders
//! (`google.rs`) and the rest of the configuration depend on it without a circle.

use super::presets::Preset;
use super::secret::Secret;

pub const DEFAULT_ANTHROPIC_VERSION: &str = "2023-06-01";
pub const DEFAULT_MAX_TOKENS: u32 = 4096;
/// Azure OpenAI's current GA data-plane version.
pub const DEFAULT_AZURE_API_VERSION: &str = "2024-10-21";

#[derive(Debug)]
pub struct Provider {
    pub name: String,
    pub cluster: String,
    pub host: Option<String>,
    pub base_path: String,
    pub api_key: Option<Secret>,
    pub kind: ProviderKind,
    /// `openai` kind only: the OpenAI-compatible service it was configured for.
    pub preset: Option<Preset>,
    /// Client headers the operator lets through on top of the kind's own allow-list.
    pub forward_headers: Vec<String>,
    /// Where the credential comes from when not from the environment (`credential.rs`).
    pub credential: super::credential::Credential,
}

#[derive(Debug)]
pub enum ProviderKind {
    OpenAi,
    Anthropic(AnthropicSettings),
    /// Google AI Studio (Gemini API).
    Gemini,
    /// Gemini on Vertex AI.
    Vertex(VertexSettings),
    /// Anthropic models on Vertex AI.
    VertexAnthropic(VertexAnthropicSettings),
    Azure(AzureSettings),
    Bedrock(BedrockSettings),
}

#[derive(Debug)]
pub struct AzureSettings {
    pub api_version: String,
    pub auth: AzureAuth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AzureAuth {
    /// `api-key: <key>`
    ApiKey,
    /// `Authorization: Bearer <Entra ID token>`
    Bearer,
}

#[derive(Debug)]
pub struct AnthropicSettings {
    pub version: String,
    pub default_max_tokens: u32,
}

#[derive(Debug)]
pub struct BedrockSettings {
    pub region: String,
    /// `None`: authenticate with the Bedrock API key in `Provider::api_key` (bearer).
    pub credentials: Option<AwsCredentials>,
}

/// SigV4 credentials. Every part is a `Secret`, so none can reach a log.
#[derive(Debug)]
pub struct AwsCredentials {
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

#[derive(Debug)]
pub struct VertexSettings {
    pub project: String,
    pub location: String,
}

#[derive(Debug)]
pub struct VertexAnthropicSettings {
    pub vertex: VertexSettings,
    /// `anthropic_version` sent in the body.
    pub version: String,
    pub default_max_tokens: u32,
}

/// `default_max_tokens` of the Anthropic-format kinds: the default when absent, never 0.
pub(super) fn default_max_tokens(
    i: usize,
    given: Option<u32>,
) -> Result<u32, super::error::ConfigError> {
    match given.unwrap_or(DEFAULT_MAX_TOKENS) {
        0 => super::error::err(
            format!("providers[{i}].default_max_tokens"),
            "must be greater than 0",
        ),
        n => Ok(n),
    }
}

/// What every kind's builder produces besides its own settings.
pub(super) struct Common {
    pub(super) name: String,
    pub(super) cluster: String,
    pub(super) host: Option<String>,
    pub(super) base_path: Option<String>,
    pub(super) api_key_env: Option<String>,
    pub(super) preset: Option<Preset>,
}
