//! Plugin configuration: the raw document (`raw`) converted once, in `on_configure`, into
//! the typed `Config` (`document`), one file per section of the document. Every error
//! names the field it is about.
pub mod access;
mod budgets;
mod cluster;
pub mod credential;
mod credential_build;
mod document;
mod error;
pub mod fleet;
pub mod forward;
mod health;
pub mod kind;
mod kinds;
pub mod model_limits;
mod models;
mod presets;
pub mod pricing;
mod provider;
mod provider_common;
mod provider_fields;
mod raw;
mod raw_provider;
mod secret;
mod settings;
mod text;
pub mod traces;

#[cfg(test)]
pub(crate) mod tests;

pub use cluster::{Cluster, Upstream};
pub use document::{parse, Config};
pub use error::{err, ConfigError};
pub use health::HealthSettings;
pub use kinds::{KindTag, ProviderKind};
pub use models::{ModelRoute, Target};
pub use presets::Preset;
pub use provider::Provider;
pub use provider_common::{Defaults, ProviderCommon};
pub use text::header_safe;
// Where `/v1/messages` has long found the Anthropic kind's settings.
pub use crate::translate::anthropic::settings::AnthropicSettings;
pub use raw::{Role, Strategy};
pub use secret::Secret;
pub use settings::TokenEstimator;
