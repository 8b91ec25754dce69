#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Configuration through `proxy_on_configure`: a bad document makes `configure` false (Envoy
//! then refuses the plugin) and the log line names the field; a good one is accepted.

use crate::common::chat_headers;
use wasm_host::{Host, LogLevel, Vm};

fn load(config: &str, env: &[(&str, &str)]) -> (Host, Vm) {
    let host = Host::new().unwrap();
    let vm = host.vm(&crate::common::filter_wasm(), config, env).unwrap();
    (host, vm)
}

/// Asserts the configuration is refused with an error log that mentions every `needles`.
fn rejected(config: &str, env: &[(&str, &str)], needles: &[&str]) -> Host {
    let (host, vm) = load(config, env);
    assert!(!vm.configure(), "accepted: {config}");
    let errors: Vec<String> = host
        .logs()
        .into_iter()
        .filter(|l| l.level >= LogLevel::Error)
        .map(|l| l.message)
        .collect();
    assert!(
        errors.iter().any(|e| needles.iter().all(|n| e.contains(n))),
        "no error log mentioning {needles:?} for {config}: {errors:?}"
    );
    host
}

const PROVIDER: &str = r#"{"name":"an","kind":"anthropic","cluster":"c","api_key_env":"K"}"#;

#[test]
fn invalid_json_is_refused() {
    rejected(
        r#"{"providers": ["#,
        &[],
        &["invalid configuration", "(document)"],
    );
    rejected("", &[], &["invalid configuration"]);
    rejected("not json", &[], &["invalid configuration"]);
}

#[test]
fn unknown_fields_are_refused_and_named() {
    rejected(
        &format!(r#"{{"providers":[{PROVIDER}],"bogus":1}}"#),
        &[("K", "k")],
        &["invalid configuration", "bogus"],
    );
    rejected(
        r#"{"providers":[{"name":"an","kind":"anthropic","cluster":"c","tyop":true}]}"#,
        &[],
        &["invalid configuration", "tyop"],
    );
    rejected(
        &format!(
            r#"{{"providers":[{PROVIDER}],"models":[{{"name":"m","targets":[{{"provider":"an","model":"x","wieght":2}}]}}]}}"#
        ),
        &[("K", "k")],
        &["invalid configuration", "wieght"],
    );
}

#[test]
fn semantic_errors_name_the_field() {
    rejected(
        &format!(
            r#"{{"providers":[{PROVIDER}],"models":[{{"name":"m","targets":[{{"provider":"anthropc","model":"x"}}]}}]}}"#
        ),
        &[("K", "k")],
        &["models[0].targets[0].provider", "anthropc"],
    );
    // The credential's environment variable is missing.
    rejected(
        &format!(r#"{{"providers":[{PROVIDER}]}}"#),
        &[],
        &["providers[0].api_key_env"],
    );
}

#[test]
fn rejected_secrets_never_reach_the_log() {
    let host = rejected(
        &format!(r#"{{"providers":[{PROVIDER}],"bogus":1}}"#),
        &[("K", "sk-very-secret")],
        &["bogus"],
    );
    assert!(host.logs_containing("sk-very-secret").is_empty());
}

#[test]
fn a_valid_configuration_is_accepted_and_serves() {
    let (host, mut vm) = load(
        &format!(r#"{{"providers":[{PROVIDER}],"allow_provider_model":true}}"#),
        &[("K", "test-key")],
    );
    assert!(vm.configure(), "{:?}", host.logs());
    let body = br#"{"model":"an/claude-x","messages":[{"role":"user","content":"hi"}]}"#;
    let mut req = vm.request().unwrap();
    req.send_request_headers(&chat_headers(body.len()), false)
        .unwrap();
    req.send_request_body(body, true).unwrap();
    let up = req.upstream_request_headers().unwrap();
    assert_eq!(up.get("x-api-key").as_deref(), Some("test-key"));
}

#[test]
fn a_vm_with_a_rejected_configuration_does_not_crash_on_traffic() {
    // Envoy would not start it, but if traffic came anyway the answer is a clean 500.
    let (_host, mut vm) = load("{}", &[]);
    assert!(!vm.configure());
    let mut req = vm.request().unwrap();
    req.send_request_headers(&chat_headers(2), false).unwrap();
    req.send_request_body(b"{}", true).unwrap();
    assert_eq!(req.response_status(), Some(500));
    req.finish().unwrap();
    assert!(vm.failure().is_none());
}
