//! Azure OpenAI: the OpenAI wire format on a deployment path. The body is the
//! OpenAI passthrough (its `model` rewritten to the deployment name, which Azure
//! ignores in favour of the path); answers, streams and errors are OpenAI's.

#[cfg(test)]
mod cases;
pub mod settings;
mod translator;

use crate::api::openai::ChatRequest;
use crate::config::ProviderCommon;
use crate::error::GatewayError;
use crate::translate::{openai, UpstreamRequest};
use settings::{AzureAuth, AzureSettings};

pub fn request(
    provider: &ProviderCommon,
    settings: &AzureSettings,
    deployment: &str,
    req: &ChatRequest,
    raw: &[u8],
) -> Result<UpstreamRequest, GatewayError> {
    Ok(UpstreamRequest {
        path: path(provider, settings, deployment, "chat/completions")?,
        headers: headers(provider, settings),
        body: openai::chat_body(deployment, req, raw)?,
    })
}

/// `{base_path}/deployments/{deployment}/{operation}?api-version={version}`
pub fn path(
    provider: &ProviderCommon,
    settings: &AzureSettings,
    deployment: &str,
    operation: &str,
) -> Result<String, GatewayError> {
    // The deployment goes into the path as it is: refuse anything that would change
    // the path's meaning (a client can name any deployment with `provider/model`).
    if deployment.is_empty()
        || deployment.len() > 64
        || !deployment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        || deployment.starts_with('.')
    {
        return Err(GatewayError::bad_field(
            "model",
            "an Azure deployment name is 1-64 characters of [A-Za-z0-9._-]",
        ));
    }
    Ok(format!(
        "{}/deployments/{deployment}/{operation}?api-version={}",
        provider.base_path, settings.api_version
    ))
}

pub fn headers(provider: &ProviderCommon, settings: &AzureSettings) -> Vec<(&'static str, String)> {
    match (&provider.api_key, settings.auth) {
        (None, _) => Vec::new(),
        (Some(key), AzureAuth::ApiKey) => vec![("api-key", key.expose().to_string())],
        (Some(key), AzureAuth::Bearer) => {
            vec![("authorization", format!("Bearer {}", key.expose()))]
        }
    }
}
