//! Envoy metric names. Labels are encoded in the name as `.<label>.<value>` pairs and
//! pulled out again by the `stats_config.stats_tags` rules shipped in `envoy-config/`
//! (one regex per label), so Prometheus sees e.g.
//! `llmgw_requests_total{gen_ai_request_model="…",gen_ai_provider_name="…",…}`.
//! Names and labels follow the OpenTelemetry GenAI semantic conventions where one exists.

/// Dots separate labels in Envoy stat names, so label values must not contain any.
pub fn label(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn name(base: &str, labels: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(base.len() + 96);
    out.push_str(base);
    for (k, v) in labels {
        out.push('.');
        out.push_str(k);
        out.push('.');
        out.push_str(&label(v));
    }
    out
}

/// Every per-request metric name for one label set, built once per VM: formatting and
/// sanitising a dozen names on every request would cost more than the host calls
/// that use them.
#[derive(Debug)]
pub struct Names {
    pub requests: String,
    pub prompt_tokens: String,
    pub completion_tokens: String,
    pub cost: String,
    pub estimated: String,
    pub fallbacks: String,
    pub duration: Histogram,
    pub ttft: Histogram,
    pub tpot: Histogram,
    pub tokens_in: Histogram,
    pub tokens_out: Histogram,
    labels: Vec<(&'static str, String)>,
}

impl Names {
    pub fn new(model: &str, provider: &str, response_model: &str, key: &str) -> Names {
        let labels = [
            (MODEL, model),
            (PROVIDER, provider),
            (RESPONSE_MODEL, response_model),
            (KEY, key),
        ];
        let n = |base: &str| name(base, &labels);
        let with = |base: &str, extra: (&str, &str)| {
            let mut l = labels.to_vec();
            l.push(extra);
            name(base, &l)
        };
        Names {
            requests: n(REQUESTS),
            prompt_tokens: n(PROMPT_TOKENS),
            completion_tokens: n(COMPLETION_TOKENS),
            cost: n(COST),
            estimated: n(ESTIMATED),
            fallbacks: n(FALLBACKS),
            duration: Histogram::new(n(DURATION_MS)),
            ttft: Histogram::new(n(TTFT_MS)),
            tpot: Histogram::new(n(TPOT_US)),
            tokens_in: Histogram::new(with(TOKEN_USAGE, (TOKEN_TYPE, "input"))),
            tokens_out: Histogram::new(with(TOKEN_USAGE, (TOKEN_TYPE, "output"))),
            labels: labels.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        }
    }

    /// The counters every request adds to, in `batch::Usage::counts` order.
    pub fn counted(&self) -> [&str; 5] {
        [
            &self.requests,
            &self.prompt_tokens,
            &self.completion_tokens,
            &self.cost,
            &self.estimated,
        ]
    }

    /// A name with one more label (rare paths such as errors).
    pub fn with(&self, base: &str, extra: (&str, &str)) -> String {
        let mut l: Vec<(&str, &str)> = self.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        l.push(extra);
        name(base, &l)
    }
}

/// A histogram recorded on every request: its name, and the id the host gave it once
/// defined. Kept with the cached `Names` (per VM, like the host's ids), so recording
/// needs no lookup by the ~150-byte name.
#[derive(Debug)]
pub struct Histogram {
    pub name: String,
    id: std::cell::Cell<Option<u32>>,
}

impl Histogram {
    fn new(name: String) -> Histogram {
        Histogram {
            name,
            id: std::cell::Cell::new(None),
        }
    }

    pub fn id(&self) -> Option<u32> {
        self.id.get()
    }

    pub fn set_id(&self, id: u32) {
        self.id.set(Some(id));
    }
}

/// Distinct label sets a VM keeps names for; beyond that the cache starts over (label
/// sets come from configuration, but `provider/model` addressing lets clients add more).
const MAX_CACHED: usize = 1024;

/// One hash over several strings (separated, so ("ab","c") and ("a","bc") differ).
fn hash_strs(parts: &[&str]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    for p in parts {
        h.write(p.as_bytes());
        h.write_u8(0xff);
    }
    h.finish()
}

/// Each worker's `Names` by a hash of the four labels (no key string built per request);
/// an entry keeps its labels, so a collision only costs a rebuild.
#[derive(Default)]
pub struct NameCache(rustc_hash::FxHashMap<u64, std::rc::Rc<Names>>);

impl NameCache {
    pub fn get(
        &mut self,
        model: &str,
        provider: &str,
        response_model: &str,
        key: &str,
    ) -> std::rc::Rc<Names> {
        let want = [model, provider, response_model, key];
        let hash = hash_strs(&want);
        if let Some(n) = self.0.get(&hash) {
            if n.labels.len() == want.len() && n.labels.iter().zip(want).all(|((_, v), w)| v == w) {
                return n.clone();
            }
        }
        if self.0.len() >= MAX_CACHED {
            self.0.clear();
        }
        let n = std::rc::Rc::new(Names::new(model, provider, response_model, key));
        self.0.insert(hash, n.clone());
        n
    }
}

pub const REQUESTS: &str = "llmgw.requests_total";
pub const PROMPT_TOKENS: &str = "llmgw.prompt_tokens_total";
pub const COMPLETION_TOKENS: &str = "llmgw.completion_tokens_total";
pub const ERRORS: &str = "llmgw.errors_total";
pub const COST: &str = "llmgw.cost_nano_usd_total";
pub const REFUSALS: &str = "llmgw.limit_refusals_total";
pub const ESTIMATED: &str = "llmgw.estimated_usage_total";
/// Requests that a later attempt (another endpoint, often another provider) served.
pub const FALLBACKS: &str = "llmgw.fallbacks_total";

// Histograms (OpenTelemetry GenAI names; integer units in the name since Envoy
// histograms take integers).
pub const TOKEN_USAGE: &str = "gen_ai.client.token.usage";
pub const DURATION_MS: &str = "gen_ai.client.operation.duration_ms";
pub const TTFT_MS: &str = "gen_ai.server.time_to_first_token_ms";
pub const TPOT_US: &str = "gen_ai.server.time_per_output_token_us";

// Labels.
pub const MODEL: &str = "gen_ai_request_model";
pub const PROVIDER: &str = "gen_ai_provider_name";
pub const RESPONSE_MODEL: &str = "gen_ai_response_model";
pub const TOKEN_TYPE: &str = "gen_ai_token_type";
pub const ERROR_TYPE: &str = "error_type";
pub const KEY: &str = "llm_key";
pub const REASON: &str = "reason";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_separates_parts_and_tails() {
        assert_ne!(hash_strs(&["ab", "c"]), hash_strs(&["a", "bc"]));
        assert_ne!(hash_strs(&["abcdefgh1"]), hash_strs(&["abcdefgh2"]));
        assert_ne!(hash_strs(&["a"]), hash_strs(&["a\0"]));
        assert_eq!(hash_strs(&["m", "p"]), hash_strs(&["m", "p"]));
    }

    #[test]
    fn cached_names_match_built_names() {
        let mut cache = NameCache::default();
        let n = cache.get("m.1", "p", "u:2", "k");
        assert_eq!(
            n.requests,
            name(
                REQUESTS,
                &[
                    (MODEL, "m.1"),
                    (PROVIDER, "p"),
                    (RESPONSE_MODEL, "u:2"),
                    (KEY, "k")
                ]
            )
        );
        assert!(n.tokens_in.name.ends_with(".gen_ai_token_type.input"));
        assert!(std::rc::Rc::ptr_eq(&n, &cache.get("m.1", "p", "u:2", "k")));
    }

    #[test]
    fn names_have_no_stray_dots() {
        assert_eq!(
            name(REQUESTS, &[(MODEL, "gpt-4.1"), (PROVIDER, "anthropic.claude:v1")]),
            "llmgw.requests_total.gen_ai_request_model.gpt-4_1.gen_ai_provider_name.anthropic_claude_v1"
        );
    }
}
