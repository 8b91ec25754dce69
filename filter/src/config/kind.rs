//! What a provider kind's settings builder gets and gives back. Each kind implements
//! [`KindSettings`] in its folder (`translate/<kind>/settings.rs`); the registry
//! (`kinds.rs`) reads the kind's own fields and calls it.

use serde::de::DeserializeOwned;

use super::error::ConfigError;
use super::provider_common::Defaults;

/// What a kind's builder may know about the provider besides its own fields.
pub struct KindInput<'a> {
    /// The provider's index in `providers`, for the field paths of errors.
    pub index: usize,
    /// Environment lookup (WASI env inside Envoy).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The common `host`, as written.
    pub host: Option<&'a str>,
    /// The common `api_key_env`, as written.
    pub api_key_env: Option<&'a str>,
}

impl KindInput<'_> {
    /// `providers[i].<name>`.
    pub fn field(&self, name: &str) -> String {
        format!("providers[{}].{name}", self.index)
    }
}

/// A provider kind's settings, built once from the kind's own fields of the document.
pub trait KindSettings: Sized {
    /// The kind's own fields as written (unknown ones refused), besides the common ones.
    type Raw: DeserializeOwned;

    /// Check the fields, and say what the common fields default to for this kind.
    fn build(raw: Self::Raw, input: &KindInput<'_>) -> Result<(Self, Defaults), ConfigError>;
}
