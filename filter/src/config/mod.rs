//! Plugin configuration: raw serde structs (`raw`) validated once, in `on_configure`,
//! into the typed `Config` (`validate`). Every error names the field it is about.
pub mod access;
mod budgets;
pub mod forward;
mod google;
pub mod model_limits;
mod presets;
pub mod pricing;
mod raw;
mod validate;

pub use google::{VertexAnthropicSettings, VertexSettings};
pub use presets::Preset;
pub use raw::{Role, Strategy, TokenEstimator};
pub use validate::{
    parse, AnthropicSettings, AwsCredentials, AzureAuth, AzureSettings, BedrockSettings, Config,
    ConfigError, HealthSettings, ModelRoute, Provider, ProviderKind, Secret, Target,
};
