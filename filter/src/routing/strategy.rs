//! Routing strategies over the same candidate list. Pure: health, latencies, time and
//! randomness are passed in, so every strategy is tested without a host.

use super::select::{self, Candidate};
use crate::config::Strategy;

/// What a strategy may look at beyond weight and health.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extra {
    /// Moving average of time to first byte, µs (None: never measured).
    pub latency_us: Option<u64>,
    pub context_window: Option<u64>,
    /// Stable identity for sticky hashing (e.g. a hash of provider/model).
    pub identity: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRoute {
    /// No target's context window can hold the request.
    TooLong,
    Empty,
}

pub struct Input<'a> {
    pub candidates: &'a [Candidate],
    pub extra: &'a [Extra],
    pub now_ms: u64,
    pub random: u64,
    /// Session or prompt-prefix bytes for `sticky`.
    pub sticky_key: Option<&'a [u8]>,
    /// Estimated prompt + completion tokens, for `context_window`.
    pub needed_tokens: u64,
}

pub fn choose(strategy: Strategy, input: &Input) -> Result<usize, NoRoute> {
    let c = input.candidates;
    let now = input.now_ms;
    let available = |i: &usize| {
        c.get(*i)
            .is_some_and(|c| c.health.available(now) && c.weight > 0)
    };
    let chosen = match strategy {
        Strategy::Weighted => select::pick(c, now, input.random),
        Strategy::Ordered => (0..c.len()).find(available).or_else(|| select::soonest(c)),
        Strategy::LowestLatency => {
            let ready: Vec<usize> = (0..c.len()).filter(available).collect();
            // Unmeasured targets first (so every target gets measured), then the fastest.
            ready
                .iter()
                .copied()
                .min_by_key(|&i| {
                    input
                        .extra
                        .get(i)
                        .and_then(|e| e.latency_us)
                        .map_or((0, 0), |l| (1, l))
                })
                .or_else(|| select::soonest(c))
        }
        Strategy::Sticky => {
            let key = input.sticky_key.unwrap_or(&[]);
            (0..c.len())
                .filter(available)
                .max_by_key(|&i| {
                    let id = input.extra.get(i).map_or(i as u64, |e| e.identity);
                    rendezvous(key, id)
                })
                .or_else(|| select::soonest(c))
        }
        Strategy::ContextWindow => {
            let fits: Vec<usize> = (0..c.len())
                .filter(|&i| {
                    input
                        .extra
                        .get(i)
                        .and_then(|e| e.context_window)
                        .is_some_and(|w| w >= input.needed_tokens)
                })
                .collect();
            if fits.is_empty() {
                return Err(NoRoute::TooLong);
            }
            let sub: Vec<Candidate> = fits.iter().filter_map(|&i| c.get(i).copied()).collect();
            select::pick(&sub, now, input.random).and_then(|j| fits.get(j).copied())
        }
    };
    chosen.ok_or(NoRoute::Empty)
}

/// Highest-random-weight hashing: each (key, target) pair gets a score; the highest
/// wins. Removing a target only moves the sessions that were on it, and the result is
/// the same on every worker and after restarts (FNV-1a, no random seed).
pub fn rendezvous(key: &[u8], target: u64) -> u64 {
    let mut h = fnv1a(key);
    for b in target.to_le_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // Final avalanche so nearby targets do not get nearby scores.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// New moving average after one sample (α = 0.3: recent behaviour dominates within a
/// handful of requests, one outlier does not).
pub fn ewma(previous: Option<u64>, sample: u64) -> u64 {
    match previous {
        None => sample,
        Some(p) => (p.saturating_mul(7) + sample.saturating_mul(3)) / 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::routing::health::HealthState;

    fn cands(n: usize) -> Vec<Candidate> {
        vec![
            Candidate {
                weight: 1,
                health: HealthState::default()
            };
            n
        ]
    }

    fn input<'a>(c: &'a [Candidate], e: &'a [Extra]) -> Input<'a> {
        Input {
            candidates: c,
            extra: e,
            now_ms: 10,
            random: 0,
            sticky_key: None,
            needed_tokens: 0,
        }
    }

    #[test]
    fn ordered_takes_first_healthy() {
        let mut c = cands(3);
        c[0].weight = 1;
        c[1].weight = 1000;
        let e = [Extra::default(); 3];
        assert_eq!(choose(Strategy::Ordered, &input(&c, &e)), Ok(0));
        c[0].health.cooldown_until_ms = 100;
        assert_eq!(choose(Strategy::Ordered, &input(&c, &e)), Ok(1));
    }

    #[test]
    fn lowest_latency_explores_then_exploits() {
        let c = cands(2);
        let mut e = [Extra::default(); 2];
        e[0].latency_us = Some(500);
        assert_eq!(
            choose(Strategy::LowestLatency, &input(&c, &e)),
            Ok(1),
            "unmeasured first"
        );
        e[1].latency_us = Some(900);
        assert_eq!(choose(Strategy::LowestLatency, &input(&c, &e)), Ok(0));
    }

    #[test]
    fn sticky_is_stable_and_spreads() {
        let c = cands(3);
        let e: Vec<Extra> = (0..3)
            .map(|i| Extra {
                identity: fnv1a(format!("target{i}").as_bytes()),
                ..Extra::default()
            })
            .collect();
        let mut seen = [0; 3];
        for s in 0..300 {
            let key = format!("session-{s}");
            let mut inp = input(&c, &e);
            inp.sticky_key = Some(key.as_bytes());
            let a = choose(Strategy::Sticky, &inp).unwrap();
            inp.random = 12345; // randomness must not matter
            assert_eq!(choose(Strategy::Sticky, &inp).unwrap(), a);
            seen[a] += 1;
        }
        assert!(seen.iter().all(|&n| n > 60), "{seen:?}");
    }

    #[test]
    fn context_window_skips_small_models() {
        let c = cands(2);
        let e = [
            Extra {
                context_window: Some(1000),
                ..Extra::default()
            },
            Extra {
                context_window: Some(100_000),
                ..Extra::default()
            },
        ];
        let mut inp = input(&c, &e);
        inp.needed_tokens = 5000;
        assert_eq!(choose(Strategy::ContextWindow, &inp), Ok(1));
        inp.needed_tokens = 200_000;
        assert_eq!(choose(Strategy::ContextWindow, &inp), Err(NoRoute::TooLong));
    }

    #[test]
    fn ewma_moves_towards_samples() {
        assert_eq!(ewma(None, 100), 100);
        assert_eq!(ewma(Some(100), 200), 130);
    }
}
