//! The refresh job: one per worker, for every provider whose token the filter fetches.
//! A token is replaced at 80% of its lifetime; the current one stays in use while the
//! refresh is in flight or failing (retried with backoff), and is dropped at its expiry
//! (less a margin), after which requests get a 503 until a refresh succeeds.

use std::rc::Rc;

use super::answer;
use crate::background::{Answer, Call, Calls, Job};
use crate::config::credential::{Credential, Fetched, Token};
use crate::config::Config;

/// Counters and a gauge per provider (Envoy metrics in the filter, a fake in tests).
pub trait RefreshMetrics {
    fn refreshed(&mut self, provider: &str);
    fn failed(&mut self, provider: &str);
    /// Seconds the current token has left (0: none).
    fn expires_in(&mut self, provider: &str, seconds: u64);
}

/// How often the job looks at its tokens: fine enough for lifetimes of seconds (tests).
const PERIOD_MS: u64 = 200;
const TIMEOUT_MS: u32 = 5_000;
const FIRST_RETRY_MS: u64 = 250;
const MAX_RETRY_MS: u64 = 30_000;
/// Never use a token in its last tenth of life (at most this long): clocks differ.
const MAX_MARGIN_MS: u64 = 60_000;

struct Entry {
    provider: String,
    fetched: Rc<Fetched>,
    /// When the next call is due.
    due_ms: u64,
    /// The call in flight and when it was sent (its token's lifetime counts from then).
    in_flight: Option<(u32, u64)>,
    failures: u32,
}

pub struct Refresh {
    entries: Vec<Entry>,
    metrics: Box<dyn RefreshMetrics>,
}

impl Refresh {
    /// `None` when no provider has a fetched credential.
    pub fn new(
        providers: impl IntoIterator<Item = (String, Rc<Fetched>)>,
        metrics: Box<dyn RefreshMetrics>,
    ) -> Option<Refresh> {
        let entries: Vec<Entry> = providers
            .into_iter()
            .map(|(provider, fetched)| Entry {
                provider,
                fetched,
                due_ms: 0,
                in_flight: None,
                failures: 0,
            })
            .collect();
        (!entries.is_empty()).then_some(Refresh { entries, metrics })
    }

    /// The job for every provider of `cfg` whose credential the filter fetches.
    pub fn for_config(cfg: &Config, metrics: Box<dyn RefreshMetrics>) -> Option<Refresh> {
        let fetched = cfg.providers.iter().filter_map(|p| match &p.credential {
            Credential::Fetched(f) => Some((p.name.clone(), Rc::clone(f))),
            _ => None,
        });
        Refresh::new(fetched, metrics)
    }

    fn fail(&mut self, i: usize, now_ms: u64, why: &answer::Failure) {
        let Some(e) = self.entries.get_mut(i) else {
            return;
        };
        e.in_flight = None;
        e.failures = e.failures.saturating_add(1);
        let backoff = FIRST_RETRY_MS
            .saturating_mul(1u64 << e.failures.saturating_sub(1).min(16))
            .min(MAX_RETRY_MS);
        e.due_ms = now_ms.saturating_add(backoff);
        log::warn!(
            "llm-gateway: refreshing the {} credential of provider {} failed ({why}); retry in {backoff} ms",
            e.fetched.source,
            e.provider
        );
        self.metrics.failed(&e.provider);
    }
}

impl Job for Refresh {
    fn period_ms(&self) -> u64 {
        PERIOD_MS
    }

    fn tick(&mut self, now_ms: u64, calls: &mut dyn Calls) -> Vec<u32> {
        let mut started = Vec::new();
        let mut refused = Vec::new();
        for (i, e) in self.entries.iter_mut().enumerate() {
            let left_ms = {
                let mut current = e.fetched.current.borrow_mut();
                if current.as_ref().is_some_and(|t| now_ms >= t.expires_at_ms) {
                    *current = None;
                }
                current
                    .as_ref()
                    .map_or(0, |t| t.expires_at_ms.saturating_sub(now_ms))
            };
            self.metrics.expires_in(&e.provider, left_ms / 1000);
            if e.in_flight.is_some() || now_ms < e.due_ms {
                continue;
            }
            let c = &e.fetched.call;
            let mut headers: Vec<(&str, &str)> = vec![
                (":method", c.method),
                (":path", &c.path),
                (":authority", &c.authority),
            ];
            headers.extend(c.headers.iter().map(|(k, v)| (*k, v.as_str())));
            let call = Call {
                cluster: &c.cluster,
                headers: &headers,
                body: c.body.as_ref().map_or(&b""[..], |b| b.expose().as_bytes()),
                timeout_ms: TIMEOUT_MS,
            };
            match calls.dispatch(&call) {
                Some(token) => {
                    e.in_flight = Some((token, now_ms));
                    started.push(token);
                }
                None => refused.push(i),
            }
        }
        for i in refused {
            self.fail(i, now_ms, &answer::Failure::NoAnswer);
        }
        started
    }

    fn answer(&mut self, now_ms: u64, token: u32, a: Answer, _calls: &mut dyn Calls) -> Vec<u32> {
        let Some(i) = self
            .entries
            .iter()
            .position(|e| e.in_flight.is_some_and(|(t, _)| t == token))
        else {
            return Vec::new();
        };
        let result = answer::token(&a);
        let Some(e) = self.entries.get_mut(i) else {
            return Vec::new();
        };
        match result {
            Ok((value, seconds)) => {
                let sent_ms = e.in_flight.map_or(now_ms, |(_, s)| s);
                let life_ms = seconds.saturating_mul(1000);
                let margin = (life_ms / 10).min(MAX_MARGIN_MS);
                *e.fetched.current.borrow_mut() =
                    Some(Token::new(value, sent_ms.saturating_add(life_ms - margin)));
                e.due_ms = sent_ms.saturating_add(life_ms / 10 * 8);
                e.in_flight = None;
                e.failures = 0;
                self.metrics.refreshed(&e.provider);
                self.metrics
                    .expires_in(&e.provider, (life_ms - margin) / 1000);
            }
            Err(why) => self.fail(i, now_ms, &why),
        }
        Vec::new()
    }
}
