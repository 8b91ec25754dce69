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
            .args(["build", "--release", "--target", "wasm32-wasip1", "--manifest-path"])
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
