//! The process-wide side of the emulator: what Envoy shares between its workers' VMs
//! (shared data, shared queues, stats, the clock) plus the log of everything the VMs printed.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context as _, Result};
use wasmtime::{Engine, Module};

use crate::abi::{metric, LogLevel, Status};
use crate::vm::{Vm, VmConfig};

/// Where to load a module from.
#[derive(Clone, Copy, Debug)]
pub enum Wasm<'a> {
    Path(&'a Path),
    Bytes(&'a [u8]),
}

impl<'a> From<&'a Path> for Wasm<'a> {
    fn from(p: &'a Path) -> Self {
        Wasm::Path(p)
    }
}
impl<'a> From<&'a PathBuf> for Wasm<'a> {
    fn from(p: &'a PathBuf) -> Self {
        Wasm::Path(p.as_path())
    }
}
impl<'a> From<&'a str> for Wasm<'a> {
    fn from(p: &'a str) -> Self {
        Wasm::Path(Path::new(p))
    }
}
impl<'a> From<&'a [u8]> for Wasm<'a> {
    fn from(b: &'a [u8]) -> Self {
        Wasm::Bytes(b)
    }
}
impl<'a> From<&'a Vec<u8>> for Wasm<'a> {
    fn from(b: &'a Vec<u8>) -> Self {
        Wasm::Bytes(b.as_slice())
    }
}

/// One line logged by a VM (`proxy_log`, or stdout/stderr through WASI `fd_write`), or by the
/// emulator itself (`vm` is then `"host"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Label of the VM that logged (`vm0`, `vm1`, …) or `host`.
    pub vm: String,
    /// Context the plugin was running in (root context, HTTP context), 0 outside callbacks.
    pub context_id: u32,
    pub level: LogLevel,
    pub message: String,
}

/// Kind of an Envoy stat defined through `proxy_define_metric`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

impl MetricKind {
    pub(crate) fn from_abi(t: u32) -> Option<MetricKind> {
        match t {
            metric::COUNTER => Some(MetricKind::Counter),
            metric::GAUGE => Some(MetricKind::Gauge),
            metric::HISTOGRAM => Some(MetricKind::Histogram),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct MetricValue {
    pub value: u64,
    pub samples: Vec<u64>,
}

#[derive(Default)]
pub(crate) struct Queue {
    pub vm_id: String,
    pub name: String,
    /// VM index and root context that registered the queue last (they get `on_queue_ready`).
    pub owner: Option<(usize, u32)>,
    pub items: VecDeque<Vec<u8>>,
}

pub(crate) struct SharedState {
    /// Envoy's `SharedData`: (vm_id, key) → (value, cas).
    pub shared_data: HashMap<(String, Vec<u8>), (Vec<u8>, u32)>,
    pub next_cas: u32,
    pub cas_mismatches: u64,
    pub queues: HashMap<u32, Queue>,
    pub queue_by_name: HashMap<(String, String), u32>,
    pub next_queue_token: u32,
    /// Per VM index: (root context, queue token) notifications still to deliver.
    pub queue_ready: HashMap<usize, Vec<(u32, u32)>>,
    pub metrics: HashMap<(MetricKind, String), MetricValue>,
    pub logs: Vec<LogEntry>,
    /// Every n-th `proxy_get_shared_data` of an existing key is followed by a write of the same
    /// value by "another worker", so the plugin's next CAS on it fails (0: off). Counting starts at
    /// the first read after it is switched on, which is always interfered with.
    pub interfere_every: u64,
    pub shared_gets: u64,
    pub realtime_ns: u64,
    pub monotonic_ns: u64,
}

impl SharedState {
    fn new() -> SharedState {
        SharedState {
            shared_data: HashMap::new(),
            next_cas: 1,
            cas_mismatches: 0,
            queues: HashMap::new(),
            queue_by_name: HashMap::new(),
            next_queue_token: 1,
            queue_ready: HashMap::new(),
            metrics: HashMap::new(),
            logs: Vec::new(),
            interfere_every: 0,
            shared_gets: 0,
            // 2025-01-01T00:00:00Z: a fixed, deterministic default.
            realtime_ns: 1_735_689_600_000_000_000,
            monotonic_ns: 1_000_000_000,
        }
    }

    /// proxy-wasm-cpp-host `SharedData::set`: cas 0 = unconditional; a cas on a missing key
    /// creates it; every write takes the next value of one global counter (never 0).
    pub fn set_shared_data(&mut self, vm_id: &str, key: &[u8], value: &[u8], cas: u32) -> Status {
        let k = (vm_id.to_string(), key.to_vec());
        if let Some((_, current)) = self.shared_data.get(&k) {
            if cas != 0 && cas != *current {
                self.cas_mismatches += 1;
                return Status::CasMismatch;
            }
        }
        let next = self.next_cas;
        self.next_cas = self.next_cas.wrapping_add(1);
        if self.next_cas == 0 {
            self.next_cas = 1;
        }
        self.shared_data.insert(k, (value.to_vec(), next));
        Status::Ok
    }

    pub fn log(&mut self, entry: LogEntry) {
        if std::env::var_os("WASM_HOST_LOG").is_some() {
            eprintln!(
                "[{} ctx={} {:?}] {}",
                entry.vm, entry.context_id, entry.level, entry.message
            );
        }
        self.logs.push(entry);
    }
}

pub(crate) struct Shared {
    pub engine: Engine,
    pub state: Mutex<SharedState>,
    pub next_vm: AtomicUsize,
    /// Yield the thread right after each `proxy_get_shared_data`, to make get/CAS races likely
    /// when VMs run on several threads.
    pub yield_after_get: std::sync::atomic::AtomicBool,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, SharedState> {
        // A poisoned lock only means another test thread panicked; the data is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The emulated Envoy process: owns what Envoy shares between worker threads (shared data
/// with CAS, shared queues, stats, the clock, the log). Create one per test, then one [`Vm`] per
/// emulated worker with [`Host::vm`]. Cloning gives another handle to the same host.
#[derive(Clone)]
pub struct Host {
    pub(crate) shared: Arc<Shared>,
}

/// Epoch ticks per second (see [`VmConfig::callback_deadline`](crate::VmConfig)).
pub(crate) const EPOCHS_PER_SECOND: u64 = 20;

/// One engine per process, with epoch interruption so that a callback stuck in a loop becomes
/// an error instead of a hung test. A background thread advances the epoch.
fn engine() -> Result<&'static Engine> {
    static ENGINE: OnceLock<std::result::Result<Engine, String>> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        // `WASM_HOST_PERFMAP=1`: names the plugin's compiled functions in /tmp/perf-<pid>.map,
        // so that `perf record` on wasm-bench shows where the filter's instructions go.
        if std::env::var_os("WASM_HOST_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine =
            Engine::new(&config).map_err(|e| format!("creating the wasmtime engine: {e}"))?;
        let ticker = engine.clone();
        std::thread::Builder::new()
            .name("wasm-host-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_millis(1000 / EPOCHS_PER_SECOND));
                ticker.increment_epoch();
            })
            .map_err(|e| format!("starting the epoch thread: {e}"))?;
        Ok(engine)
    });
    engine.as_ref().map_err(|e| anyhow!("{e}"))
}

/// Compiled modules, shared by every `Host` of the process (compiling the filter is the
/// slowest step of a test).
fn module_cache() -> &'static Mutex<HashMap<(u64, usize), Module>> {
    static CACHE: OnceLock<Mutex<HashMap<(u64, usize), Module>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

impl Host {
    /// A fresh host (shared data, stats, logs, clock); compiled modules are shared process-wide.
    pub fn new() -> Result<Host> {
        Ok(Host {
            shared: Arc::new(Shared {
                engine: engine()?.clone(),
                state: Mutex::new(SharedState::new()),
                next_vm: AtomicUsize::new(0),
                yield_after_get: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    /// Loads (compiling once per process) a module.
    pub fn module<'a>(&self, wasm: impl Into<Wasm<'a>>) -> Result<Module> {
        let bytes: std::borrow::Cow<'_, [u8]> = match wasm.into() {
            Wasm::Path(p) => std::fs::read(p)
                .with_context(|| format!("reading wasm module {}", p.display()))?
                .into(),
            Wasm::Bytes(b) => b.into(),
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut hasher);
        let key = (hasher.finish(), bytes.len());
        let mut cache = module_cache().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = cache.get(&key) {
            return Ok(m.clone());
        }
        let module = self.compile_with_disk_cache(&bytes)?;
        cache.insert(key, module.clone());
        Ok(module)
    }

    /// Compiling the filter with an unoptimised (dev-profile) cranelift takes seconds per MB, so
    /// compiled code is kept in `target/wasm-host-cache/` (or `$WASM_HOST_CACHE_DIR`; set it to
    /// `off` to disable), keyed by the wasm bytes and the engine's compatibility hash.
    fn compile_with_disk_cache(&self, bytes: &[u8]) -> Result<Module> {
        let engine = &self.shared.engine;
        let dir = match std::env::var_os("WASM_HOST_CACHE_DIR") {
            Some(d) if d == "off" => None,
            Some(d) => Some(PathBuf::from(d)),
            None => Some(crate::workspace_root().join("target/wasm-host-cache")),
        };
        let Some(dir) = dir else {
            return Module::new(engine, bytes).map_err(|e| anyhow!("compiling wasm module: {e:?}"));
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut hasher);
        bytes.len().hash(&mut hasher);
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let path = dir.join(format!("{:016x}.cwasm", hasher.finish()));
        if path.exists() {
            // SAFETY: the file was written by `Module::serialize` below for this exact module and
            // engine configuration (both are part of its name); wasmtime also checks its header
            // and refuses artifacts from another version or configuration.
            match unsafe { Module::deserialize_file(engine, &path) } {
                Ok(m) => return Ok(m),
                Err(_) => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let module =
            Module::new(engine, bytes).map_err(|e| anyhow!("compiling wasm module: {e:?}"))?;
        if let Ok(serialized) = module.serialize() {
            let tmp = dir.join(format!(
                "{:016x}.{}.tmp",
                hasher.finish(),
                std::process::id()
            ));
            let written = std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(&tmp, &serialized))
                .and_then(|()| std::fs::rename(&tmp, &path));
            if written.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
        }
        Ok(module)
    }

    /// Starts a VM like an Envoy worker does: instantiate, `_initialize`/`_start`, create the
    /// root context, `proxy_on_vm_start`, `proxy_on_configure`. A rejected configuration is not
    /// an error: check [`Vm::configure`]. Traps and unimplemented imports are errors.
    pub fn vm<'a>(
        &self,
        wasm: impl Into<Wasm<'a>>,
        plugin_config: &str,
        env: &[(&str, &str)],
    ) -> Result<Vm> {
        let mut config = VmConfig::new(plugin_config);
        for (k, v) in env {
            config = config.env(k, v);
        }
        self.vm_with(wasm, config)
    }

    /// Like [`Host::vm`] with every knob of [`VmConfig`].
    pub fn vm_with<'a>(&self, wasm: impl Into<Wasm<'a>>, config: VmConfig) -> Result<Vm> {
        let module = self.module(wasm)?;
        let index = self.shared.next_vm.fetch_add(1, Ordering::SeqCst);
        Vm::start(self.clone(), index, &module, config)
    }

    /// Value and cas of a shared-data key written by VMs with the default (empty) `vm_id`.
    pub fn shared_data(&self, key: &str) -> Option<(Vec<u8>, u32)> {
        self.shared_data_for("", key)
    }

    /// Value and cas of a shared-data key of VMs configured with `vm_id`.
    pub fn shared_data_for(&self, vm_id: &str, key: &str) -> Option<(Vec<u8>, u32)> {
        self.shared
            .lock()
            .shared_data
            .get(&(vm_id.to_string(), key.as_bytes().to_vec()))
            .cloned()
    }

    /// All shared-data keys (of every vm_id) with their values.
    pub fn shared_data_all(&self) -> Vec<(String, String, Vec<u8>)> {
        let mut all: Vec<_> = self
            .shared
            .lock()
            .shared_data
            .iter()
            .map(|((vm_id, k), (v, _))| {
                (
                    vm_id.clone(),
                    String::from_utf8_lossy(k).into_owned(),
                    v.clone(),
                )
            })
            .collect();
        all.sort();
        all
    }

    /// Writes shared data as another worker would (unconditionally), e.g. to seed a test.
    pub fn set_shared_data(&self, key: &str, value: &[u8]) {
        self.shared
            .lock()
            .set_shared_data("", key.as_bytes(), value, 0);
    }

    /// Emulates another worker writing a key between the plugin's get and its CAS set: every
    /// `every`-th `proxy_get_shared_data` of an existing key is followed by a rewrite of the same
    /// value (new cas), so the plugin's CAS fails and it must retry. The first read after this
    /// call is interfered with, then every `every`-th. 0 turns it off.
    pub fn inject_concurrent_writes(&self, every: u64) {
        let mut state = self.shared.lock();
        state.interfere_every = every;
        state.shared_gets = 0;
    }

    /// How many `proxy_set_shared_data` calls failed with `CasMismatch` so far.
    pub fn cas_mismatches(&self) -> u64 {
        self.shared.lock().cas_mismatches
    }

    /// Makes every `proxy_get_shared_data` yield the thread afterwards, so that VMs on
    /// different threads interleave between get and CAS-set.
    pub fn set_yield_after_shared_data_get(&self, on: bool) {
        self.shared.yield_after_get.store(on, Ordering::SeqCst);
    }

    /// Value of a counter or gauge by its name (as `/stats/prometheus` shows it), summed over
    /// all VMs like an Envoy stat. Counters win if both exist.
    pub fn metric(&self, name: &str) -> Option<u64> {
        let state = self.shared.lock();
        state
            .metrics
            .get(&(MetricKind::Counter, name.to_string()))
            .or_else(|| state.metrics.get(&(MetricKind::Gauge, name.to_string())))
            .map(|m| m.value)
    }

    /// Recorded samples of a histogram.
    pub fn histogram(&self, name: &str) -> Option<Vec<u64>> {
        self.shared
            .lock()
            .metrics
            .get(&(MetricKind::Histogram, name.to_string()))
            .map(|m| m.samples.clone())
    }

    /// Every defined metric: (kind, name, value; for histograms the sample count).
    pub fn metrics(&self) -> Vec<(MetricKind, String, u64)> {
        let mut all: Vec<_> = self
            .shared
            .lock()
            .metrics
            .iter()
            .map(|((kind, name), m)| {
                let v = if *kind == MetricKind::Histogram {
                    u64::try_from(m.samples.len()).unwrap_or(u64::MAX)
                } else {
                    m.value
                };
                (*kind, name.clone(), v)
            })
            .collect();
        all.sort_by(|a, b| a.1.cmp(&b.1));
        all
    }

    /// Everything every VM of this host logged, in order.
    pub fn logs(&self) -> Vec<LogEntry> {
        self.shared.lock().logs.clone()
    }

    /// Log lines containing `needle`.
    pub fn logs_containing(&self, needle: &str) -> Vec<LogEntry> {
        self.shared
            .lock()
            .logs
            .iter()
            .filter(|l| l.message.contains(needle))
            .cloned()
            .collect()
    }

    /// Sets the wall clock seen through `proxy_get_current_time_nanoseconds` and WASI realtime.
    pub fn set_time(&self, time: SystemTime) {
        let ns = time
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        self.set_time_nanos(ns);
    }

    /// Sets the wall clock in nanoseconds since the epoch (the monotonic clock only moves forward).
    pub fn set_time_nanos(&self, ns: u64) {
        let mut state = self.shared.lock();
        if ns > state.realtime_ns {
            state.monotonic_ns = state.monotonic_ns.saturating_add(ns - state.realtime_ns);
        }
        state.realtime_ns = ns;
    }

    /// Current wall clock of the host.
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.shared.lock().realtime_ns)
    }

    /// Moves both clocks forward (does not fire ticks; see [`Vm::advance_time`]).
    pub fn advance_clock(&self, by: Duration) {
        let ns = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let mut state = self.shared.lock();
        state.realtime_ns = state.realtime_ns.saturating_add(ns);
        state.monotonic_ns = state.monotonic_ns.saturating_add(ns);
    }
}
