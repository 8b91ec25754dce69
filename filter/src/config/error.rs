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

pub(super) fn err<T>(
    field: impl Into<String>,
    reason: impl Into<String>,
) -> Result<T, ConfigError> {
    Err(ConfigError {
        field: field.into(),
        reason: reason.into(),
    })
}
