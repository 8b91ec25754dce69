//! Plugin configuration: raw serde structs (`raw`) validated once, in `on_configure`,
//! into the typed `Config` (`validate`). Every error names the field it is about.
pub mod access;
pub mod pricing;
mod raw;
mod validate;

pub use validate::{
    parse, AnthropicSettings, AwsCredentials, BedrockSettings, Config, ConfigError, HealthSettings,
    ModelRoute, Provider, ProviderKind, Secret, Target,
};
