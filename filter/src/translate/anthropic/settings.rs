//! The `anthropic` kind's own fields (`version`, `default_max_tokens`) and settings.

use serde::Deserialize;

use crate::config::kind::{KindInput, KindSettings};
use crate::config::{err, header_safe, ConfigError, Defaults};

pub const DEFAULT_ANTHROPIC_VERSION: &str = "2023-06-01";
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAnthropic {
    pub version: Option<String>,
    pub default_max_tokens: Option<u32>,
}

#[derive(Debug)]
pub struct AnthropicSettings {
    pub version: String,
    pub default_max_tokens: u32,
}

impl KindSettings for AnthropicSettings {
    type Raw = RawAnthropic;

    fn build(raw: RawAnthropic, input: &KindInput<'_>) -> Result<(Self, Defaults), ConfigError> {
        let version = raw
            .version
            .unwrap_or_else(|| DEFAULT_ANTHROPIC_VERSION.to_string());
        if version.is_empty() || !header_safe(&version) {
            return err(input.field("version"), "must be a header-safe string");
        }
        let settings = AnthropicSettings {
            version,
            default_max_tokens: default_max_tokens(input, raw.default_max_tokens)?,
        };
        Ok((settings, Defaults::default()))
    }
}

/// `default_max_tokens` of the Anthropic-format kinds: the default when absent, never 0.
pub fn default_max_tokens(input: &KindInput<'_>, given: Option<u32>) -> Result<u32, ConfigError> {
    match given.unwrap_or(DEFAULT_MAX_TOKENS) {
        0 => err(input.field("default_max_tokens"), "must be greater than 0"),
        n => Ok(n),
    }
}
