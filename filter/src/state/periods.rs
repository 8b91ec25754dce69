//! Spend and usage per key, team and model for the current day and month, in shared
//! data: what budgets are checked against and what `GET /v1/usage` reports.

use serde::Serialize;

use super::{cas, keys, words};
use crate::config::access::Period;
use crate::host::Host;
use crate::limits::period;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    #[serde(skip)]
    pub period: u64,
    pub requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_nano_usd: u64,
    pub errors: u64,
}

impl Totals {
    fn fields(&self) -> [u64; 6] {
        [
            self.period,
            self.requests,
            self.prompt_tokens,
            self.completion_tokens,
            self.cost_nano_usd,
            self.errors,
        ]
    }

    pub fn encode(&self) -> Vec<u8> {
        words::encode(&self.fields())
    }

    pub fn decode(bytes: &[u8]) -> Totals {
        let [period, requests, prompt_tokens, completion_tokens, cost_nano_usd, errors] =
            words::decode(bytes);
        Totals {
            period,
            requests,
            prompt_tokens,
            completion_tokens,
            cost_nano_usd,
            errors,
        }
    }

    fn add(self, d: &Totals) -> Totals {
        Totals {
            period: self.period,
            requests: self.requests.saturating_add(d.requests),
            prompt_tokens: self.prompt_tokens.saturating_add(d.prompt_tokens),
            completion_tokens: self.completion_tokens.saturating_add(d.completion_tokens),
            cost_nano_usd: self.cost_nano_usd.saturating_add(d.cost_nano_usd),
            errors: self.errors.saturating_add(d.errors),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Key,
    Team,
    Model,
}

impl Scope {
    pub fn tag(self) -> &'static str {
        match self {
            Scope::Key => "key",
            Scope::Team => "team",
            Scope::Model => "model",
        }
    }
}

fn period_tag(p: Period) -> &'static str {
    match p {
        Period::Day => "day",
        Period::Month => "month",
    }
}

pub fn key(scope: Scope, name: &str, p: Period) -> String {
    keys::period(period_tag(p), scope.tag(), name)
}

/// Current totals (zero if the stored value belongs to an earlier period).
pub fn read(host: &dyn Host, scope: Scope, name: &str, p: Period, now_ms: u64) -> Totals {
    let id = period::id(p, now_ms);
    match host.shared_get(&key(scope, name, p)).0 {
        Some(v) => {
            let t = Totals::decode(&v);
            if t.period == id {
                t
            } else {
                Totals {
                    period: id,
                    ..Totals::default()
                }
            }
        }
        None => Totals {
            period: id,
            ..Totals::default()
        },
    }
}

/// Add `delta` to both the day and the month totals of `name`.
pub fn add(host: &mut dyn Host, scope: Scope, name: &str, now_ms: u64, delta: &Totals) {
    for p in [Period::Day, Period::Month] {
        let id = period::id(p, now_ms);
        cas::update(host, &key(scope, name, p), cas::COUNTS, |value| {
            let current = value.map(Totals::decode).filter(|t| t.period == id);
            let base = current.unwrap_or(Totals {
                period: id,
                ..Totals::default()
            });
            Some(base.add(delta).encode())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::FakeHost;

    #[test]
    fn accumulates_and_rolls_over() {
        let mut h = FakeHost::default();
        let d = Totals {
            requests: 1,
            cost_nano_usd: 5,
            ..Totals::default()
        };
        let day0 = 1_000;
        add(&mut h, Scope::Key, "k", day0, &d);
        add(&mut h, Scope::Key, "k", day0, &d);
        assert_eq!(
            read(&h, Scope::Key, "k", Period::Day, day0).cost_nano_usd,
            10
        );
        let next_day = day0 + 86_400_000;
        assert_eq!(
            read(&h, Scope::Key, "k", Period::Day, next_day).cost_nano_usd,
            0
        );
        // still January 1970: the month keeps counting
        add(&mut h, Scope::Key, "k", next_day, &d);
        assert_eq!(
            read(&h, Scope::Key, "k", Period::Month, next_day).requests,
            3
        );
        assert_eq!(read(&h, Scope::Key, "k", Period::Day, next_day).requests, 1);
    }
}
