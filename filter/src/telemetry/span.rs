//! One finished LLM call as an OpenTelemetry span, and the per-worker queue the root's
//! exporter drains (HTTP contexts and the root context share one thread per worker).

use std::collections::VecDeque;

use super::trace_context::TraceContext;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(u64),
    Strs(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub ctx: TraceContext,
    pub name: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub attributes: Vec<(&'static str, Value)>,
    pub error: bool,
}

/// Spans waiting for export, bounded: a slow or absent collector costs memory up to
/// `cap` spans, then new spans are dropped and counted.
#[derive(Debug, Default)]
pub struct Queue {
    spans: VecDeque<Span>,
    /// Spans dropped since the last time the count was written to a metric.
    pub dropped: u64,
}

impl Queue {
    /// Queue `span` unless `cap` spans wait already.
    pub fn push(&mut self, span: Span, cap: usize) {
        if self.spans.len() >= cap {
            self.dropped += 1;
        } else {
            self.spans.push_back(span);
        }
    }

    pub fn take(&mut self, max: usize) -> Vec<Span> {
        let n = max.min(self.spans.len());
        self.spans.drain(..n).collect()
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}
