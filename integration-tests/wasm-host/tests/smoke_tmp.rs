#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod common;
#[test]
fn smoke() {
    let t = std::time::Instant::now();
    let host = wasm_host::Host::new();
    let mut vm = host.vm(&common::probe_wasm(), "hello", &[("PROBE_ENV", "yes")]).unwrap();
    eprintln!("vm up in {:?}", t.elapsed());
    assert!(vm.configure());
    let mut req = vm.request().unwrap();
    let a = req.send_request_headers(&[(":method", "POST"), (":path", "/x"), ("x-probe", "pause-headers,buffer-body,env,time,random,shared,metric,foreign")], false).unwrap();
    eprintln!("{a:?}");
    req.send_request_body(b"hello ", false).unwrap();
    req.send_request_body(b"world", true).unwrap();
    eprintln!("{:?}\n{:?}", req.upstream_request_headers(), String::from_utf8_lossy(req.upstream_request_body()));
    req.send_response_headers(&[(":status", "200")], false).unwrap();
    req.send_response_body(b"ok", true).unwrap();
    eprintln!("{:?} {:?}", req.response_headers(), req.warnings());
    req.finish().unwrap();
    for l in host.logs() { eprintln!("{l:?}"); }
    eprintln!("{:?}", host.metrics());
}
