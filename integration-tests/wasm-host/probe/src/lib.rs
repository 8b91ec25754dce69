//! Probe plugin for the wasm-host tests. Every behaviour is switched on by the comma-separated
//! `x-probe` request header (`op` or `op=arg`) or by the plugin configuration string.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, UNIX_EPOCH};

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MetricType, Status};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::default()) });
}}

fn cas_increment(key: &str) -> u64 {
    loop {
        let (data, cas) = hostcalls::get_shared_data(key).unwrap();
        let current = data
            .map(|d| u64::from_le_bytes(d.as_slice().try_into().unwrap_or([0; 8])))
            .unwrap_or(0);
        let next = current + 1;
        match hostcalls::set_shared_data(key, Some(&next.to_le_bytes()), cas) {
            Ok(()) => return next,
            Err(Status::CasMismatch) => continue,
            Err(e) => panic!("set_shared_data: {e:?}"),
        }
    }
}

#[derive(Default)]
struct Root {
    config: String,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_vm_start(&mut self, size: usize) -> bool {
        let vm_config = self.get_vm_configuration().unwrap_or_default();
        let vm_config = String::from_utf8_lossy(&vm_config).into_owned();
        let plugin = self.get_plugin_configuration().map(|p| p.len());
        log::info!("vm_start size={size} vm_config={vm_config:?} plugin_config_len={plugin:?}");
        vm_config != "fail-start"
    }

    fn on_configure(&mut self, size: usize) -> bool {
        let config = self.get_plugin_configuration().unwrap_or_default();
        self.config = String::from_utf8_lossy(&config).into_owned();
        log::info!("configure size={size} config={:?}", self.config);
        if self.config.contains("panic-configure") {
            panic!("probe panic in configure");
        }
        if self.config.contains("reject") {
            log::error!("invalid configuration: unknown field `bogus`");
            return false;
        }
        for part in self.config.split(',') {
            if let Some(ms) = part.strip_prefix("tick=") {
                self.set_tick_period(Duration::from_millis(ms.parse().unwrap()));
            }
            if part == "queue" {
                let q = self.register_shared_queue("probe-queue");
                log::info!("registered queue {q}");
            }
        }
        if hostcalls::get_shared_data("probe.requests").unwrap().0.is_none() {
            hostcalls::set_shared_data("probe.requests", Some(&0u64.to_le_bytes()), None).unwrap();
        }
        true
    }

    fn on_tick(&mut self) {
        let n = cas_increment("probe.ticks");
        let now = self
            .get_current_time()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        log::info!("tick {n} at {now}");
    }

    fn on_queue_ready(&mut self, queue_id: u32) {
        while let Ok(Some(item)) = self.dequeue_shared_queue(queue_id) {
            log::info!("dequeued {}", String::from_utf8_lossy(&item));
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Http {
            id: context_id,
            ops: Vec::new(),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Http {
    id: u32,
    ops: Vec<String>,
}

impl Http {
    fn has(&self, op: &str) -> bool {
        self.ops.iter().any(|o| o == op)
    }

    fn arg(&self, op: &str) -> Option<String> {
        self.ops
            .iter()
            .find_map(|o| o.strip_prefix(&format!("{op}=")).map(str::to_string))
    }

    fn local_reply(&self, code: u32) {
        self.send_http_response(
            code,
            vec![
                ("x-probe-local", "1"),
                ("content-type", "application/json"),
            ],
            Some(br#"{"error":{"message":"denied by probe"}}"#),
        );
    }
}

impl Context for Http {
    fn on_http_call_response(&mut self, token: u32, headers: usize, body: usize, _trailers: usize) {
        log::info!("http call {token} answered: headers={headers} body={body}");
        if headers == 0 {
            let (code, msg) = self.get_grpc_status();
            self.set_http_request_header("x-call-failed", Some(&format!("{code}:{msg:?}")));
        } else {
            let status = self.get_http_call_response_header(":status").unwrap_or_default();
            let body = self.get_http_call_response_body(0, body).unwrap_or_default();
            self.set_http_request_header("x-call-status", Some(&status));
            self.set_http_request_header("x-auth", Some(&String::from_utf8_lossy(&body)));
        }
        if self.has("call-local") {
            self.local_reply(401);
            return;
        }
        self.resume_http_request();
    }
}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        self.ops = self
            .get_http_request_header("x-probe")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        log::info!(
            "request headers ctx={} n={num_headers} eos={end_of_stream} ops={:?}",
            self.id,
            self.ops
        );
        if self.has("panic-headers") {
            panic!("probe panic in request headers");
        }
        if self.has("all-headers") {
            let all = self.get_http_request_headers();
            self.set_http_request_header("x-header-count", Some(&all.len().to_string()));
        }
        if self.has("all-headers-bytes") {
            let all = self.get_http_request_headers_bytes();
            self.set_http_request_header("x-header-count", Some(&all.len().to_string()));
        }
        if let Some(path) = self.arg("set-path") {
            self.set_http_request_header(":path", Some(&path));
        }
        self.add_http_request_header("x-probe-seen", "1");
        if self.has("replace-all") {
            self.set_http_request_headers(vec![
                (":method", "PUT"),
                (":path", "/replaced"),
                (":authority", "replaced.example"),
            ]);
        }
        if self.has("env") {
            let v = std::env::var("PROBE_ENV").unwrap_or_else(|_| "<unset>".into());
            self.set_http_request_header("x-env", Some(&v));
        }
        if self.has("time") {
            let proxy = self.get_current_time().duration_since(UNIX_EPOCH).unwrap();
            let wasi = std::time::SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            self.set_http_request_header("x-time", Some(&proxy.as_nanos().to_string()));
            self.set_http_request_header("x-wasi-time", Some(&wasi.as_nanos().to_string()));
        }
        if self.has("random") {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u8(0);
            self.set_http_request_header("x-random", Some(&format!("{:016x}", h.finish())));
        }
        if let Some(path) = self.arg("prop") {
            let v = self.get_property(path.split('.').collect());
            let v = v.map_or("<none>".to_string(), |v| String::from_utf8_lossy(&v).into_owned());
            self.set_http_request_header("x-prop", Some(&v));
        }
        if self.has("set-prop") {
            self.set_property(vec!["probe", "state"], Some(b"v1"));
            let back = self.get_property(vec!["probe", "state"]).unwrap_or_default();
            self.set_http_request_header("x-prop-back", Some(&String::from_utf8_lossy(&back)));
        }
        if self.has("foreign") {
            let ok = self.call_foreign_function("clear_route_cache", None);
            let unknown = self.call_foreign_function("no_such_function", Some(b"x"));
            self.set_http_request_header("x-foreign", Some(&format!("{ok:?}")));
            self.set_http_request_header("x-foreign-unknown", Some(&format!("{unknown:?}")));
        }
        if self.has("shared") {
            let n = cas_increment("probe.requests");
            self.set_http_request_header("x-count", Some(&n.to_string()));
        }
        if self.has("metric") {
            let c = hostcalls::define_metric(MetricType::Counter, "probe_requests").unwrap();
            hostcalls::increment_metric(c, 1).unwrap();
            let bad = hostcalls::increment_metric(c, -1);
            let g = hostcalls::define_metric(MetricType::Gauge, "probe_gauge").unwrap();
            hostcalls::increment_metric(g, 5).unwrap();
            hostcalls::increment_metric(g, -2).unwrap();
            let h = hostcalls::define_metric(MetricType::Histogram, "probe_hist").unwrap();
            hostcalls::record_metric(h, 42).unwrap();
            let value = hostcalls::get_metric(c).unwrap();
            let hist_get = hostcalls::get_metric(h);
            self.set_http_request_header(
                "x-metric",
                Some(&format!("{value} ids={c},{g},{h} bad={bad:?} hist_get={hist_get:?}")),
            );
        }
        if self.has("enqueue") {
            let q = self.resolve_shared_queue("", "probe-queue");
            if let Some(q) = q {
                self.enqueue_shared_queue(q, Some(b"hello")).unwrap();
            }
            self.set_http_request_header("x-queue", Some(&format!("{q:?}")));
        }
        if self.has("stderr") {
            eprintln!("probe stderr line");
            println!("probe stdout line");
        }
        if self.has("loglevel") {
            let level = hostcalls::get_log_level().unwrap();
            self.set_http_request_header("x-log-level", Some(&format!("{level:?}")));
        }
        if self.has("header-crlf") {
            self.set_http_request_header("x-injected", Some("a\r\nb: c"));
        }
        if self.has("get-resp-header-in-req") {
            // Response headers do not exist yet: BadArgument, which the SDK turns into a panic.
            let _ = self.get_http_response_header(":status");
        }
        if self.has("get-resp-headers-in-req") {
            let all = self.get_http_response_headers();
            self.set_http_request_header("x-resp-count", Some(&all.len().to_string()));
        }
        if self.has("set-body-in-headers") {
            self.set_http_request_body(0, 0, b"x");
        }
        if self.has("get-body-in-headers") {
            let b = self.get_http_request_body(0, usize::MAX);
            self.set_http_request_header("x-body-in-headers", Some(&format!("{b:?}")));
        }
        if let Some(code) = self.arg("local-headers") {
            self.local_reply(code.parse().unwrap());
            return Action::Pause;
        }
        if self.has("http-call") {
            let token = self
                .dispatch_http_call(
                    "auth",
                    vec![(":method", "GET"), (":path", "/check"), (":authority", "auth.local")],
                    Some(b"ping"),
                    vec![],
                    Duration::from_secs(1),
                )
                .unwrap();
            log::info!("dispatched http call {token}");
            return Action::Pause;
        }
        if self.has("bad-http-call") {
            let r = self.dispatch_http_call("auth", vec![(":method", "GET")], None, vec![], Duration::from_secs(1));
            self.set_http_request_header("x-call-err", Some(&format!("{r:?}")));
        }
        if self.has("resume-in-headers") {
            self.resume_http_request();
        }
        if self.has("pause-headers") {
            return Action::Pause;
        }
        Action::Continue
    }

    fn on_http_request_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        log::info!("request body size={size} eos={end_of_stream}");
        if self.has("panic-body") {
            panic!("probe panic in request body");
        }
        if self.has("read-headers-in-body") {
            let path = self.get_http_request_header(":path");
            log::info!("path in body: {path:?}");
        }
        if self.has("set-header-in-body") {
            self.set_http_request_header("x-from-body", Some(&size.to_string()));
        }
        if self.has("chunk-tag") {
            let chunk = self.get_http_request_body(0, size).unwrap_or_default();
            let mut tagged = b"<".to_vec();
            tagged.extend_from_slice(&chunk);
            tagged.push(b'>');
            self.set_http_request_body(0, size, &tagged);
        }
        if self.has("buffer-body") {
            if !end_of_stream {
                return Action::Pause;
            }
            let body = self.get_http_request_body(0, size).unwrap_or_default();
            let upper = body.to_ascii_uppercase();
            self.set_http_request_body(0, size, &upper);
            let mut len = upper.len();
            if self.has("wrap-body") {
                self.set_http_request_body(0, 0, b"<");
                len += 1;
                self.set_http_request_body(len, 0, b">");
                len += 1;
            }
            if self.has("clip-read") {
                let tail = self.get_http_request_body(2, 1000).unwrap_or_default();
                self.set_http_request_header("x-tail", Some(&String::from_utf8_lossy(&tail)));
            }
            self.set_http_request_header("content-length", Some(&len.to_string()));
            self.set_http_request_header("x-body-size", Some(&size.to_string()));
            if let Some(code) = self.arg("local-body") {
                self.local_reply(code.parse().unwrap());
                return Action::Pause;
            }
        }
        if self.has("bad-set-body") {
            // start inside the buffer but not 0: Envoy answers BadArgument, the SDK panics.
            self.set_http_request_body(1, 0, b"x");
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        log::info!("response headers n={num_headers} eos={end_of_stream}");
        if self.has("panic-resp") {
            panic!("probe panic in response headers");
        }
        let status = self.get_http_response_header(":status").unwrap_or_default();
        self.set_http_response_header("x-probe-saw-status", Some(&status));
        self.set_http_response_header("x-probe-resp", Some("1"));
        if let Some(code) = self.arg("local-resp") {
            self.local_reply(code.parse().unwrap());
            return Action::Pause;
        }
        if self.has("buffer-resp") {
            self.set_http_response_header("content-length", None);
            return Action::Pause;
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        log::info!("response body size={size} eos={end_of_stream}");
        if self.has("read-resp-headers-in-body") {
            let s = self.get_http_response_header(":status");
            log::info!("status in body: {s:?}");
        }
        if self.has("buffer-resp") {
            if !end_of_stream {
                return Action::Pause;
            }
            let body = self.get_http_response_body(0, size).unwrap_or_default();
            let mut wrapped = b"[".to_vec();
            wrapped.extend_from_slice(&body);
            wrapped.push(b']');
            self.set_http_response_body(0, size, &wrapped);
            self.set_http_response_header("x-resp-size", Some(&size.to_string()));
        }
        if self.has("resp-chunk-tag") {
            let chunk = self.get_http_response_body(0, size).unwrap_or_default();
            let mut tagged = b"<".to_vec();
            tagged.extend_from_slice(&chunk);
            tagged.push(b'>');
            self.set_http_response_body(0, size, &tagged);
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        let path = self.get_http_request_header(":path");
        let status = self.get_http_response_header(":status");
        log::info!("on_log ctx={} path={path:?} status={status:?}", self.id);
    }
}
