//! The root context's span exporter (a background job): every `flush_ms` it sends what
//! the worker's HTTP contexts queued, one OTLP/HTTP call at a time; when a call is
//! delivered and a full batch is waiting, the next one goes at once, so a healthy
//! collector's speed bounds the throughput, not `flush_ms`. A collector that is
//! slow or down never holds a request: while a call is out nothing else is sent, the
//! queue fills to its bound, and further spans are dropped and counted
//! (`llmgw_trace_spans_dropped_total`); a failed call's spans are dropped the same way.

use std::cell::RefCell;
use std::rc::Rc;

use super::otlp;
use super::span::Queue;
use crate::background::{Answer, Call, Calls, Job};
use crate::config::traces::Traces;

pub struct Exporter {
    cfg: Traces,
    queue: Rc<RefCell<Queue>>,
    /// The call out, and how many spans it carries.
    in_flight: Option<(u32, u64)>,
}

impl Exporter {
    pub fn new(cfg: Traces, queue: Rc<RefCell<Queue>>) -> Exporter {
        Exporter {
            cfg,
            queue,
            in_flight: None,
        }
    }

    /// Sends the next batch, if any.
    fn send(&mut self, calls: &mut dyn Calls) -> Vec<u32> {
        let batch = match self.queue.try_borrow_mut() {
            Ok(mut q) => q.take(self.cfg.max_batch),
            Err(_) => return Vec::new(),
        };
        if batch.is_empty() {
            return Vec::new();
        }
        let n = batch.len() as u64;
        let body = otlp::encode(&self.cfg.service_name, &batch);
        let headers = [
            (":method", "POST"),
            (":path", self.cfg.path.as_str()),
            (":authority", self.cfg.authority.as_str()),
            ("content-type", "application/json"),
        ];
        let call = Call {
            cluster: &self.cfg.cluster,
            headers: &headers,
            body: &body,
            timeout_ms: self.cfg.timeout_ms,
        };
        match calls.dispatch(&call) {
            Some(token) => {
                self.in_flight = Some((token, n));
                vec![token]
            }
            None => {
                self.drop_spans(n);
                Vec::new()
            }
        }
    }

    fn drop_spans(&self, n: u64) {
        if let Ok(mut q) = self.queue.try_borrow_mut() {
            q.dropped = q.dropped.saturating_add(n);
        }
    }
}

impl Job for Exporter {
    fn period_ms(&self) -> u64 {
        self.cfg.flush_ms
    }

    fn tick(&mut self, _now_ms: u64, calls: &mut dyn Calls) -> Vec<u32> {
        if self.in_flight.is_some() {
            return Vec::new(); // Envoy answers a hanging call with a failure at its timeout
        }
        self.send(calls)
    }

    fn answer(
        &mut self,
        _now_ms: u64,
        token: u32,
        answer: Answer,
        calls: &mut dyn Calls,
    ) -> Vec<u32> {
        let Some((t, n)) = self.in_flight else {
            return Vec::new();
        };
        if t != token {
            return Vec::new();
        }
        self.in_flight = None;
        let delivered =
            matches!(answer, Answer::Reply { status, .. } if (200..300).contains(&status));
        if !delivered {
            self.drop_spans(n);
            return Vec::new();
        }
        let backlog = self.queue.try_borrow().map_or(0, |q| q.len());
        if backlog >= self.cfg.max_batch {
            return self.send(calls);
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::span::Span;
    use crate::telemetry::trace_context::TraceContext;

    #[derive(Default)]
    struct FakeCalls {
        sent: Vec<(String, String, Vec<u8>)>,
        refuse: bool,
    }

    impl Calls for FakeCalls {
        fn dispatch(&mut self, call: &Call<'_>) -> Option<u32> {
            if self.refuse {
                return None;
            }
            let path = call
                .headers
                .iter()
                .find(|(k, _)| *k == ":path")
                .map(|(_, v)| v.to_string());
            self.sent.push((
                call.cluster.to_string(),
                path.unwrap_or_default(),
                call.body.to_vec(),
            ));
            Some(self.sent.len() as u32)
        }
    }

    fn cfg() -> Traces {
        crate::config::traces::build(Some(
            serde_json::from_str(r#"{"cluster":"otel","max_batch":2,"max_queue":3}"#).unwrap(),
        ))
        .unwrap()
        .unwrap()
    }

    fn span(n: u8) -> Span {
        Span {
            ctx: TraceContext {
                trace_id: [n; 16],
                span_id: [n; 8],
                parent: None,
                sampled: true,
            },
            name: format!("chat m{n}"),
            start_ms: 1,
            end_ms: 2,
            attributes: Vec::new(),
            error: false,
        }
    }

    #[test]
    fn one_call_at_a_time_and_a_bounded_queue_while_the_collector_hangs() {
        let cfg = cfg();
        let queue = Rc::new(RefCell::new(Queue::default()));
        let mut ex = Exporter::new(cfg.clone(), queue.clone());
        let mut calls = FakeCalls::default();
        for i in 0..5 {
            queue.borrow_mut().push(span(i), cfg.max_queue);
        }
        assert_eq!((queue.borrow().len(), queue.borrow().dropped), (3, 2));
        assert_eq!(ex.tick(0, &mut calls), vec![1]);
        assert_eq!(calls.sent[0].0, "otel");
        assert_eq!(calls.sent[0].1, "/v1/traces");
        // The collector hangs: no second call, the queue keeps its bound.
        assert!(ex.tick(1000, &mut calls).is_empty());
        for _ in 0..3 {
            queue.borrow_mut().push(span(9), cfg.max_queue);
        }
        assert_eq!((queue.borrow().len(), queue.borrow().dropped), (3, 3));
        // Envoy gives up on the call: its two spans are dropped, the next batch goes out.
        ex.answer(2000, 1, Answer::Failed, &mut calls);
        assert_eq!(queue.borrow().dropped, 5);
        assert_eq!(ex.tick(3000, &mut calls), vec![2]);
        ex.answer(
            3100,
            2,
            Answer::Reply {
                status: 200,
                headers: vec![],
                body: vec![],
            },
            &mut calls,
        );
        assert_eq!(queue.borrow().dropped, 5);
        assert_eq!(queue.borrow().len(), 1);
    }

    #[test]
    fn a_call_that_cannot_start_drops_its_spans() {
        let cfg = cfg();
        let queue = Rc::new(RefCell::new(Queue::default()));
        let mut ex = Exporter::new(cfg.clone(), queue.clone());
        queue.borrow_mut().push(span(1), cfg.max_queue);
        let mut calls = FakeCalls {
            refuse: true,
            ..Default::default()
        };
        assert!(ex.tick(0, &mut calls).is_empty());
        assert_eq!((queue.borrow().len(), queue.borrow().dropped), (0, 1));
    }

    #[test]
    fn a_delivered_batch_sends_the_next_full_one_at_once() {
        let cfg = cfg(); // max_batch 2, max_queue 3
        let queue = Rc::new(RefCell::new(Queue::default()));
        let mut ex = Exporter::new(cfg.clone(), queue.clone());
        let mut calls = FakeCalls::default();
        for i in 0..3 {
            queue.borrow_mut().push(span(i), cfg.max_queue);
        }
        assert_eq!(ex.tick(0, &mut calls), vec![1]);
        for i in 3..5 {
            queue.borrow_mut().push(span(i), cfg.max_queue);
        }
        let ok = || Answer::Reply {
            status: 200,
            headers: vec![],
            body: vec![],
        };
        // A full batch waits: it goes with the answer, not at the next tick.
        assert_eq!(ex.answer(10, 1, ok(), &mut calls), vec![2]);
        assert_eq!(queue.borrow().len(), 1);
        // Less than a batch waits for the tick.
        assert!(ex.answer(20, 2, ok(), &mut calls).is_empty());
        assert_eq!(queue.borrow().len(), 1);
        assert_eq!(queue.borrow().dropped, 0);
        // A failed call never chains another.
        assert_eq!(ex.tick(1000, &mut calls), vec![3]);
        for i in 0..2 {
            queue.borrow_mut().push(span(i), cfg.max_queue);
        }
        assert!(ex.answer(1010, 3, Answer::Failed, &mut calls).is_empty());
        assert_eq!(queue.borrow().dropped, 1);
    }
}
