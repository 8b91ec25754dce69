//! In-VM micro-benchmarks: run the same request N times through a VM and time it.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::stream::Action;
use crate::vm::Vm;

/// One request/response exchange to replay.
#[derive(Clone, Debug, Default)]
pub struct Scenario {
    pub request_headers: Vec<(String, String)>,
    pub request_body: Vec<u8>,
    /// Request body chunk size (0: one chunk).
    pub request_chunk: usize,
    /// Response headers (include `:status`); empty: no response is sent (e.g. local replies).
    pub response_headers: Vec<(String, String)>,
    pub response_body: Vec<u8>,
    pub response_chunk: usize,
}

/// Timing of [`bench_requests`].
#[derive(Clone, Debug)]
pub struct BenchReport {
    pub requests: usize,
    pub total: Duration,
    pub per_request: Duration,
    /// Requests answered with a local reply.
    pub local_replies: usize,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests in {:?}: {:.1} µs/request ({} local replies)",
            self.requests,
            self.total,
            self.per_request.as_secs_f64() * 1e6,
            self.local_replies
        )
    }
}

/// Runs `n` requests of `scenario` through `vm` (after `warmup` untimed ones) and reports the
/// time per request, host overhead included. No assertions on time.
pub fn bench_requests(
    vm: &mut Vm,
    scenario: &Scenario,
    warmup: usize,
    n: usize,
) -> Result<BenchReport> {
    for _ in 0..warmup {
        run_one(vm, scenario)?;
    }
    let start = Instant::now();
    let mut local_replies = 0usize;
    for _ in 0..n {
        if run_one(vm, scenario)? {
            local_replies += 1;
        }
    }
    let total = start.elapsed();
    let per_request = total / u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    Ok(BenchReport {
        requests: n,
        total,
        per_request,
        local_replies,
    })
}

fn run_one(vm: &mut Vm, s: &Scenario) -> Result<bool> {
    let mut req = vm.request()?;
    let has_body = !s.request_body.is_empty();
    req.send_request_headers(&s.request_headers, !has_body)?;
    if has_body {
        let chunk = if s.request_chunk == 0 {
            s.request_body.len()
        } else {
            s.request_chunk
        };
        req.send_request_body_chunked(&s.request_body, chunk)?;
    }
    let local = req.local_reply().is_some();
    if !local && !s.response_headers.is_empty() {
        if req.upstream_request_headers().is_none() {
            bail!("scenario: the request never reached upstream");
        }
        let has_body = !s.response_body.is_empty();
        let a = req.send_response_headers(&s.response_headers, !has_body)?;
        if has_body && a != Action::NotCalled {
            let chunk = if s.response_chunk == 0 {
                s.response_body.len()
            } else {
                s.response_chunk
            };
            req.send_response_body_chunked(&s.response_body, chunk)?;
        }
    }
    req.close()?;
    Ok(local)
}
