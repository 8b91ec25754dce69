//! Weighted choice among available targets; if none is available, the one whose
//! cool-down ends first (a request is better tried than refused).

use super::health::HealthState;

#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub weight: u32,
    pub health: HealthState,
}

/// Index of the chosen candidate, or None for an empty list.
pub fn pick(candidates: &[Candidate], now_ms: u64, random: u64) -> Option<usize> {
    let total: u64 = candidates
        .iter()
        .filter(|c| c.health.available(now_ms))
        .map(|c| u64::from(c.weight))
        .sum();
    if total > 0 {
        let mut r = random % total;
        for (i, c) in candidates.iter().enumerate() {
            if !c.health.available(now_ms) || c.weight == 0 {
                continue;
            }
            let w = u64::from(c.weight);
            if r < w {
                return Some(i);
            }
            r -= w;
        }
    }
    soonest(candidates)
}

/// Nothing available (or only zero weights available): the target soonest to recover,
/// weighted targets first.
pub fn soonest(candidates: &[Candidate]) -> Option<usize> {
    candidates
        .iter()
        .enumerate()
        .min_by_key(|(_, c)| (c.weight == 0, c.health.cooldown_until_ms))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(weight: u32, until: u64) -> Candidate {
        Candidate {
            weight,
            health: HealthState {
                consecutive_failures: if until > 0 { 3 } else { 0 },
                cooldown_until_ms: until,
            },
        }
    }

    #[test]
    fn weights_are_respected_exactly_over_the_random_range() {
        let cs = [c(80, 0), c(20, 0)];
        let mut counts = [0u32; 2];
        for r in 0..1000u64 {
            counts[pick(&cs, 0, r).unwrap()] += 1;
        }
        assert_eq!(counts, [800, 200]);
    }

    #[test]
    fn cooling_targets_are_skipped() {
        let cs = [c(80, 500), c(20, 0)];
        for r in 0..100u64 {
            assert_eq!(pick(&cs, 100, r), Some(1));
        }
        // after the cool-down, A is back
        assert!((0..100u64).any(|r| pick(&cs, 500, r) == Some(0)));
    }

    #[test]
    fn all_cooling_picks_soonest() {
        let cs = [c(1, 900), c(1, 300), c(0, 100)];
        assert_eq!(pick(&cs, 0, 42), Some(1));
        assert_eq!(pick(&[], 0, 1), None);
    }

    #[test]
    fn zero_weight_never_picked_when_others_available() {
        let cs = [c(0, 0), c(5, 0)];
        for r in 0..50u64 {
            assert_eq!(pick(&cs, 0, r), Some(1));
        }
    }
}
