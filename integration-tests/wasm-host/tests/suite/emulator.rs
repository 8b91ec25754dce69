#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The emulator's own tests: Envoy semantics checked through the probe plugin (built from
//! `probe/` with the real Rust SDK) and hand-written WAT modules.

use std::time::{Duration, UNIX_EPOCH};

use wasm_host::{Action, Host, LogLevel, Vm, VmConfig};

fn vm(host: &Host, config: &str) -> Vm {
    let vm = host
        .vm_with(
            &crate::common::probe_wasm(),
            VmConfig::new(config).env("PROBE_ENV", "from-env"),
        )
        .unwrap();
    assert!(vm.configure());
    vm
}

fn headers(probe: &str) -> Vec<(&'static str, String)> {
    vec![
        (":method", "POST".into()),
        (":path", "/x".into()),
        (":authority", "gw.local".into()),
        ("x-probe", probe.to_string()),
    ]
}

// ------------------------------------------------------------------------------------------
// Loading

#[test]
fn unimplemented_import_fails_the_load_and_names_it() {
    use crate::common::wasm::{Module, I32, I64, ZERO};
    let mut m = Module::default();
    let log = m.ty(&[I32, I32, I32], &[I32]);
    let one = m.ty(&[I32], &[I32]);
    let open = m.ty(&[I32, I32, I32, I32, I32, I64, I64, I32, I32], &[I32]);
    let unit = m.ty(&[], &[]);
    m.import("env", "proxy_log", log);
    m.import("env", "proxy_does_not_exist", one);
    m.import("wasi_snapshot_preview1", "path_open", open);
    m.memory();
    m.func("proxy_abi_version_0_2_1", unit, &[]);
    m.func("proxy_on_memory_allocate", one, ZERO);
    let err = Host::new()
        .unwrap()
        .vm(&m.encode(), "", &[])
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("env::proxy_does_not_exist (func (param i32) (result i32))"),
        "{err}"
    );
    assert!(err.contains("wasi_snapshot_preview1::path_open"), "{err}");
    assert!(!err.contains("env::proxy_log "), "{err}");
}

#[test]
fn other_abi_versions_are_refused() {
    use crate::common::wasm::{Module, I32, ZERO};
    let mut m = Module::default();
    let unit = m.ty(&[], &[]);
    let one = m.ty(&[I32], &[I32]);
    m.memory();
    m.func("proxy_abi_version_0_1_0", unit, &[]);
    m.func("malloc", one, ZERO);
    let err = Host::new()
        .unwrap()
        .vm(&m.encode(), "", &[])
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("proxy_abi_version_0_2_1"), "{err}");
    assert!(err.contains("proxy_abi_version_0_1_0"), "{err}");
}

#[test]
fn start_sequence_and_buffers_visible_at_start() {
    let host = Host::new().unwrap();
    let vm = host
        .vm_with(
            &crate::common::probe_wasm(),
            VmConfig::new("cfg").vm_config("vmcfg"),
        )
        .unwrap();
    assert!(vm.vm_started());
    assert!(vm.configure());
    let logs: Vec<String> = host.logs().into_iter().map(|l| l.message).collect();
    assert!(
        logs.iter()
            .any(|l| l == "vm_start size=5 vm_config=\"vmcfg\" plugin_config_len=Some(3)"),
        "{logs:?}"
    );
    assert!(logs.iter().any(|l| l == "configure size=3 config=\"cfg\""));
    let failed = host
        .vm_with(
            &crate::common::probe_wasm(),
            VmConfig::new("x").vm_config("fail-start"),
        )
        .unwrap();
    assert!(!failed.vm_started());
    assert!(!failed.configure());
}

#[test]
fn rejected_configuration_is_false_not_an_error() {
    let host = Host::new().unwrap();
    let vm = host
        .vm(&crate::common::probe_wasm(), "reject", &[])
        .unwrap();
    assert!(!vm.configure());
    let errors = host.logs_containing("unknown field `bogus`");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].level, LogLevel::Error);
}

// ------------------------------------------------------------------------------------------
// Traps

#[test]
fn panic_is_an_error_with_the_message_and_kills_the_vm() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    let err = req
        .send_request_headers(&headers("panic-headers"), true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("probe panic in request headers"), "{err}");
    assert!(err.contains("proxy_on_request_headers"), "{err}");
    assert!(vm.failure().is_some());
    let again = vm.request().err().unwrap().to_string();
    assert!(again.contains("VM is dead"), "{again}");
}

#[test]
fn panic_during_configure_is_an_error() {
    let err = Host::new()
        .unwrap()
        .vm(&crate::common::probe_wasm(), "panic-configure", &[])
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("probe panic in configure"), "{err}");
}

#[test]
fn reading_response_headers_during_the_request_panics_the_sdk() {
    // Envoy answers BadArgument for a map it does not have; the SDK panics on it.
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    let err = req
        .send_request_headers(&headers("get-resp-header-in-req"), true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unexpected status: 2"), "{err}");
}

#[test]
fn request_headers_are_gone_once_the_headers_callback_continued() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    assert_eq!(
        req.send_request_headers(&headers("read-headers-in-body"), false)
            .unwrap(),
        Action::Continue
    );
    let err = req.send_request_body(b"x", true).unwrap_err().to_string();
    assert!(err.contains("unexpected status: 2"), "{err}");

    // Paused headers stay readable.
    let mut vm = self::vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("read-headers-in-body,pause-headers"), false)
        .unwrap();
    req.send_request_body(b"x", true).unwrap();
    assert!(req
        .logs()
        .iter()
        .any(|l| l.message == "path in body: Some(\"/x\")"));
}

#[test]
fn response_headers_are_gone_in_body_callbacks_unless_paused() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("read-resp-headers-in-body"), true)
        .unwrap();
    req.send_response_headers(&[(":status", "200")], false)
        .unwrap();
    let err = req.send_response_body(b"x", true).unwrap_err().to_string();
    assert!(err.contains("unexpected status: 2"), "{err}");
}

#[test]
fn writing_an_unavailable_map_is_ignored_with_a_warning() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("set-header-in-body"), false)
        .unwrap();
    req.send_request_body(b"abc", true).unwrap();
    let up = req.upstream_request_headers().unwrap();
    assert!(!up.contains("x-from-body"));
    assert!(
        req.warnings()
            .iter()
            .any(|w| w.contains("HttpRequestHeaders") && w.contains("ignores")),
        "{:?}",
        req.warnings()
    );
}

#[test]
fn setting_the_body_outside_body_callbacks_panics_the_sdk() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    let err = req
        .send_request_headers(&headers("set-body-in-headers"), false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unexpected status: 2"), "{err}");
}

#[test]
fn set_body_in_the_middle_is_bad_argument() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("bad-set-body"), false)
        .unwrap();
    let err = req.send_request_body(b"abc", true).unwrap_err().to_string();
    assert!(err.contains("unexpected status: 2"), "{err}");
}

// ------------------------------------------------------------------------------------------
// Headers and bodies

#[test]
fn paused_headers_and_buffered_body_go_upstream_as_modified() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    assert_eq!(
        req.send_request_headers(&headers("pause-headers,buffer-body,set-path=/new"), false)
            .unwrap(),
        Action::Pause
    );
    assert!(req.upstream_request_headers().is_none());
    assert_eq!(
        req.send_request_body(b"hello ", false).unwrap(),
        Action::Pause
    );
    assert_eq!(
        req.send_request_body(b"big ", false).unwrap(),
        Action::Pause
    );
    assert!(req.upstream_request_headers().is_none());
    assert!(req.upstream_request_body().is_empty());
    assert_eq!(
        req.send_request_body(b"world", true).unwrap(),
        Action::Continue
    );
    let up = req.upstream_request_headers().unwrap();
    assert_eq!(up.get(":path").as_deref(), Some("/new"));
    assert_eq!(up.get("x-probe-seen").as_deref(), Some("1"));
    // The last callback saw the accumulated body (15 bytes), not the last chunk.
    assert_eq!(up.get("x-body-size").as_deref(), Some("15"));
    assert_eq!(up.get("content-length").as_deref(), Some("15"));
    assert_eq!(req.upstream_request_body(), b"HELLO BIG WORLD");
    assert!(req.upstream_request_complete());
    let sizes: Vec<String> = req
        .logs()
        .iter()
        .filter(|l| l.message.starts_with("request body"))
        .map(|l| l.message.clone())
        .collect();
    assert_eq!(
        sizes,
        [
            "request body size=6 eos=false",
            "request body size=10 eos=false",
            "request body size=15 eos=true"
        ]
    );
}

#[test]
fn set_buffer_prepend_append_and_clipped_reads() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(
        &headers("pause-headers,buffer-body,wrap-body,clip-read"),
        false,
    )
    .unwrap();
    req.send_request_body(b"abcdef", true).unwrap();
    assert_eq!(req.upstream_request_body(), b"<ABCDEF>");
    let up = req.upstream_request_headers().unwrap();
    assert_eq!(up.get("content-length").as_deref(), Some("8"));
    // get_buffer(start 2, size 1000) on "<ABCDEF>" is clipped to the end.
    assert_eq!(up.get("x-tail").as_deref(), Some("BCDEF>"));
}

#[test]
fn streaming_chunks_are_forwarded_one_by_one() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("chunk-tag"), false)
        .unwrap();
    // Headers went upstream at once (Continue), body chunks each rewritten on the fly.
    assert!(req.upstream_request_headers().is_some());
    req.send_request_body(b"ab", false).unwrap();
    req.send_request_body(b"cd", false).unwrap();
    assert_eq!(req.upstream_request_body(), b"<ab><cd>");
    assert!(!req.upstream_request_complete());
    req.send_request_body(b"", true).unwrap();
    assert_eq!(req.upstream_request_body(), b"<ab><cd><>");
    assert!(req.upstream_request_complete());
}

#[test]
fn response_buffering_and_client_view() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("buffer-resp"), true)
        .unwrap();
    assert!(req.upstream_request_complete());
    assert_eq!(
        req.send_response_headers(&[(":status", "201"), ("content-length", "6")], false)
            .unwrap(),
        Action::Pause
    );
    assert!(req.response_headers().is_none());
    req.send_response_body(b"abc", false).unwrap();
    assert!(req.response_body().is_empty());
    req.send_response_body(b"def", true).unwrap();
    let h = req.response_headers().unwrap();
    assert_eq!(h.get(":status").as_deref(), Some("201"));
    assert_eq!(h.get("x-probe-saw-status").as_deref(), Some("201"));
    assert_eq!(h.get("x-resp-size").as_deref(), Some("6"));
    assert!(!h.contains("content-length"));
    assert_eq!(req.response_body(), b"[abcdef]");
    assert!(req.response_complete());
    assert_eq!(req.response_status(), Some(201));
}

#[test]
fn streamed_response_chunks_keep_their_boundaries() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("resp-chunk-tag"), true)
        .unwrap();
    req.send_response_headers(&[(":status", "200")], false)
        .unwrap();
    req.send_response_body_chunked(b"abcde", 2).unwrap();
    assert_eq!(req.response_body(), b"<ab><cd><e>");
    assert_eq!(req.response_chunks().len(), 3);
}

#[test]
fn header_pairs_roundtrip_and_replace_all() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("all-headers,replace-all"), true)
        .unwrap();
    let up = req.upstream_request_headers().unwrap();
    assert_eq!(
        up.sorted_pairs(),
        vec![
            (":authority".to_string(), "replaced.example".to_string()),
            (":method".to_string(), "PUT".to_string()),
            (":path".to_string(), "/replaced".to_string()),
        ]
    );
    let seen = req.request_headers_now().unwrap();
    assert!(seen.get("x-header-count").is_none()); // replaced along with everything else
}

#[test]
fn non_utf8_header_values_panic_the_sdk_string_getters() {
    // HTTP/1 allows obs-text; the SDK's get_http_request_headers() unwraps from_utf8.
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    let hs: Vec<(&str, &[u8])> = vec![
        (":method", b"GET"),
        (":path", b"/"),
        ("x-probe", b"all-headers"),
        ("x-latin1", b"caf\xe9"),
    ];
    let err = req.send_request_headers(&hs, true).unwrap_err().to_string();
    assert!(
        err.contains("Utf8Error") || err.contains("FromUtf8Error"),
        "{err}"
    );

    let mut vm = self::vm(&host, "");
    let mut req = vm.request().unwrap();
    let hs: Vec<(&str, &[u8])> = vec![
        (":method", b"GET"),
        (":path", b"/"),
        ("x-probe", b"all-headers-bytes"),
        ("x-latin1", b"caf\xe9"),
    ];
    req.send_request_headers(&hs, true).unwrap();
    let up = req.upstream_request_headers().unwrap();
    assert_eq!(up.get_bytes("x-latin1"), Some(&b"caf\xe9"[..]));
    assert_eq!(up.get("x-header-count").as_deref(), Some("4"));
}

#[test]
fn crlf_in_header_values_is_flagged() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("header-crlf"), true)
        .unwrap();
    assert!(req.warnings().iter().any(|w| w.contains("CR, LF")));
}

#[test]
fn response_map_reads_outside_its_phase() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    // get pairs of an absent map: empty, no error.
    req.send_request_headers(
        &headers("get-resp-headers-in-req,get-body-in-headers"),
        true,
    )
    .unwrap();
    let up = req.upstream_request_headers().unwrap();
    assert_eq!(up.get("x-resp-count").as_deref(), Some("0"));
    // Body in the headers callback: an empty buffer, which the SDK reports as None.
    assert_eq!(up.get("x-body-in-headers").as_deref(), Some("None"));
}

// ------------------------------------------------------------------------------------------
// Local replies

#[test]
fn local_reply_passes_the_plugins_response_callbacks() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    assert_eq!(
        req.send_request_headers(&headers("local-headers=403"), false)
            .unwrap(),
        Action::Pause
    );
    let reply = req.local_reply().unwrap();
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body, br#"{"error":{"message":"denied by probe"}}"#);
    assert_eq!(reply.headers.get("x-probe-local").as_deref(), Some("1"));
    assert_eq!(
        reply.headers.get("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(reply.headers.get("content-length").as_deref(), Some("39"));
    // What the client got went through on_http_response_headers of the same plugin.
    let client = req.response_headers().unwrap();
    assert_eq!(client.get(":status").as_deref(), Some("403"));
    assert_eq!(client.get("x-probe-saw-status").as_deref(), Some("403"));
    assert_eq!(req.response_body(), reply.body.as_slice());
    assert!(req.response_complete());
    assert!(req.upstream_request_headers().is_none());
    // The request is over: Envoy would not call the plugin again.
    assert_eq!(
        req.send_request_body(b"x", true).unwrap(),
        Action::NotCalled
    );
    req.finish().unwrap();
}

#[test]
fn local_reply_after_buffering_the_body() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("pause-headers,buffer-body,local-body=429"), false)
        .unwrap();
    req.send_request_body(b"a", false).unwrap();
    req.send_request_body(b"b", true).unwrap();
    assert_eq!(req.response_status(), Some(429));
    assert!(req.upstream_request_headers().is_none());
    assert!(req.upstream_request_body().is_empty());
}

#[test]
fn local_reply_while_holding_upstream_response_headers_replaces_it_directly() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("local-resp=502"), true)
        .unwrap();
    req.send_response_headers(&[(":status", "200")], false)
        .unwrap();
    // Sent directly: the plugin's response callbacks did not see it.
    let client = req.response_headers().unwrap();
    assert_eq!(client.get(":status").as_deref(), Some("502"));
    assert!(client.get("x-probe-saw-status").is_none());
    assert_eq!(
        req.send_response_body(b"upstream body", true).unwrap(),
        Action::NotCalled
    );
    assert_eq!(
        req.response_body(),
        br#"{"error":{"message":"denied by probe"}}"#
    );
}

// ------------------------------------------------------------------------------------------
// Stop iteration without allow_on_headers_stop_iteration

#[test]
fn pause_without_allow_on_headers_stop_iteration_hangs() {
    let host = Host::new().unwrap();
    let mut vm = host
        .vm_with(
            &crate::common::probe_wasm(),
            VmConfig::new("").allow_on_headers_stop_iteration(false),
        )
        .unwrap();
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("pause-headers"), false)
        .unwrap();
    let err = req.send_request_body(b"x", true).unwrap_err().to_string();
    assert!(err.contains("allow_on_headers_stop_iteration"), "{err}");
}

// ------------------------------------------------------------------------------------------
// Foreign functions, properties, environment, time, randomness, logging

#[test]
fn clear_route_cache_is_counted_and_unknown_functions_are_not_found() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("foreign,pause-headers"), true)
        .unwrap();
    assert_eq!(req.clear_route_cache_calls(), 1);
    // Envoy clears the route cache for the call and for each request-header write the probe
    // makes while the headers are held (`x-probe-seen` and the two results).
    assert_eq!(req.route_cache_clears(), 4);
    let calls = req.foreign_calls();
    assert_eq!(calls.len(), 2);
    assert!(!calls[0].request_headers_forwarded);
    assert_eq!(calls[1].name, "no_such_function");
    assert_eq!(calls[1].status, 1);
    let now = req.request_headers_now().unwrap();
    assert_eq!(now.get("x-foreign").as_deref(), Some("Ok(None)"));
    assert_eq!(
        now.get("x-foreign-unknown").as_deref(),
        Some("Err(NotFound)")
    );
}

#[test]
fn properties_vm_wide_per_request_and_set_by_the_plugin() {
    let host = Host::new().unwrap();
    let mut vm = host
        .vm_with(
            &crate::common::probe_wasm(),
            VmConfig::new("")
                .root_id("llm_gateway")
                .property(&["xds", "upstream_host_metadata"], b"meta"),
        )
        .unwrap();
    let probe = |vm: &mut Vm, path: &str, per_request: Option<&[u8]>| {
        let mut req = vm.request().unwrap();
        if let Some(v) = per_request {
            req.set_property(&["xds", "upstream_host_metadata"], v)
                .unwrap();
        }
        req.send_request_headers(&headers(&format!("prop={path}")), true)
            .unwrap();
        req.upstream_request_headers()
            .unwrap()
            .get("x-prop")
            .unwrap()
    };
    assert_eq!(probe(&mut vm, "plugin_root_id", None), "llm_gateway");
    assert_eq!(probe(&mut vm, "xds.upstream_host_metadata", None), "meta");
    assert_eq!(
        probe(&mut vm, "xds.upstream_host_metadata", Some(b"mine")),
        "mine"
    );
    assert_eq!(probe(&mut vm, "no.such.thing", None), "<none>");
    // An empty value comes back as a null pointer: the SDK says None.
    vm.set_property(&["empty"], b"");
    assert_eq!(probe(&mut vm, "empty", None), "<none>");

    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("set-prop"), true)
        .unwrap();
    assert_eq!(
        req.upstream_request_headers()
            .unwrap()
            .get("x-prop-back")
            .as_deref(),
        Some("v1")
    );
}

#[test]
fn wasi_environment_clock_random_and_stdio() {
    let host = Host::new().unwrap();
    host.set_time(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("env,time,random,stderr,loglevel"), true)
        .unwrap();
    let up = req.upstream_request_headers().unwrap().clone();
    assert_eq!(up.get("x-env").as_deref(), Some("from-env"));
    assert_eq!(up.get("x-time").as_deref(), Some("1700000000000000000"));
    assert_eq!(
        up.get("x-wasi-time").as_deref(),
        Some("1700000000000000000")
    );
    assert_eq!(up.get("x-log-level").as_deref(), Some("Info"));
    assert_eq!(up.get("x-random").map(|r| r.len()), Some(16));
    let logs = req.logs();
    assert!(logs
        .iter()
        .any(|l| l.level == LogLevel::Error && l.message == "probe stderr line"));
    assert!(logs
        .iter()
        .any(|l| l.level == LogLevel::Info && l.message == "probe stdout line"));

    // Same seed, same randomness: runs are reproducible.
    let other = Host::new().unwrap();
    let mut vm2 = self::vm(&other, "");
    let mut req2 = vm2.request().unwrap();
    req2.send_request_headers(&headers("random"), true).unwrap();
    assert_eq!(
        req2.upstream_request_headers().unwrap().get("x-random"),
        up.get("x-random")
    );
}

// ------------------------------------------------------------------------------------------
// Shared data, metrics, queues, ticks, http calls

#[test]
fn shared_data_cas_across_vms() {
    let host = Host::new().unwrap();
    let mut a = vm(&host, "");
    let mut b = vm(&host, "");
    for i in 0..10 {
        let vm = if i % 2 == 0 { &mut a } else { &mut b };
        let mut req = vm.request().unwrap();
        req.send_request_headers(&headers("shared"), true).unwrap();
        assert_eq!(
            req.upstream_request_headers().unwrap().get("x-count"),
            Some((i + 1).to_string())
        );
    }
    let (value, cas) = host.shared_data("probe.requests").unwrap();
    assert_eq!(value, 10u64.to_le_bytes());
    assert!(cas > 0);

    // Another worker writing between get and set: the plugin's CAS fails and it retries.
    host.inject_concurrent_writes(2);
    let mut req = a.request().unwrap();
    req.send_request_headers(&headers("shared"), true).unwrap();
    host.inject_concurrent_writes(0);
    assert!(host.cas_mismatches() > 0);
    assert_eq!(
        host.shared_data("probe.requests").unwrap().0,
        11u64.to_le_bytes()
    );
}

#[test]
fn a_callback_stuck_in_a_loop_is_interrupted() {
    // Interference on every read: the probe's unbounded CAS loop can never win.
    let host = Host::new().unwrap();
    let mut vm = host
        .vm_with(
            &crate::common::probe_wasm(),
            VmConfig::new("").callback_deadline(Duration::from_millis(300)),
        )
        .unwrap();
    host.inject_concurrent_writes(1);
    let mut req = vm.request().unwrap();
    let err = req
        .send_request_headers(&headers("shared"), true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("interrupted"), "{err}");
}

#[test]
fn metrics_follow_envoy_ids_and_rules() {
    let host = Host::new().unwrap();
    let mut a = vm(&host, "");
    let mut b = vm(&host, "");
    for vm in [&mut a, &mut b] {
        let mut req = vm.request().unwrap();
        req.send_request_headers(&headers("metric"), true).unwrap();
    }
    let mut req = a.request().unwrap();
    req.send_request_headers(&headers("metric"), true).unwrap();
    let m = req
        .upstream_request_headers()
        .unwrap()
        .get("x-metric")
        .unwrap();
    // Counter ids grow by 4 per definition, gauges and histograms have their own low bits;
    // counters cannot be decremented; histograms cannot be read.
    assert_eq!(
        m,
        "3 ids=8,9,10 bad=Err(BadArgument) hist_get=Err(BadArgument)"
    );
    assert_eq!(host.metric("probe_requests"), Some(3));
    assert_eq!(host.metric("probe_gauge"), Some(9));
    assert_eq!(host.histogram("probe_hist"), Some(vec![42, 42, 42]));
}

#[test]
fn shared_queue_notifies_the_registering_root_context() {
    let host = Host::new().unwrap();
    let mut owner = vm(&host, "queue");
    let mut other = vm(&host, "");
    let mut req = other.request().unwrap();
    req.send_request_headers(&headers("enqueue"), true).unwrap();
    assert_eq!(
        req.upstream_request_headers()
            .unwrap()
            .get("x-queue")
            .as_deref(),
        Some("Some(1)")
    );
    assert!(host.logs_containing("dequeued hello").is_empty());
    owner.pump().unwrap();
    assert_eq!(host.logs_containing("dequeued hello").len(), 1);
}

#[test]
fn ticks_follow_the_clock() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "tick=100");
    assert_eq!(vm.tick_period(), Some(Duration::from_millis(100)));
    assert_eq!(vm.advance_time(Duration::from_millis(350)).unwrap(), 3);
    assert_eq!(
        host.shared_data("probe.ticks").unwrap().0,
        3u64.to_le_bytes()
    );
    let last = host.logs_containing("tick 3 at").pop().unwrap();
    assert_eq!(last.message, "tick 3 at 1735689600300");
    assert!(vm.tick().unwrap());
    let mut quiet = self::vm(&host, "");
    assert!(!quiet.tick().unwrap());
}

#[test]
fn http_call_answered_by_the_test_resumes_the_request() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let id = vm.open_request().unwrap();
    let mut req = vm.stream(id).unwrap();
    assert_eq!(
        req.send_request_headers(&headers("http-call"), true)
            .unwrap(),
        Action::Pause
    );
    let call = req.http_calls()[0].clone();
    assert_eq!(call.upstream, "auth");
    assert_eq!(call.headers.get(":path").as_deref(), Some("/check"));
    assert_eq!(call.body, b"ping");
    assert_eq!(call.timeout_ms, 1000);
    assert!(req.upstream_request_headers().is_none());
    vm.respond_http_call(call.token, &[(":status", "200")], b"token-123", &[])
        .unwrap();
    let req = vm.stream(id).unwrap();
    let up = req.upstream_request_headers().unwrap();
    assert_eq!(up.get("x-call-status").as_deref(), Some("200"));
    assert_eq!(up.get("x-auth").as_deref(), Some("token-123"));
    assert!(req.upstream_request_complete());
    assert!(vm.pending_http_calls().is_empty());
}

#[test]
fn failed_http_call_and_local_reply_from_the_callback() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let id = vm.open_request().unwrap();
    vm.stream(id)
        .unwrap()
        .send_request_headers(&headers("http-call,call-local"), true)
        .unwrap();
    let token = vm.pending_http_calls()[0].token;
    vm.fail_http_call(token).unwrap();
    let req = vm.stream(id).unwrap();
    assert_eq!(req.response_status(), Some(401));
    assert_eq!(
        req.request_headers_now()
            .unwrap()
            .get("x-call-failed")
            .as_deref(),
        Some("11:Some(\"reset\")")
    );
}

#[test]
fn http_call_without_required_headers_is_bad_argument() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers("bad-http-call"), true)
        .unwrap();
    assert_eq!(
        req.upstream_request_headers()
            .unwrap()
            .get("x-call-err")
            .as_deref(),
        Some("Err(BadArgument)")
    );
}

#[test]
fn finish_runs_on_log_with_the_access_log_view() {
    let host = Host::new().unwrap();
    let mut vm = vm(&host, "");
    let mut req = vm.request().unwrap();
    req.send_request_headers(&headers(""), true).unwrap();
    req.send_response_headers(&[(":status", "204")], true)
        .unwrap();
    req.finish().unwrap();
    let id = req.id();
    assert!(req
        .logs()
        .iter()
        .any(|l| l.message == format!("on_log ctx={id} path=Some(\"/x\") status=Some(\"204\")")));
    // A second finish is a no-op; the stream is closed for new events.
    req.finish().unwrap();
    assert!(req.send_response_body(b"x", true).is_err());
}
