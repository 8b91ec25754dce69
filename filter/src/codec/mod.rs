//! Byte-level framing: SSE in and out, top-level JSON splicing, AWS event streams.
pub mod base64;
pub mod crc32;
pub mod eventstream;
pub mod framed;
pub mod json_depth;
pub mod json_splice;
pub mod sse;
pub mod sse_out;
