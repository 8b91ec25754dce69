//! One emulated Envoy worker VM: a wasmtime instance of the plugin plus the per-VM state the host
//! functions operate on.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, bail, Context as _, Result};
use wasmtime::{Linker, Memory, Module, Store, TypedFunc};

use crate::abi::{property_path, LogLevel};
use crate::headers::HeaderMap;
use crate::host::{Host, LogEntry};
use crate::stream::{HttpStream, Request};

/// Everything a test can choose about one VM. Defaults follow Envoy and the project's config:
/// `allow_on_headers_stop_iteration` is on, log level is `Info`, `vm_id` and `root_id` are empty.
#[derive(Clone, Debug)]
pub struct VmConfig {
    pub plugin_config: Vec<u8>,
    pub vm_config: Vec<u8>,
    /// WASI environment (Envoy: `vm_config.environment_variables`).
    pub env: Vec<(String, String)>,
    /// Exposed as the `plugin_root_id` property.
    pub root_id: String,
    /// Shared data and queues are scoped by vm_id, like Envoy's.
    pub vm_id: String,
    /// Exposed as the `plugin_name` property.
    pub plugin_name: String,
    /// Envoy's `allow_on_headers_stop_iteration`: without it, `Pause` from a headers callback
    /// becomes StopAllIterationAndWatermark and the body callbacks never come.
    pub allow_on_headers_stop_iteration: bool,
    /// What `proxy_get_log_level` answers.
    pub log_level: LogLevel,
    /// Seed of the deterministic generator behind WASI `random_get`.
    pub random_seed: u64,
    /// VM-wide properties: (path, value). Requests can add their own.
    pub properties: Vec<(Vec<String>, Vec<u8>)>,
    /// When set, `proxy_http_call` to any other upstream fails with BadArgument (Envoy's answer
    /// for an unknown cluster). Empty: every cluster exists.
    pub clusters: Vec<String>,
    /// Longest a single callback may run before it is interrupted and reported (a plugin stuck
    /// in a loop). Envoy has no such limit; this keeps tests from hanging.
    pub callback_deadline: Duration,
}

impl VmConfig {
    pub fn new(plugin_config: &str) -> VmConfig {
        VmConfig {
            plugin_config: plugin_config.as_bytes().to_vec(),
            vm_config: Vec::new(),
            env: Vec::new(),
            root_id: String::new(),
            vm_id: String::new(),
            plugin_name: String::new(),
            allow_on_headers_stop_iteration: true,
            log_level: LogLevel::Info,
            random_seed: 0x9E37_79B9_7F4A_7C15,
            properties: Vec::new(),
            clusters: Vec::new(),
            callback_deadline: Duration::from_secs(20),
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> VmConfig {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn vm_config(mut self, vm_config: &str) -> VmConfig {
        self.vm_config = vm_config.as_bytes().to_vec();
        self
    }

    pub fn root_id(mut self, root_id: &str) -> VmConfig {
        self.root_id = root_id.to_string();
        self
    }

    pub fn vm_id(mut self, vm_id: &str) -> VmConfig {
        self.vm_id = vm_id.to_string();
        self
    }

    pub fn allow_on_headers_stop_iteration(mut self, allow: bool) -> VmConfig {
        self.allow_on_headers_stop_iteration = allow;
        self
    }

    pub fn log_level(mut self, level: LogLevel) -> VmConfig {
        self.log_level = level;
        self
    }

    pub fn random_seed(mut self, seed: u64) -> VmConfig {
        self.random_seed = seed;
        self
    }

    pub fn property(mut self, path: &[&str], value: &[u8]) -> VmConfig {
        self.properties
            .push((path.iter().map(|s| s.to_string()).collect(), value.to_vec()));
        self
    }

    pub fn callback_deadline(mut self, deadline: Duration) -> VmConfig {
        self.callback_deadline = deadline;
        self
    }

    pub fn clusters(mut self, clusters: &[&str]) -> VmConfig {
        self.clusters = clusters.iter().map(|s| s.to_string()).collect();
        self
    }
}

/// An outgoing `proxy_http_call`, waiting for [`Vm::respond_http_call`] or [`Vm::fail_http_call`].
#[derive(Clone, Debug)]
pub struct HttpCall {
    pub token: u32,
    /// The context whose callback dispatched the call.
    pub context_id: u32,
    pub upstream: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub trailers: HeaderMap,
    pub timeout_ms: u32,
}

pub(crate) struct HttpCallResponse {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub trailers: HeaderMap,
}

/// Store data: everything host functions can see.
pub(crate) struct VmState {
    pub host: Host,
    pub index: usize,
    pub label: String,
    pub config: VmConfig,
    pub properties: BTreeMap<Vec<u8>, Vec<u8>>,
    pub memory: Option<Memory>,
    pub alloc: Option<TypedFunc<u32, u32>>,
    pub rng: u64,
    pub root_id: u32,
    pub next_context_id: u32,
    /// Context of the callback being run (0 outside callbacks).
    pub current: u32,
    /// Set by `proxy_set_effective_context` for the rest of the callback.
    pub effective: u32,
    /// Name of the export being run, for messages.
    pub in_call: &'static str,
    pub plugin_config_visible: bool,
    pub streams: HashMap<u32, HttpStream>,
    pub tick_period_ms: u32,
    pub next_tick_ns: u64,
    pub metric_ids: HashMap<u32, (crate::host::MetricKind, String)>,
    pub next_metric_id: [u32; 3],
    /// Log lines of the export being run (used to report panics).
    pub call_logs: Vec<LogEntry>,
    pub all_logs: Vec<LogEntry>,
    pub http_calls: BTreeMap<u32, HttpCall>,
    pub next_http_token: u32,
    pub http_call_response: Option<HttpCallResponse>,
    /// What `proxy_get_status` answers.
    pub status: (u32, Vec<u8>),
    pub root_done_pending: bool,
    pub root_done_called: bool,
    /// Set by WASI `proc_exit`.
    pub exit_code: Option<u32>,
}

impl VmState {
    /// The context host calls act on: the effective context if one was set, else the current one.
    pub fn target(&self) -> u32 {
        if self.effective != 0 {
            self.effective
        } else {
            self.current
        }
    }

    pub fn log(&mut self, context_id: u32, level: LogLevel, message: String) {
        let entry = LogEntry {
            vm: self.label.clone(),
            context_id,
            level,
            message,
        };
        if let Some(s) = self.streams.get_mut(&context_id) {
            s.logs.push(entry.clone());
        }
        self.call_logs.push(entry.clone());
        self.all_logs.push(entry.clone());
        self.host.shared.lock().log(entry);
    }

    /// A note from the emulator about something Envoy would silently ignore or do differently.
    pub fn warn(&mut self, context_id: u32, message: String) {
        let message = format!("[wasm-host] {message}");
        if let Some(s) = self.streams.get_mut(&context_id) {
            s.warnings.push(message.clone());
        }
        let entry = LogEntry {
            vm: "host".to_string(),
            context_id,
            level: LogLevel::Warn,
            message,
        };
        self.all_logs.push(entry.clone());
        self.host.shared.lock().log(entry);
    }

    pub fn next_random(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// `proxy_on_http_call_response(context, token, headers, body size, trailers)`.
type HttpCallResponseFn = TypedFunc<(u32, u32, u32, u32, u32), ()>;

#[derive(Default)]
pub(crate) struct Exports {
    pub initialize: Option<TypedFunc<(), ()>>,
    pub start: Option<TypedFunc<(), ()>>,
    pub on_context_create: Option<TypedFunc<(u32, u32), ()>>,
    pub on_vm_start: Option<TypedFunc<(u32, u32), u32>>,
    pub on_configure: Option<TypedFunc<(u32, u32), u32>>,
    pub on_tick: Option<TypedFunc<u32, ()>>,
    pub on_queue_ready: Option<TypedFunc<(u32, u32), ()>>,
    pub on_request_headers: Option<TypedFunc<(u32, u32, u32), u32>>,
    pub on_request_body: Option<TypedFunc<(u32, u32, u32), u32>>,
    pub on_request_trailers: Option<TypedFunc<(u32, u32), u32>>,
    pub on_response_headers: Option<TypedFunc<(u32, u32, u32), u32>>,
    pub on_response_body: Option<TypedFunc<(u32, u32, u32), u32>>,
    pub on_response_trailers: Option<TypedFunc<(u32, u32), u32>>,
    pub on_http_call_response: Option<HttpCallResponseFn>,
    pub on_log: Option<TypedFunc<u32, ()>>,
    pub on_done: Option<TypedFunc<u32, u32>>,
    pub on_delete: Option<TypedFunc<u32, ()>>,
}

/// One plugin VM, as one Envoy worker thread runs it. Created by [`Host::vm`].
pub struct Vm {
    pub(crate) store: Store<VmState>,
    pub(crate) exports: Exports,
    pub(crate) failed: Option<String>,
    vm_started: bool,
    configured: bool,
}

/// Looks up an optional export with the signature the ABI prescribes.
fn typed<P, R>(
    instance: &wasmtime::Instance,
    store: &mut Store<VmState>,
    name: &str,
) -> Result<Option<TypedFunc<P, R>>>
where
    P: wasmtime::WasmParams,
    R: wasmtime::WasmResults,
{
    if instance.get_func(&mut *store, name).is_none() {
        return Ok(None);
    }
    instance
        .get_typed_func::<P, R>(&mut *store, name)
        .map(Some)
        .map_err(|e| anyhow!("export `{name}` has the wrong signature: {e}"))
}

impl Vm {
    pub(crate) fn start(host: Host, index: usize, module: &Module, config: VmConfig) -> Result<Vm> {
        let engine = host.shared.engine.clone();
        let mut linker: Linker<VmState> = Linker::new(&engine);
        let defined = crate::imports::define(&mut linker)?;
        crate::imports::check_imports(&defined, module)?;

        let exported: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
        if !exported.iter().any(|e| e == "proxy_abi_version_0_2_1") {
            let abi: Vec<&String> = exported
                .iter()
                .filter(|e| e.starts_with("proxy_abi_version"))
                .collect();
            bail!(
                "module does not export proxy_abi_version_0_2_1 (ABI exports found: {abi:?}); \
                 this host implements proxy-wasm ABI 0.2.1 only"
            );
        }

        let mut properties = BTreeMap::new();
        properties.insert(
            b"plugin_root_id".to_vec(),
            config.root_id.as_bytes().to_vec(),
        );
        properties.insert(
            b"plugin_name".to_vec(),
            config.plugin_name.as_bytes().to_vec(),
        );
        properties.insert(b"plugin_vm_id".to_vec(), config.vm_id.as_bytes().to_vec());
        for (path, value) in &config.properties {
            properties.insert(property_path(path), value.clone());
        }
        let rng = config.random_seed ^ (index as u64).wrapping_mul(0x1000_0000_01B3) | 1;
        let state = VmState {
            host,
            index,
            label: format!("vm{index}"),
            config,
            properties,
            memory: None,
            alloc: None,
            rng,
            root_id: 1,
            next_context_id: 2,
            current: 0,
            effective: 0,
            in_call: "instantiate",
            plugin_config_visible: false,
            streams: HashMap::new(),
            tick_period_ms: 0,
            next_tick_ns: 0,
            metric_ids: HashMap::new(),
            next_metric_id: [
                crate::abi::metric::COUNTER,
                crate::abi::metric::GAUGE,
                crate::abi::metric::HISTOGRAM,
            ],
            call_logs: Vec::new(),
            all_logs: Vec::new(),
            http_calls: BTreeMap::new(),
            next_http_token: 1,
            http_call_response: None,
            status: (0, Vec::new()),
            root_done_pending: false,
            root_done_called: false,
            exit_code: None,
        };
        let mut store = Store::new(&engine, state);
        let instance = linker
            .instantiate(&mut store, module)
            .map_err(|e| anyhow!("instantiating the module: {e:?}"))?;

        let memory = instance
            .get_memory(&mut store, "memory")
            .context("module does not export its `memory`")?;
        let alloc = match typed::<u32, u32>(&instance, &mut store, "proxy_on_memory_allocate")? {
            Some(f) => f,
            None => typed::<u32, u32>(&instance, &mut store, "malloc")?
                .context("module exports neither proxy_on_memory_allocate nor malloc")?,
        };
        store.data_mut().memory = Some(memory);
        store.data_mut().alloc = Some(alloc);

        let exports = Exports {
            initialize: typed(&instance, &mut store, "_initialize")?,
            start: typed(&instance, &mut store, "_start")?,
            on_context_create: typed(&instance, &mut store, "proxy_on_context_create")?,
            on_vm_start: typed(&instance, &mut store, "proxy_on_vm_start")?,
            on_configure: typed(&instance, &mut store, "proxy_on_configure")?,
            on_tick: typed(&instance, &mut store, "proxy_on_tick")?,
            on_queue_ready: typed(&instance, &mut store, "proxy_on_queue_ready")?,
            on_request_headers: typed(&instance, &mut store, "proxy_on_request_headers")?,
            on_request_body: typed(&instance, &mut store, "proxy_on_request_body")?,
            on_request_trailers: typed(&instance, &mut store, "proxy_on_request_trailers")?,
            on_response_headers: typed(&instance, &mut store, "proxy_on_response_headers")?,
            on_response_body: typed(&instance, &mut store, "proxy_on_response_body")?,
            on_response_trailers: typed(&instance, &mut store, "proxy_on_response_trailers")?,
            on_http_call_response: typed(&instance, &mut store, "proxy_on_http_call_response")?,
            on_log: typed(&instance, &mut store, "proxy_on_log")?,
            on_done: typed(&instance, &mut store, "proxy_on_done")?,
            on_delete: typed(&instance, &mut store, "proxy_on_delete")?,
        };
        let mut vm = Vm {
            store,
            exports,
            failed: None,
            vm_started: false,
            configured: false,
        };

        if let Some(f) = vm.exports.initialize.clone() {
            vm.invoke("_initialize", 0, |s| f.call(s, ()))?;
        }
        if let Some(f) = vm.exports.start.clone() {
            vm.invoke("_start", 0, |s| f.call(s, ()))?;
        }
        let root = vm.store.data().root_id;
        if let Some(f) = vm.exports.on_context_create.clone() {
            vm.invoke("proxy_on_context_create", root, |s| f.call(s, (root, 0)))?;
        }
        let vm_config_len = len32(&vm.store.data().config.vm_config);
        vm.store.data_mut().plugin_config_visible = true;
        let started = match vm.exports.on_vm_start.clone() {
            Some(f) => vm.invoke("proxy_on_vm_start", root, |s| {
                f.call(s, (root, vm_config_len))
            }),
            None => Ok(1),
        };
        let started = match started {
            Ok(v) => v != 0,
            Err(e) => {
                vm.store.data_mut().plugin_config_visible = false;
                return Err(e);
            }
        };
        vm.vm_started = started;
        if started {
            let plugin_config_len = len32(&vm.store.data().config.plugin_config);
            let configured = match vm.exports.on_configure.clone() {
                Some(f) => vm.invoke("proxy_on_configure", root, |s| {
                    f.call(s, (root, plugin_config_len))
                }),
                None => Ok(1),
            };
            vm.store.data_mut().plugin_config_visible = false;
            vm.configured = configured? != 0;
        } else {
            vm.store.data_mut().plugin_config_visible = false;
        }
        vm.pump()?;
        Ok(vm)
    }

    /// Runs one export (a "VM call" in Envoy's words) and turns a trap into an error carrying the
    /// plugin's panic message. After a trap the VM is dead, as in Envoy (every later call fails).
    pub(crate) fn invoke<R>(
        &mut self,
        what: &'static str,
        context: u32,
        f: impl FnOnce(&mut Store<VmState>) -> wasmtime::Result<R>,
    ) -> Result<R> {
        if let Some(msg) = &self.failed {
            bail!(
                "{}: VM is dead after an earlier failure (Envoy would answer 503 from now on): {msg}",
                self.store.data().label
            );
        }
        let deadline = {
            let st = self.store.data_mut();
            st.current = context;
            st.effective = 0;
            st.in_call = what;
            st.call_logs.clear();
            st.config.callback_deadline
        };
        let ticks = u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX)
            * crate::host::EPOCHS_PER_SECOND
            / 1000;
        self.store.set_epoch_deadline(ticks.max(1));
        let result = f(&mut self.store);
        let st = self.store.data_mut();
        st.current = 0;
        st.effective = 0;
        match result {
            Ok(v) => Ok(v),
            Err(e) => {
                let msg = describe_failure(st, what, context, &e);
                self.failed = Some(msg.clone());
                Err(anyhow!(msg))
            }
        }
    }

    /// Result of `proxy_on_configure` at start-up (false: the plugin rejected its configuration).
    pub fn configure(&self) -> bool {
        self.configured
    }

    /// Result of `proxy_on_vm_start`.
    pub fn vm_started(&self) -> bool {
        self.vm_started
    }

    /// Calls `proxy_on_configure` again with a new plugin configuration.
    pub fn reconfigure(&mut self, plugin_config: &str) -> Result<bool> {
        self.store.data_mut().config.plugin_config = plugin_config.as_bytes().to_vec();
        let root = self.store.data().root_id;
        let len = len32(plugin_config.as_bytes());
        self.store.data_mut().plugin_config_visible = true;
        let r = match self.exports.on_configure.clone() {
            Some(f) => self.invoke("proxy_on_configure", root, |s| f.call(s, (root, len))),
            None => Ok(1),
        };
        self.store.data_mut().plugin_config_visible = false;
        self.configured = r? != 0;
        self.pump()?;
        Ok(self.configured)
    }

    /// `Some(message)` once a trap (panic) or a fatal host error killed this VM.
    pub fn failure(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// Label used in logs (`vm0`, `vm1`, …).
    pub fn label(&self) -> &str {
        &self.store.data().label
    }

    pub fn host(&self) -> &Host {
        &self.store.data().host
    }

    /// Sets the host clock (shared by every VM of the host, like Envoy's time source).
    pub fn set_time(&mut self, time: SystemTime) {
        self.store.data().host.set_time(time);
    }

    pub fn set_time_nanos(&mut self, ns: u64) {
        self.store.data().host.set_time_nanos(ns);
    }

    /// Tick period the plugin asked for with `proxy_set_tick_period_milliseconds`.
    pub fn tick_period(&self) -> Option<Duration> {
        match self.store.data().tick_period_ms {
            0 => None,
            ms => Some(Duration::from_millis(u64::from(ms))),
        }
    }

    /// Fires `proxy_on_tick` now if the plugin set a tick period; returns whether it did.
    pub fn tick(&mut self) -> Result<bool> {
        if self.store.data().tick_period_ms == 0 {
            return Ok(false);
        }
        self.fire_tick()?;
        Ok(true)
    }

    fn fire_tick(&mut self) -> Result<()> {
        let root = self.store.data().root_id;
        if let Some(f) = self.exports.on_tick.clone() {
            self.invoke("proxy_on_tick", root, |s| f.call(s, root))?;
        }
        self.run_after_call_actions()?;
        self.pump()
    }

    /// Advances the host clock by `by`, firing every tick that falls due on the way (with the
    /// clock set to the tick's due time). Returns the number of ticks fired.
    pub fn advance_time(&mut self, by: Duration) -> Result<usize> {
        let host = self.store.data().host.clone();
        let start = host.shared.lock().realtime_ns;
        let end = start.saturating_add(u64::try_from(by.as_nanos()).unwrap_or(u64::MAX));
        let mut fired = 0usize;
        loop {
            let period = u64::from(self.store.data().tick_period_ms) * 1_000_000;
            let due = self.store.data().next_tick_ns;
            if period == 0 || due > end {
                break;
            }
            let now = host.shared.lock().realtime_ns;
            if due > now {
                host.advance_clock(Duration::from_nanos(due - now));
            }
            self.store.data_mut().next_tick_ns = due.saturating_add(period);
            self.fire_tick()?;
            fired += 1;
        }
        let now = host.shared.lock().realtime_ns;
        if end > now {
            host.advance_clock(Duration::from_nanos(end - now));
        }
        Ok(fired)
    }

    /// Opens an HTTP stream: creates its context (`proxy_on_context_create`) and returns a
    /// handle to drive it.
    pub fn request(&mut self) -> Result<Request<'_>> {
        let id = self.open_request()?;
        Ok(Request { vm: self, id })
    }

    /// Like [`Vm::request`] but returns the context id, to interleave several streams.
    pub fn open_request(&mut self) -> Result<u32> {
        let (id, root) = {
            let st = self.store.data_mut();
            let id = st.next_context_id;
            st.next_context_id += 1;
            st.streams.insert(id, HttpStream::default());
            (id, st.root_id)
        };
        if let Some(f) = self.exports.on_context_create.clone() {
            self.invoke("proxy_on_context_create", id, |s| f.call(s, (id, root)))?;
        }
        Ok(id)
    }

    /// A handle to a stream opened earlier with [`Vm::open_request`].
    pub fn stream(&mut self, id: u32) -> Result<Request<'_>> {
        if !self.store.data().streams.contains_key(&id) {
            bail!("no HTTP stream with context id {id}");
        }
        Ok(Request { vm: self, id })
    }

    /// Adds or replaces a VM-wide property (e.g. `["xds", "upstream_host_metadata"]`).
    pub fn set_property(&mut self, path: &[&str], value: &[u8]) {
        self.store
            .data_mut()
            .properties
            .insert(property_path(path), value.to_vec());
    }

    /// Everything this VM (and the emulator about it) logged.
    pub fn logs(&self) -> &[LogEntry] {
        &self.store.data().all_logs
    }

    /// `proxy_http_call`s still waiting for an answer.
    pub fn pending_http_calls(&self) -> Vec<HttpCall> {
        self.store.data().http_calls.values().cloned().collect()
    }

    /// Answers a pending `proxy_http_call`: calls `proxy_on_http_call_response`, then runs
    /// what the plugin asked for meanwhile (resume the stream, local reply).
    pub fn respond_http_call<K: AsRef<str>, V: AsRef<[u8]>>(
        &mut self,
        token: u32,
        headers: &[(K, V)],
        body: &[u8],
        trailers: &[(K, V)],
    ) -> Result<()> {
        let response = HttpCallResponse {
            headers: HeaderMap::from_pairs(headers),
            body: body.to_vec(),
            trailers: HeaderMap::from_pairs(trailers),
        };
        self.deliver_http_call(token, Some(response))
    }

    /// Fails a pending `proxy_http_call` like a reset/timeout: `proxy_on_http_call_response` with
    /// no headers and body, and `proxy_get_status` answering BrokenConnection "reset".
    pub fn fail_http_call(&mut self, token: u32) -> Result<()> {
        self.deliver_http_call(token, None)
    }

    fn deliver_http_call(&mut self, token: u32, response: Option<HttpCallResponse>) -> Result<()> {
        if self.store.data_mut().http_calls.remove(&token).is_none() {
            bail!("no pending http call with token {token}");
        }
        let root = self.store.data().root_id;
        let (nh, nb, nt) = match &response {
            Some(r) => (
                len32_n(r.headers.len()),
                len32(&r.body),
                len32_n(r.trailers.len()),
            ),
            None => (0, 0, 0),
        };
        {
            let st = self.store.data_mut();
            if response.is_none() {
                st.status = (
                    crate::abi::Status::BrokenConnection.code(),
                    b"reset".to_vec(),
                );
            }
            st.http_call_response = Some(response.unwrap_or(HttpCallResponse {
                headers: HeaderMap::new(),
                body: Vec::new(),
                trailers: HeaderMap::new(),
            }));
        }
        let result = match self.exports.on_http_call_response.clone() {
            Some(f) => self.invoke("proxy_on_http_call_response", root, |s| {
                f.call(s, (root, token, nh, nb, nt))
            }),
            None => Ok(()),
        };
        {
            let st = self.store.data_mut();
            st.http_call_response = None;
            st.status = (0, Vec::new());
        }
        result?;
        self.run_after_call_actions()?;
        self.pump()
    }

    /// Delivers pending `proxy_on_queue_ready` notifications (Envoy posts them to the worker's
    /// event loop; the emulator runs them at the end of each operation).
    pub fn pump(&mut self) -> Result<()> {
        let index = self.store.data().index;
        for _ in 0..1000 {
            let pending = {
                let host = self.store.data().host.clone();
                let mut state = host.shared.lock();
                state.queue_ready.remove(&index).unwrap_or_default()
            };
            if pending.is_empty() {
                return Ok(());
            }
            for (ctx, token) in pending {
                if let Some(f) = self.exports.on_queue_ready.clone() {
                    self.invoke("proxy_on_queue_ready", ctx, |s| f.call(s, (ctx, token)))?;
                }
                self.run_after_call_actions()?;
            }
        }
        bail!("proxy_on_queue_ready keeps re-enqueueing (1000 rounds)")
    }

    /// Ends the root context like Envoy at VM shutdown: `proxy_on_done`, then `proxy_on_delete`
    /// unless the plugin answered false (then it must call `proxy_done` first).
    pub fn shutdown(&mut self) -> Result<bool> {
        let root = self.store.data().root_id;
        let done = match self.exports.on_done.clone() {
            Some(f) => self.invoke("proxy_on_done", root, |s| f.call(s, root))? != 0,
            None => true,
        };
        self.store.data_mut().root_done_pending = !done;
        if done {
            if let Some(f) = self.exports.on_delete.clone() {
                self.invoke("proxy_on_delete", root, |s| f.call(s, root))?;
            }
        }
        Ok(done)
    }
}

pub(crate) fn len32(b: &[u8]) -> u32 {
    len32_n(b.len())
}

pub(crate) fn len32_n(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Error raised by a host function for something Envoy would treat as fatal for the VM.
#[derive(Debug)]
pub(crate) struct HostAbort(pub String);

impl std::fmt::Display for HostAbort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostAbort {}

fn describe_failure(st: &VmState, what: &str, context: u32, e: &wasmtime::Error) -> String {
    let mut msg = format!("{}: {what} (context {context}) failed", st.label);
    let panics: Vec<&str> = st
        .call_logs
        .iter()
        .filter(|l| l.level == LogLevel::Critical || l.level == LogLevel::Error)
        .map(|l| l.message.as_str())
        .collect();
    if !panics.is_empty() {
        msg.push_str(": ");
        msg.push_str(&panics.join(" | "));
    }
    if let Some(code) = st.exit_code {
        msg.push_str(&format!(" [proc_exit({code})]"));
    }
    if let Some(abort) = e.downcast_ref::<HostAbort>() {
        msg.push_str(&format!(" [host: {abort}]"));
    } else if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        if *trap == wasmtime::Trap::Interrupt {
            msg.push_str(&format!(
                " [interrupted: the callback ran longer than {:?} (endless loop?)]",
                st.config.callback_deadline
            ));
        } else {
            msg.push_str(&format!(" [trap: {trap}]"));
        }
    }
    msg.push_str(&format!("\n{e:?}"));
    msg
}
