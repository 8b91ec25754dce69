//! The configuration document exactly as users write it. Unknown fields are errors,
//! so a typo never silently turns a setting off.

use serde::Deserialize;

use super::error::ConfigError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `gateway` (default): an HTTP filter before the router. `upstream`: the per-attempt
    /// filter in a cluster's `http_filters`, translating for the endpoint Envoy picked.
    #[serde(default)]
    pub role: Option<Role>,
    /// `cheap` (default) or `tiktoken` (needs the tiktoken build of the filter).
    #[serde(default)]
    pub token_estimator: Option<TokenEstimator>,
    pub providers: Vec<RawProviderEntry>,
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
    /// Refuse (400) request fields the chosen provider cannot honour instead of
    /// dropping them with a log line.
    #[serde(default)]
    pub strict: bool,
    /// Batch the usage ledger and counters per worker and write them every this many
    /// ms (0: on every request).
    #[serde(default)]
    pub usage_flush_ms: Option<u64>,
    /// Client headers to forward beyond each provider kind's allow-list, by provider
    /// name (`*`: every provider).
    #[serde(default)]
    pub forward_headers: Option<super::forward::RawForward>,
}

/// The raw document; an error names the path of the field (`models[1].targets[0].weight`)
/// rather than a line and column inside the embedded JSON string, which under Istio is
/// istiod's re-serialisation, not what the user wrote. Syntax errors keep their position.
pub(super) fn read(json: &[u8]) -> Result<RawConfig, ConfigError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let raw = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ConfigError {
                field: "(document)".into(),
                reason: inner.to_string(),
            };
        }
        let text = inner.to_string();
        let reason = match text.rfind(" at line ") {
            Some(i) => text.get(..i).unwrap_or(&text).to_string(),
            None => text,
        };
        ConfigError {
            field: if path == "." {
                "(document)".into()
            } else {
                kind_path(path, &reason)
            },
            reason,
        }
    })?;
    de.end().map_err(|e| ConfigError {
        field: "(document)".into(),
        reason: e.to_string(),
    })?;
    Ok(raw)
}

/// Tagged by `kind`; each variant holds only the settings that provider understands.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RawProvider {
    #[serde(rename = "openai")]
    OpenAi(RawOpenAi),
    Anthropic(RawAnthropic),
    Gemini(RawGemini),
    Vertex(RawVertex),
    #[serde(rename = "vertex_anthropic")]
    VertexAnthropic(RawVertexAnthropic),
    Azure(RawAzure),
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
    /// A known OpenAI-compatible service whose host and base path become the defaults.
    #[serde(default)]
    pub preset: Option<String>,
}

/// Azure OpenAI: `host` is the resource host (`<resource>.openai.azure.com`); a
/// target's `model` is the deployment name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAzure {
    pub name: String,
    pub cluster: String,
    pub host: String,
    #[serde(default)]
    pub base_path: Option<String>,
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub api_version: Option<String>,
    /// `api_key` (default: `api-key` header) or `bearer` (Entra ID token).
    #[serde(default)]
    pub auth: Option<String>,
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

/// Google AI Studio (Gemini API): `x-goog-api-key`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGemini {
    pub name: String,
    pub cluster: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub base_path: Option<String>,
    #[serde(default)]
    pub api_key_env: Option<String>,
}

/// Gemini on Vertex AI: project/location path, bearer token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVertex {
    pub name: String,
    pub cluster: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub base_path: Option<String>,
    #[serde(default)]
    pub api_key_env: Option<String>,
    pub project: String,
    pub location: String,
}

/// Anthropic models on Vertex AI (`rawPredict`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVertexAnthropic {
    pub name: String,
    pub cluster: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub base_path: Option<String>,
    #[serde(default)]
    pub api_key_env: Option<String>,
    pub project: String,
    pub location: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub default_max_tokens: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub name: String,
    #[serde(default)]
    pub targets: Vec<RawTarget>,
    /// Serve this model through an Envoy cluster whose endpoints are the targets and
    /// whose per-attempt filter translates (failover by Envoy's retries and priorities).
    #[serde(default)]
    pub cluster: Option<String>,
    #[serde(default)]
    pub strategy: Option<Strategy>,
    /// For `sticky`: hash this request header; absent = hash the prompt's beginning.
    #[serde(default)]
    pub sticky_header: Option<String>,
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
    /// Tokens the model can take (prompt + completion), for `context_window` routing.
    #[serde(default)]
    pub context_window: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenEstimator {
    Cheap,
    Tiktoken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Gateway,
    Upstream,
}

/// How a target is chosen among the healthy ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    Weighted,
    /// The first healthy target in list order (fallback order).
    Ordered,
    /// The target with the lowest moving average of time to first byte.
    LowestLatency,
    /// The same session (header, or prompt prefix) goes to the same target.
    Sticky,
    /// Skip targets whose context window cannot hold the estimated request.
    ContextWindow,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealth {
    #[serde(default)]
    pub failure_threshold: Option<u32>,
    #[serde(default)]
    pub cooldown_ms: Option<u64>,
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

/// A provider entry: the kind's own fields plus the common `credential` block.
#[derive(Debug, Deserialize)]
pub struct RawProviderEntry {
    #[serde(flatten)]
    pub provider: RawProvider,
    #[serde(default)]
    pub credential: Option<super::credential::RawCredential>,
}

/// The entry is flattened, so serde reports an unknown `kind` at the entry: name the field.
pub(super) fn kind_path(path: String, reason: &str) -> String {
    if reason.starts_with("unknown variant")
        && path.starts_with("providers[")
        && path.ends_with(']')
    {
        return path + ".kind";
    }
    path
}
