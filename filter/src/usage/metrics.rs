//! Envoy metric names. Labels are encoded in the name as `.<label>.<value>` pairs and
//! pulled out again by the `stats_config.stats_tags` rules shipped in `envoy-config/`
//! (one regex per label), so Prometheus sees e.g.
//! `llmgw_requests_total{gen_ai_operation_name="chat",gen_ai_request_model="gpt-4.1",…}`.
//! Label names follow the OpenTelemetry GenAI semantic conventions (dots as
//! underscores, as Prometheus spells them); the GenAI histograms, whose unit is the
//! second, are not Envoy metrics (Envoy histograms take integers): see `telemetry`.
//!
//! Values keep their dots (`gpt-4.1`, `anthropic.claude-3-5-sonnet-20240620-v1:0`): a
//! value runs up to the next `.<known label>.` or the end of the name, and the shipped
//! regexes (`VALUE_END`) read it that way instead of stopping at the first dot.

/// Characters a label value cannot carry through Envoy and Prometheus unchanged
/// (control characters, quotes, backslashes, whitespace) become `_`; everything else,
/// dots and colons included, stays as the client or provider spelled it.
pub fn label(value: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() || c.is_whitespace() || c == '"' || c == '\\';
    if value.is_empty() {
        return "_".into();
    }
    if !value.chars().any(bad) {
        return value.into();
    }
    value
        .chars()
        .map(|c| if bad(c) { '_' } else { c })
        .collect::<String>()
        .into()
}

pub fn name(base: &str, labels: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(base.len() + 128);
    out.push_str(base);
    for (k, v) in labels {
        out.push('.');
        out.push_str(k);
        out.push('.');
        out.push_str(&label(v));
    }
    out
}

/// The labels of one request's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels<'a> {
    /// `gen_ai.operation.name`: `chat`, `embeddings`.
    pub operation: &'a str,
    /// `gen_ai.provider.name`: the conventions' well-known value (`aws.bedrock`, …).
    pub provider: &'a str,
    /// The operator's name for the provider (two accounts of one kind differ here).
    pub llm_provider: &'a str,
    pub request_model: &'a str,
    pub response_model: &'a str,
    pub key: &'a str,
}

impl Labels<'_> {
    fn pairs(&self) -> [(&'static str, &str); 6] {
        [
            (OPERATION, self.operation),
            (PROVIDER, self.provider),
            (LLM_PROVIDER, self.llm_provider),
            (MODEL, self.request_model),
            (RESPONSE_MODEL, self.response_model),
            (KEY, self.key),
        ]
    }
}

/// Every per-request metric name for one label set, built once per VM: formatting a
/// handful of names on every request would cost more than the host calls that use them.
#[derive(Debug)]
pub struct Names {
    pub requests: String,
    pub prompt_tokens: String,
    pub completion_tokens: String,
    pub cost: String,
    pub estimated: String,
    pub fallbacks: String,
    labels: Vec<(&'static str, String)>,
}

impl Names {
    pub fn new(l: &Labels<'_>) -> Names {
        let labels = l.pairs();
        let n = |base: &str| name(base, &labels);
        Names {
            requests: n(REQUESTS),
            prompt_tokens: n(PROMPT_TOKENS),
            completion_tokens: n(COMPLETION_TOKENS),
            cost: n(COST),
            estimated: n(ESTIMATED),
            fallbacks: n(FALLBACKS),
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
}

/// `llmgw_errors_total` of one target: without the key, so that every configured
/// target's series can exist (at zero) from the start.
pub fn error_name(l: &Labels<'_>, error_type: &str) -> String {
    name(
        ERRORS,
        &[
            (OPERATION, l.operation),
            (PROVIDER, l.provider),
            (LLM_PROVIDER, l.llm_provider),
            (MODEL, l.request_model),
            (RESPONSE_MODEL, l.response_model),
            (ERROR_TYPE, error_type),
        ],
    )
}

/// Every `error_type` of `llmgw_errors_total` (the series are created at zero).
pub const ERROR_TYPES: [&str; 6] = [
    "incomplete",
    "implausible_usage",
    "rate_limited",
    "upstream",
    "invalid_request",
    "stream",
];

/// `llmgw_refusals_total`: a request the gateway answered itself with an error.
pub fn refusal_name(endpoint: &str, reason: &str, status: &str) -> String {
    name(
        REFUSALS,
        &[(ENDPOINT, endpoint), (REASON, reason), (STATUS, status)],
    )
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
    pub fn new(name: String) -> Histogram {
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

/// Each worker's `Names` by a hash of the labels (no key string built per request);
/// an entry keeps its labels, so a collision only costs a rebuild.
#[derive(Default)]
pub struct NameCache(rustc_hash::FxHashMap<u64, std::rc::Rc<Names>>);

impl NameCache {
    pub fn get(&mut self, l: &Labels<'_>) -> std::rc::Rc<Names> {
        let want = l.pairs().map(|(_, v)| v);
        let hash = hash_strs(&want);
        if let Some(n) = self.0.get(&hash) {
            if n.labels.len() == want.len() && n.labels.iter().zip(want).all(|((_, v), w)| v == w) {
                return n.clone();
            }
        }
        if self.0.len() >= MAX_CACHED {
            self.0.clear();
        }
        let n = std::rc::Rc::new(Names::new(l));
        self.0.insert(hash, n.clone());
        n
    }
}

pub const REQUESTS: &str = "llmgw.requests_total";
pub const PROMPT_TOKENS: &str = "llmgw.prompt_tokens_total";
pub const COMPLETION_TOKENS: &str = "llmgw.completion_tokens_total";
pub const ERRORS: &str = "llmgw.errors_total";
pub const COST: &str = "llmgw.cost_nano_usd_total";
/// Refusals by a key's limits, budgets or allow-list (by key).
pub const LIMIT_REFUSALS: &str = "llmgw.limit_refusals_total";
/// Every error the gateway answered itself, by endpoint, reason and status.
pub const REFUSALS: &str = "llmgw.refusals_total";
pub const ESTIMATED: &str = "llmgw.estimated_usage_total";
/// Spans the exporter dropped (collector slow, down or refusing; queue full).
pub const SPANS_DROPPED: &str = "llmgw.trace_spans_dropped_total";
/// Requests that a later attempt (another endpoint, often another provider) served.
pub const FALLBACKS: &str = "llmgw.fallbacks_total";

// Labels.
pub const OPERATION: &str = "gen_ai_operation_name";
pub const PROVIDER: &str = "gen_ai_provider_name";
pub const LLM_PROVIDER: &str = "llm_provider";
pub const MODEL: &str = "gen_ai_request_model";
pub const RESPONSE_MODEL: &str = "gen_ai_response_model";
pub const ERROR_TYPE: &str = "error_type";
pub const KEY: &str = "llm_key";
pub const REASON: &str = "reason";
pub const ENDPOINT: &str = "llm_endpoint";
pub const STATUS: &str = "http_response_status_code";

/// Every label the filter writes: a value ends where `.<one of these>.` begins.
pub const LABELS: [&str; 10] = [
    OPERATION,
    PROVIDER,
    LLM_PROVIDER,
    MODEL,
    RESPONSE_MODEL,
    ERROR_TYPE,
    KEY,
    REASON,
    ENDPOINT,
    STATUS,
];

/// The `stats_tags` regex that reads `label`'s value back (what `envoy-config/` ships):
/// the shortest run up to the next label or the end.
pub fn tag_regex(label: &str) -> String {
    let mut s = String::from(r"(\.");
    s.push_str(label);
    s.push_str(r"\.(.+?))(?:\.(?:");
    s.push_str(&LABELS.join("|"));
    s.push_str(r")\.|$)");
    s
}

/// Tests: the sum of counter `base` over the series that carry these label values.
#[cfg(test)]
pub fn sum_counter(
    counters: &std::collections::BTreeMap<String, u64>,
    base: &str,
    labels: &[(&str, &str)],
) -> u64 {
    counters
        .iter()
        .filter(|(n, _)| n.strip_prefix(base).is_some_and(|r| r.starts_with('.')))
        .filter(|(n, _)| {
            labels.iter().all(|(k, v)| {
                let pair = format!(".{k}.{v}");
                n.contains(&format!("{pair}.")) || n.ends_with(&pair)
            })
        })
        .map(|(_, v)| *v)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Labels<'static> {
        Labels {
            operation: "chat",
            provider: "aws.bedrock",
            llm_provider: "p",
            request_model: "m.1",
            response_model: "anthropic.claude-3-5-sonnet-20240620-v1:0",
            key: "k",
        }
    }

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
        let l = labels();
        let n = cache.get(&l);
        assert_eq!(
            n.requests,
            "llmgw.requests_total.gen_ai_operation_name.chat.gen_ai_provider_name.aws.bedrock\
             .llm_provider.p.gen_ai_request_model.m.1.gen_ai_response_model\
             .anthropic.claude-3-5-sonnet-20240620-v1:0.llm_key.k"
        );
        assert!(std::rc::Rc::ptr_eq(&n, &cache.get(&l)));
        let other = Labels { key: "k2", ..l };
        assert!(!std::rc::Rc::ptr_eq(&n, &cache.get(&other)));
    }

    #[test]
    fn values_keep_dots_and_colons_but_not_quotes_or_spaces() {
        assert_eq!(label("gpt-4.1"), "gpt-4.1");
        assert_eq!(label("a:b/c@d"), "a:b/c@d");
        assert_eq!(label("a b\"c\\d\ne"), "a_b_c_d_e");
        assert_eq!(label(""), "_");
    }

    /// What Envoy's tag extraction does with `tag_regex` (the first group is cut from
    /// the name, the second is the value), replayed here on the names we build.
    #[test]
    fn tag_regexes_read_every_value_back() {
        let l = labels();
        let n = error_name(&l, "upstream");
        let want = [
            (OPERATION, "chat"),
            (PROVIDER, "aws.bedrock"),
            (LLM_PROVIDER, "p"),
            (MODEL, "m.1"),
            (RESPONSE_MODEL, "anthropic.claude-3-5-sonnet-20240620-v1:0"),
            (ERROR_TYPE, "upstream"),
        ];
        for (label, value) in want {
            assert_eq!(extract(&n, label).as_deref(), Some(value), "{label} in {n}");
        }
        assert_eq!(extract(&n, KEY), None);
        // The shipped Envoy configuration reads every label this way.
        let demo = include_str!("../../../envoy-config/demo.yaml");
        for label in LABELS {
            assert!(demo.contains(&tag_regex(label)), "{label}");
        }
        assert!(tag_regex(MODEL).starts_with(r"(\.gen_ai_request_model\.(.+?))(?:\.(?:gen_ai_"));
    }

    /// A hand-written matcher with the regex's meaning: `.label.` then the shortest
    /// value followed by `.<label>.` or the end.
    fn extract(name: &str, label: &str) -> Option<String> {
        let start = name.find(&format!(".{label}."))? + label.len() + 2;
        let rest = &name[start..];
        let mut end = rest.len();
        for (i, _) in rest.char_indices().skip(1) {
            if LABELS
                .iter()
                .any(|l| rest[i..].starts_with(&format!(".{l}.")))
            {
                end = i;
                break;
            }
        }
        Some(rest[..end].to_string())
    }
}
