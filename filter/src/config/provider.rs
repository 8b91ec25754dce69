//! A configured provider: its common fields (`provider_common.rs`) and its kind, whose
//! settings are built by the kind's own code (`translate/<kind>/settings.rs`) through
//! the registry (`kinds.rs`).

use std::ops::Deref;

use super::error::ConfigError;
use super::kind::KindInput;
use super::kinds::ProviderKind;
use super::provider_common::ProviderCommon;
use super::provider_fields::common_fields;
use super::raw_provider::RawProvider;

#[derive(Debug)]
pub struct Provider {
    pub common: ProviderCommon,
    pub kind: ProviderKind,
}

/// A provider is its common fields plus its kind: `provider.name` reads the common part.
impl Deref for Provider {
    type Target = ProviderCommon;

    fn deref(&self) -> &ProviderCommon {
        &self.common
    }
}

impl Provider {
    /// `providers[i]` of the document: the kind's fields first (its defaults fill the
    /// common fields left out), then the common fields.
    pub(super) fn build(
        i: usize,
        raw: RawProvider,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Provider, ConfigError> {
        let mut common = common_fields(i, &raw.fields)?;
        let credential = match common.credential.take() {
            Some(raw) => Some(super::credential::read(i, &raw)?),
            None => None,
        };
        let input = KindInput {
            index: i,
            env,
            host: common.host.as_deref(),
            api_key_env: common.api_key_env.as_deref(),
        };
        let (kind, defaults) = ProviderKind::build(raw.kind, &raw.fields, &input)?;
        let common = ProviderCommon::build(i, common, defaults, env)?;
        let mut provider = Provider { common, kind };
        provider.common.credential = super::credential_build::for_provider(
            i,
            credential,
            &provider.kind,
            provider.api_key.is_some(),
            env,
        )?;
        Ok(provider)
    }
}
