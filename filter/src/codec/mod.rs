//! Byte-level framing: SSE in and out, top-level JSON key splicing.
pub mod json_splice;
pub mod sse;
