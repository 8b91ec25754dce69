//! One kind of host call, `CALLS` times per request, chosen when the module is built
//! (`PROBE=<kind>`; unset: none, the plain no-op). Each kind is the call the gateway makes,
//! with values of the gateway's sizes. Results are ignored: only the cost matters.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU32};

use proxy_wasm::hostcalls as h;
use proxy_wasm::types::{BufferType, MapType, MetricType};

const PROBE: &str = match option_env!("PROBE") {
    Some(p) => p,
    None => "none",
};
pub const CALLS: usize = 10;
const NAMES: [&str; CALLS] = [
    "x-probe-0",
    "x-probe-1",
    "x-probe-2",
    "x-probe-3",
    "x-probe-4",
    "x-probe-5",
    "x-probe-6",
    "x-probe-7",
    "x-probe-8",
    "x-probe-9",
];
const VALUE: &str = "anthropic_claude-sonnet-4-5";
const METRIC: &str = "gen_ai.client.operation.duration_ms.gen_ai_request_model.claude-sonnet.\
                      gen_ai_provider_name.anthropic.gen_ai_response_model.claude-sonnet-4-5.llm_key.none";
const SHARED: &str = "llm:health:anthropic|claude-sonnet-4-5";

extern "C" {
    // Raw: the SDK's `get_map_bytes` also decodes every pair into Strings inside the VM.
    fn proxy_get_header_map_pairs(map: MapType, data: *mut *mut u8, size: *mut usize) -> u32;
}

/// The whole header map as the host serialises it (one allocation in the VM), freed again.
fn header_map_raw(map: MapType) {
    let (mut data, mut size) = (std::ptr::null_mut(), 0usize);
    // SAFETY: out-pointers to locals; the host allocated `data` through the SDK's
    // `proxy_on_memory_allocate` (a `Vec<u8>` of capacity `size`), so it is freed as one.
    unsafe {
        if proxy_get_header_map_pairs(map, &mut data, &mut size) == 0 && !data.is_null() {
            drop(Vec::from_raw_parts(data, size, size));
        }
    }
}

/// Defined once per VM (as the gateway caches ids): only the record/increment is measured.
fn metric(kind: MetricType, id: &AtomicU32) -> Option<u32> {
    if id.load(Relaxed) == 0 {
        id.store(h::define_metric(kind, METRIC).map_or(0, |i| i + 1), Relaxed);
    }
    id.load(Relaxed).checked_sub(1)
}

static HISTOGRAM: AtomicU32 = AtomicU32::new(0);
static COUNTER: AtomicU32 = AtomicU32::new(0);
static SEEDED: AtomicBool = AtomicBool::new(false);

pub fn on_request_headers() {
    if PROBE == "get_shared_data_hit" && !SEEDED.swap(true, Relaxed) {
        let _ = h::set_shared_data(SHARED, Some(b"0123456789abcdef"), None);
    }
    for name in NAMES {
        match PROBE {
            "replace_header" => {
                let _ = h::set_map_value(MapType::HttpRequestHeaders, name, Some(VALUE));
            }
            "add_header" => {
                let _ = h::add_map_value(MapType::HttpRequestHeaders, name, VALUE);
            }
            "get_header" => {
                let _ = h::get_map_value_bytes(MapType::HttpRequestHeaders, "content-type");
            }
            "get_header_map" => header_map_raw(MapType::HttpRequestHeaders),
            "clear_route_cache" => {
                let _ = h::call_foreign_function("clear_route_cache", None);
            }
            "record_histogram" => {
                if let Some(id) = metric(MetricType::Histogram, &HISTOGRAM) {
                    let _ = h::record_metric(id, 123);
                }
            }
            "increment_counter" => {
                if let Some(id) = metric(MetricType::Counter, &COUNTER) {
                    let _ = h::increment_metric(id, 1);
                }
            }
            "get_shared_data_miss" => {
                let _ = h::get_shared_data("llm:probe:absent");
            }
            "get_shared_data_hit" => {
                let _ = h::get_shared_data(SHARED);
            }
            "set_property" => {
                let _ = h::set_property(vec![name], Some(VALUE.as_bytes()));
            }
            "get_current_time" => {
                let _ = h::get_current_time();
            }
            _ => return,
        }
    }
}

pub fn on_response_headers() {
    for name in NAMES {
        match PROBE {
            "replace_response_header" => {
                let _ = h::set_map_value(MapType::HttpResponseHeaders, name, Some(VALUE));
            }
            "get_response_header_map" => header_map_raw(MapType::HttpResponseHeaders),
            _ => return,
        }
    }
}

pub fn on_response_body(size: usize, body: &[u8]) {
    for _ in NAMES {
        match PROBE {
            "set_response_body" => {
                let _ = h::set_buffer(BufferType::HttpResponseBody, 0, size, body);
            }
            _ => return,
        }
    }
}
