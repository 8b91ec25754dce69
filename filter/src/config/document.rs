//! The typed `Config` the gateway reads at request time, and `parse`: each section of
//! the raw document converted by its own file, then the checks that span sections.

use rustc_hash::FxHashMap;

use super::access::Access;
use super::budgets::Served;
use super::cluster::{self, Cluster, Upstream};
use super::credential_build as credential;
use super::error::{err, ConfigError};
use super::health::HealthSettings;
use super::model_limits::ModelLimits;
use super::models::{self, ModelRoute};
use super::pricing::{self, Price};
use super::provider::{BedrockSettings, Provider, ProviderKind};
use super::raw::{self, Role, TokenEstimator};
use super::secret::Secret;
use super::{access, budgets, build_provider, forward, settings};

#[derive(Debug)]
pub struct Config {
    pub role: Role,
    pub token_estimator: TokenEstimator,
    pub providers: Vec<Provider>,
    /// Failover clusters, in the order of the models that declare them.
    pub clusters: Vec<Cluster>,
    /// FxHash: looked up several times per request (SipHash is several times dearer a byte).
    pub models: FxHashMap<String, ModelRoute>,
    /// Client-facing model names in configuration order (for `/v1/models`).
    pub model_names: Vec<String>,
    pub allow_provider_model: bool,
    pub max_body_bytes: usize,
    pub route_header: String,
    pub health: HealthSettings,
    /// None: no authentication (an open gateway, e.g. behind mesh policy).
    pub access: Option<Access>,
    pub prices: FxHashMap<String, Price>,
    /// Refuse request fields a provider cannot honour (400) instead of dropping them.
    pub strict: bool,
    /// Per-worker batching of the usage ledger and counters (0: written per request).
    pub usage_flush_ms: u64,
    /// Model rate limits by the upstream model they cover.
    pub model_limits: ModelLimits,
    /// Every configured credential value, longest first: redacted from what providers
    /// say before it reaches a client.
    pub secrets: Vec<Secret>,
}

/// Parse and validate. `env` looks up environment variables (WASI env inside Envoy).
pub fn parse(json: &[u8], env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let raw = raw::read(json)?;
    if raw.providers.is_empty() {
        return err("providers", "at least one provider is required");
    }
    let mut providers = Vec::with_capacity(raw.providers.len());
    for (i, p) in raw.providers.into_iter().enumerate() {
        let mut provider = build_provider::provider(i, p.provider, env)?;
        provider.credential = credential::for_provider(i, p.credential, &provider, env)?;
        if providers.iter().any(|q: &Provider| q.name == provider.name) {
            return err(
                format!("providers[{i}].name"),
                format!("duplicate provider name {:?}", provider.name),
            );
        }
        providers.push(provider);
    }
    let models::Models {
        routes: models,
        names: model_names,
        mut clusters,
    } = models::convert(raw.models, &providers)?;
    let role = raw.role.unwrap_or(Role::Gateway);
    if models.is_empty() && !raw.allow_provider_model && role == Role::Gateway {
        return err(
            "models",
            "no models are listed and allow_provider_model is false: nothing could be served",
        );
    }
    let max_body_bytes = settings::max_body_bytes(raw.max_body_bytes)?;
    let route_header = settings::route_header(raw.route_header)?;
    forward::apply(
        raw.forward_headers,
        &mut providers,
        &mut clusters,
        &route_header,
    )?;
    let access = match raw.access {
        Some(a) => Some(access::convert(a, &model_names)?),
        None => None,
    };
    let prices = pricing::convert(raw.prices)?;
    let served = Served {
        providers: &providers,
        clusters: &clusters,
        models: &models,
        allow_provider_model: raw.allow_provider_model,
    };
    budgets::prices_name_served_models(&prices, &served)?;
    if let Some(a) = &access {
        budgets::budgets_are_priced(a, &model_names, &prices, &served)?;
    }
    let usage_flush_ms = settings::usage_flush_ms(raw.usage_flush_ms)?;
    let token_estimator = settings::token_estimator(raw.token_estimator)?;
    let model_limits = ModelLimits::build(&models, &model_names, providers.len() + clusters.len());
    let secrets = secrets(&providers);
    let health = match raw.health {
        Some(h) => HealthSettings::try_from(h).map_err(|e| e.within("health"))?,
        None => HealthSettings::default(),
    };
    Ok(Config {
        model_limits,
        secrets,
        role,
        token_estimator,
        access,
        prices,
        providers,
        clusters,
        models,
        model_names,
        allow_provider_model: raw.allow_provider_model,
        max_body_bytes,
        route_header,
        health,
        strict: raw.strict,
        usage_flush_ms,
    })
}

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

impl Config {
    /// Who a target's requests are written for: its provider, or a failover cluster's
    /// OpenAI-shaped stand-in.
    pub fn provider(&self, index: usize) -> Option<&Provider> {
        self.upstream(index).map(Upstream::wire)
    }

    /// What a target routes to.
    pub fn upstream(&self, index: usize) -> Option<Upstream<'_>> {
        cluster::upstream(&self.providers, &self.clusters, index)
    }

    /// Price of an upstream model: `provider/model` first, then `model`.
    pub fn price(&self, provider: &str, model: &str) -> Option<Price> {
        if self.prices.is_empty() {
            return None; // no key to build
        }
        self.prices
            .get(crate::strs::concat(&[provider, "/", model]).as_str())
            .or_else(|| self.prices.get(model))
            .copied()
    }

    /// A provider by name (failover clusters cannot be addressed directly).
    pub fn provider_index(&self, name: &str) -> Option<usize> {
        self.providers.iter().position(|p| p.name == name)
    }
}
