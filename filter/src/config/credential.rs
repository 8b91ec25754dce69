//! `credential` on a provider, the same for every kind: where its credential comes from.
//!
//! * `env` (default): `api_key_env` (or Bedrock's key pair), read once at configuration.
//! * `file`, `aws`: Envoy writes the credential on the provider's cluster (the
//!   `credential_injector` filter with an SDS secret from a watched file; the
//!   `aws_request_signing` filter with its credential chain); the filter sends none.
//! * `gcp_metadata`, `azure_imds`, `oauth2_client_credentials`: the filter fetches a token
//!   from an Envoy cluster off the request path (`crate::credential`) and keeps it fresh.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Deserialize;

use super::error::{err, ConfigError};
use super::kinds::ProviderKind;
use super::provider::Provider;
use super::secret::Secret;
use super::text::{cluster_name, header_safe};

/// `providers[i].credential` as written; errors name the field inside it.
pub(super) fn read(
    i: usize,
    raw: &serde_json::value::RawValue,
) -> Result<RawCredential, ConfigError> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        ConfigError {
            field: if path == "." {
                format!("providers[{i}].credential")
            } else {
                format!("providers[{i}].credential.{path}")
            },
            reason: super::error::without_position(e.into_inner().to_string()),
        }
    })
}

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

const AZURE_RESOURCE: &str = "https://cognitiveservices.azure.com";

/// The provider's `credential` block, checked against its kind and `*_env` settings.
pub(super) fn for_provider(
    i: usize,
    raw: Option<RawCredential>,
    p: &Provider,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Credential, ConfigError> {
    let has_env_key = p.api_key.is_some()
        || matches!(&p.kind, ProviderKind::Bedrock(b) if b.credentials.is_some());
    let built = build(i, raw, &p.kind, has_env_key, env)?;
    if matches!(p.kind, ProviderKind::Bedrock(_))
        && !has_env_key
        && matches!(built, Credential::Env)
    {
        return err(
            format!("providers[{i}].access_key_id_env"),
            "bedrock needs access_key_id_env and secret_access_key_env (SigV4), api_key_env, or a credential block",
        );
    }
    Ok(built)
}

fn build(
    i: usize,
    raw: Option<RawCredential>,
    kind: &ProviderKind,
    has_env_key: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Credential, ConfigError> {
    let field = format!("providers[{i}].credential");
    let bedrock = matches!(kind, ProviderKind::Bedrock(_));
    let raw = match raw {
        None | Some(RawCredential::Env(_)) => return Ok(Credential::Env),
        Some(r) => r,
    };
    if has_env_key {
        return err(
            field,
            "set either the provider's *_env credential settings or credential, not both",
        );
    }
    let (source, call) = match raw {
        RawCredential::Env(_) => return Ok(Credential::Env),
        RawCredential::File(_) => return Ok(Credential::ByEnvoy),
        RawCredential::Aws(_) if bedrock => return Ok(Credential::ByEnvoy),
        RawCredential::Aws(_) => {
            return err(
                format!("{field}.source"),
                "aws credentials sign Bedrock requests only",
            )
        }
        _ if bedrock => {
            return err(
                format!("{field}.source"),
                "Bedrock takes env, file (an API key) or aws",
            )
        }
        RawCredential::GcpMetadata(g) => ("gcp_metadata", gcp(&field, g)?),
        RawCredential::AzureImds(a) => ("azure_imds", azure_imds(&field, a)?),
        RawCredential::OAuth2(o) => ("oauth2_client_credentials", oauth2(&field, o, env)?),
    };
    Ok(Credential::Fetched(Rc::new(Fetched {
        source,
        call,
        current: RefCell::new(None),
    })))
}

fn check_cluster(field: &str, cluster: &str) -> Result<(), ConfigError> {
    if cluster_name(cluster) {
        Ok(())
    } else {
        err(
            format!("{field}.cluster"),
            "must be the name of an Envoy cluster",
        )
    }
}

/// A value that goes into a path or query unescaped.
fn plain(field: String, value: &str) -> Result<(), ConfigError> {
    if !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._@~".contains(&b))
    {
        Ok(())
    } else {
        err(field, "must be letters, digits and -._@~ only")
    }
}

/// Percent-encodes for a query string or form body.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn authority(field: String, host: Option<String>, default: &str) -> Result<String, ConfigError> {
    let h = host.unwrap_or_else(|| default.to_string());
    if h.is_empty() || !header_safe(&h) || h.contains([' ', '/']) {
        return err(field, "must be a host[:port] authority");
    }
    Ok(h)
}

fn gcp(field: &str, g: RawGcp) -> Result<TokenCall, ConfigError> {
    check_cluster(field, &g.cluster)?;
    let account = g.service_account.unwrap_or_else(|| "default".to_string());
    plain(format!("{field}.service_account"), &account)?;
    Ok(TokenCall {
        cluster: g.cluster,
        method: "GET",
        authority: authority(format!("{field}.host"), g.host, "metadata.google.internal")?,
        path: format!("/computeMetadata/v1/instance/service-accounts/{account}/token"),
        headers: vec![("metadata-flavor", "Google".to_string())],
        body: None,
    })
}

fn azure_imds(field: &str, a: RawAzureImds) -> Result<TokenCall, ConfigError> {
    check_cluster(field, &a.cluster)?;
    let resource = a.resource.unwrap_or_else(|| AZURE_RESOURCE.to_string());
    if resource.is_empty() || !header_safe(&resource) {
        return err(format!("{field}.resource"), "must be a resource URI");
    }
    let mut path = format!(
        "/metadata/identity/oauth2/token?api-version=2018-02-01&resource={}",
        escape(&resource)
    );
    if let Some(id) = &a.client_id {
        plain(format!("{field}.client_id"), id)?;
        path.push_str("&client_id=");
        path.push_str(id);
    }
    Ok(TokenCall {
        cluster: a.cluster,
        method: "GET",
        authority: authority(format!("{field}.host"), a.host, "169.254.169.254")?,
        path,
        headers: vec![("metadata", "true".to_string())],
        body: None,
    })
}

fn oauth2(
    field: &str,
    o: RawOAuth2,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<TokenCall, ConfigError> {
    check_cluster(field, &o.cluster)?;
    if !o.token_path.starts_with('/') || !header_safe(&o.token_path) || o.token_path.contains(' ') {
        return err(format!("{field}.token_path"), "must be an absolute path");
    }
    let secret = match env(&o.client_secret_env) {
        Some(v) if !v.is_empty() => v,
        _ => {
            return err(
                format!("{field}.client_secret_env"),
                format!(
                    "environment variable {} is not set or empty (pass it with vm_config.environment_variables)",
                    o.client_secret_env
                ),
            )
        }
    };
    if o.client_id.is_empty() || o.scope.is_empty() {
        return err(field.to_string(), "client_id and scope must not be empty");
    }
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
        escape(&o.client_id),
        escape(&secret),
        escape(&o.scope)
    );
    Ok(TokenCall {
        cluster: o.cluster,
        method: "POST",
        authority: authority(format!("{field}.host"), Some(o.host), "")?,
        path: o.token_path,
        headers: vec![(
            "content-type",
            "application/x-www-form-urlencoded".to_string(),
        )],
        body: Some(Secret(body)),
    })
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_for_forms_and_queries() {
        assert_eq!(escape("a b/c+d=é"), "a%20b%2Fc%2Bd%3D%C3%A9");
        assert_eq!(escape("Az09-._~"), "Az09-._~");
    }
}
