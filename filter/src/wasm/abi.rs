//! The proxy-wasm host calls the filter makes, as functions that never panic. The SDK's
//! `hostcalls` wrappers panic on any status they do not expect (e.g. BadArgument when a map
//! is not available in the current phase), and a panic kills the worker's VM; here every
//! status other than Ok is a value the caller can ignore or act on.

use std::ptr::null_mut;

use proxy_wasm::types::{BufferType, MapType, MetricType, Status};

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_continue_stream(stream_type: proxy_wasm::types::StreamType) -> Status;
    fn proxy_get_buffer_bytes(
        buffer_type: BufferType,
        start: usize,
        max_size: usize,
        return_buffer_data: *mut *mut u8,
        return_buffer_size: *mut usize,
    ) -> Status;
    fn proxy_set_buffer_bytes(
        buffer_type: BufferType,
        start: usize,
        size: usize,
        buffer_data: *const u8,
        buffer_size: usize,
    ) -> Status;
    fn proxy_get_header_map_pairs(
        map_type: MapType,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> Status;
    fn proxy_get_header_map_value(
        map_type: MapType,
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> Status;
    fn proxy_remove_header_map_value(
        map_type: MapType,
        key_data: *const u8,
        key_size: usize,
    ) -> Status;
    fn proxy_add_header_map_value(
        map_type: MapType,
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> Status;
    fn proxy_replace_header_map_value(
        map_type: MapType,
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> Status;
    fn proxy_get_property(
        path_data: *const u8,
        path_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> Status;
    fn proxy_set_property(
        path_data: *const u8,
        path_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> Status;
    fn proxy_get_shared_data(
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
        return_cas: *mut u32,
    ) -> Status;
    fn proxy_set_shared_data(
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
        cas: u32,
    ) -> Status;
    fn proxy_send_local_response(
        status_code: u32,
        status_code_details_data: *const u8,
        status_code_details_size: usize,
        body_data: *const u8,
        body_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> Status;
    fn proxy_define_metric(
        metric_type: MetricType,
        name_data: *const u8,
        name_size: usize,
        return_id: *mut u32,
    ) -> Status;
    fn proxy_increment_metric(metric_id: u32, offset: i64) -> Status;
    fn proxy_record_metric(metric_id: u32, value: u64) -> Status;
    fn proxy_get_current_time_nanoseconds(return_time: *mut u64) -> Status;
    fn proxy_set_tick_period_milliseconds(period: u32) -> Status;
}

/// Take ownership of memory the host allocated through this module's allocator.
fn owned(data: *mut u8, size: usize) -> Vec<u8> {
    if data.is_null() {
        return Vec::new();
    }
    // SAFETY: the host allocated `size` bytes with `proxy_on_memory_allocate` (a Vec of
    // that capacity) and hands their ownership to us, as the SDK's own wrappers assume.
    unsafe { Vec::from_raw_parts(data, size, size) }
}

fn ok(status: Status) -> bool {
    matches!(status, Status::Ok)
}

pub fn get_buffer(kind: BufferType, start: usize, size: usize) -> Option<Vec<u8>> {
    let (mut data, mut len) = (null_mut(), 0usize);
    // SAFETY: out-pointers to locals; the host writes a pointer and a length.
    let status = unsafe { proxy_get_buffer_bytes(kind, start, size, &mut data, &mut len) };
    ok(status).then(|| owned(data, len))
}

pub fn set_buffer(kind: BufferType, start: usize, size: usize, value: &[u8]) -> bool {
    // SAFETY: pointer and length describe `value`, alive for the call.
    ok(unsafe { proxy_set_buffer_bytes(kind, start, size, value.as_ptr(), value.len()) })
}

/// A header map in proxy-wasm's wire format (decoded by `map::decode`); empty if the
/// map is not available in this phase.
pub fn get_map_bytes(map: MapType) -> Vec<u8> {
    let (mut data, mut len) = (null_mut(), 0usize);
    // SAFETY: out-pointers to locals.
    if !ok(unsafe { proxy_get_header_map_pairs(map, &mut data, &mut len) }) {
        return Vec::new();
    }
    owned(data, len)
}

pub fn get_map_value(map: MapType, key: &str) -> Option<Vec<u8>> {
    let (mut data, mut len) = (null_mut(), 0usize);
    // SAFETY: key pointer/length and out-pointers to locals.
    let status =
        unsafe { proxy_get_header_map_value(map, key.as_ptr(), key.len(), &mut data, &mut len) };
    ok(status).then(|| owned(data, len))
}

pub fn replace_map_value(map: MapType, key: &str, value: &str) -> bool {
    // SAFETY: pointers and lengths of live strings.
    ok(unsafe {
        proxy_replace_header_map_value(map, key.as_ptr(), key.len(), value.as_ptr(), value.len())
    })
}

pub fn add_map_value(map: MapType, key: &str, value: &str) -> bool {
    // SAFETY: pointers and lengths of live strings.
    ok(unsafe {
        proxy_add_header_map_value(map, key.as_ptr(), key.len(), value.as_ptr(), value.len())
    })
}

pub fn remove_map_value(map: MapType, key: &str) -> bool {
    // SAFETY: pointer and length of a live string.
    ok(unsafe { proxy_remove_header_map_value(map, key.as_ptr(), key.len()) })
}

fn path(parts: &[&str]) -> Vec<u8> {
    parts.join("\0").into_bytes()
}

pub fn get_property(parts: &[&str]) -> Option<Vec<u8>> {
    let p = path(parts);
    let (mut data, mut len) = (null_mut(), 0usize);
    // SAFETY: path pointer/length and out-pointers to locals.
    let status = unsafe { proxy_get_property(p.as_ptr(), p.len(), &mut data, &mut len) };
    (ok(status) && !data.is_null()).then(|| owned(data, len))
}

pub fn set_property(parts: &[&str], value: &[u8]) -> bool {
    let p = path(parts);
    // SAFETY: pointers and lengths of live buffers.
    ok(unsafe { proxy_set_property(p.as_ptr(), p.len(), value.as_ptr(), value.len()) })
}

/// Value (None if absent) and CAS token (0 if absent or on error).
pub fn get_shared_data(key: &str) -> (Option<Vec<u8>>, u32) {
    let (mut data, mut len, mut cas) = (null_mut(), 0usize, 0u32);
    // SAFETY: key pointer/length and out-pointers to locals.
    let status =
        unsafe { proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut len, &mut cas) };
    if !ok(status) {
        return (None, 0);
    }
    ((!data.is_null()).then(|| owned(data, len)), cas)
}

pub fn set_shared_data(key: &str, value: &[u8], cas: u32) -> Status {
    // SAFETY: pointers and lengths of live buffers.
    unsafe { proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), cas) }
}

pub fn send_local_response(status: u32, headers: &[(&str, &str)], body: &[u8]) -> bool {
    let h = super::map::encode(headers);
    // SAFETY: pointers and lengths of live buffers; no details string, no gRPC status (-1).
    ok(unsafe {
        proxy_send_local_response(
            status,
            null_mut(),
            0,
            body.as_ptr(),
            body.len(),
            h.as_ptr(),
            h.len(),
            -1,
        )
    })
}

pub fn define_metric(kind: MetricType, name: &str) -> Option<u32> {
    let mut id = 0u32;
    // SAFETY: name pointer/length and an out-pointer to a local.
    ok(unsafe { proxy_define_metric(kind, name.as_ptr(), name.len(), &mut id) }).then_some(id)
}

pub fn increment_metric(id: u32, offset: i64) -> bool {
    // SAFETY: plain values.
    ok(unsafe { proxy_increment_metric(id, offset) })
}

pub fn record_metric(id: u32, value: u64) -> bool {
    // SAFETY: plain values.
    ok(unsafe { proxy_record_metric(id, value) })
}

pub fn now_nanos() -> Option<u64> {
    let mut t = 0u64;
    // SAFETY: an out-pointer to a local.
    ok(unsafe { proxy_get_current_time_nanoseconds(&mut t) }).then_some(t)
}

pub fn set_tick_period_ms(ms: u32) -> bool {
    // SAFETY: a plain value.
    ok(unsafe { proxy_set_tick_period_milliseconds(ms) })
}

/// Resume a request paused for a call (false: the stream is gone).
pub fn continue_request() -> bool {
    // SAFETY: a plain value.
    ok(unsafe { proxy_continue_stream(proxy_wasm::types::StreamType::HttpRequest) })
}
