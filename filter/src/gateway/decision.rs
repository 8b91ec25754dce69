//! Why a request went where it went, or was refused: the routing strategy, the
//! candidates it skipped and why, the attempts, the limit or budget that refused it with
//! its headroom. Written to the access-log value, and (admin keys, or `decision_header`)
//! to the `x-llm-decision` response header.

use crate::config::{Strategy, Target};
use crate::error::GatewayError;
use crate::routing::health::HealthState;

pub const HEADER: &str = "x-llm-decision";

/// Why a candidate target was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    CoolingDown,
    ContextWindow,
    Disabled,
}

impl Skip {
    fn as_str(self) -> &'static str {
        match self {
            Skip::CoolingDown => "cooling_down",
            Skip::ContextWindow => "context_window",
            Skip::Disabled => "weight_0",
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Decision {
    pub strategy: Option<&'static str>,
    pub candidates: usize,
    /// `provider/model` and why.
    pub skipped: Vec<(String, Skip)>,
    /// The refusal: its code and the headroom left (`remaining_requests=0,…`).
    pub refused: Option<(&'static str, String)>,
}

pub fn strategy_name(s: Strategy) -> &'static str {
    match s {
        Strategy::Weighted => "weighted",
        Strategy::Ordered => "ordered",
        Strategy::LowestLatency => "lowest_latency",
        Strategy::Sticky => "sticky",
        Strategy::ContextWindow => "context_window",
    }
}

impl Decision {
    /// The routing part: every target but `chosen` that was out of the running, and why.
    pub fn routed(
        &mut self,
        strategy: Strategy,
        targets: &[(String, &Target, HealthState)],
        chosen: usize,
        now_ms: u64,
        needed_tokens: u64,
    ) {
        self.strategy = Some(strategy_name(strategy));
        self.candidates = targets.len();
        for (i, (name, t, health)) in targets.iter().enumerate() {
            if i == chosen {
                continue;
            }
            let why = if t.weight == 0 {
                Some(Skip::Disabled)
            } else if !health.available(now_ms) {
                Some(Skip::CoolingDown)
            } else if strategy == Strategy::ContextWindow
                && t.context_window.is_some_and(|w| w < needed_tokens)
            {
                Some(Skip::ContextWindow)
            } else {
                None
            };
            if let Some(why) = why {
                self.skipped.push((name.clone(), why));
            }
        }
    }

    /// A refusal by a key's allow-list, a budget or a rate limit, with the headroom the
    /// error reports (`x-ratelimit-remaining-*`; a spent budget has none left).
    pub fn refused(&mut self, e: &GatewayError) {
        let Some(code) = e.code else { return };
        let mut headroom = String::new();
        for (name, value) in &e.headers {
            if let Some(what) = name.strip_prefix("x-ratelimit-remaining-") {
                if !headroom.is_empty() {
                    headroom.push(',');
                }
                headroom.push_str("remaining_");
                headroom.push_str(what);
                headroom.push('=');
                headroom.push_str(value);
            }
        }
        if code == "budget_exceeded" {
            headroom.push_str("remaining_usd=0");
        }
        self.refused = Some((code, headroom));
    }

    /// `strategy=… candidates=N skipped=p/m:cooling_down,… attempts=N refused=code(…)`.
    pub fn render(&self, attempts: Option<u32>) -> String {
        let mut s = String::with_capacity(64);
        let mut field = |k: &str, v: &str| {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        };
        if let Some(st) = self.strategy {
            field("strategy", st);
            field("candidates", &self.candidates.to_string());
        }
        if !self.skipped.is_empty() {
            let list: Vec<String> = self
                .skipped
                .iter()
                .map(|(n, why)| format!("{n}:{}", why.as_str()))
                .collect();
            field("skipped", &list.join(","));
        }
        if let Some(a) = attempts {
            field("attempts", &a.to_string());
        }
        if let Some((code, headroom)) = &self.refused {
            let v = if headroom.is_empty() {
                code.to_string()
            } else {
                format!("{code}({headroom})")
            };
            field("refused", &v);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(weight: u32, context_window: Option<u64>) -> Target {
        Target {
            provider: 0,
            model: "m".into(),
            weight,
            context_window,
        }
    }

    #[test]
    fn says_which_candidates_were_skipped_and_why() {
        let (a, b, c, d) = (
            target(1, None),
            target(1, None),
            target(0, None),
            target(1, Some(100)),
        );
        let hot = HealthState {
            consecutive_failures: 3,
            cooldown_until_ms: 5_000,
        };
        let ok = HealthState::default();
        let targets = vec![
            ("p/a".to_string(), &a, ok),
            ("p/b".to_string(), &b, hot),
            ("p/c".to_string(), &c, ok),
            ("p/d".to_string(), &d, ok),
        ];
        let mut dec = Decision::default();
        dec.routed(Strategy::ContextWindow, &targets, 0, 1_000, 500);
        assert_eq!(
            dec.render(Some(2)),
            "strategy=context_window candidates=4 skipped=p/b:cooling_down,p/c:weight_0,\
             p/d:context_window attempts=2"
        );
    }

    #[test]
    fn a_refusal_carries_its_headroom() {
        let e = GatewayError::rate_limited("x")
            .with_header("x-ratelimit-remaining-requests", "0".into())
            .with_header("x-ratelimit-remaining-tokens", "57".into());
        let mut dec = Decision::default();
        dec.refused(&e);
        assert_eq!(
            dec.render(None),
            "refused=rate_limit_exceeded(remaining_requests=0,remaining_tokens=57)"
        );
        let mut dec = Decision::default();
        dec.refused(&GatewayError::budget_exceeded("spent"));
        assert_eq!(dec.render(None), "refused=budget_exceeded(remaining_usd=0)");
    }
}
