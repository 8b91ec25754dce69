//! Plugin configuration: the raw document (`raw`) converted once, in `on_configure`, into
//! the typed `Config` (`document`), one file per section of the document. Every error
//! names the field it is about.
pub mod access;
mod budgets;
mod build_provider;
mod cluster;
pub mod credential;
mod credential_build;
mod document;
mod error;
pub mod forward;
mod google;
mod health;
pub mod model_limits;
mod models;
mod presets;
pub mod pricing;
mod provider;
mod raw;
mod secret;
mod settings;
mod text;

#[cfg(test)]
mod tests;

pub use cluster::{Cluster, Upstream};
pub use document::{parse, Config};
pub use error::ConfigError;
pub use health::HealthSettings;
pub use models::{ModelRoute, Target};
pub use presets::Preset;
pub use provider::{
    AnthropicSettings, AwsCredentials, AzureAuth, AzureSettings, BedrockSettings, Provider,
    ProviderKind, VertexAnthropicSettings, VertexSettings,
};
pub use raw::{Role, Strategy, TokenEstimator};
pub use secret::Secret;
