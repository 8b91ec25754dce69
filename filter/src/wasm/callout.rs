//! HTTP calls from the root context (`background::Calls`) and their answers.
//!
//! The call goes through the SDK's `dispatch_http_call`, not `abi`: only the SDK's
//! wrapper registers the token with its dispatcher, which otherwise panics when the
//! answer arrives. It panics itself only on a status other than Ok, BadArgument or
//! InternalFailure, and Envoy's `httpCall` returns no other.

use std::time::Duration;

use proxy_wasm::types::{BufferType, MapType};

use super::{abi, map};
use crate::background::{Answer, Call, Calls};

pub struct EnvoyCalls;

impl Calls for EnvoyCalls {
    fn dispatch(&mut self, call: &Call<'_>) -> Option<u32> {
        let body = (!call.body.is_empty()).then_some(call.body);
        let timeout = Duration::from_millis(u64::from(call.timeout_ms));
        match proxy_wasm::hostcalls::dispatch_http_call(
            call.cluster,
            call.headers.to_vec(),
            body,
            Vec::new(),
            timeout,
        ) {
            Ok(token) => Some(token),
            Err(status) => {
                log::warn!(
                    "llm-gateway: call to cluster {} not started ({status:?})",
                    call.cluster
                );
                None
            }
        }
    }
}

/// The answer Envoy holds for the call being answered now.
pub fn answer(body_size: usize) -> Answer {
    let bytes = abi::get_map_bytes(MapType::HttpCallResponseHeaders);
    let headers: Vec<(String, String)> = map::pairs(&bytes)
        .into_iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect();
    let status = headers
        .iter()
        .find(|(k, _)| k == ":status")
        .and_then(|(_, v)| v.parse::<u16>().ok());
    let Some(status) = status else {
        return Answer::Failed;
    };
    let body = if body_size == 0 {
        Vec::new()
    } else {
        abi::get_buffer(BufferType::HttpCallResponseBody, 0, body_size).unwrap_or_default()
    };
    Answer::Reply {
        status,
        headers,
        body,
    }
}
