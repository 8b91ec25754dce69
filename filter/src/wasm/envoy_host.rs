//! `Host` over proxy-wasm host calls, through `abi` (never the SDK's wrappers, which
//! panic on unexpected statuses or on header bytes that are not UTF-8).

use std::cell::RefCell;
use std::rc::Rc;

use super::abi;
use proxy_wasm::types::{BufferType, MapType, MetricType, Status};

use crate::headers::Headers;
use crate::host::{CasResult, Host};
use rustc_hash::FxHashMap;

/// Metric ids by name, per VM (defining a metric is a host call; do it once).
#[derive(Clone, Default)]
pub struct Metrics(Rc<RefCell<FxHashMap<String, u32>>>);

pub struct EnvoyHost {
    metrics: Metrics,
    rng: u64,
    request: RefCell<Known>,
    response: RefCell<Known>,
}

impl EnvoyHost {
    pub fn new(metrics: Metrics) -> Self {
        EnvoyHost {
            metrics,
            rng: 0,
            request: RefCell::default(),
            response: RefCell::default(),
        }
    }

    fn metric_id(&self, kind: MetricType, name: &str) -> Option<u32> {
        let mut ids = self.metrics.0.borrow_mut();
        if let Some(id) = ids.get(name) {
            return Some(*id);
        }
        let id = abi::define_metric(kind, name)?;
        ids.insert(name.to_string(), id);
        Some(id)
    }
}

/// What one header map holds, as far as this context knows: the snapshot it read last and
/// the names it removed or added since. Envoy's add appends without looking for the name,
/// which a replace must do first: a header known to be absent is added, any other replaced
/// (a replace of a missing header adds it, so not knowing is never wrong, only dearer).
#[derive(Default)]
struct Known {
    read: Option<Headers>,
    /// (name, present now), for names written or removed since the snapshot.
    changed: Vec<(String, bool)>,
}

impl Known {
    fn snapshot(&mut self, h: &Headers) {
        self.read = Some(h.clone());
        self.changed.clear();
    }

    fn absent(&self, name: &str) -> bool {
        // Pseudo-headers are one value each: always replaced.
        if name.starts_with(':') {
            return false;
        }
        if let Some((_, present)) = self.changed.iter().find(|(n, _)| n == name) {
            return !present;
        }
        self.read.as_ref().is_some_and(|h| h.get(name).is_none())
    }

    fn note(&mut self, name: &str, present: bool) {
        match self.changed.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = present,
            None => self.changed.push((name.to_string(), present)),
        }
    }
}

fn read_map(known: &RefCell<Known>, map: MapType) -> Headers {
    let h = super::map::decode(&abi::get_map_bytes(map));
    known.borrow_mut().snapshot(&h);
    h
}

fn set_header(known: &RefCell<Known>, map: MapType, name: &str, value: &str) {
    let mut known = known.borrow_mut();
    if known.absent(name) {
        abi::add_map_value(map, name, value);
        known.note(name, true);
    } else {
        abi::replace_map_value(map, name, value);
    }
}

fn remove_header(known: &RefCell<Known>, map: MapType, name: &str) {
    abi::remove_map_value(map, name);
    known.borrow_mut().note(name, false);
}

fn header(map: MapType, name: &str) -> Option<String> {
    abi::get_map_value(map, name).map(|v| String::from_utf8_lossy(&v).into_owned())
}

fn buffer(kind: BufferType, size: usize) -> Vec<u8> {
    abi::get_buffer(kind, 0, size).unwrap_or_default()
}

impl Host for EnvoyHost {
    fn request_headers(&self) -> Headers {
        read_map(&self.request, MapType::HttpRequestHeaders)
    }
    fn request_header(&self, name: &str) -> Option<String> {
        header(MapType::HttpRequestHeaders, name)
    }
    fn set_request_header(&mut self, name: &str, value: &str) {
        set_header(&self.request, MapType::HttpRequestHeaders, name, value);
    }
    fn remove_request_header(&mut self, name: &str) {
        remove_header(&self.request, MapType::HttpRequestHeaders, name);
    }
    fn response_headers(&self) -> Headers {
        read_map(&self.response, MapType::HttpResponseHeaders)
    }
    fn set_response_header(&mut self, name: &str, value: &str) {
        set_header(&self.response, MapType::HttpResponseHeaders, name, value);
    }
    fn remove_response_header(&mut self, name: &str) {
        remove_header(&self.response, MapType::HttpResponseHeaders, name);
    }
    fn request_body(&self, size: usize) -> Vec<u8> {
        buffer(BufferType::HttpRequestBody, size)
    }
    fn set_request_body(&mut self, size: usize, body: &[u8]) {
        abi::set_buffer(BufferType::HttpRequestBody, 0, size, body);
    }
    fn response_body(&self, size: usize) -> Vec<u8> {
        buffer(BufferType::HttpResponseBody, size)
    }
    fn set_response_body(&mut self, size: usize, body: &[u8]) {
        abi::set_buffer(BufferType::HttpResponseBody, 0, size, body);
    }
    fn send_local_response(&mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) {
        abi::send_local_response(u32::from(status), headers, body);
    }
    fn shared_get(&self, key: &str) -> (Option<Vec<u8>>, u32) {
        abi::get_shared_data(key)
    }
    fn shared_set(&mut self, key: &str, value: &[u8], cas: u32) -> CasResult {
        match abi::set_shared_data(key, value, cas) {
            Status::Ok => CasResult::Ok,
            Status::CasMismatch => CasResult::Mismatch,
            _ => CasResult::Failed,
        }
    }
    fn counter_add(&mut self, name: &str, delta: u64) {
        // Defined on first sight so every series exists from the start; a zero delta
        // needs no further host call.
        if let Some(id) = self.metric_id(MetricType::Counter, name) {
            if delta > 0 {
                abi::increment_metric(id, i64::try_from(delta).unwrap_or(i64::MAX));
            }
        }
    }
    fn histogram_record(&mut self, name: &str, value: u64) {
        if let Some(id) = self.metric_id(MetricType::Histogram, name) {
            abi::record_metric(id, value);
        }
    }
    fn histogram(&mut self, h: &crate::usage::metrics::Histogram, value: u64) {
        let id = h.id().or_else(|| {
            let id = self.metric_id(MetricType::Histogram, &h.name)?;
            h.set_id(id);
            Some(id)
        });
        if let Some(id) = id {
            abi::record_metric(id, value);
        }
    }
    fn property(&self, path: &[&str]) -> Option<Vec<u8>> {
        abi::get_property(path)
    }
    fn set_log_field(&mut self, name: &str, value: &str) {
        abi::set_property(&[name], value.as_bytes());
    }
    fn now_ms(&self) -> u64 {
        abi::now_nanos().map_or(0, |ns| ns / 1_000_000)
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
    fn dispatch_call(&mut self, call: &crate::background::Call<'_>) -> Option<u32> {
        use crate::background::Calls;
        super::callout::EnvoyCalls.dispatch(call)
    }
    fn resume_request(&mut self) {
        abi::continue_request();
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
