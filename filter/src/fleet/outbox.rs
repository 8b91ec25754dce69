//! Per-worker reports not yet sent to the store: rate-window reconciliations and spend
//! deltas, summed by key until the reporting job takes them (`fleet.flush_ms`).

use rustc_hash::FxHashMap;

use super::wire::{RateDelta, Report, Spend, SpendDelta};

/// Distinct keys held at most; beyond it new keys are dropped (and logged) rather than
/// let a store outage grow a worker's memory without bound.
pub const MAX_KEYS: usize = 20_000;

#[derive(Debug, Default)]
pub struct Outbox {
    rates: FxHashMap<String, (i64, i64)>,
    spend: FxHashMap<String, Spend>,
    /// Deltas dropped because the outbox was full.
    pub dropped: u64,
}

impl Outbox {
    fn full(&self) -> bool {
        self.rates.len() + self.spend.len() >= MAX_KEYS
    }

    pub fn add_rate(&mut self, key: String, requests: i64, tokens: i64) {
        if requests == 0 && tokens == 0 {
            return;
        }
        if let Some((r, t)) = self.rates.get_mut(&key) {
            *r = r.saturating_add(requests);
            *t = t.saturating_add(tokens);
        } else if self.full() {
            self.dropped += 1;
        } else {
            self.rates.insert(key, (requests, tokens));
        }
    }

    pub fn add_spend(&mut self, key: String, delta: &Spend) {
        if let Some(s) = self.spend.get_mut(&key) {
            s.add(delta);
        } else if self.full() {
            self.dropped += 1;
        } else {
            self.spend.insert(key, *delta);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rates.is_empty() && self.spend.is_empty()
    }

    /// Everything held, as one report named `id`; the outbox is left empty.
    pub fn take(&mut self, id: String) -> Option<Report> {
        if self.is_empty() {
            return None;
        }
        let mut rates: Vec<RateDelta> = std::mem::take(&mut self.rates)
            .into_iter()
            .filter(|(_, (r, t))| *r != 0 || *t != 0)
            .map(|(key, (requests, tokens))| RateDelta {
                key,
                requests,
                tokens,
            })
            .collect();
        rates.sort_by(|a, b| a.key.cmp(&b.key));
        let mut spend: Vec<SpendDelta> = std::mem::take(&mut self.spend)
            .into_iter()
            .map(|(key, totals)| SpendDelta { key, totals })
            .collect();
        spend.sort_by(|a, b| a.key.cmp(&b.key));
        Some(Report { id, rates, spend })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_by_key_and_empties() {
        let mut o = Outbox::default();
        assert!(o.take("x".into()).is_none());
        o.add_rate("rate:1:key:a".into(), 0, -40);
        o.add_rate("rate:1:key:a".into(), 0, 15);
        o.add_rate("rate:1:key:b".into(), 0, 0);
        let one = Spend {
            requests: 1,
            cost_nano_usd: 7,
            ..Spend::default()
        };
        o.add_spend("spend:day:d:key:a".into(), &one);
        o.add_spend("spend:day:d:key:a".into(), &one);
        let r = o.take("id1".into()).unwrap();
        assert_eq!(r.id, "id1");
        assert_eq!(
            r.rates,
            vec![RateDelta {
                key: "rate:1:key:a".into(),
                requests: 0,
                tokens: -25
            }]
        );
        assert_eq!(r.spend.len(), 1);
        assert_eq!(r.spend[0].totals.requests, 2);
        assert_eq!(r.spend[0].totals.cost_nano_usd, 14);
        assert!(o.is_empty());
    }

    #[test]
    fn bounded() {
        let mut o = Outbox::default();
        for i in 0..MAX_KEYS + 5 {
            o.add_rate(format!("k{i}"), 1, 0);
        }
        assert_eq!(o.dropped, 5);
        // an existing key still sums
        o.add_rate("k0".into(), 1, 0);
        assert_eq!(o.dropped, 5);
    }
}
