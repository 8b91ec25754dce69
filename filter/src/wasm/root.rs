//! Root context: validates the configuration once; hands it to every HTTP context.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType};

use super::abi;
use super::callout::{self, EnvoyCalls};
use super::envoy_host::{EnvoyHost, Metrics};
use super::http::Http;
use crate::background::Jobs;
use crate::config::{self, Config, TokenEstimator};
use crate::state::{keys, ledger, Worker};

#[derive(Default)]
pub struct Root {
    config: Option<Rc<Config>>,
    /// This worker's state, lent to every HTTP context.
    worker: Rc<Worker>,
    metrics: Metrics,
    /// tiktoken's tables are still to be built (on the first tick).
    warm_up: bool,
    /// Background work of the current configuration (see `background`).
    jobs: Jobs,
}

impl Context for Root {
    fn on_http_call_response(
        &mut self,
        token: u32,
        _headers: usize,
        body_size: usize,
        _trailers: usize,
    ) {
        let answer = callout::answer(body_size);
        self.jobs.answer(now_ms(), token, answer, &mut EnvoyCalls);
    }

    /// Plugin or VM teardown (Envoy drains a listener, swaps the configuration, shuts
    /// down): write the usage this worker still holds, or it dies with the VM.
    fn on_done(&mut self) -> bool {
        self.flush_usage();
        true
    }
}

impl Root {
    fn flush_usage(&self) {
        self.worker.flush(&mut EnvoyHost::new(self.metrics.clone()));
    }
}

/// `proxy_on_delete` drops the root context, also when no `proxy_on_done` came first.
impl Drop for Root {
    fn drop(&mut self) {
        self.flush_usage();
    }
}

impl RootContext for Root {
    fn on_configure(&mut self, size: usize) -> bool {
        // A new configuration: what the old one counted is written first.
        self.flush_usage();
        let doc = match abi::get_buffer(BufferType::PluginConfiguration, 0, size) {
            Some(doc) => doc,
            _ => {
                log::error!(
                    "llm-gateway: invalid configuration: (document): missing plugin configuration"
                );
                return false;
            }
        };
        match config::parse(&doc, &|k| std::env::var(k).ok()) {
            Ok(cfg) => {
                let mut host = EnvoyHost::new(self.metrics.clone());
                // Create the shared keys of every configured target now, so that
                // concurrent first writes from several workers cannot lose counts.
                for (name, route) in &cfg.models {
                    for t in &route.targets {
                        if let Some(p) = cfg.provider(t.provider) {
                            ledger::ensure(&mut host, &keys::usage(name, &p.name, &t.model));
                        }
                    }
                }
                crate::gateway::observe::create_series(&cfg, &mut host);
                log::info!(
                    "llm-gateway: configured {} providers, {} models",
                    // Failover clusters count, as they did when they were listed as providers.
                    cfg.providers.len() + cfg.clusters.len(),
                    cfg.models.len()
                );
                self.jobs = background_jobs(&cfg, &self.worker);
                if let Some(fleet) = &cfg.fleet {
                    use crate::host::Host;
                    let seed = host.random_u64();
                    self.jobs.add(Box::new(crate::fleet::job::Reporter::new(
                        fleet.clone(),
                        self.worker.fleet_outbox(),
                        seed,
                    )));
                }
                let tiktoken = cfg.token_estimator == TokenEstimator::Tiktoken;
                self.warm_up = tiktoken;
                if tiktoken {
                    // Build the tables on the first tick, off every request's path.
                    abi::set_tick_period_ms(1);
                } else {
                    self.tick_period(&cfg);
                }
                self.config = Some(Rc::new(cfg));
                true
            }
            Err(e) => {
                log::error!("llm-gateway: {e}");
                false
            }
        }
    }

    fn on_tick(&mut self) {
        // Batched usage (usage_flush_ms) a quiet worker still holds.
        self.flush_usage();
        self.jobs.tick(now_ms(), &mut EnvoyCalls);
        if !std::mem::take(&mut self.warm_up) {
            return;
        }
        match self.config.clone() {
            Some(cfg) => self.tick_period(&cfg),
            None => {
                abi::set_tick_period_ms(0);
            }
        }
        #[cfg(feature = "tiktoken")]
        {
            let start = abi::now_nanos();
            let ok = crate::usage::tokenizer::warm_up();
            let ms = match (start, abi::now_nanos()) {
                (Some(a), Some(b)) => b.saturating_sub(a) / 1_000_000,
                _ => 0,
            };
            log::info!(
                "llm-gateway: tiktoken tables {} in {ms} ms",
                if ok {
                    "ready"
                } else {
                    "FAILED (cheap estimates remain)"
                }
            );
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        // Never None: the SDK panics on None. Without a configuration (Envoy would not
        // normally start us) the context answers 500.
        Some(Box::new(Http::new(
            self.config.clone(),
            self.worker.clone(),
            self.metrics.clone(),
        )))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

impl Root {
    /// Tick as often as batched usage is written, a background job asks or the GenAI
    /// histograms are written, whichever is sooner.
    fn tick_period(&self, cfg: &Config) {
        let ms = match (cfg.usage_flush_ms, self.jobs.period_ms()) {
            (0, j) => j,
            (u, 0) => u,
            (u, j) => u.min(j),
        };
        // The GenAI histograms are written on the tick (never on the request path).
        let ms = match ms {
            0 => TELEMETRY_FLUSH_MS,
            m => m.min(TELEMETRY_FLUSH_MS),
        };
        abi::set_tick_period_ms(u32::try_from(ms).unwrap_or(u32::MAX));
    }
}

/// How often a worker adds its GenAI histograms into shared data at most.
const TELEMETRY_FLUSH_MS: u64 = 1000;

/// The background work a configuration asks for.
fn background_jobs(cfg: &Config, worker: &Worker) -> Jobs {
    let mut jobs = Jobs::default();
    let metrics = Box::new(super::credential_metrics::EnvoyRefreshMetrics::default());
    if let Some(job) = crate::credential::Refresh::for_config(cfg, metrics) {
        jobs.add(Box::new(job));
    }
    if let Some(t) = &cfg.traces {
        let exporter = crate::telemetry::export::Exporter::new(t.clone(), worker.span_queue());
        jobs.add(Box::new(exporter));
    }
    jobs
}

fn now_ms() -> u64 {
    abi::now_nanos().map_or(0, |ns| ns / 1_000_000)
}
