//! Plugin configuration: raw serde structs (`raw`) validated once, in `on_configure`,
//! into the typed `Config` (`validate`). Every error names the field it is about.
mod presets;
mod raw;
mod validate;

pub use presets::Preset;
pub use validate::{
    parse, AnthropicSettings, AzureAuth, AzureSettings, Config, ConfigError, HealthSettings,
    ModelRoute, Provider, ProviderKind, Secret, Target,
};
