//! Operations telemetry the Envoy stats cannot carry: the OpenTelemetry GenAI histograms
//! in their own units (seconds, tokens), kept per worker in memory, summed across
//! workers in shared data on the root's tick, and served in the Prometheus text format.

pub mod chunk_gaps;
pub mod content;
pub mod export;
pub mod exposition;
pub mod histogram;
pub mod otlp;
pub mod semconv;
pub mod series;
pub mod span;
pub mod trace_context;
