//! The root-context job that sends a worker's outbox to the store every `flush_ms`.
//! One report in flight at a time; a report that failed is sent again, unchanged and
//! under the same id, before anything newer (the store applies an id once), so a
//! timeout that hid a success counts nothing twice.

use std::cell::RefCell;
use std::rc::Rc;

use super::outbox::Outbox;
use super::wire::REPORT_PATH;
use crate::background::{Answer, Call, Calls, Job};
use crate::config::fleet::Fleet;

pub struct Reporter {
    fleet: Fleet,
    outbox: Rc<RefCell<Outbox>>,
    /// Makes report ids unique across workers and Envoys.
    seed: u64,
    sequence: u64,
    /// The report sent and not yet acknowledged (JSON), and its call.
    sent: Option<(Vec<u8>, Option<u32>)>,
    dropped_logged: u64,
}

impl Reporter {
    pub fn new(fleet: Fleet, outbox: Rc<RefCell<Outbox>>, seed: u64) -> Reporter {
        Reporter {
            fleet,
            outbox,
            seed,
            sequence: 0,
            sent: None,
            dropped_logged: 0,
        }
    }

    fn next_report(&mut self) -> Option<Vec<u8>> {
        let mut outbox = self.outbox.try_borrow_mut().ok()?;
        if outbox.dropped > self.dropped_logged {
            log::warn!(
                "llm-gateway: fleet: {} usage reports dropped (the store has been unreachable long)",
                outbox.dropped - self.dropped_logged
            );
            self.dropped_logged = outbox.dropped;
        }
        self.sequence += 1;
        let id = format!("{:016x}-{}", self.seed, self.sequence);
        let report = outbox.take(id)?;
        serde_json::to_vec(&report).ok()
    }

    fn send(&mut self, calls: &mut dyn Calls) -> Vec<u32> {
        let body = match self.sent.take() {
            Some((body, None)) => body,
            Some(inflight) => {
                self.sent = Some(inflight);
                return Vec::new();
            }
            None => match self.next_report() {
                Some(body) => body,
                None => return Vec::new(),
            },
        };
        let headers = [
            (":method", "POST"),
            (":path", REPORT_PATH),
            (":authority", self.fleet.authority.as_str()),
            ("content-type", "application/json"),
        ];
        let token = calls.dispatch(&Call {
            cluster: &self.fleet.cluster,
            headers: &headers,
            body: &body,
            timeout_ms: self.fleet.timeout_ms.max(1_000),
        });
        self.sent = Some((body, token));
        token.into_iter().collect()
    }
}

impl Job for Reporter {
    fn period_ms(&self) -> u64 {
        self.fleet.flush_ms
    }

    fn tick(&mut self, _now_ms: u64, calls: &mut dyn Calls) -> Vec<u32> {
        self.send(calls)
    }

    fn answer(
        &mut self,
        _now_ms: u64,
        token: u32,
        answer: Answer,
        _calls: &mut dyn Calls,
    ) -> Vec<u32> {
        let Some((body, Some(t))) = self.sent.take() else {
            return Vec::new();
        };
        if t != token {
            self.sent = Some((body, Some(t)));
            return Vec::new();
        }
        match answer {
            Answer::Reply { status, .. } if (200..300).contains(&status) => {}
            // Sent again on the next tick, under the same id.
            Answer::Reply { status, .. } => {
                log::warn!("llm-gateway: fleet: the store answered a report with {status}");
                self.sent = Some((body, None));
            }
            Answer::Failed => self.sent = Some((body, None)),
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::fleet::{convert, RawFleet};
    use crate::fleet::wire::{Report, Spend};

    #[derive(Default)]
    struct FakeCalls {
        next: u32,
        bodies: Vec<Vec<u8>>,
        down: bool,
    }

    impl Calls for FakeCalls {
        fn dispatch(&mut self, call: &Call<'_>) -> Option<u32> {
            if self.down {
                return None;
            }
            assert_eq!(call.cluster, "store");
            self.next += 1;
            self.bodies.push(call.body.to_vec());
            Some(self.next)
        }
    }

    fn reporter() -> (Reporter, Rc<RefCell<Outbox>>) {
        let raw: RawFleet = serde_json::from_str(r#"{"cluster":"store"}"#).unwrap();
        let outbox = Rc::new(RefCell::new(Outbox::default()));
        (
            Reporter::new(convert(raw).unwrap(), outbox.clone(), 0xab),
            outbox,
        )
    }

    fn report(body: &[u8]) -> Report {
        serde_json::from_slice(body).unwrap()
    }

    #[test]
    fn a_failed_report_goes_again_under_its_id_before_newer_ones() {
        let (mut r, outbox) = reporter();
        let mut calls = FakeCalls::default();
        assert!(r.tick(0, &mut calls).is_empty(), "nothing to report");
        let one = Spend {
            requests: 1,
            ..Spend::default()
        };
        outbox.borrow_mut().add_spend("spend:a".into(), &one);
        assert_eq!(r.tick(0, &mut calls), vec![1]);
        // a tick while the report is in flight sends nothing
        outbox.borrow_mut().add_spend("spend:b".into(), &one);
        assert!(r.tick(0, &mut calls).is_empty());
        r.answer(0, 1, Answer::Failed, &mut calls);
        assert_eq!(r.tick(0, &mut calls), vec![2]);
        assert_eq!(calls.bodies[0], calls.bodies[1], "the same report, same id");
        r.answer(
            0,
            2,
            Answer::Reply {
                status: 200,
                headers: vec![],
                body: vec![],
            },
            &mut calls,
        );
        assert_eq!(r.tick(0, &mut calls), vec![3]);
        let third = report(&calls.bodies[2]);
        assert_eq!(third.spend[0].key, "spend:b");
        assert_ne!(third.id, report(&calls.bodies[0]).id);
        assert!(third.id.starts_with("00000000000000ab-"));
    }

    #[test]
    fn a_call_that_cannot_start_is_kept() {
        let (mut r, outbox) = reporter();
        let mut calls = FakeCalls {
            down: true,
            ..FakeCalls::default()
        };
        outbox.borrow_mut().add_rate("rate:1:key:a".into(), 0, 5);
        assert!(r.tick(0, &mut calls).is_empty());
        calls.down = false;
        assert_eq!(r.tick(0, &mut calls), vec![1]);
        assert_eq!(report(&calls.bodies[0]).rates[0].tokens, 5);
        // a 5xx: kept for the next tick
        r.answer(
            0,
            1,
            Answer::Reply {
                status: 503,
                headers: vec![],
                body: vec![],
            },
            &mut calls,
        );
        assert_eq!(r.tick(0, &mut calls), vec![2]);
        assert_eq!(calls.bodies[0], calls.bodies[1]);
    }
}
