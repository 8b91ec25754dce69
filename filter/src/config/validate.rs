//! Turn the raw document into a `Config` that cannot be wrong at request time.

use rustc_hash::FxHashMap;
use std::fmt;

use super::google::{self, VertexAnthropicSettings, VertexSettings};
use super::presets::Preset;
use super::raw::{
    RawAnthropic, RawAzure, RawBedrock, RawConfig, RawHealth, RawModel, RawOpenAi, RawProvider,
};

pub const DEFAULT_MAX_BODY: usize = 8 * 1024 * 1024;
pub const DEFAULT_ROUTE_HEADER: &str = "x-llm-cluster";
pub const DEFAULT_ANTHROPIC_VERSION: &str = "2023-06-01";
pub const DEFAULT_MAX_TOKENS: u32 = 4096;
/// Azure OpenAI's current GA data-plane version.
pub const DEFAULT_AZURE_API_VERSION: &str = "2024-10-21";
const MAX_WEIGHT: u32 = 1_000_000;

#[derive(Debug)]
pub struct Config {
    pub role: super::raw::Role,
    pub token_estimator: super::raw::TokenEstimator,
    pub providers: Vec<Provider>,
    /// FxHash: looked up several times per request (SipHash is several times dearer a byte).
    pub models: FxHashMap<String, ModelRoute>,
    /// Client-facing model names in configuration order (for `/v1/models`).
    pub model_names: Vec<String>,
    pub allow_provider_model: bool,
    pub max_body_bytes: usize,
    pub route_header: String,
    pub health: HealthSettings,
    /// None: no authentication (an open gateway, e.g. behind mesh policy).
    pub access: Option<super::access::Access>,
    pub prices: FxHashMap<String, super::pricing::Price>,
    /// Refuse request fields a provider cannot honour (400) instead of dropping them.
    pub strict: bool,
    /// Per-worker batching of the usage ledger and counters (0: written per request).
    pub usage_flush_ms: u64,
    /// Model rate limits by the upstream model they cover.
    pub model_limits: super::model_limits::ModelLimits,
    /// Every configured credential value, longest first: redacted from what providers
    /// say before it reaches a client.
    pub secrets: Vec<Secret>,
}

#[derive(Debug)]
pub struct Provider {
    pub name: String,
    pub cluster: String,
    pub host: Option<String>,
    pub base_path: String,
    pub api_key: Option<Secret>,
    pub kind: ProviderKind,
    /// A failover cluster standing in for a provider: OpenAI format on the wire, the
    /// per-attempt filter behind it translates and names who served in response headers.
    pub is_cluster: bool,
    /// `openai` kind only: the OpenAI-compatible service it was configured for.
    pub preset: Option<Preset>,
    /// Client headers the operator lets through on top of the kind's own allow-list.
    pub forward_headers: Vec<String>,
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
pub struct ModelRoute {
    pub targets: Vec<Target>,
    /// Failover mode: the virtual-model cluster (targets are its endpoints).
    pub cluster: Option<String>,
    pub strategy: super::raw::Strategy,
    pub sticky_header: Option<String>,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Target {
    /// Index into `Config::providers`.
    pub provider: usize,
    pub model: String,
    pub weight: u32,
    pub context_window: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthSettings {
    pub failure_threshold: u32,
    pub cooldown_ms: u64,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            failure_threshold: 3,
            cooldown_ms: 30_000,
        }
    }
}

/// A credential. Its `Debug` never shows the value, so it cannot leak through logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}: {}", self.field, self.reason)
    }
}

pub(super) fn err<T>(
    field: impl Into<String>,
    reason: impl Into<String>,
) -> Result<T, ConfigError> {
    Err(ConfigError {
        field: field.into(),
        reason: reason.into(),
    })
}

/// Parse and validate. `env` looks up environment variables (WASI env inside Envoy).
pub fn parse(json: &[u8], env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let raw = raw_document(json)?;
    if raw.providers.is_empty() {
        return err("providers", "at least one provider is required");
    }
    let mut providers = Vec::with_capacity(raw.providers.len());
    for (i, p) in raw.providers.into_iter().enumerate() {
        let provider = provider(i, p, env)?;
        if providers.iter().any(|q: &Provider| q.name == provider.name) {
            return err(
                format!("providers[{i}].name"),
                format!("duplicate provider name {:?}", provider.name),
            );
        }
        providers.push(provider);
    }
    let mut models = FxHashMap::default();
    let mut model_names = Vec::new();
    for (i, m) in raw.models.into_iter().enumerate() {
        let name = m.name.clone();
        let mut route = model(i, m, &providers)?;
        if let Some(cluster) = &route.cluster {
            // The cluster becomes the model's single (virtual) target.
            route.targets = vec![Target {
                provider: providers.len(),
                model: name.clone(),
                weight: 1,
                context_window: None,
            }];
            providers.push(Provider {
                name: format!("cluster:{cluster}"),
                cluster: cluster.clone(),
                host: None,
                base_path: "/v1".into(),
                api_key: None,
                kind: ProviderKind::OpenAi,
                is_cluster: true,
                preset: None,
                forward_headers: Vec::new(),
            });
        }
        if models.insert(name.clone(), route).is_some() {
            return err(
                format!("models[{i}].name"),
                format!("duplicate model name {name:?}"),
            );
        }
        model_names.push(name);
    }
    let role = raw.role.unwrap_or(super::raw::Role::Gateway);
    if models.is_empty() && !raw.allow_provider_model && role == super::raw::Role::Gateway {
        return err(
            "models",
            "no models are listed and allow_provider_model is false: nothing could be served",
        );
    }
    let max_body_bytes = raw.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY);
    if max_body_bytes == 0 {
        return err("max_body_bytes", "must be greater than 0");
    }
    let route_header = raw
        .route_header
        .unwrap_or_else(|| DEFAULT_ROUTE_HEADER.to_string());
    if route_header.is_empty()
        || !route_header
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return err(
            "route_header",
            "must be a non-empty lowercase header name ([a-z0-9_-])",
        );
    }
    super::forward::apply(raw.forward_headers, &mut providers, &route_header)?;
    let access = match raw.access {
        Some(a) => Some(super::access::validate(a, &model_names)?),
        None => None,
    };
    let prices = super::pricing::validate(raw.prices)?;
    let served = Served {
        providers: &providers,
        models: &models,
        allow_provider_model: raw.allow_provider_model,
    };
    super::budgets::prices_name_served_models(&prices, &served)?;
    if let Some(a) = &access {
        super::budgets::budgets_are_priced(a, &model_names, &prices, &served)?;
    }
    let usage_flush_ms = raw.usage_flush_ms.unwrap_or(0);
    if usage_flush_ms > MAX_USAGE_FLUSH_MS {
        return err(
            "usage_flush_ms",
            "must be at most 60000 (counts wait this long in a worker before anyone sees them)",
        );
    }
    let token_estimator = raw
        .token_estimator
        .unwrap_or(super::raw::TokenEstimator::Cheap);
    if token_estimator == super::raw::TokenEstimator::Tiktoken && !cfg!(feature = "tiktoken") {
        return err(
            "token_estimator",
            "this .wasm was built without tiktoken: use llm_gateway_tiktoken.wasm (./build.sh build makes both)",
        );
    }
    let model_limits =
        super::model_limits::ModelLimits::build(&models, &model_names, providers.len());
    let secrets = secrets(&providers);
    Ok(Config {
        model_limits,
        secrets,
        role,
        token_estimator,
        access,
        prices,
        providers,
        models,
        model_names,
        allow_provider_model: raw.allow_provider_model,
        max_body_bytes,
        route_header,
        health: health(raw.health)?,
        strict: raw.strict,
        usage_flush_ms,
    })
}

/// What the configuration can serve, for checks that span sections.
pub(super) struct Served<'a> {
    pub providers: &'a [Provider],
    pub models: &'a FxHashMap<String, ModelRoute>,
    pub allow_provider_model: bool,
}

/// The raw document; an error names the path of the field (`models[1].targets[0].weight`)
/// rather than a line and column inside the embedded JSON string, which under Istio is
/// istiod's re-serialisation, not what the user wrote. Syntax errors keep their position.
fn raw_document(json: &[u8]) -> Result<RawConfig, ConfigError> {
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
                path
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

const MAX_USAGE_FLUSH_MS: u64 = 60_000;

/// Shorter values are no real credential, and replacing them would garble messages.
const MIN_REDACTED_LEN: usize = 8;

fn secrets(providers: &[Provider]) -> Vec<Secret> {
    let mut all: Vec<Secret> = Vec::new();
    for p in providers {
        all.extend(p.api_key.iter().cloned());
        if let ProviderKind::Bedrock(BedrockSettings {
            credentials: Some(c),
            ..
        }) = &p.kind
        {
            all.push(c.access_key_id.clone());
            all.push(c.secret_access_key.clone());
            all.extend(c.session_token.iter().cloned());
        }
    }
    all.retain(|s| s.0.len() >= MIN_REDACTED_LEN);
    // Longest first: a credential that contains another is replaced whole.
    all.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    all.dedup();
    all
}

/// Names end up in metric names, headers and `provider/model` addressing.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

pub(super) fn header_safe(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

pub(super) struct Common {
    pub(super) name: String,
    pub(super) cluster: String,
    pub(super) host: Option<String>,
    pub(super) base_path: Option<String>,
    pub(super) api_key_env: Option<String>,
    pub(super) preset: Option<Preset>,
}

fn provider(
    i: usize,
    p: RawProvider,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Provider, ConfigError> {
    let (common, kind) = match p {
        RawProvider::OpenAi(RawOpenAi {
            name,
            cluster,
            host,
            base_path,
            api_key_env,
            preset,
        }) => {
            let preset = match preset.as_deref() {
                None => None,
                Some(p) => Some(Preset::parse(p).ok_or_else(|| ConfigError {
                    field: format!("providers[{i}].preset"),
                    reason: format!("unknown preset {p:?}; known: {}", Preset::NAMES),
                })?),
            };
            (
                Common {
                    name,
                    cluster,
                    host: host.or_else(|| preset.and_then(Preset::host).map(str::to_string)),
                    base_path: base_path
                        .or_else(|| preset.map(|p| Preset::base_path(p).to_string())),
                    api_key_env,
                    preset,
                },
                ProviderKind::OpenAi,
            )
        }
        RawProvider::Azure(raw) => azure(i, raw)?,
        RawProvider::Anthropic(RawAnthropic {
            name,
            cluster,
            host,
            base_path,
            api_key_env,
            version,
            default_max_tokens,
        }) => {
            let version = version.unwrap_or_else(|| DEFAULT_ANTHROPIC_VERSION.to_string());
            if version.is_empty() || !header_safe(&version) {
                return err(
                    format!("providers[{i}].version"),
                    "must be a header-safe string",
                );
            }
            let default_max_tokens = default_max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
            if default_max_tokens == 0 {
                return err(
                    format!("providers[{i}].default_max_tokens"),
                    "must be greater than 0",
                );
            }
            (
                Common {
                    name,
                    cluster,
                    host,
                    base_path,
                    api_key_env,
                    preset: None,
                },
                ProviderKind::Anthropic(AnthropicSettings {
                    version,
                    default_max_tokens,
                }),
            )
        }
        RawProvider::Gemini(raw) => google::gemini(raw),
        RawProvider::Vertex(raw) => google::vertex(i, raw)?,
        RawProvider::VertexAnthropic(raw) => google::vertex_anthropic(i, raw)?,
        RawProvider::Bedrock(raw) => bedrock(i, raw, env)?,
    };
    let Common {
        name,
        cluster,
        host,
        base_path,
        api_key_env,
        preset,
    } = common;
    if !valid_name(&name) {
        return err(
            format!("providers[{i}].name"),
            "must be 1-64 characters of [A-Za-z0-9._-]",
        );
    }
    if cluster.is_empty() || !header_safe(&cluster) || cluster.contains(' ') {
        return err(
            format!("providers[{i}].cluster"),
            "must be the name of an Envoy cluster",
        );
    }
    if let Some(h) = &host {
        if h.is_empty() || !header_safe(h) || h.contains(' ') || h.contains('/') {
            return err(
                format!("providers[{i}].host"),
                "must be a host[:port] authority",
            );
        }
    }
    let base_path = base_path.unwrap_or_else(|| "/v1".to_string());
    let base_path = base_path.trim_end_matches('/').to_string();
    if !(base_path.is_empty() || base_path.starts_with('/'))
        || !header_safe(&base_path)
        || base_path.contains(['?', '#', ' '])
    {
        return err(
            format!("providers[{i}].base_path"),
            "must be an absolute path such as /v1, without query",
        );
    }
    let api_key = match api_key_env {
        None => None,
        Some(var) => match env(&var) {
            Some(v) if !v.is_empty() && header_safe(&v) => Some(Secret(v)),
            Some(_) => {
                return err(
                    format!("providers[{i}].api_key_env"),
                    format!("environment variable {var} is empty or not header-safe"),
                )
            }
            None => {
                return err(
                    format!("providers[{i}].api_key_env"),
                    format!(
                        "environment variable {var} is not set (pass it with vm_config.environment_variables)"
                    ),
                )
            }
        },
    };
    Ok(Provider {
        name,
        cluster,
        host,
        base_path,
        api_key,
        kind,
        is_cluster: false,
        preset,
        forward_headers: Vec::new(),
    })
}

fn azure(i: usize, raw: RawAzure) -> Result<(Common, ProviderKind), ConfigError> {
    let RawAzure {
        name,
        cluster,
        host,
        base_path,
        api_key_env,
        api_version,
        auth,
    } = raw;
    let api_version = api_version.unwrap_or_else(|| DEFAULT_AZURE_API_VERSION.to_string());
    // It goes into the query string unescaped.
    if api_version.is_empty()
        || !api_version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return err(
            format!("providers[{i}].api_version"),
            "must look like 2024-10-21 or 2025-04-01-preview",
        );
    }
    let auth = match auth.as_deref() {
        None | Some("api_key") => AzureAuth::ApiKey,
        Some("bearer") => AzureAuth::Bearer,
        Some(_) => return err(format!("providers[{i}].auth"), "must be api_key or bearer"),
    };
    Ok((
        Common {
            name,
            cluster,
            host: Some(host),
            base_path: Some(base_path.unwrap_or_else(|| "/openai".to_string())),
            api_key_env,
            preset: None,
        },
        ProviderKind::Azure(AzureSettings { api_version, auth }),
    ))
}

fn bedrock(
    i: usize,
    raw: RawBedrock,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Common, ProviderKind), ConfigError> {
    let RawBedrock {
        name,
        cluster,
        region,
        host,
        base_path,
        access_key_id_env,
        secret_access_key_env,
        session_token_env,
        api_key_env,
    } = raw;
    let field = |f: &str| format!("providers[{i}].{f}");
    if region.is_empty()
        || region.len() > 64
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return err(field("region"), "must be an AWS region such as us-east-1");
    }
    let credentials =
        match (access_key_id_env, secret_access_key_env, &api_key_env) {
            (Some(id), Some(secret), None) => Some(AwsCredentials {
                access_key_id: env_secret(&field("access_key_id_env"), &id, env)?,
                secret_access_key: env_secret(&field("secret_access_key_env"), &secret, env)?,
                session_token: match session_token_env {
                    Some(var) => Some(env_secret(&field("session_token_env"), &var, env)?),
                    None => None,
                },
            }),
            (None, None, Some(_)) if session_token_env.is_none() => None,
            (None, None, None) => return err(
                field("access_key_id_env"),
                "bedrock needs access_key_id_env and secret_access_key_env (SigV4), or api_key_env",
            ),
            (_, _, Some(_)) => {
                return err(
                    field("api_key_env"),
                    "use either api_key_env or the access key variables, not both",
                )
            }
            _ => {
                return err(
                    field("secret_access_key_env"),
                    "access_key_id_env and secret_access_key_env go together",
                )
            }
        };
    let common = Common {
        name,
        cluster,
        // Signed requests name the regional endpoint; a custom host (a VPC endpoint,
        // a proxy) replaces it.
        host: Some(host.unwrap_or_else(|| format!("bedrock-runtime.{region}.amazonaws.com"))),
        // Bedrock paths start at the root: /model/{id}/converse.
        base_path: Some(base_path.unwrap_or_default()),
        api_key_env,
        preset: None,
    };
    Ok((
        common,
        ProviderKind::Bedrock(BedrockSettings {
            region,
            credentials,
        }),
    ))
}

/// A credential from the environment: set, non-empty and header-safe.
fn env_secret(
    field: &str,
    var: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Secret, ConfigError> {
    match env(var) {
        Some(v) if !v.is_empty() && header_safe(&v) => Ok(Secret(v)),
        Some(_) => err(
            field,
            format!("environment variable {var} is empty or not header-safe"),
        ),
        None => err(
            field,
            format!(
                "environment variable {var} is not set (pass it with vm_config.environment_variables)"
            ),
        ),
    }
}

fn model(i: usize, m: RawModel, providers: &[Provider]) -> Result<ModelRoute, ConfigError> {
    if m.name.is_empty() || m.name.len() > 256 || !header_safe(&m.name) {
        return err(
            format!("models[{i}].name"),
            "must be 1-256 printable ASCII characters",
        );
    }
    if let Some(c) = &m.cluster {
        if c.is_empty() || !header_safe(c) || c.contains(' ') {
            return err(
                format!("models[{i}].cluster"),
                "must be the name of an Envoy cluster",
            );
        }
    } else if m.targets.is_empty() {
        return err(
            format!("models[{i}].targets"),
            "at least one target is required (or a cluster for failover mode)",
        );
    }
    if let Some(h) = &m.sticky_header {
        if h.is_empty()
            || !h
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return err(
                format!("models[{i}].sticky_header"),
                "must be a lowercase header name",
            );
        }
    }
    let mut targets = Vec::with_capacity(m.targets.len());
    for (j, t) in m.targets.into_iter().enumerate() {
        let field = format!("models[{i}].targets[{j}]");
        let Some(provider) = providers.iter().position(|p| p.name == t.provider) else {
            return err(
                format!("{field}.provider"),
                format!("no provider named {:?}", t.provider),
            );
        };
        if t.model.is_empty() || !header_safe(&t.model) {
            return err(
                format!("{field}.model"),
                "must be a non-empty printable ASCII model name",
            );
        }
        let weight = t.weight.unwrap_or(1);
        if weight > MAX_WEIGHT {
            return err(
                format!("{field}.weight"),
                format!("must be at most {MAX_WEIGHT}"),
            );
        }
        if t.context_window == Some(0) {
            return err(format!("{field}.context_window"), "must be greater than 0");
        }
        targets.push(Target {
            provider,
            model: t.model,
            weight,
            context_window: t.context_window,
        });
    }
    let strategy = m.strategy.unwrap_or(super::raw::Strategy::Weighted);
    if strategy == super::raw::Strategy::ContextWindow
        && targets.iter().any(|t| t.context_window.is_none())
    {
        return err(
            format!("models[{i}].targets"),
            "every target needs context_window with strategy context_window",
        );
    }
    if !targets.is_empty() && targets.iter().all(|t| t.weight == 0) {
        return err(
            format!("models[{i}].targets"),
            "at least one target needs a weight above 0",
        );
    }
    for (name, v) in [("rpm", m.rpm), ("tpm", m.tpm)] {
        if v == Some(0) {
            return err(
                format!("models[{i}].{name}"),
                "must be at least 1 (omit it for no limit)",
            );
        }
    }
    Ok(ModelRoute {
        targets,
        cluster: m.cluster,
        strategy,
        sticky_header: m.sticky_header,
        rpm: m.rpm,
        tpm: m.tpm,
    })
}

fn health(raw: Option<RawHealth>) -> Result<HealthSettings, ConfigError> {
    let d = HealthSettings::default();
    let Some(raw) = raw else { return Ok(d) };
    let failure_threshold = raw.failure_threshold.unwrap_or(d.failure_threshold);
    if failure_threshold == 0 {
        return err("health.failure_threshold", "must be at least 1");
    }
    Ok(HealthSettings {
        failure_threshold,
        cooldown_ms: raw.cooldown_ms.unwrap_or(d.cooldown_ms),
    })
}

impl Config {
    pub fn provider(&self, index: usize) -> Option<&Provider> {
        self.providers.get(index)
    }

    /// Price of an upstream model: `provider/model` first, then `model`.
    pub fn price(&self, provider: &str, model: &str) -> Option<super::pricing::Price> {
        if self.prices.is_empty() {
            return None; // no key to build
        }
        self.prices
            .get(crate::strs::concat(&[provider, "/", model]).as_str())
            .or_else(|| self.prices.get(model))
            .copied()
    }

    /// A real provider by name (failover clusters cannot be addressed directly).
    pub fn provider_index(&self, name: &str) -> Option<usize> {
        self.providers
            .iter()
            .position(|p| p.name == name && !p.is_cluster)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "KEY" => Some("sk-secret".into()),
            "BAD" => Some("a\nb".into()),
            _ => None,
        }
    }

    fn parse_str(s: &str) -> Result<Config, ConfigError> {
        parse(s.as_bytes(), &env)
    }

    const GOOD: &str = r#"{
      "providers": [
        {"name":"oa","kind":"openai","cluster":"c1","api_key_env":"KEY"},
        {"name":"an","kind":"anthropic","cluster":"c2","host":"api.anthropic.com","base_path":"/v1/"}
      ],
      "models": [{"name":"m","targets":[{"provider":"oa","model":"gpt","weight":3},{"provider":"an","model":"claude"}]}]
    }"#;

    #[test]
    fn good_config_with_defaults() {
        let c = parse_str(GOOD).unwrap();
        assert_eq!(c.providers.len(), 2);
        assert_eq!(c.providers[1].base_path, "/v1");
        assert_eq!(
            c.providers[0].api_key.as_ref().unwrap().expose(),
            "sk-secret"
        );
        assert_eq!(c.models["m"].targets[1].weight, 1);
        assert_eq!(c.route_header, DEFAULT_ROUTE_HEADER);
        assert_eq!(c.max_body_bytes, DEFAULT_MAX_BODY);
        match &c.providers[1].kind {
            ProviderKind::Anthropic(a) => {
                assert_eq!(a.version, DEFAULT_ANTHROPIC_VERSION);
                assert_eq!(a.default_max_tokens, DEFAULT_MAX_TOKENS);
            }
            other => panic!("{other:?}"),
        }
        assert!(!format!("{c:?}").contains("sk-secret"));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (r#"{"providers":[]}"#, "providers"),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c","colour":1}]}"#,
                "providers[0]",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"nope","cluster":"c"}]}"#,
                "providers[0].kind",
            ),
            (
                r#"{"providers":[{"name":"a b","kind":"openai","cluster":"c"}],"allow_provider_model":true}"#,
                "providers[0].name",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c","api_key_env":"MISSING"}],"allow_provider_model":true}"#,
                "providers[0].api_key_env",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c","api_key_env":"BAD"}],"allow_provider_model":true}"#,
                "providers[0].api_key_env",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"},{"name":"a","kind":"openai","cluster":"d"}],"allow_provider_model":true}"#,
                "providers[1].name",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[{"provider":"zz","model":"x"}]}]}"#,
                "models[0].targets[0].provider",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[{"provider":"a","model":"x","weight":0}]}]}"#,
                "models[0].targets",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[]}]}"#,
                "models[0].targets",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}]}"#,
                "models",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"allow_provider_model":true,"health":{"failure_threshold":0}}"#,
                "health.failure_threshold",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"anthropic","cluster":"c","default_max_tokens":0}],"allow_provider_model":true}"#,
                "providers[0].default_max_tokens",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c","base_path":"v1"}],"allow_provider_model":true}"#,
                "providers[0].base_path",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"allow_provider_model":true,"route_header":"X Bad"}"#,
                "route_header",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c","preset":"nope"}],"allow_provider_model":true}"#,
                "providers[0].preset",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"azure","cluster":"c","host":"h","api_version":"2024 10"}],"allow_provider_model":true}"#,
                "providers[0].api_version",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"azure","cluster":"c","host":"h","auth":"magic"}],"allow_provider_model":true}"#,
                "providers[0].auth",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"azure","cluster":"c"}],"allow_provider_model":true}"#,
                "providers[0]",
            ),
            ("not json", "(document)"),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[{"provider":"a","model":"x","weight":-1}]}]}"#,
                "models[0].targets[0].weight",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[{"provider":"a","model":"x"}]}],"prices":[{"model":"y","input":1,"output":1}]}"#,
                "prices[model=\"y\"]",
            ),
            (
                r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[{"provider":"a","model":"x"}]}],"prices":[{"model":"zz/x","input":1,"output":1}]}"#,
                "prices[model=\"zz/x\"]",
            ),
        ];
        for (doc, field) in cases {
            let e = parse_str(doc).expect_err(doc);
            assert_eq!(e.field, field, "{doc}: {e}");
        }
    }

    /// A budget must apply to every upstream its key can reach.
    #[test]
    fn budgets_need_prices() {
        let doc = |prices: &str, key: &str, apm: bool| {
            format!(
                r#"{{"providers":[{{"name":"a","kind":"openai","cluster":"c"}}],
                "models":[{{"name":"m","targets":[{{"provider":"a","model":"x"}}]}},
                          {{"name":"n","targets":[{{"provider":"a","model":"y"}}]}}],
                "allow_provider_model":{apm},
                "prices":[{prices}],
                "access":{{"teams":[{{"name":"t","budget_usd":5}}],"keys":[{key}]}}}}"#
            )
        };
        let sha = "0".repeat(64);
        let x = r#"{"model":"x","input":1,"output":1}"#;
        let y0 = r#"{"model":"a/y","input":0,"output":0}"#;
        let own = format!(r#"{{"name":"k","sha256":"{sha}","budget_usd":1}}"#);
        let via_team = format!(r#"{{"name":"k","sha256":"{sha}","team":"t","models":["n"]}}"#);
        let listed = format!(r#"{{"name":"k","sha256":"{sha}","budget_usd":1,"models":["m"]}}"#);
        let no_budget = format!(r#"{{"name":"k","sha256":"{sha}"}}"#);
        let cases = [
            (doc(x, &own, false), Some("access.keys[0].budget_usd")), // n (y) unpriced
            (doc(&format!("{x},{y0}"), &own, false), None),           // 0 is a price
            (doc(x, &via_team, false), Some("access.keys[0].team")),  // team budget, n
            (doc(x, &listed, false), None),                           // only m, priced
            (
                doc(&format!("{x},{y0}"), &own, true),
                Some("access.keys[0].models"),
            ),
            (doc(x, &no_budget, true), None),
        ];
        for (d, want) in cases {
            let got = parse_str(&d).err().map(|e| e.field);
            assert_eq!(got.as_deref(), want, "{d}");
        }
    }

    #[test]
    fn presets_fill_defaults_and_azure_settings() {
        let c = parse_str(
            r#"{"providers":[
              {"name":"g","kind":"openai","cluster":"c","preset":"groq"},
              {"name":"o","kind":"openai","cluster":"c","preset":"ollama","base_path":"/api/v1"},
              {"name":"z","kind":"azure","cluster":"c","host":"r.openai.azure.com","auth":"bearer"}
            ],"allow_provider_model":true,"strict":true}"#,
        )
        .unwrap();
        assert!(c.strict);
        assert_eq!(c.providers[0].host.as_deref(), Some("api.groq.com"));
        assert_eq!(c.providers[0].base_path, "/openai/v1");
        assert_eq!(c.providers[0].preset, Some(Preset::Groq));
        assert_eq!(c.providers[1].host, None);
        assert_eq!(c.providers[1].base_path, "/api/v1");
        assert_eq!(c.providers[2].base_path, "/openai");
        match &c.providers[2].kind {
            ProviderKind::Azure(a) => {
                assert_eq!(a.api_version, DEFAULT_AZURE_API_VERSION);
                assert_eq!(a.auth, AzureAuth::Bearer);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_secret_error_does_not_echo_values() {
        let e = parse_str(r#"{"providers":[{"name":"a","kind":"openai","cluster":"c","api_key_env":"BAD"}],"allow_provider_model":true}"#).unwrap_err();
        assert!(!e.to_string().contains("a\nb"));
    }

    #[test]
    fn bedrock_providers() {
        let env = |k: &str| match k {
            "AK" => Some("AKID".to_string()),
            "SK" => Some("aws-secret".to_string()),
            "ST" => Some("aws-token".to_string()),
            "BK" => Some("bedrock-key".to_string()),
            _ => None,
        };
        let doc = r#"{"providers":[
            {"name":"b1","kind":"bedrock","cluster":"c","region":"eu-west-3",
             "access_key_id_env":"AK","secret_access_key_env":"SK","session_token_env":"ST"},
            {"name":"b2","kind":"bedrock","cluster":"c","region":"us-east-1","api_key_env":"BK",
             "host":"proxy.internal:8080","base_path":"/bedrock/"}],
            "allow_provider_model":true}"#;
        let c = parse(doc.as_bytes(), &env).unwrap();
        assert_eq!(
            c.providers[0].host.as_deref(),
            Some("bedrock-runtime.eu-west-3.amazonaws.com")
        );
        assert_eq!(c.providers[0].base_path, "");
        assert_eq!(c.providers[1].base_path, "/bedrock");
        match (&c.providers[0].kind, &c.providers[1].kind) {
            (ProviderKind::Bedrock(a), ProviderKind::Bedrock(b)) => {
                let creds = a.credentials.as_ref().unwrap();
                assert_eq!(creds.access_key_id.expose(), "AKID");
                assert_eq!(creds.session_token.as_ref().unwrap().expose(), "aws-token");
                assert!(b.credentials.is_none());
                assert_eq!(
                    c.providers[1].api_key.as_ref().unwrap().expose(),
                    "bedrock-key"
                );
            }
            other => panic!("{other:?}"),
        }
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("aws-secret") && !dbg.contains("aws-token") && !dbg.contains("AKID"));

        let bad = [
            (
                r#"{"name":"b","kind":"bedrock","cluster":"c","region":"US_EAST","access_key_id_env":"AK","secret_access_key_env":"SK"}"#,
                "providers[0].region",
            ),
            (
                r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1"}"#,
                "providers[0].access_key_id_env",
            ),
            (
                r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1","access_key_id_env":"AK"}"#,
                "providers[0].secret_access_key_env",
            ),
            (
                r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1","access_key_id_env":"AK","secret_access_key_env":"SK","api_key_env":"BK"}"#,
                "providers[0].api_key_env",
            ),
            (
                r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1","api_key_env":"BK","session_token_env":"ST"}"#,
                "providers[0].api_key_env",
            ),
            (
                r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1","access_key_id_env":"AK","secret_access_key_env":"NOPE"}"#,
                "providers[0].secret_access_key_env",
            ),
            (
                r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1","access_key_id_env":"AK","secret_access_key_env":"SK","session_token_env":"NOPE"}"#,
                "providers[0].session_token_env",
            ),
            (
                r#"{"name":"b","kind":"bedrock","cluster":"c"}"#,
                "providers[0]",
            ),
            (
                r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1","version":"x"}"#,
                "providers[0]",
            ),
        ];
        for (p, field) in bad {
            let doc = format!(r#"{{"providers":[{p}],"allow_provider_model":true}}"#);
            let e = parse(doc.as_bytes(), &env).expect_err(&doc);
            assert_eq!(e.field, field, "{doc}: {e}");
        }
    }
}
