//! The `gemini` kind (Google AI Studio, `x-goog-api-key`): no fields or settings of its
//! own, Google's host and API version as defaults.

use serde::Deserialize;

use crate::config::kind::{KindInput, KindSettings};
use crate::config::{ConfigError, Defaults};

pub const GEMINI_HOST: &str = "generativelanguage.googleapis.com";
pub const GEMINI_BASE_PATH: &str = "/v1beta";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGemini {}

/// Gemini's translator.
#[derive(Debug)]
pub struct Gemini;

impl KindSettings for Gemini {
    type Raw = RawGemini;

    fn build(_: RawGemini, _: &KindInput<'_>) -> Result<(Self, Defaults), ConfigError> {
        let defaults = Defaults {
            host: Some(GEMINI_HOST.to_string()),
            base_path: Some(GEMINI_BASE_PATH.to_string()),
            preset: None,
        };
        Ok((Gemini, defaults))
    }
}
