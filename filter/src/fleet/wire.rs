//! The store protocol lives in its own crate (`fleet-proto`), shared with the `llm-store`
//! adapter so the adapter builds without the filter.

pub use fleet_proto::*;
