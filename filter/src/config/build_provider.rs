//! Turn a raw provider into a `Provider` (its types are in `provider.rs`).

use super::error::{err, ConfigError};
use super::google;
use super::presets::Preset;
use super::provider::{
    AnthropicSettings, AwsCredentials, AzureAuth, AzureSettings, BedrockSettings, Common, Provider,
    ProviderKind, DEFAULT_ANTHROPIC_VERSION, DEFAULT_AZURE_API_VERSION,
};
use super::raw::{RawAnthropic, RawAzure, RawBedrock, RawOpenAi, RawProvider};
use super::secret::Secret;
use super::text::header_safe;

/// Names end up in metric names, headers and `provider/model` addressing.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

pub(super) fn provider(
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
            let default_max_tokens = super::provider::default_max_tokens(i, default_max_tokens)?;
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
        preset,
        forward_headers: Vec::new(),
        credential: Default::default(),
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
    let credentials = match (access_key_id_env, secret_access_key_env, &api_key_env) {
        (Some(id), Some(secret), None) => Some(AwsCredentials {
            access_key_id: env_secret(&field("access_key_id_env"), &id, env)?,
            secret_access_key: env_secret(&field("secret_access_key_env"), &secret, env)?,
            session_token: match session_token_env {
                Some(var) => Some(env_secret(&field("session_token_env"), &var, env)?),
                None => None,
            },
        }),
        (None, None, Some(_)) if session_token_env.is_none() => None,
        // Unless `credential` leaves signing to Envoy (checked in credential.rs).
        (None, None, None) => None,
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
