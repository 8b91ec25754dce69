//! The `health` section: when a target counts as unhealthy, and for how long.

use super::error::{err, ConfigError};
use super::raw::RawHealth;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthSettings {
    pub failure_threshold: u32,
    pub cooldown_ms: u64,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            failure_threshold: 3,
            cooldown_ms: 30_000,
        }
    }
}

/// Field paths are relative to the section (`failure_threshold`).
impl TryFrom<RawHealth> for HealthSettings {
    type Error = ConfigError;

    fn try_from(raw: RawHealth) -> Result<Self, ConfigError> {
        let d = HealthSettings::default();
        let failure_threshold = raw.failure_threshold.unwrap_or(d.failure_threshold);
        if failure_threshold == 0 {
            return err("failure_threshold", "must be at least 1");
        }
        Ok(HealthSettings {
            failure_threshold,
            cooldown_ms: raw.cooldown_ms.unwrap_or(d.cooldown_ms),
        })
    }
}
