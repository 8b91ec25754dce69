//! Checks a provider's `credential` block against its kind and builds it (`credential.rs`).

use std::cell::RefCell;
use std::rc::Rc;

use super::credential::{
    Credential, Fetched, RawAzureImds, RawCredential, RawGcp, RawOAuth2, TokenCall,
};
use super::error::{err, ConfigError};
use super::provider::{Provider, ProviderKind};
use super::secret::Secret;
use super::text::{cluster_name, header_safe};

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
