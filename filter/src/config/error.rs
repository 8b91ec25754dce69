//! The one error configuration can fail with: the path of the field it is about
//! (`models[1].targets[0].weight`) and why.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}: {}", self.field, self.reason)
    }
}

impl ConfigError {
    /// The same error seen from the section holding it: a conversion names fields relative
    /// to what it converts (`input`), its caller adds where that sits (`prices[0]`).
    pub fn within(self, section: &str) -> ConfigError {
        let field = if self.field.is_empty() {
            section.to_string()
        } else {
            format!("{section}.{}", self.field)
        };
        ConfigError { field, ..self }
    }
}

pub fn err<T>(field: impl Into<String>, reason: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError {
        field: field.into(),
        reason: reason.into(),
    })
}

/// serde_json's message without its ` at line … column …`: the field path says where.
pub(super) fn without_position(text: String) -> String {
    match text.rfind(" at line ") {
        Some(i) => text.get(..i).unwrap_or(&text).to_string(),
        None => text,
    }
}
