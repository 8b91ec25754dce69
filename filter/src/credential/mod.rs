//! Credentials the filter fetches and keeps fresh itself (`config::credential` says which):
//! the refresh job (`job.rs`) runs in each worker's root context and writes the current
//! token into the provider's slot; every request reads it here.

mod answer;
mod job;

pub use job::{Refresh, RefreshMetrics};

use crate::config::credential::Credential;
use crate::config::Provider;
use crate::error::GatewayError;

/// Adds the provider's current fetched token to `headers`; nothing for other sources.
/// No valid token (none fetched yet, or the last one expired): a 503 naming the provider,
/// never a request the provider would refuse.
pub fn attach(
    provider: &Provider,
    now_ms: u64,
    headers: &mut Vec<(&'static str, String)>,
) -> Result<(), GatewayError> {
    let Credential::Fetched(f) = &provider.credential else {
        return Ok(());
    };
    let current = f.current.borrow();
    let Some(token) = current.as_ref().filter(|t| now_ms < t.expires_at_ms) else {
        return Err(no_credential(&provider.name, f.source));
    };
    let (name, prefix) = provider.kind.translator().token_header();
    headers.retain(|(n, _)| *n != name);
    headers.push((name, format!("{prefix}{}", token.value.expose())));
    Ok(())
}

fn no_credential(provider: &str, source: &str) -> GatewayError {
    let mut e = GatewayError::upstream(
        503,
        "api_error",
        format!(
            "provider {provider} has no valid credential right now (its {source} token could not be refreshed); try again later"
        ),
    );
    e.code = Some("credential_unavailable");
    e.retry_after = Some(1);
    e
}

#[cfg(test)]
mod tests;
