//! The host functions: the `env` module of proxy-wasm ABI 0.2.1 and the WASI preview 1 subset a
//! Rust `wasm32-wasip1` plugin imports. Semantics follow Envoy (source/extensions/common/wasm)
//! and proxy-wasm-cpp-host (src/exports.cc), including their quirks; see the crate docs.

use std::sync::atomic::Ordering;

use anyhow::{bail, Result};
use wasmtime::{Caller, ExternType, IntoFunc, Linker, Module};

use crate::abi::{buffer, errno, map, metric, stream, LogLevel, Status};
use crate::headers::HeaderMap;
use crate::host::MetricKind;
use crate::stream::{ForeignCall, HttpStream, LocalReply};
use crate::vm::{len32, HostAbort, HttpCall, VmState};

type Cx<'a> = Caller<'a, VmState>;
type R = wasmtime::Result<u32>;

const ENV: &str = "env";
const WASI: &str = "wasi_snapshot_preview1";
/// `WasmResult::ParseFailure`.
const PARSE_FAILURE: u32 = 4;

struct Defs<'a> {
    linker: &'a mut Linker<VmState>,
    names: Vec<(String, String)>,
}

impl Defs<'_> {
    fn f<Params, Args>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<VmState, Params, Args>,
    ) -> Result<()> {
        self.linker
            .func_wrap(module, name, func)
            .map_err(|e| anyhow::anyhow!("defining {module}::{name}: {e}"))?;
        self.names.push((module.to_string(), name.to_string()));
        Ok(())
    }
}

/// Fails with the list of every import the module needs that this host does not implement
/// (instead of wasmtime's error about the first one, or a silent stub).
pub(crate) fn check_imports(defined: &[(String, String)], module: &Module) -> Result<()> {
    let defined: std::collections::HashSet<&(String, String)> = defined.iter().collect();
    let mut missing = Vec::new();
    for import in module.imports() {
        let key = (import.module().to_string(), import.name().to_string());
        let described = match import.ty() {
            ExternType::Func(f) => {
                let params: Vec<String> = f.params().map(|p| p.to_string()).collect();
                let results: Vec<String> = f.results().map(|r| r.to_string()).collect();
                if defined.contains(&key) {
                    continue;
                }
                format!(
                    "(func (param {}) (result {}))",
                    params.join(" "),
                    results.join(" ")
                )
            }
            ExternType::Memory(_) => "(memory)".to_string(),
            ExternType::Table(_) => "(table)".to_string(),
            ExternType::Global(_) => "(global)".to_string(),
            _ => "(other)".to_string(),
        };
        missing.push(format!(
            "{}::{} {described}",
            import.module(),
            import.name()
        ));
    }
    if !missing.is_empty() {
        bail!(
            "the module needs {} import(s) this host does not implement: {}",
            missing.len(),
            missing.join(", ")
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Memory helpers.

fn read(c: &Cx<'_>, ptr: u32, len: u32) -> Option<Vec<u8>> {
    let mem = c.data().memory?;
    let data = mem.data(c);
    let start = usize::try_from(ptr).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    data.get(start..end).map(<[u8]>::to_vec)
}

fn write(c: &mut Cx<'_>, ptr: u32, bytes: &[u8]) -> bool {
    let Some(mem) = c.data().memory else {
        return false;
    };
    let data = mem.data_mut(c);
    let Ok(start) = usize::try_from(ptr) else {
        return false;
    };
    let Some(end) = start.checked_add(bytes.len()) else {
        return false;
    };
    match data.get_mut(start..end) {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

fn write_u32(c: &mut Cx<'_>, ptr: u32, v: u32) -> bool {
    write(c, ptr, &v.to_le_bytes())
}

fn write_u64(c: &mut Cx<'_>, ptr: u32, v: u64) -> bool {
    write(c, ptr, &v.to_le_bytes())
}

/// Allocates `size` bytes in the plugin (`proxy_on_memory_allocate`/`malloc`), re-entering it.
fn alloc(c: &mut Cx<'_>, size: u32) -> wasmtime::Result<u32> {
    let Some(f) = c.data().alloc.clone() else {
        return Err(wasmtime::Error::new(HostAbort(
            "no allocator export".to_string(),
        )));
    };
    f.call(&mut *c, size)
}

/// Envoy's `copyToPointerSize`: empty data gives a null pointer and size 0 (the SDK then
/// reports `None` for buffers, properties and shared data, `Some("")` for header values).
fn copy_out(c: &mut Cx<'_>, data: &[u8], ptr_ptr: u32, size_ptr: u32) -> R {
    let ptr = if data.is_empty() {
        0
    } else {
        let p = alloc(c, len32(data))?;
        if p == 0 || !write(c, p, data) {
            return Ok(Status::InvalidMemoryAccess.code());
        }
        p
    };
    if !write_u32(c, ptr_ptr, ptr) || !write_u32(c, size_ptr, len32(data)) {
        return Ok(Status::InvalidMemoryAccess.code());
    }
    Ok(Status::Ok.code())
}

fn status(s: Status) -> R {
    Ok(s.code())
}

fn has_bad_header_chars(v: &[u8]) -> bool {
    v.iter().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

// ---------------------------------------------------------------------------------------------
// Header maps.

enum MapLookup<'a> {
    Map(&'a HeaderMap),
    /// Envoy's pointer is null in this callback.
    Null,
}

fn const_map(st: &VmState, t: u32) -> Result<MapLookup<'_>, Status> {
    match t {
        map::HTTP_REQUEST_HEADERS..=map::HTTP_RESPONSE_TRAILERS => {
            let Some(s) = st.streams.get(&st.target()) else {
                return Ok(MapLookup::Null);
            };
            let m = if s.access_log_phase {
                match t {
                    map::HTTP_REQUEST_HEADERS => s.req.headers_received.then_some(&s.req.headers),
                    map::HTTP_REQUEST_TRAILERS => None,
                    map::HTTP_RESPONSE_HEADERS => s.resp.out_headers.as_ref(),
                    _ => s.resp.out_trailers.as_ref(),
                }
            } else {
                stream_map(s, t)
            };
            Ok(m.map_or(MapLookup::Null, MapLookup::Map))
        }
        map::HTTP_CALL_RESPONSE_HEADERS | map::HTTP_CALL_RESPONSE_TRAILERS => {
            Ok(match &st.http_call_response {
                Some(r) if t == map::HTTP_CALL_RESPONSE_HEADERS => MapLookup::Map(&r.headers),
                Some(r) => MapLookup::Map(&r.trailers),
                None => MapLookup::Null,
            })
        }
        map::GRPC_RECEIVE_INITIAL_METADATA | map::GRPC_RECEIVE_TRAILING_METADATA => {
            Ok(MapLookup::Null)
        }
        _ => Err(Status::BadArgument),
    }
}

fn stream_map(s: &HttpStream, t: u32) -> Option<&HeaderMap> {
    match t {
        map::HTTP_REQUEST_HEADERS => s.req.headers_accessible.then_some(&s.req.headers),
        map::HTTP_REQUEST_TRAILERS => s
            .req
            .trailers
            .as_ref()
            .filter(|_| s.req.trailers_accessible),
        map::HTTP_RESPONSE_HEADERS => s.resp.headers_accessible.then_some(&s.resp.headers),
        map::HTTP_RESPONSE_TRAILERS => s
            .resp
            .trailers
            .as_ref()
            .filter(|_| s.resp.trailers_accessible),
        _ => None,
    }
}

/// Envoy's mutable `getMap`: also creates trailers when asked for them in the last body callback.
fn mutable_map(st: &mut VmState, t: u32) -> Option<&mut HeaderMap> {
    let id = st.target();
    let s = st.streams.get_mut(&id)?;
    match t {
        map::HTTP_REQUEST_HEADERS => s.req.headers_accessible.then_some(&mut s.req.headers),
        map::HTTP_RESPONSE_HEADERS => s.resp.headers_accessible.then_some(&mut s.resp.headers),
        map::HTTP_REQUEST_TRAILERS | map::HTTP_RESPONSE_TRAILERS => {
            let side = if t == map::HTTP_REQUEST_TRAILERS {
                &mut s.req
            } else {
                &mut s.resp
            };
            if side.trailers.is_none() && side.body.is_some() && side.end_of_stream_in {
                side.trailers = Some(HeaderMap::new());
                side.trailers_accessible = true;
                side.trailers_held = true;
            }
            if side.trailers_accessible {
                side.trailers.as_mut()
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Runs a header-map modification the way Envoy does: on a map that is not available the call
/// still returns Ok and nothing happens (the emulator records a warning).
fn modify_map(c: &mut Cx<'_>, t: u32, op: &str, f: impl FnOnce(&mut HeaderMap)) -> R {
    if t > map::HTTP_CALL_RESPONSE_TRAILERS {
        return status(Status::BadArgument);
    }
    let st = c.data_mut();
    let id = st.target();
    match mutable_map(st, t) {
        Some(m) => {
            f(m);
            if t == map::HTTP_REQUEST_HEADERS {
                note_route_cache_clear(st);
            }
        }
        None => {
            let in_call = st.in_call;
            st.warn(
                id,
                format!(
                    "{op} on {} in {in_call}: map not available, Envoy ignores the call",
                    map::name(t)
                ),
            );
        }
    }
    status(Status::Ok)
}

/// Envoy clears the stream's route cache on every request-header change from a plugin; it only
/// matters while the headers are held (afterwards the route is already chosen).
fn note_route_cache_clear(st: &mut VmState) {
    let id = st.target();
    if let Some(s) = st.streams.get_mut(&id) {
        if s.req.out_headers.is_none() {
            s.route_cache_clears += 1;
        }
    }
}

fn check_value(c: &mut Cx<'_>, key: &[u8], value: &[u8]) {
    if has_bad_header_chars(value) || has_bad_header_chars(key) {
        let st = c.data_mut();
        let id = st.target();
        st.warn(
            id,
            format!(
                "header {:?} set with CR, LF or NUL in it (header injection?)",
                String::from_utf8_lossy(key)
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Buffers.

enum BufferLookup {
    Data(Vec<u8>),
    NotFound,
    BadArgument,
}

fn get_buffer(st: &VmState, t: u32) -> BufferLookup {
    let s = st.streams.get(&st.target());
    match t {
        buffer::HTTP_REQUEST_BODY => {
            BufferLookup::Data(s.and_then(|s| s.req.body.clone()).unwrap_or_default())
        }
        buffer::HTTP_RESPONSE_BODY => {
            BufferLookup::Data(s.and_then(|s| s.resp.body.clone()).unwrap_or_default())
        }
        buffer::DOWNSTREAM_DATA
        | buffer::UPSTREAM_DATA
        | buffer::GRPC_RECEIVE_BUFFER
        | buffer::CALL_DATA => BufferLookup::Data(Vec::new()),
        buffer::HTTP_CALL_RESPONSE_BODY => match &st.http_call_response {
            Some(r) => BufferLookup::Data(r.body.clone()),
            None => BufferLookup::NotFound,
        },
        buffer::VM_CONFIGURATION => BufferLookup::Data(st.config.vm_config.clone()),
        buffer::PLUGIN_CONFIGURATION => {
            if st.plugin_config_visible {
                BufferLookup::Data(st.config.plugin_config.clone())
            } else {
                BufferLookup::NotFound
            }
        }
        _ => BufferLookup::BadArgument,
    }
}

/// Envoy's `Buffer::copyFrom` for HTTP bodies: start 0 drains `size` bytes then prepends,
/// start ≥ length appends, anything else is BadArgument.
fn set_body(body: &mut Vec<u8>, start: u32, size: u32, data: &[u8]) -> Status {
    let start = usize::try_from(start).unwrap_or(usize::MAX);
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if start == 0 {
        let drain = size.min(body.len());
        body.drain(..drain);
        body.splice(0..0, data.iter().copied());
        Status::Ok
    } else if start >= body.len() {
        body.extend_from_slice(data);
        Status::Ok
    } else {
        Status::BadArgument
    }
}

// ---------------------------------------------------------------------------------------------

fn local_reply_headers(code: u32, extra: &[(Vec<u8>, Vec<u8>)], body: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.add(":status", code.to_string().as_bytes());
    for (k, v) in extra {
        h.add(&String::from_utf8_lossy(k), v);
    }
    if !body.is_empty() {
        h.replace("content-length", body.len().to_string().as_bytes());
        if !h.contains("content-type") {
            h.add("content-type", b"text/plain");
        }
    }
    h
}

fn now_ns(c: &Cx<'_>) -> (u64, u64) {
    let state = c.data().host.shared.lock();
    (state.realtime_ns, state.monotonic_ns)
}

/// Defines every host function; returns their (module, name) list.
pub(crate) fn define(linker: &mut Linker<VmState>) -> Result<Vec<(String, String)>> {
    let mut d = Defs {
        linker,
        names: Vec::new(),
    };
    define_env(&mut d)?;
    define_wasi(&mut d)?;
    Ok(d.names)
}

#[allow(clippy::too_many_lines)]
fn define_env(d: &mut Defs<'_>) -> Result<()> {
    // --- logging, time, ticks
    d.f(
        ENV,
        "proxy_log",
        |mut c: Cx<'_>, level: u32, ptr: u32, size: u32| -> R {
            let Some(level) = LogLevel::from_u32(level) else {
                return status(Status::BadArgument);
            };
            let Some(msg) = read(&c, ptr, size) else {
                return status(Status::InvalidMemoryAccess);
            };
            let st = c.data_mut();
            let id = st.target();
            st.log(id, level, String::from_utf8_lossy(&msg).into_owned());
            status(Status::Ok)
        },
    )?;
    d.f(ENV, "proxy_get_log_level", |mut c: Cx<'_>, ptr: u32| -> R {
        let level = c.data().config.log_level as u32;
        if !write_u32(&mut c, ptr, level) {
            return status(Status::InvalidMemoryAccess);
        }
        status(Status::Ok)
    })?;
    d.f(
        ENV,
        "proxy_get_current_time_nanoseconds",
        |mut c: Cx<'_>, ptr: u32| -> R {
            let (now, _) = now_ns(&c);
            if !write_u64(&mut c, ptr, now) {
                return status(Status::InvalidMemoryAccess);
            }
            status(Status::Ok)
        },
    )?;
    d.f(
        ENV,
        "proxy_set_tick_period_milliseconds",
        |mut c: Cx<'_>, period: u32| -> R {
            let (now, _) = now_ns(&c);
            let st = c.data_mut();
            st.tick_period_ms = period;
            st.next_tick_ns = now.saturating_add(u64::from(period) * 1_000_000);
            status(Status::Ok)
        },
    )?;

    // --- buffers
    d.f(
        ENV,
        "proxy_get_buffer_bytes",
        |mut c: Cx<'_>, t: u32, start: u32, max: u32, ptr_ptr: u32, size_ptr: u32| -> R {
            let data = match get_buffer(c.data(), t) {
                BufferLookup::Data(d) => d,
                BufferLookup::NotFound => return status(Status::NotFound),
                BufferLookup::BadArgument => return status(Status::BadArgument),
            };
            let start = usize::try_from(start).unwrap_or(usize::MAX);
            if start > data.len() {
                return status(Status::BadArgument);
            }
            let len = usize::try_from(max)
                .unwrap_or(usize::MAX)
                .min(data.len() - start);
            let slice = data.get(start..start + len).unwrap_or(&[]);
            copy_out(&mut c, slice, ptr_ptr, size_ptr)
        },
    )?;
    d.f(
        ENV,
        "proxy_set_buffer_bytes",
        |mut c: Cx<'_>, t: u32, start: u32, size: u32, ptr: u32, len: u32| -> R {
            let Some(data) = read(&c, ptr, len) else {
                return status(Status::InvalidMemoryAccess);
            };
            let st = c.data_mut();
            let id = st.target();
            let result = match t {
                buffer::HTTP_REQUEST_BODY | buffer::HTTP_RESPONSE_BODY => {
                    let body = st.streams.get_mut(&id).and_then(|s| {
                        if t == buffer::HTTP_REQUEST_BODY {
                            s.req.body.as_mut()
                        } else {
                            s.resp.body.as_mut()
                        }
                    });
                    match body {
                        Some(b) => set_body(b, start, size, &data),
                        None => Status::BadArgument,
                    }
                }
                _ => Status::BadArgument,
            };
            if result != Status::Ok {
                let in_call = st.in_call;
                st.warn(
                    id,
                    format!(
                        "proxy_set_buffer_bytes(type {t}, start {start}, size {size}) in \
                         {in_call} -> BadArgument (the SDK panics on it)"
                    ),
                );
            }
            status(result)
        },
    )?;

    // --- header maps
    d.f(
        ENV,
        "proxy_get_header_map_pairs",
        |mut c: Cx<'_>, t: u32, ptr_ptr: u32, size_ptr: u32| -> R {
            let bytes = match const_map(c.data(), t) {
                Err(s) => return status(s),
                Ok(MapLookup::Null) => Vec::new(),
                Ok(MapLookup::Map(m)) if m.is_empty() => Vec::new(),
                Ok(MapLookup::Map(m)) => m.serialize(),
            };
            copy_out(&mut c, &bytes, ptr_ptr, size_ptr)
        },
    )?;
    d.f(
        ENV,
        "proxy_set_header_map_pairs",
        |mut c: Cx<'_>, t: u32, ptr: u32, size: u32| -> R {
            let Some(raw) = read(&c, ptr, size) else {
                return status(Status::InvalidMemoryAccess);
            };
            let pairs = match crate::abi::deserialize_pairs(&raw) {
                Some(p) => p,
                None => {
                    let st = c.data_mut();
                    let id = st.target();
                    st.warn(
                        id,
                        "proxy_set_header_map_pairs with malformed pairs: Envoy treats them as \
                         an empty map"
                            .into(),
                    );
                    Vec::new()
                }
            };
            for (k, v) in &pairs {
                check_value(&mut c, k, v);
            }
            modify_map(&mut c, t, "proxy_set_header_map_pairs", |m| {
                *m = HeaderMap::from_raw(pairs);
            })
        },
    )?;
    d.f(
        ENV,
        "proxy_get_header_map_value",
        |mut c: Cx<'_>, t: u32, kptr: u32, ksize: u32, vptr_ptr: u32, vsize_ptr: u32| -> R {
            let Some(key) = read(&c, kptr, ksize) else {
                return status(Status::InvalidMemoryAccess);
            };
            let key = String::from_utf8_lossy(&key).into_owned();
            let value = match const_map(c.data(), t) {
                Err(s) => return status(s),
                Ok(MapLookup::Null) => {
                    let st = c.data_mut();
                    let id = st.target();
                    let access_log = st.streams.get(&id).is_some_and(|s| s.access_log_phase);
                    if access_log {
                        return status(Status::NotFound);
                    }
                    let in_call = st.in_call;
                    st.warn(
                        id,
                        format!(
                            "proxy_get_header_map_value({}, {key:?}) in {in_call}: map not \
                             available -> BadArgument (the SDK panics on it)",
                            map::name(t)
                        ),
                    );
                    return status(Status::BadArgument);
                }
                Ok(MapLookup::Map(m)) => m.get_bytes(&key).map(<[u8]>::to_vec),
            };
            match value {
                Some(v) => copy_out(&mut c, &v, vptr_ptr, vsize_ptr),
                None => status(Status::NotFound),
            }
        },
    )?;
    d.f(
        ENV,
        "proxy_remove_header_map_value",
        |mut c: Cx<'_>, t: u32, kptr: u32, ksize: u32| -> R {
            let Some(key) = read(&c, kptr, ksize) else {
                return status(Status::InvalidMemoryAccess);
            };
            let key = String::from_utf8_lossy(&key).into_owned();
            modify_map(&mut c, t, "proxy_remove_header_map_value", |m| {
                m.remove(&key)
            })
        },
    )?;
    d.f(
        ENV,
        "proxy_replace_header_map_value",
        |mut c: Cx<'_>, t: u32, kptr: u32, ksize: u32, vptr: u32, vsize: u32| -> R {
            let (Some(key), Some(value)) = (read(&c, kptr, ksize), read(&c, vptr, vsize)) else {
                return status(Status::InvalidMemoryAccess);
            };
            check_value(&mut c, &key, &value);
            let key = String::from_utf8_lossy(&key).into_owned();
            modify_map(&mut c, t, "proxy_replace_header_map_value", |m| {
                m.replace(&key, &value)
            })
        },
    )?;
    d.f(
        ENV,
        "proxy_add_header_map_value",
        |mut c: Cx<'_>, t: u32, kptr: u32, ksize: u32, vptr: u32, vsize: u32| -> R {
            let (Some(key), Some(value)) = (read(&c, kptr, ksize), read(&c, vptr, vsize)) else {
                return status(Status::InvalidMemoryAccess);
            };
            check_value(&mut c, &key, &value);
            let key = String::from_utf8_lossy(&key).into_owned();
            modify_map(&mut c, t, "proxy_add_header_map_value", |m| {
                m.add(&key, &value)
            })
        },
    )?;

    // --- properties
    d.f(
        ENV,
        "proxy_get_property",
        |mut c: Cx<'_>, pptr: u32, psize: u32, vptr_ptr: u32, vsize_ptr: u32| -> R {
            let Some(path) = read(&c, pptr, psize) else {
                return status(Status::InvalidMemoryAccess);
            };
            let st = c.data();
            let value = st
                .streams
                .get(&st.target())
                .and_then(|s| s.properties.get(&path))
                .or_else(|| st.properties.get(&path))
                .cloned();
            match value {
                Some(v) => copy_out(&mut c, &v, vptr_ptr, vsize_ptr),
                None => status(Status::NotFound),
            }
        },
    )?;
    d.f(
        ENV,
        "proxy_set_property",
        |mut c: Cx<'_>, pptr: u32, psize: u32, vptr: u32, vsize: u32| -> R {
            let (Some(path), Some(value)) = (read(&c, pptr, psize), read(&c, vptr, vsize)) else {
                return status(Status::InvalidMemoryAccess);
            };
            let st = c.data_mut();
            let id = st.target();
            match st.streams.get_mut(&id) {
                Some(s) => {
                    s.properties.insert(path, value);
                    status(Status::Ok)
                }
                // No stream info outside HTTP contexts: Envoy answers NotFound.
                None => status(Status::NotFound),
            }
        },
    )?;

    // --- shared data
    d.f(
        ENV,
        "proxy_get_shared_data",
        |mut c: Cx<'_>, kptr: u32, ksize: u32, vptr_ptr: u32, vsize_ptr: u32, cas_ptr: u32| -> R {
            let Some(key) = read(&c, kptr, ksize) else {
                return status(Status::InvalidMemoryAccess);
            };
            let host = c.data().host.clone();
            let found = {
                let vm_id = c.data().config.vm_id.clone();
                let mut shared = host.shared.lock();
                let found = shared
                    .shared_data
                    .get(&(vm_id.clone(), key.clone()))
                    .cloned();
                if let Some((value, _)) = &found {
                    shared.shared_gets += 1;
                    let every = shared.interfere_every;
                    if every > 0 && (shared.shared_gets - 1).is_multiple_of(every) {
                        shared.set_shared_data(&vm_id, &key, value, 0);
                    }
                }
                found
            };
            if host.shared.yield_after_get.load(Ordering::Relaxed) {
                std::thread::yield_now();
            }
            let Some((value, cas)) = found else {
                return status(Status::NotFound);
            };
            let r = copy_out(&mut c, &value, vptr_ptr, vsize_ptr)?;
            if r != Status::Ok.code() {
                return Ok(r);
            }
            if !write_u32(&mut c, cas_ptr, cas) {
                return status(Status::InvalidMemoryAccess);
            }
            status(Status::Ok)
        },
    )?;
    d.f(
        ENV,
        "proxy_set_shared_data",
        |c: Cx<'_>, kptr: u32, ksize: u32, vptr: u32, vsize: u32, cas: u32| -> R {
            let (Some(key), Some(value)) = (read(&c, kptr, ksize), read(&c, vptr, vsize)) else {
                return status(Status::InvalidMemoryAccess);
            };
            let vm_id = c.data().config.vm_id.clone();
            let r = c
                .data()
                .host
                .shared
                .lock()
                .set_shared_data(&vm_id, &key, &value, cas);
            status(r)
        },
    )?;

    // --- shared queues
    d.f(
        ENV,
        "proxy_register_shared_queue",
        |mut c: Cx<'_>, nptr: u32, nsize: u32, token_ptr: u32| -> R {
            let Some(name) = read(&c, nptr, nsize) else {
                return status(Status::InvalidMemoryAccess);
            };
            let name = String::from_utf8_lossy(&name).into_owned();
            let st = c.data();
            let (vm_id, owner) = (st.config.vm_id.clone(), (st.index, st.target()));
            let token = {
                let mut shared = st.host.shared.lock();
                let key = (vm_id.clone(), name.clone());
                let token = match shared.queue_by_name.get(&key) {
                    Some(t) => *t,
                    None => {
                        let t = shared.next_queue_token;
                        shared.next_queue_token += 1;
                        shared.queue_by_name.insert(key, t);
                        t
                    }
                };
                let q = shared.queues.entry(token).or_default();
                q.vm_id = vm_id;
                q.name = name;
                q.owner = Some(owner);
                token
            };
            if !write_u32(&mut c, token_ptr, token) {
                return status(Status::InvalidMemoryAccess);
            }
            status(Status::Ok)
        },
    )?;
    d.f(
        ENV,
        "proxy_resolve_shared_queue",
        |mut c: Cx<'_>, vptr: u32, vsize: u32, nptr: u32, nsize: u32, token_ptr: u32| -> R {
            let (Some(vm_id), Some(name)) = (read(&c, vptr, vsize), read(&c, nptr, nsize)) else {
                return status(Status::InvalidMemoryAccess);
            };
            let key = (
                String::from_utf8_lossy(&vm_id).into_owned(),
                String::from_utf8_lossy(&name).into_owned(),
            );
            let token = c.data().host.shared.lock().queue_by_name.get(&key).copied();
            match token {
                Some(t) => {
                    if !write_u32(&mut c, token_ptr, t) {
                        return status(Status::InvalidMemoryAccess);
                    }
                    status(Status::Ok)
                }
                None => status(Status::NotFound),
            }
        },
    )?;
    d.f(
        ENV,
        "proxy_enqueue_shared_queue",
        |c: Cx<'_>, token: u32, ptr: u32, size: u32| -> R {
            let Some(data) = read(&c, ptr, size) else {
                return status(Status::InvalidMemoryAccess);
            };
            let mut shared = c.data().host.shared.lock();
            let owner = match shared.queues.get_mut(&token) {
                Some(q) => {
                    q.items.push_back(data);
                    q.owner
                }
                None => return status(Status::NotFound),
            };
            if let Some((vm, ctx)) = owner {
                shared.queue_ready.entry(vm).or_default().push((ctx, token));
            }
            status(Status::Ok)
        },
    )?;
    d.f(
        ENV,
        "proxy_dequeue_shared_queue",
        |mut c: Cx<'_>, token: u32, ptr_ptr: u32, size_ptr: u32| -> R {
            let item = {
                let mut shared = c.data().host.shared.lock();
                match shared.queues.get_mut(&token) {
                    None => return status(Status::NotFound),
                    Some(q) => q.items.pop_front(),
                }
            };
            match item {
                Some(v) => copy_out(&mut c, &v, ptr_ptr, size_ptr),
                None => status(Status::Empty),
            }
        },
    )?;

    // --- stream control
    d.f(ENV, "proxy_continue_stream", |mut c: Cx<'_>, t: u32| -> R {
        let st = c.data_mut();
        let id = st.target();
        match t {
            stream::HTTP_REQUEST | stream::HTTP_RESPONSE => {
                if let Some(s) = st.streams.get_mut(&id) {
                    if t == stream::HTTP_REQUEST {
                        s.continue_request = true;
                    } else {
                        s.continue_response = true;
                    }
                    // Envoy's continueStream forgets the request header/trailer maps (for
                    // either direction).
                    s.req.headers_accessible = false;
                    s.req.trailers_accessible = false;
                }
                status(Status::Ok)
            }
            stream::DOWNSTREAM => status(Status::Ok),
            stream::UPSTREAM => status(Status::Unimplemented),
            _ => status(Status::BadArgument),
        }
    })?;
    d.f(ENV, "proxy_close_stream", |mut c: Cx<'_>, t: u32| -> R {
        let st = c.data_mut();
        let id = st.target();
        match t {
            stream::HTTP_REQUEST | stream::HTTP_RESPONSE => {
                if let Some(s) = st.streams.get_mut(&id) {
                    s.reset_requested = true;
                }
                status(Status::Ok)
            }
            stream::DOWNSTREAM | stream::UPSTREAM => status(Status::Ok),
            _ => status(Status::BadArgument),
        }
    })?;
    d.f(
        ENV,
        "proxy_send_local_response",
        |mut c: Cx<'_>,
         code: u32,
         dptr: u32,
         dsize: u32,
         bptr: u32,
         bsize: u32,
         hptr: u32,
         hsize: u32,
         grpc: i32|
         -> R {
            let (Some(details), Some(body), Some(raw)) = (
                read(&c, dptr, dsize),
                read(&c, bptr, bsize),
                read(&c, hptr, hsize),
            ) else {
                return status(Status::InvalidMemoryAccess);
            };
            let pairs = crate::abi::deserialize_pairs(&raw).unwrap_or_default();
            for (k, v) in &pairs {
                check_value(&mut c, k, v);
            }
            let reply = LocalReply {
                status: code,
                details: String::from_utf8_lossy(&details).into_owned(),
                headers: local_reply_headers(code, &pairs, &body),
                body,
                grpc_status: grpc,
            };
            let st = c.data_mut();
            let id = st.target();
            match st.streams.get_mut(&id) {
                Some(s) if s.pending_local_reply.is_none() => s.pending_local_reply = Some(reply),
                Some(_) => st.warn(
                    id,
                    "second proxy_send_local_response in one callback: ignored".into(),
                ),
                None => st.warn(
                    id,
                    "proxy_send_local_response outside an HTTP context: ignored".into(),
                ),
            }
            status(Status::Ok)
        },
    )?;

    // --- http calls
    d.f(
        ENV,
        "proxy_http_call",
        |mut c: Cx<'_>,
         uptr: u32,
         usize_: u32,
         hptr: u32,
         hsize: u32,
         bptr: u32,
         bsize: u32,
         tptr: u32,
         tsize: u32,
         timeout: u32,
         token_ptr: u32|
         -> R {
            let (Some(upstream), Some(h), Some(body), Some(t)) = (
                read(&c, uptr, usize_),
                read(&c, hptr, hsize),
                read(&c, bptr, bsize),
                read(&c, tptr, tsize),
            ) else {
                return status(Status::InvalidMemoryAccess);
            };
            if !write_u32(&mut c, token_ptr, 0) {
                return status(Status::InvalidMemoryAccess);
            }
            let upstream = String::from_utf8_lossy(&upstream).into_owned();
            let headers =
                HeaderMap::from_raw(crate::abi::deserialize_pairs(&h).unwrap_or_default());
            let trailers =
                HeaderMap::from_raw(crate::abi::deserialize_pairs(&t).unwrap_or_default());
            let st = c.data_mut();
            let id = st.target();
            let unknown_cluster =
                !st.config.clusters.is_empty() && !st.config.clusters.contains(&upstream);
            let missing = [":path", ":method", ":authority"]
                .iter()
                .any(|k| !headers.contains(k));
            if i32::try_from(timeout).is_err() || unknown_cluster || missing {
                st.warn(
                    id,
                    format!(
                        "proxy_http_call to {upstream:?} -> BadArgument (unknown cluster: \
                         {unknown_cluster}, missing :path/:method/:authority: {missing})"
                    ),
                );
                return status(Status::BadArgument);
            }
            let token = st.next_http_token;
            st.next_http_token += 1;
            let call = HttpCall {
                token,
                context_id: id,
                upstream,
                headers,
                body,
                trailers,
                timeout_ms: timeout,
            };
            if let Some(s) = st.streams.get_mut(&id) {
                s.http_calls.push(call.clone());
            }
            st.http_calls.insert(token, call);
            if !write_u32(&mut c, token_ptr, token) {
                return status(Status::InvalidMemoryAccess);
            }
            status(Status::Ok)
        },
    )?;
    d.f(
        ENV,
        "proxy_get_status",
        |mut c: Cx<'_>, code_ptr: u32, mptr_ptr: u32, msize_ptr: u32| -> R {
            let (code, msg) = c.data().status.clone();
            if !write_u32(&mut c, code_ptr, code) {
                return status(Status::InvalidMemoryAccess);
            }
            copy_out(&mut c, &msg, mptr_ptr, msize_ptr)
        },
    )?;

    // --- contexts, foreign functions
    d.f(
        ENV,
        "proxy_set_effective_context",
        |mut c: Cx<'_>, id: u32| -> R {
            let st = c.data_mut();
            let exists = id == st.root_id || st.streams.get(&id).is_some_and(|s| !s.deleted);
            if !exists {
                return status(Status::BadArgument);
            }
            st.effective = id;
            status(Status::Ok)
        },
    )?;
    d.f(ENV, "proxy_done", |mut c: Cx<'_>| -> R {
        let st = c.data_mut();
        if st.root_done_pending {
            st.root_done_pending = false;
            st.root_done_called = true;
            status(Status::Ok)
        } else {
            status(Status::NotFound)
        }
    })?;
    d.f(
        ENV,
        "proxy_call_foreign_function",
        |mut c: Cx<'_>, nptr: u32, nsize: u32, aptr: u32, asize: u32, rptr: u32, rsize: u32| -> R {
            let (Some(name), Some(args)) = (read(&c, nptr, nsize), read(&c, aptr, asize)) else {
                return status(Status::InvalidMemoryAccess);
            };
            let name = String::from_utf8_lossy(&name).into_owned();
            let result = match name.as_str() {
                // Envoy: clears the route cache of the (effective) context's stream, no result.
                "clear_route_cache" => Status::Ok,
                _ => Status::NotFound,
            };
            let st = c.data_mut();
            let id = st.target();
            if let Some(s) = st.streams.get_mut(&id) {
                let forwarded = s.req.out_headers.is_some();
                s.foreign_calls.push(ForeignCall {
                    name: name.clone(),
                    args,
                    status: result.code(),
                    request_headers_forwarded: forwarded,
                });
                if !forwarded && result == Status::Ok {
                    s.route_cache_clears += 1;
                }
                if forwarded && result == Status::Ok {
                    st.warn(
                        id,
                        "clear_route_cache after the request headers went upstream: the route \
                         is already chosen"
                            .into(),
                    );
                }
            }
            if result == Status::Ok {
                if rptr != 0 && !write_u32(&mut c, rptr, 0) {
                    return status(Status::InvalidMemoryAccess);
                }
                if rsize != 0 && !write_u32(&mut c, rsize, 0) {
                    return status(Status::InvalidMemoryAccess);
                }
            }
            status(result)
        },
    )?;

    // --- gRPC: answered as an Envoy without any gRPC cluster would answer. The Rust SDK imports
    // these even when unused (trait-object vtables keep them alive).
    d.f(
        ENV,
        "proxy_grpc_call",
        |mut c: Cx<'_>,
         sptr: u32,
         ssize: u32,
         _a: u32,
         _b: u32,
         _c2: u32,
         _d: u32,
         _e: u32,
         _f: u32,
         _g: u32,
         _h: u32,
         _timeout: u32,
         _token_ptr: u32|
         -> R {
            let service = read(&c, sptr, ssize).unwrap_or_default();
            let st = c.data_mut();
            let id = st.target();
            st.warn(
                id,
                format!(
                    "proxy_grpc_call to {:?}: no gRPC cluster exists in this host -> ParseFailure",
                    String::from_utf8_lossy(&service)
                ),
            );
            Ok(PARSE_FAILURE)
        },
    )?;
    d.f(
        ENV,
        "proxy_grpc_stream",
        |mut c: Cx<'_>,
         sptr: u32,
         ssize: u32,
         _a: u32,
         _b: u32,
         _c2: u32,
         _d: u32,
         _e: u32,
         _f: u32,
         _token_ptr: u32|
         -> R {
            let service = read(&c, sptr, ssize).unwrap_or_default();
            let st = c.data_mut();
            let id = st.target();
            st.warn(
                id,
                format!(
                    "proxy_grpc_stream to {:?}: no gRPC cluster exists in this host -> ParseFailure",
                    String::from_utf8_lossy(&service)
                ),
            );
            Ok(PARSE_FAILURE)
        },
    )?;
    // Envoy: odd tokens are call ids, even ones stream ids; none was ever issued here.
    d.f(
        ENV,
        "proxy_grpc_send",
        |_c: Cx<'_>, token: u32, _ptr: u32, _size: u32, _end: u32| -> R {
            if token & 1 == 1 {
                status(Status::BadArgument)
            } else {
                status(Status::NotFound)
            }
        },
    )?;
    d.f(ENV, "proxy_grpc_cancel", |_c: Cx<'_>, _token: u32| -> R {
        status(Status::NotFound)
    })?;
    d.f(ENV, "proxy_grpc_close", |_c: Cx<'_>, _token: u32| -> R {
        status(Status::NotFound)
    })?;

    // --- metrics
    d.f(
        ENV,
        "proxy_define_metric",
        |mut c: Cx<'_>, t: u32, nptr: u32, nsize: u32, id_ptr: u32| -> R {
            let Some(kind) = MetricKind::from_abi(t) else {
                return status(Status::BadArgument);
            };
            let Some(name) = read(&c, nptr, nsize) else {
                return status(Status::InvalidMemoryAccess);
            };
            let name = String::from_utf8_lossy(&name).into_owned();
            let st = c.data_mut();
            let slot = match kind {
                MetricKind::Counter => 0,
                MetricKind::Gauge => 1,
                MetricKind::Histogram => 2,
            };
            let next = st.next_metric_id.get_mut(slot).map(|n| {
                *n += metric::ID_INCREMENT;
                *n
            });
            let Some(id) = next else {
                return status(Status::BadArgument);
            };
            st.metric_ids.insert(id, (kind, name.clone()));
            st.host
                .shared
                .lock()
                .metrics
                .entry((kind, name))
                .or_default();
            if !write_u32(&mut c, id_ptr, id) {
                return status(Status::InvalidMemoryAccess);
            }
            status(Status::Ok)
        },
    )?;
    d.f(
        ENV,
        "proxy_increment_metric",
        |c: Cx<'_>, id: u32, offset: i64| -> R {
            let st = c.data();
            let kind = MetricKind::from_abi(id & metric::TYPE_MASK);
            let Some(key) = st.metric_ids.get(&id).cloned() else {
                return status(match kind {
                    Some(MetricKind::Counter) | Some(MetricKind::Gauge) => Status::NotFound,
                    _ => Status::BadArgument,
                });
            };
            let mut shared = st.host.shared.lock();
            let m = shared.metrics.entry(key.clone()).or_default();
            match key.0 {
                MetricKind::Counter => {
                    if offset <= 0 {
                        return status(Status::BadArgument);
                    }
                    m.value = m.value.saturating_add(offset.unsigned_abs());
                }
                MetricKind::Gauge => {
                    if offset > 0 {
                        m.value = m.value.wrapping_add(offset.unsigned_abs());
                    } else {
                        m.value = m.value.wrapping_sub(offset.unsigned_abs());
                    }
                }
                MetricKind::Histogram => return status(Status::BadArgument),
            }
            status(Status::Ok)
        },
    )?;
    d.f(
        ENV,
        "proxy_record_metric",
        |c: Cx<'_>, id: u32, value: u64| -> R {
            let st = c.data();
            let Some(key) = st.metric_ids.get(&id).cloned() else {
                return status(Status::NotFound);
            };
            let mut shared = st.host.shared.lock();
            let m = shared.metrics.entry(key.clone()).or_default();
            match key.0 {
                // Envoy: record on a counter adds.
                MetricKind::Counter => m.value = m.value.saturating_add(value),
                MetricKind::Gauge => m.value = value,
                MetricKind::Histogram => m.samples.push(value),
            }
            status(Status::Ok)
        },
    )?;
    d.f(
        ENV,
        "proxy_get_metric",
        |mut c: Cx<'_>, id: u32, ptr: u32| -> R {
            let st = c.data();
            let kind = MetricKind::from_abi(id & metric::TYPE_MASK);
            if !matches!(kind, Some(MetricKind::Counter) | Some(MetricKind::Gauge)) {
                return status(Status::BadArgument);
            }
            let Some(key) = st.metric_ids.get(&id).cloned() else {
                return status(Status::NotFound);
            };
            let value = st
                .host
                .shared
                .lock()
                .metrics
                .get(&key)
                .map_or(0, |m| m.value);
            if !write_u64(&mut c, ptr, value) {
                return status(Status::InvalidMemoryAccess);
            }
            status(Status::Ok)
        },
    )?;
    Ok(())
}

fn define_wasi(d: &mut Defs<'_>) -> Result<()> {
    d.f(
        WASI,
        "fd_write",
        |mut c: Cx<'_>, fd: u32, iovs: u32, iovs_len: u32, nwritten_ptr: u32| -> R {
            let level = match fd {
                1 => LogLevel::Info,
                2 => LogLevel::Error,
                _ => return Ok(errno::BADF),
            };
            let mut text = Vec::new();
            for i in 0..iovs_len {
                let Some(iov) = read(&c, iovs.wrapping_add(i.wrapping_mul(8)), 8) else {
                    return Ok(errno::FAULT);
                };
                let (Some(ptr), Some(len)) = (iov.get(0..4), iov.get(4..8)) else {
                    return Ok(errno::FAULT);
                };
                let ptr = u32::from_le_bytes(ptr.try_into().unwrap_or_default());
                let len = u32::from_le_bytes(len.try_into().unwrap_or_default());
                let Some(bytes) = read(&c, ptr, len) else {
                    return Ok(errno::FAULT);
                };
                text.extend_from_slice(&bytes);
            }
            let written = len32(&text);
            if text.last() == Some(&b'\n') {
                text.pop();
            }
            if written > 0 {
                let st = c.data_mut();
                let id = st.target();
                st.log(id, level, String::from_utf8_lossy(&text).into_owned());
            }
            if !write_u32(&mut c, nwritten_ptr, written) {
                return Ok(errno::FAULT);
            }
            Ok(errno::SUCCESS)
        },
    )?;
    d.f(
        WASI,
        "fd_read",
        |_c: Cx<'_>, _fd: u32, _iovs: u32, _n: u32, _nread: u32| -> R { Ok(errno::NOSYS) },
    )?;
    d.f(WASI, "fd_close", |_c: Cx<'_>, _fd: u32| -> R {
        Ok(errno::SUCCESS)
    })?;
    d.f(
        WASI,
        "fd_seek",
        |_c: Cx<'_>, _fd: u32, _offset: i64, _whence: u32, _newoffset: u32| -> R {
            Ok(errno::SPIPE)
        },
    )?;
    d.f(
        WASI,
        "fd_fdstat_get",
        |mut c: Cx<'_>, fd: u32, stat_ptr: u32| -> R {
            if fd != 1 && fd != 2 {
                return Ok(errno::BADF);
            }
            // filetype/flags 0, rights_base = FD_WRITE (64), rights_inheriting = 0.
            let mut stat = [0u8; 24];
            if let Some(rights) = stat.get_mut(8..16) {
                rights.copy_from_slice(&64u64.to_le_bytes());
            }
            if !write(&mut c, stat_ptr, &stat) {
                return Ok(errno::FAULT);
            }
            Ok(errno::SUCCESS)
        },
    )?;
    d.f(
        WASI,
        "fd_prestat_get",
        |_c: Cx<'_>, _fd: u32, _ptr: u32| -> R {
            // No pre-opened directories.
            Ok(errno::BADF)
        },
    )?;
    d.f(
        WASI,
        "fd_prestat_dir_name",
        |_c: Cx<'_>, _fd: u32, _ptr: u32, _len: u32| -> R { Ok(errno::NOSYS) },
    )?;
    d.f(
        WASI,
        "environ_sizes_get",
        |mut c: Cx<'_>, count_ptr: u32, size_ptr: u32| -> R {
            let env = &c.data().config.env;
            let count = u32::try_from(env.len()).unwrap_or(u32::MAX);
            let size: usize = env.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
            let size = u32::try_from(size).unwrap_or(u32::MAX);
            if !write_u32(&mut c, count_ptr, count) || !write_u32(&mut c, size_ptr, size) {
                return Ok(errno::FAULT);
            }
            Ok(errno::SUCCESS)
        },
    )?;
    d.f(
        WASI,
        "environ_get",
        |mut c: Cx<'_>, environ_ptr: u32, buf_ptr: u32| -> R {
            let env = c.data().config.env.clone();
            let mut at = buf_ptr;
            for (i, (k, v)) in env.iter().enumerate() {
                let entry = format!("{k}={v}\0");
                let slot = environ_ptr.wrapping_add(u32::try_from(i * 4).unwrap_or(u32::MAX));
                if !write_u32(&mut c, slot, at) || !write(&mut c, at, entry.as_bytes()) {
                    return Ok(errno::FAULT);
                }
                at = at.wrapping_add(len32(entry.as_bytes()));
            }
            Ok(errno::SUCCESS)
        },
    )?;
    d.f(
        WASI,
        "args_sizes_get",
        |mut c: Cx<'_>, argc_ptr: u32, size_ptr: u32| -> R {
            if !write_u32(&mut c, argc_ptr, 0) || !write_u32(&mut c, size_ptr, 0) {
                return Ok(errno::FAULT);
            }
            Ok(errno::SUCCESS)
        },
    )?;
    d.f(WASI, "args_get", |_c: Cx<'_>, _argv: u32, _buf: u32| -> R {
        Ok(errno::SUCCESS)
    })?;
    d.f(
        WASI,
        "clock_time_get",
        |mut c: Cx<'_>, id: u32, _precision: u64, ptr: u32| -> R {
            let (real, mono) = now_ns(&c);
            let t = match id {
                0 => real,
                1..=3 => mono,
                _ => return Ok(errno::INVAL),
            };
            if !write_u64(&mut c, ptr, t) {
                return Ok(errno::FAULT);
            }
            Ok(errno::SUCCESS)
        },
    )?;
    d.f(
        WASI,
        "clock_res_get",
        |mut c: Cx<'_>, id: u32, ptr: u32| -> R {
            if id > 3 {
                return Ok(errno::INVAL);
            }
            if !write_u64(&mut c, ptr, 1) {
                return Ok(errno::FAULT);
            }
            Ok(errno::SUCCESS)
        },
    )?;
    d.f(
        WASI,
        "random_get",
        |mut c: Cx<'_>, buf: u32, len: u32| -> R {
            // proxy-wasm-cpp-host refuses more than 64 KiB at once.
            if len > 65_536 {
                return Ok(errno::INVAL);
            }
            let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0) + 8);
            while bytes.len() < usize::try_from(len).unwrap_or(0) {
                let r = c.data_mut().next_random();
                bytes.extend_from_slice(&r.to_le_bytes());
            }
            bytes.truncate(usize::try_from(len).unwrap_or(0));
            if !write(&mut c, buf, &bytes) {
                return Ok(errno::FAULT);
            }
            Ok(errno::SUCCESS)
        },
    )?;
    d.f(WASI, "sched_yield", |_c: Cx<'_>| -> R {
        Ok(errno::SUCCESS)
    })?;
    d.f(
        WASI,
        "proc_exit",
        |mut c: Cx<'_>, code: u32| -> wasmtime::Result<()> {
            c.data_mut().exit_code = Some(code);
            Err(wasmtime::Error::new(HostAbort(format!(
                "the plugin called proc_exit({code})"
            ))))
        },
    )?;
    Ok(())
}
