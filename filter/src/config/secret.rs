//! Credentials as a type that cannot leak through `Debug`.

use std::fmt;

use super::error::{err, ConfigError};
use super::text::header_safe;

/// A credential. Its `Debug` never shows the value, so it cannot leak through logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub(super) String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A credential seen on a request (the client's own key), to be redacted like the
    /// configured ones.
    pub fn observed(value: &str) -> Secret {
        Secret(value.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Secret {
    /// A credential from the environment variable `var`: set, non-empty and header-safe.
    /// `field` is where the variable is named, for the error.
    pub fn from_env(
        field: &str,
        var: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Secret, ConfigError> {
        match env(var) {
            Some(v) if !v.is_empty() && header_safe(&v) => Ok(Secret(v)),
            Some(_) => err(
                field,
                format!("environment variable {var} is empty or not header-safe"),
            ),
            None => err(
                field,
                format!(
                    "environment variable {var} is not set (pass it with vm_config.environment_variables)"
                ),
            ),
        }
    }
}
