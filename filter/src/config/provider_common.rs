//! The fields every provider has, whatever its kind: as written (`RawCommon`), and
//! checked (`ProviderCommon`). A kind's own fields and settings live in its folder,
//! `translate/<kind>/settings.rs`; this file is the one place for what they all share.

use serde::Deserialize;

use super::error::{err, ConfigError};
use super::presets::Preset;
use super::secret::Secret;
use super::text::{cluster_name, header_safe};

/// The common fields as written. Every name here is also in [`COMMON_FIELDS`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommon {
    pub name: String,
    pub cluster: String,
    pub host: Option<String>,
    pub base_path: Option<String>,
    pub api_key_env: Option<String>,
    /// Where the credential comes from (`credential.rs`); absent: `api_key_env`.
    /// Read apart (`credential::read`), so that its errors name the field inside it.
    #[serde(default)]
    pub credential: Option<Box<serde_json::value::RawValue>>,
}

/// The keys of [`RawCommon`]: a provider's other keys (besides `kind`) go to its kind.
pub const COMMON_FIELDS: &[&str] = &[
    "name",
    "cluster",
    "host",
    "base_path",
    "api_key_env",
    "credential",
];

/// A configured provider's common part, what a translator reads of it.
#[derive(Debug)]
pub struct ProviderCommon {
    pub name: String,
    pub cluster: String,
    pub host: Option<String>,
    pub base_path: String,
    pub api_key: Option<Secret>,
    /// `openai` kind only: the OpenAI-compatible service it was configured for.
    pub preset: Option<Preset>,
    /// Client headers the operator lets through on top of the kind's own allow-list.
    pub forward_headers: Vec<String>,
    /// Where the credential comes from when not from the environment (`credential.rs`).
    pub credential: super::credential::Credential,
}

/// What a kind's builder fills in where the document leaves a common field out.
#[derive(Debug, Default)]
pub struct Defaults {
    pub host: Option<String>,
    pub base_path: Option<String>,
    pub preset: Option<Preset>,
}

/// Names end up in metric names, headers and `provider/model` addressing.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

impl ProviderCommon {
    /// `providers[i]`'s common fields, the kind's defaults filling what is left out.
    pub(super) fn build(
        i: usize,
        raw: RawCommon,
        defaults: Defaults,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ProviderCommon, ConfigError> {
        let RawCommon {
            name,
            cluster,
            host,
            base_path,
            api_key_env,
            credential: _,
        } = raw;
        if !valid_name(&name) {
            return err(
                format!("providers[{i}].name"),
                "must be 1-64 characters of [A-Za-z0-9._-]",
            );
        }
        if !cluster_name(&cluster) {
            return err(
                format!("providers[{i}].cluster"),
                "must be the name of an Envoy cluster",
            );
        }
        let host = host.or(defaults.host);
        if let Some(h) = &host {
            if h.is_empty() || !header_safe(h) || h.contains(' ') || h.contains('/') {
                return err(
                    format!("providers[{i}].host"),
                    "must be a host[:port] authority",
                );
            }
        }
        let base_path = base_path
            .or(defaults.base_path)
            .unwrap_or_else(|| "/v1".to_string());
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
            Some(var) => Some(Secret::from_env(
                &format!("providers[{i}].api_key_env"),
                &var,
                env,
            )?),
        };
        Ok(ProviderCommon {
            name,
            cluster,
            host,
            base_path,
            api_key,
            preset: defaults.preset,
            forward_headers: Vec::new(),
            credential: super::credential::Credential::Env,
        })
    }
}
