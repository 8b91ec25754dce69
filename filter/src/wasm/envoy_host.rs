//! `Host` over proxy-wasm host calls. Uses the `hostcalls` functions that return
//! `Result` rather than the trait helpers that unwrap (a header value that is not
//! UTF-8 would otherwise panic the VM).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::UNIX_EPOCH;

use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, MapType, MetricType, Status};

use crate::host::{CasResult, Host};

/// Metric ids by name, per VM (defining a metric is a host call; do it once).
#[derive(Clone, Default)]
pub struct Metrics(Rc<RefCell<HashMap<String, u32>>>);

pub struct EnvoyHost {
    metrics: Metrics,
    rng: u64,
}

impl EnvoyHost {
    pub fn new(metrics: Metrics) -> Self {
        EnvoyHost { metrics, rng: 0 }
    }

    fn metric_id(&self, kind: MetricType, name: &str) -> Option<u32> {
        let mut ids = self.metrics.0.borrow_mut();
        if let Some(id) = ids.get(name) {
            return Some(*id);
        }
        let id = hostcalls::define_metric(kind, name).ok()?;
        ids.insert(name.to_string(), id);
        Some(id)
    }
}

fn header(map: MapType, name: &str) -> Option<String> {
    match hostcalls::get_map_value_bytes(map, name) {
        Ok(Some(v)) => Some(String::from_utf8_lossy(&v).into_owned()),
        _ => None,
    }
}

fn buffer(kind: BufferType, size: usize) -> Vec<u8> {
    match hostcalls::get_buffer(kind, 0, size) {
        Ok(Some(b)) => b,
        _ => Vec::new(),
    }
}

impl Host for EnvoyHost {
    fn request_headers(&self) -> Vec<(String, String)> {
        match hostcalls::get_map_bytes(MapType::HttpRequestHeaders) {
            Ok(pairs) => pairs
                .into_iter()
                .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
                .collect(),
            Err(_) => Vec::new(),
        }
    }
    fn request_header(&self, name: &str) -> Option<String> {
        header(MapType::HttpRequestHeaders, name)
    }
    fn set_request_header(&mut self, name: &str, value: &str) {
        let _ = hostcalls::set_map_value(MapType::HttpRequestHeaders, name, Some(value));
    }
    fn remove_request_header(&mut self, name: &str) {
        let _ = hostcalls::remove_map_value(MapType::HttpRequestHeaders, name);
    }
    fn response_header(&self, name: &str) -> Option<String> {
        header(MapType::HttpResponseHeaders, name)
    }
    fn set_response_header(&mut self, name: &str, value: &str) {
        let _ = hostcalls::set_map_value(MapType::HttpResponseHeaders, name, Some(value));
    }
    fn remove_response_header(&mut self, name: &str) {
        let _ = hostcalls::remove_map_value(MapType::HttpResponseHeaders, name);
    }
    fn request_body(&self, size: usize) -> Vec<u8> {
        buffer(BufferType::HttpRequestBody, size)
    }
    fn set_request_body(&mut self, size: usize, body: &[u8]) {
        let _ = hostcalls::set_buffer(BufferType::HttpRequestBody, 0, size, body);
    }
    fn response_body(&self, size: usize) -> Vec<u8> {
        buffer(BufferType::HttpResponseBody, size)
    }
    fn set_response_body(&mut self, size: usize, body: &[u8]) {
        let _ = hostcalls::set_buffer(BufferType::HttpResponseBody, 0, size, body);
    }
    fn send_local_response(&mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) {
        let _ = hostcalls::send_http_response(u32::from(status), headers.to_vec(), Some(body));
    }
    fn clear_route_cache(&mut self) {
        if let Err(status) = hostcalls::call_foreign_function("clear_route_cache", None) {
            log::warn!("llm-gateway: clear_route_cache failed: {status:?}");
        }
    }
    fn shared_get(&self, key: &str) -> (Option<Vec<u8>>, u32) {
        match hostcalls::get_shared_data(key) {
            Ok((value, cas)) => (value, cas.unwrap_or(0)),
            Err(_) => (None, 0),
        }
    }
    fn shared_set(&mut self, key: &str, value: &[u8], cas: u32) -> CasResult {
        let cas = (cas != 0).then_some(cas);
        match hostcalls::set_shared_data(key, Some(value), cas) {
            Ok(()) => CasResult::Ok,
            Err(Status::CasMismatch) => CasResult::Mismatch,
            Err(_) => CasResult::Failed,
        }
    }
    fn counter_add(&mut self, name: &str, delta: u64) {
        // Defined on first sight so every series exists from the start; a zero delta
        // needs no further host call.
        if let Some(id) = self.metric_id(MetricType::Counter, name) {
            if delta > 0 {
                let _ = hostcalls::increment_metric(id, i64::try_from(delta).unwrap_or(i64::MAX));
            }
        }
    }
    fn histogram_record(&mut self, name: &str, value: u64) {
        if let Some(id) = self.metric_id(MetricType::Histogram, name) {
            let _ = hostcalls::record_metric(id, value);
        }
    }
    fn property(&self, path: &[&str]) -> Option<Vec<u8>> {
        hostcalls::get_property(path.to_vec()).ok().flatten()
    }
    fn set_log_field(&mut self, name: &str, value: &str) {
        let _ = hostcalls::set_property(vec![name], Some(value.as_bytes()));
    }
    fn now_ms(&self) -> u64 {
        hostcalls::get_current_time()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
    fn random_u64(&mut self) -> u64 {
        let mut buf = [0u8; 8];
        if getrandom(&mut buf) {
            return u64::from_le_bytes(buf);
        }
        // No WASI randomness: a time-seeded xorshift is still fine for load spreading.
        if self.rng == 0 {
            self.rng = self.now_ms() | 1;
        }
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }
}

/// WASI `random_get`, without pulling in a crate for eight bytes.
fn getrandom(buf: &mut [u8; 8]) -> bool {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn random_get(buf: *mut u8, len: usize) -> u16;
    }
    // SAFETY: the pointer and length describe `buf`, which outlives the call.
    unsafe { random_get(buf.as_mut_ptr(), buf.len()) == 0 }
}
