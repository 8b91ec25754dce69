//! Model rate limits by what reaches the upstream. A model's `rpm`/`tpm` cap the
//! upstream models it routes to, whatever name a request used to get there (the alias,
//! another alias with the same target, or `provider/model`); otherwise a second name
//! for the same upstream model would be a way around the limit. Built once at
//! configuration time, so a request pays one map lookup.

use std::borrow::Cow;

use super::models::ModelRoute;
use crate::limits::rate::Limits;
use rustc_hash::FxHashMap;

/// One model's limit: its shared-data window key and its numbers.
#[derive(Debug)]
pub struct ModelLimit {
    pub key: String,
    pub limits: Limits,
}

#[derive(Debug, Default)]
pub struct ModelLimits {
    limits: Vec<ModelLimit>,
    /// Per provider index: upstream model (ASCII-lowercased) → indexes into `limits`.
    by_upstream: Vec<FxHashMap<String, Vec<usize>>>,
}

impl ModelLimits {
    /// `names` in configuration order, so that a request meets the limits in that order.
    pub fn build(
        models: &FxHashMap<String, ModelRoute>,
        names: &[String],
        providers: usize,
    ) -> ModelLimits {
        let mut out = ModelLimits {
            limits: Vec::new(),
            by_upstream: (0..providers).map(|_| FxHashMap::default()).collect(),
        };
        for name in names {
            let Some(route) = models.get(name) else {
                continue;
            };
            if route.rpm.is_none() && route.tpm.is_none() {
                continue;
            }
            let index = out.limits.len();
            out.limits.push(ModelLimit {
                key: crate::state::keys::model_rate(name),
                limits: Limits {
                    rpm: route.rpm,
                    tpm: route.tpm,
                },
            });
            for t in &route.targets {
                if let Some(map) = out.by_upstream.get_mut(t.provider) {
                    let list = map.entry(t.model.to_ascii_lowercase()).or_default();
                    // A model listing the same upstream twice still counts a request once.
                    if !list.contains(&index) {
                        list.push(index);
                    }
                }
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.limits.is_empty()
    }

    /// Every model limit covering `upstream_model` at provider `provider`. Matched
    /// without regard to ASCII case: providers treat `GPT-4o` and `gpt-4o` alike.
    pub fn covering(&self, provider: usize, upstream_model: &str) -> Vec<&ModelLimit> {
        if self.limits.is_empty() {
            return Vec::new();
        }
        let Some(map) = self.by_upstream.get(provider) else {
            return Vec::new();
        };
        let name = if upstream_model.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(upstream_model.to_ascii_lowercase())
        } else {
            Cow::Borrowed(upstream_model)
        };
        map.get(name.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|&i| self.limits.get(i))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::config::parse;

    fn keys(doc: &str, provider: &str, model: &str) -> Vec<String> {
        let c = parse(doc.as_bytes(), &|_| None).unwrap();
        let p = c.provider_index(provider).unwrap();
        c.model_limits
            .covering(p, model)
            .iter()
            .map(|l| l.key.clone())
            .collect()
    }

    const DOC: &str = r#"{"providers":[{"name":"oa","kind":"openai","cluster":"c"},
            {"name":"az","kind":"openai","cluster":"d"}],
        "models":[
            {"name":"fast","targets":[{"provider":"oa","model":"gpt-4o-mini"},{"provider":"oa","model":"gpt-4o-mini"}],"rpm":2},
            {"name":"free","targets":[{"provider":"oa","model":"gpt-4o-mini"}]},
            {"name":"mix","targets":[{"provider":"oa","model":"gpt-4o-mini"},{"provider":"az","model":"big"}],"tpm":9}],
        "allow_provider_model":true}"#;

    #[test]
    fn every_limit_on_the_upstream_model_covers_it() {
        assert_eq!(
            keys(DOC, "oa", "gpt-4o-mini"),
            ["llm:rate:model:fast", "llm:rate:model:mix"]
        );
        assert_eq!(
            keys(DOC, "oa", "GPT-4o-Mini"),
            ["llm:rate:model:fast", "llm:rate:model:mix"]
        );
        assert_eq!(keys(DOC, "az", "big"), ["llm:rate:model:mix"]);
        // Same model name at another provider: another upstream.
        assert!(keys(DOC, "az", "gpt-4o-mini").is_empty());
        assert!(keys(DOC, "oa", "gpt-4o").is_empty());
    }
}
