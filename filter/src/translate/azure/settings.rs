//! The `azure` kind's own fields and settings. Azure OpenAI: `host` is the resource host
//! (`<resource>.openai.azure.com`); a target's `model` is the deployment name.

use serde::Deserialize;

use crate::config::kind::{KindInput, KindSettings};
use crate::config::{err, ConfigError, Defaults};

/// Azure OpenAI's current GA data-plane version.
pub const DEFAULT_AZURE_API_VERSION: &str = "2024-10-21";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAzure {
    pub api_version: Option<String>,
    /// `api_key` (default: `api-key` header) or `bearer` (Entra ID token).
    pub auth: Option<String>,
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

impl KindSettings for AzureSettings {
    type Raw = RawAzure;

    fn build(raw: RawAzure, input: &KindInput<'_>) -> Result<(Self, Defaults), ConfigError> {
        // The resource has no default host; said as serde says a missing field.
        if input.host.is_none() {
            return err(
                format!("providers[{}]", input.index),
                "missing field `host`",
            );
        }
        let api_version = raw
            .api_version
            .unwrap_or_else(|| DEFAULT_AZURE_API_VERSION.to_string());
        // It goes into the query string unescaped.
        if api_version.is_empty()
            || !api_version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return err(
                input.field("api_version"),
                "must look like 2024-10-21 or 2025-04-01-preview",
            );
        }
        let auth = match raw.auth.as_deref() {
            None | Some("api_key") => AzureAuth::ApiKey,
            Some("bearer") => AzureAuth::Bearer,
            Some(_) => return err(input.field("auth"), "must be api_key or bearer"),
        };
        let defaults = Defaults {
            base_path: Some("/openai".to_string()),
            ..Defaults::default()
        };
        Ok((AzureSettings { api_version, auth }, defaults))
    }
}
