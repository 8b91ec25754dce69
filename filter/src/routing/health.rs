//! Per-target health as a pure function of outcomes: after `failure_threshold`
//! consecutive failures the target cools down; once the cool-down has passed it is
//! tried again (half-open) and a single further failure reopens it.

use crate::config::HealthSettings;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HealthState {
    pub consecutive_failures: u32,
    /// Milliseconds since the epoch until which the target is skipped (0 = never opened).
    pub cooldown_until_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    /// 5xx (including Envoy's own 503 for connection failure and 504 for timeout) and
    /// 429 are failures; other statuses mean the provider is up.
    pub fn from_status(status: u16) -> Outcome {
        if status == 429 || status >= 500 {
            Outcome::Failure
        } else {
            Outcome::Success
        }
    }
}

impl HealthState {
    pub fn available(&self, now_ms: u64) -> bool {
        now_ms >= self.cooldown_until_ms
    }

    pub fn record(self, outcome: Outcome, now_ms: u64, s: &HealthSettings) -> HealthState {
        match outcome {
            Outcome::Success => HealthState::default(),
            Outcome::Failure => {
                let failures = self.consecutive_failures.saturating_add(1);
                let cooldown_until_ms = if failures >= s.failure_threshold {
                    now_ms.saturating_add(s.cooldown_ms)
                } else {
                    self.cooldown_until_ms
                };
                HealthState {
                    consecutive_failures: failures,
                    cooldown_until_ms,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: HealthSettings = HealthSettings {
        failure_threshold: 3,
        cooldown_ms: 1000,
    };

    #[test]
    fn opens_after_threshold_then_half_opens() {
        let mut h = HealthState::default();
        for t in 0..2 {
            h = h.record(Outcome::Failure, t, &S);
            assert!(h.available(t));
        }
        h = h.record(Outcome::Failure, 10, &S);
        assert!(!h.available(10));
        assert!(!h.available(1009));
        assert!(h.available(1010));
        // half-open: one more failure reopens at once
        h = h.record(Outcome::Failure, 1010, &S);
        assert!(!h.available(1011));
        assert_eq!(h.cooldown_until_ms, 2010);
        // a success closes it fully
        h = h.record(Outcome::Success, 2010, &S);
        assert_eq!(h, HealthState::default());
    }

    #[test]
    fn statuses() {
        for (s, o) in [
            (200, Outcome::Success),
            (400, Outcome::Success),
            (404, Outcome::Success),
            (429, Outcome::Failure),
            (500, Outcome::Failure),
            (503, Outcome::Failure),
            (504, Outcome::Failure),
        ] {
            assert_eq!(Outcome::from_status(s), o, "{s}");
        }
    }
}
