//! Each LLM call as an OpenTelemetry span with the GenAI attributes, queued for the
//! root context's exporter (`telemetry::export`).

use super::flight::Flight;
use crate::state::Worker;
use crate::telemetry::span::{Span, Value};
use crate::telemetry::trace_context::TraceContext;
use crate::usage::metrics::Labels;

/// What the request ended with, as `account` counted it.
pub struct Outcome<'a> {
    pub labels: &'a Labels<'a>,
    pub error_type: Option<&'static str>,
    /// Tokens charged (reported, or estimated when the provider reported none).
    pub tokens: [u64; 2],
    pub start_ms: u64,
    pub end_ms: u64,
}

pub fn push(
    worker: &Worker,
    cap: usize,
    ctx: &TraceContext,
    decision: &str,
    flight: &Flight,
    o: &Outcome<'_>,
) {
    let l = o.labels;
    let s = |v: &str| Value::Str(v.to_string());
    let mut attributes = vec![
        ("gen_ai.operation.name", s(l.operation)),
        ("gen_ai.provider.name", s(l.provider)),
        ("gen_ai.request.model", s(l.request_model)),
        ("gen_ai.response.model", s(l.response_model)),
        ("gen_ai.usage.input_tokens", Value::Int(o.tokens[0])),
        ("gen_ai.usage.output_tokens", Value::Int(o.tokens[1])),
        (
            "http.response.status_code",
            Value::Int(u64::from(flight.answer.status)),
        ),
        ("llm.provider", s(l.llm_provider)),
        (
            "llm.attempts",
            Value::Int(u64::from(flight.answer.attempts)),
        ),
    ];
    if flight.ask.stream {
        attributes.push(("gen_ai.request.stream", Value::Str("true".into())));
    }
    if l.key != "none" {
        attributes.push(("llm.key", s(l.key)));
    }
    if !decision.is_empty() {
        attributes.push(("llm.decision", s(decision)));
    }
    let reasons = flight.finish_reasons();
    if !reasons.is_empty() {
        attributes.push((
            "gen_ai.response.finish_reasons",
            Value::Strs(reasons.list()),
        ));
    }
    if let Some(c) = &flight.capture {
        attributes.push(("gen_ai.input.messages", Value::Str(c.input.clone())));
        if let Some(s) = &c.system {
            attributes.push(("gen_ai.system_instructions", Value::Str(s.clone())));
        }
        if let Some(out) = c.output(reasons) {
            attributes.push(("gen_ai.output.messages", Value::Str(out)));
        }
    }
    if let Some(e) = o.error_type {
        attributes.push(("error.type", s(e)));
    }
    let span = Span {
        ctx: *ctx,
        // The conventions' span name: `{operation} {request model}`.
        name: crate::strs::concat(&[l.operation, " ", l.request_model]),
        start_ms: o.start_ms,
        end_ms: o.end_ms,
        attributes,
        error: o.error_type.is_some(),
    };
    worker.push_span(span, cap);
}
