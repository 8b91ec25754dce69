//! The `openai` kind's own field (`preset`); it has no settings of its own.

use serde::Deserialize;

use crate::config::kind::{KindInput, KindSettings};
use crate::config::{ConfigError, Defaults, Preset};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOpenAi {
    /// A known OpenAI-compatible service whose host and base path become the defaults.
    pub preset: Option<String>,
}

/// The OpenAI kind's translator (the preset, which other code reads too, is kept with
/// the common fields).
#[derive(Debug)]
pub struct OpenAi;

impl KindSettings for OpenAi {
    type Raw = RawOpenAi;

    fn build(raw: RawOpenAi, input: &KindInput<'_>) -> Result<(Self, Defaults), ConfigError> {
        let preset = match raw.preset.as_deref() {
            None => None,
            Some(p) => Some(Preset::parse(p).ok_or_else(|| ConfigError {
                field: input.field("preset"),
                reason: format!("unknown preset {p:?}; known: {}", Preset::NAMES),
            })?),
        };
        let defaults = Defaults {
            host: preset.and_then(Preset::host).map(str::to_string),
            base_path: preset.map(|p| Preset::base_path(p).to_string()),
            preset,
        };
        Ok((OpenAi, defaults))
    }
}
