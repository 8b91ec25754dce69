//! The root context's jobs, and which job owns each call in flight.

use rustc_hash::FxHashMap;

use super::call::{Answer, Calls, Job};

#[derive(Default)]
pub struct Jobs {
    jobs: Vec<Box<dyn Job>>,
    /// Call token → index of the job that started it.
    owners: FxHashMap<u32, usize>,
}

impl Jobs {
    pub fn add(&mut self, job: Box<dyn Job>) {
        self.jobs.push(job);
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// The shortest period any job wants (0: no job wants ticks).
    pub fn period_ms(&self) -> u64 {
        self.jobs
            .iter()
            .map(|j| j.period_ms())
            .filter(|&p| p > 0)
            .min()
            .unwrap_or(0)
    }

    pub fn tick(&mut self, now_ms: u64, calls: &mut dyn Calls) {
        for (i, job) in self.jobs.iter_mut().enumerate() {
            for token in job.tick(now_ms, calls) {
                self.owners.insert(token, i);
            }
        }
    }

    /// Routes an answer to its job; an unknown token (a call of a replaced
    /// configuration) is dropped.
    pub fn answer(&mut self, now_ms: u64, token: u32, answer: Answer, calls: &mut dyn Calls) {
        let Some(i) = self.owners.remove(&token) else {
            return;
        };
        if let Some(job) = self.jobs.get_mut(i) {
            for t in job.answer(now_ms, token, answer, calls) {
                self.owners.insert(t, i);
            }
        }
    }

    /// Calls still waiting for an answer.
    pub fn in_flight(&self) -> usize {
        self.owners.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::background::call::Call;

    #[derive(Default)]
    struct FakeCalls {
        next: u32,
        sent: Vec<String>,
    }

    impl Calls for FakeCalls {
        fn dispatch(&mut self, call: &Call<'_>) -> Option<u32> {
            if call.cluster == "missing" {
                return None;
            }
            self.next += 1;
            self.sent.push(call.cluster.to_string());
            Some(self.next)
        }
    }

    /// Calls `cluster` on every tick; on an answer, records it and calls again once.
    struct Echo {
        cluster: &'static str,
        period: u64,
        answers: std::rc::Rc<std::cell::RefCell<Vec<(u32, Answer)>>>,
        again: bool,
    }

    impl Job for Echo {
        fn period_ms(&self) -> u64 {
            self.period
        }
        fn tick(&mut self, _now: u64, calls: &mut dyn Calls) -> Vec<u32> {
            let call = Call {
                cluster: self.cluster,
                headers: &[(":method", "GET"), (":path", "/"), (":authority", "x")],
                body: b"",
                timeout_ms: 1000,
            };
            calls.dispatch(&call).into_iter().collect()
        }
        fn answer(&mut self, now: u64, token: u32, a: Answer, calls: &mut dyn Calls) -> Vec<u32> {
            self.answers.borrow_mut().push((token, a));
            if std::mem::take(&mut self.again) {
                return self.tick(now, calls);
            }
            Vec::new()
        }
    }

    #[test]
    fn answers_reach_the_job_that_called_and_follow_up_calls_stay_owned() {
        let a = std::rc::Rc::default();
        let b = std::rc::Rc::default();
        let mut jobs = Jobs::default();
        jobs.add(Box::new(Echo {
            cluster: "a",
            period: 5000,
            answers: std::rc::Rc::clone(&a),
            again: true,
        }));
        jobs.add(Box::new(Echo {
            cluster: "b",
            period: 1000,
            answers: std::rc::Rc::clone(&b),
            again: false,
        }));
        jobs.add(Box::new(Echo {
            cluster: "missing",
            period: 0,
            answers: std::rc::Rc::default(),
            again: false,
        }));
        assert_eq!(jobs.period_ms(), 1000);
        let mut calls = FakeCalls::default();
        jobs.tick(0, &mut calls);
        assert_eq!(calls.sent, ["a", "b"]);
        assert_eq!(jobs.in_flight(), 2);
        jobs.answer(1, 2, Answer::Failed, &mut calls);
        jobs.answer(
            1,
            1,
            Answer::Reply {
                status: 200,
                headers: vec![],
                body: b"x".to_vec(),
            },
            &mut calls,
        );
        // Job a called again (token 3), still owned by a.
        jobs.answer(2, 3, Answer::Failed, &mut calls);
        // Unknown and repeated tokens are dropped.
        jobs.answer(2, 3, Answer::Failed, &mut calls);
        jobs.answer(2, 99, Answer::Failed, &mut calls);
        assert_eq!(
            a.borrow().iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            [1, 3]
        );
        assert_eq!(*b.borrow(), [(2, Answer::Failed)]);
        assert_eq!(jobs.in_flight(), 0);
    }

    #[test]
    fn no_job_no_ticks() {
        assert_eq!(Jobs::default().period_ms(), 0);
    }

    #[test]
    fn header_lookup_ignores_case() {
        let a = Answer::Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "x".into())],
            body: vec![],
        };
        assert_eq!(a.header("content-type"), Some("x"));
        assert_eq!(Answer::Failed.header("content-type"), None);
    }
}
