//! Shared helpers for the wasm-host tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Builds the probe plugin (integration-tests/wasm-host/probe) once per test process and returns
/// the path of its `.wasm`.
pub fn probe_wasm() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("probe/Cargo.toml");
        let target_dir = wasm_host::workspace_root().join("target/wasm-host-probe");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let out = Command::new(cargo)
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip1",
                "--manifest-path",
            ])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target_dir)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .expect("running cargo to build the probe plugin");
        assert!(
            out.status.success(),
            "building the probe plugin failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        target_dir.join("wasm32-wasip1/release/wasm_host_probe.wasm")
    })
    .clone()
}

/// The release gateway filter; fails with instructions when it was not built.
pub fn filter_wasm() -> PathBuf {
    let path = wasm_host::filter_wasm_path();
    assert!(
        path.exists(),
        "{} does not exist: build it first with\n  cargo build --release --target wasm32-wasip1 -p llm-gateway",
        path.display()
    );
    path
}

/// `created` in OpenAI answers is the host clock in seconds; the golden files use this one.
pub const CREATED: u64 = 1_700_000_000;

/// The configuration of filter/tests/golden.rs: one Anthropic provider `an` on cluster `c`,
/// credential from the environment variable `K`.
pub const GOLDEN_CONFIG: &str = r#"{"providers":[{"name":"an","kind":"anthropic","cluster":"c","api_key_env":"K"}],
    "allow_provider_model":true}"#;

pub const GOLDEN_MODEL: &str = "an/claude-sonnet-4-5";

/// A host whose clock reads `CREATED` and a gateway VM configured with `GOLDEN_CONFIG`.
pub fn golden_gateway() -> (wasm_host::Host, wasm_host::Vm) {
    let host = wasm_host::Host::new().unwrap();
    host.set_time(std::time::UNIX_EPOCH + std::time::Duration::from_secs(CREATED));
    let vm = host
        .vm(&filter_wasm(), GOLDEN_CONFIG, &[("K", "test-key")])
        .unwrap();
    assert!(vm.configure(), "{:?}", host.logs());
    (host, vm)
}

/// Client request headers for a chat completion with a body of `len` bytes.
pub fn chat_headers(len: usize) -> Vec<(&'static str, String)> {
    vec![
        (":method", "POST".into()),
        (":path", "/v1/chat/completions".into()),
        (":authority", "gateway.local".into()),
        (":scheme", "http".into()),
        ("content-type", "application/json".into()),
        ("content-length", len.to_string()),
        ("authorization", "Bearer client-secret".into()),
        ("x-llm-cluster", "client-chosen".into()),
    ]
}

/// Splits `body` at the given offsets (sorted, deduplicated, clamped).
pub fn split_at(body: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| (*c).min(body.len())).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        out.push(body[at..c].to_vec());
        at = c;
    }
    out.push(body[at..].to_vec());
    out
}

/// Tiny deterministic PRNG (xorshift64) for splits and fuzzing.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    /// `n` random cut points inside `len`.
    pub fn cuts(&mut self, len: usize, n: usize) -> Vec<usize> {
        (0..n).map(|_| self.below(len + 1)).collect()
    }
}

/// Sum of every counter of the gateway named `base` (any labels), e.g.
/// `llm_gateway::usage::metrics::REQUESTS`.
pub fn counter_sum(host: &wasm_host::Host, base: &str) -> u64 {
    host.metrics()
        .into_iter()
        .filter(|(kind, name, _)| {
            *kind == wasm_host::MetricKind::Counter
                && (name == base || name.starts_with(&format!("{base}.")))
        })
        .map(|(_, _, v)| v)
        .sum()
}

/// The shared-data usage ledger of one model/target: [requests, prompt, completion, errors].
pub fn ledger(
    host: &wasm_host::Host,
    model: &str,
    provider: &str,
    upstream: &str,
) -> Option<[u64; 4]> {
    use llm_gateway::state::ledger;
    let (v, _) = host.shared_data(&llm_gateway::state::keys::usage(model, provider, upstream))?;
    let c = ledger::decode(&v);
    Some([
        c[ledger::REQUESTS],
        c[ledger::PROMPT_TOKENS],
        c[ledger::COMPLETION_TOKENS],
        c[ledger::ERRORS],
    ])
}

/// A minimal wasm binary encoder for the few hand-made modules the tests need (keeps the `wat`
/// crate, and a second wasmtime build with other features, out of the dependency graph).
pub mod wasm {
    pub const I32: u8 = 0x7f;
    pub const I64: u8 = 0x7e;

    #[derive(Default)]
    pub struct Module {
        types: Vec<(Vec<u8>, Vec<u8>)>,
        imports: Vec<(String, String, u32)>,
        /// (type index, body instructions without the final `end`)
        funcs: Vec<(u32, Vec<u8>)>,
        exports: Vec<(String, u8, u32)>,
        memory: bool,
    }

    fn leb(mut n: u32, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn name(s: &str, out: &mut Vec<u8>) {
        leb(s.len() as u32, out);
        out.extend_from_slice(s.as_bytes());
    }

    fn section(id: u8, count: usize, items: Vec<u8>, out: &mut Vec<u8>) {
        let mut body = Vec::new();
        leb(count as u32, &mut body);
        body.extend(items);
        out.push(id);
        leb(body.len() as u32, out);
        out.extend(body);
    }

    impl Module {
        /// Adds a function type; returns its index.
        pub fn ty(&mut self, params: &[u8], results: &[u8]) -> u32 {
            self.types.push((params.to_vec(), results.to_vec()));
            self.types.len() as u32 - 1
        }

        /// Imports a function (imports must come before `func`); returns its index.
        pub fn import(&mut self, module: &str, field: &str, ty: u32) -> u32 {
            assert!(self.funcs.is_empty());
            self.imports.push((module.into(), field.into(), ty));
            self.imports.len() as u32 - 1
        }

        /// Defines a function and exports it under `export`; returns its index.
        pub fn func(&mut self, export: &str, ty: u32, code: &[u8]) -> u32 {
            self.funcs.push((ty, code.to_vec()));
            let index = (self.imports.len() + self.funcs.len() - 1) as u32;
            self.exports.push((export.into(), 0x00, index));
            index
        }

        /// Defines and exports `memory` (one page).
        pub fn memory(&mut self) {
            self.memory = true;
            self.exports.push(("memory".into(), 0x02, 0));
        }

        pub fn encode(&self) -> Vec<u8> {
            let mut out = b"\0asm\x01\0\0\0".to_vec();
            let mut items = Vec::new();
            for (p, r) in &self.types {
                items.push(0x60);
                leb(p.len() as u32, &mut items);
                items.extend(p);
                leb(r.len() as u32, &mut items);
                items.extend(r);
            }
            section(1, self.types.len(), items, &mut out);
            let mut items = Vec::new();
            for (m, f, t) in &self.imports {
                name(m, &mut items);
                name(f, &mut items);
                items.push(0x00);
                leb(*t, &mut items);
            }
            section(2, self.imports.len(), items, &mut out);
            let mut items = Vec::new();
            for (t, _) in &self.funcs {
                leb(*t, &mut items);
            }
            section(3, self.funcs.len(), items, &mut out);
            if self.memory {
                section(5, 1, vec![0x00, 0x01], &mut out);
            }
            let mut items = Vec::new();
            for (n, kind, index) in &self.exports {
                name(n, &mut items);
                items.push(*kind);
                leb(*index, &mut items);
            }
            section(7, self.exports.len(), items, &mut out);
            let mut items = Vec::new();
            for (_, code) in &self.funcs {
                let mut body = vec![0x00]; // no locals
                body.extend(code);
                body.push(0x0b);
                leb(body.len() as u32, &mut items);
                items.extend(body);
            }
            section(10, self.funcs.len(), items, &mut out);
            out
        }
    }

    /// `i32.const 0`
    pub const ZERO: &[u8] = &[0x41, 0x00];
}
