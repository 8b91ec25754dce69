#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Two VMs of one host, like two Envoy workers: the usage ledger (shared data, get + CAS) and
//! the stats stay exact whether the VMs interleave callback by callback, another worker writes
//! between a read and its CAS, or they run on two threads at once.

use crate::common::{chat_headers, counter_sum, ledger};
use llm_gateway::config::access::Period;
use llm_gateway::state::periods::{self, Scope};
use llm_gateway::state::words;
use llm_gateway::telemetry::histogram::{self, Record};
use llm_gateway::telemetry::series;
use llm_gateway::usage::metrics;
use wasm_host::{Host, Vm};

/// A listed model: the filter creates its ledger key in `on_configure`, before any traffic.
/// With access control (the key is sha256("client-secret"), what `chat_headers` sends), so
/// that the day and month totals, which only budgets and `/v1/usage` read, are kept too.
const CONFIG: &str = r#"{"providers":[{"name":"an","kind":"anthropic","cluster":"c","api_key_env":"K"}],
    "models":[{"name":"claude","targets":[{"provider":"an","model":"claude-sonnet-4-5"}]}],
    "allow_provider_model":true,
    "access":{"keys":[{"name":"client","sha256":"fdce8e4a65b70d186bd77cba2e0c580dcf1c6497da9f1b70eed849497e1f8ba2"}]}}"#;
const LISTED: &str = "claude";
/// Not listed: allowed through `allow_provider_model`, its ledger key is created on first use.
const UNLISTED: &str = "an/claude-sonnet-4-5";

const OK_ANSWER: &str = r#"{"id":"m","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":12,"output_tokens":3}}"#;
const BAD_ANSWER: &str =
    r#"{"type":"error","error":{"type":"invalid_request_error","message":"no"}}"#;

fn request_body(model: &str) -> String {
    format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hi"}}]}}"#)
}

/// One exchange as a list of steps, so two VMs can be interleaved step by step.
struct Exchange {
    id: u32,
    ok: bool,
    model: &'static str,
}

impl Exchange {
    fn open(vm: &mut Vm, ok: bool) -> Exchange {
        Exchange::open_for(vm, ok, LISTED)
    }

    fn open_for(vm: &mut Vm, ok: bool, model: &'static str) -> Exchange {
        Exchange {
            id: vm.open_request().unwrap(),
            ok,
            model,
        }
    }

    const STEPS: usize = 5;

    fn step(&self, vm: &mut Vm, step: usize) {
        let body = request_body(self.model);
        let mut req = vm.stream(self.id).unwrap();
        match step {
            0 => {
                req.send_request_headers(&chat_headers(body.len()), false)
                    .unwrap();
            }
            1 => {
                req.send_request_body(body.as_bytes(), true).unwrap();
                assert!(req.upstream_request_complete());
            }
            2 => {
                let status = if self.ok { "200" } else { "400" };
                req.send_response_headers(
                    &[(":status", status), ("content-type", "application/json")],
                    false,
                )
                .unwrap();
            }
            3 => {
                let answer = if self.ok { OK_ANSWER } else { BAD_ANSWER };
                req.send_response_body(answer.as_bytes(), true).unwrap();
                assert!(req.response_complete());
            }
            _ => req.close().unwrap(),
        }
    }
}

fn gateway_vm(host: &Host) -> Vm {
    let vm = host
        .vm(&crate::common::filter_wasm(), CONFIG, &[("K", "test-key")])
        .unwrap();
    assert!(vm.configure());
    vm
}

fn check_totals(host: &Host, requests: u64, errors: u64) {
    check_totals_for(host, LISTED, requests, errors);
}

fn check_totals_for(host: &Host, model: &str, requests: u64, errors: u64) {
    let ok = requests - errors;
    let (m, p, u) = (model, "an", "claude-sonnet-4-5");
    assert_eq!(
        ledger(host, m, p, u),
        Some([requests, 12 * ok, 3 * ok, errors])
    );
    // Day and month totals of the model (what budgets and GET /v1/usage read).
    for period in [Period::Day, Period::Month] {
        let (v, _) = host
            .shared_data(&periods::key(Scope::Model, model, period))
            .expect("period totals");
        let t = periods::Totals::decode(&v);
        assert_eq!(
            (t.requests, t.prompt_tokens, t.completion_tokens, t.errors),
            (requests, 12 * ok, 3 * ok, errors),
            "{period:?} totals of {model}"
        );
    }
    // Stats carry more labels than the ledger; a fresh host only has this model's series.
    assert_eq!(counter_sum(host, metrics::REQUESTS), requests);
    assert_eq!(counter_sum(host, metrics::PROMPT_TOKENS), 12 * ok);
    assert_eq!(counter_sum(host, metrics::COMPLETION_TOKENS), 3 * ok);
    assert_eq!(counter_sum(host, metrics::ERRORS), errors);
    // The GenAI histograms: each worker adds its own into shared data on its tick.
    let (index, _) = host.shared_data(series::INDEX).expect("GenAI series index");
    let mut total = Record::default();
    for line in String::from_utf8(index).unwrap().lines() {
        if series::values(line).nth(3) == Some(model) {
            let (v, _) = host
                .shared_data(&series::data_key(line))
                .expect("series data");
            total.add(&Record(words::decode(&v)));
        }
    }
    let count = |i: usize| total.instrument(i).0.iter().sum::<u64>();
    assert_eq!(count(histogram::DURATION), requests);
    assert_eq!(count(histogram::INPUT_TOKENS), ok);
    assert_eq!(total.instrument(histogram::INPUT_TOKENS).1, 12 * ok);
    assert_eq!(total.instrument(histogram::OUTPUT_TOKENS).1, 3 * ok);
}

fn interleaved(host: &Host, rounds: usize) -> u64 {
    let mut a = gateway_vm(host);
    let mut b = gateway_vm(host);
    let mut errors = 0;
    for round in 0..rounds {
        let ok_a = round % 3 != 0;
        let ok_b = round % 4 != 0;
        errors += u64::from(!ok_a) + u64::from(!ok_b);
        let xa = Exchange::open(&mut a, ok_a);
        let xb = Exchange::open(&mut b, ok_b);
        for step in 0..Exchange::STEPS {
            // Alternate which worker goes first.
            if round % 2 == 0 {
                xa.step(&mut a, step);
                xb.step(&mut b, step);
            } else {
                xb.step(&mut b, step);
                xa.step(&mut a, step);
            }
        }
    }
    // Each worker writes its GenAI histograms on its tick.
    assert!(a.tick().unwrap() && b.tick().unwrap());
    errors
}

#[test]
fn two_vms_interleaved_callback_by_callback_count_exactly() {
    let host = Host::new().unwrap();
    let errors = interleaved(&host, 100);
    check_totals(&host, 200, errors);
}

#[test]
fn a_write_between_read_and_cas_is_retried_not_lost() {
    let host = Host::new().unwrap();
    // Every other shared-data read is followed by another worker's write of that key.
    host.inject_concurrent_writes(2);
    let errors = interleaved(&host, 60);
    host.inject_concurrent_writes(0);
    assert!(host.cas_mismatches() > 0, "no CAS conflict was provoked");
    check_totals(&host, 120, errors);
}

/// Runs `per_thread` exchanges on each VM, one thread per VM. With `configure_in_thread`, each
/// thread creates (and configures) its VM itself, so one worker may already serve while the
/// other is still in `on_configure`.
fn threads(host: &Host, model: &'static str, per_thread: usize, configure_in_thread: bool) -> u64 {
    let ready: Vec<Option<Vm>> = (0..2)
        .map(|_| (!configure_in_thread).then(|| gateway_vm(host)))
        .collect();
    threads_with(host, ready, model, per_thread)
}

/// Runs the exchanges on the given VMs (None: created in the thread), all starting together.
fn threads_with(
    host: &Host,
    mut ready: Vec<Option<Vm>>,
    model: &'static str,
    per_thread: usize,
) -> u64 {
    let start = std::sync::Barrier::new(ready.len());
    let start = &start;
    std::thread::scope(|s| {
        let workers: Vec<_> = ready
            .iter_mut()
            .enumerate()
            .map(|(w, slot)| {
                let host = host.clone();
                let vm = slot.take();
                s.spawn(move || {
                    let mut vm = vm.unwrap_or_else(|| gateway_vm(&host));
                    start.wait();
                    let mut errors = 0u64;
                    for i in 0..per_thread {
                        let ok = (i + w) % 5 != 0;
                        errors += u64::from(!ok);
                        let x = Exchange::open_for(&mut vm, ok, model);
                        for step in 0..Exchange::STEPS {
                            x.step(&mut vm, step);
                        }
                    }
                    assert!(vm.tick().unwrap());
                    errors
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    })
}

#[test]
fn two_worker_threads_count_exactly() {
    let host = Host::new().unwrap();
    host.set_yield_after_shared_data_get(true);
    let per_thread = 150usize;
    // Steady state, as in Envoy after start-up: both workers configured, and one request served
    // already (it creates the day/month keys; see the period race below).
    let mut vms: Vec<Option<Vm>> = (0..2).map(|_| Some(gateway_vm(&host))).collect();
    if let Some(vm) = vms[0].as_mut() {
        let x = Exchange::open(vm, true);
        for step in 0..Exchange::STEPS {
            x.step(vm, step);
        }
    }
    let errors = threads_with(&host, vms, LISTED, per_thread);
    eprintln!(
        "two threads: {} CAS conflicts while counting {} requests",
        host.cas_mismatches(),
        2 * per_thread
    );
    check_totals(&host, 2 * per_thread as u64 + 1, errors);
}

// Races this host found, now fixed in the filter. proxy-wasm shared data has no atomic create:
// cas 0 writes unconditionally, while any other cas creates a missing key and refuses to
// overwrite an existing one. The filter used to write new keys with cas 0, so two workers
// creating a key at the same moment could lose an update; it now creates keys with a token no
// value carries (`host::CREATE_ONLY`). Each test loops to give the race its chance.

/// An unlisted `provider/model` name gets its ledger key on first use.
#[test]
fn race_first_use_of_an_unlisted_provider_model() {
    for _ in 0..20 {
        let host = Host::new().unwrap();
        host.set_yield_after_shared_data_get(true);
        let errors = threads(&host, UNLISTED, 5, false);
        check_totals_for(&host, UNLISTED, 10, errors);
    }
}

/// `ledger::ensure` in `on_configure` writes zeros when it sees no key: a worker still
/// configuring can wipe what another worker already counted (startup, config reload).
#[test]
fn race_configure_while_another_worker_serves() {
    for _ in 0..20 {
        let host = Host::new().unwrap();
        host.set_yield_after_shared_data_get(true);
        let errors = threads(&host, LISTED, 5, true);
        check_totals(&host, 10, errors);
    }
}

/// Day and month totals are created by the first request of each period, on whichever worker
/// serves it: the first requests of a new day on two workers race.
#[test]
fn race_first_request_of_a_period() {
    for _ in 0..20 {
        let host = Host::new().unwrap();
        host.set_yield_after_shared_data_get(true);
        let errors = threads(&host, LISTED, 5, false);
        check_totals(&host, 10, errors);
    }
}
