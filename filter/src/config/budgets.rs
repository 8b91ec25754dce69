//! Checks that span prices, models and access: a budget must be able to apply to every
//! model it can be spent on, and a price must name something the gateway can serve.
//! (A budget on an unpriced model was accepted and silently never charged.)

use rustc_hash::FxHashMap;

use super::access::Access;
use super::cluster::{self, Cluster, Upstream};
use super::error::ConfigError;
use super::models::ModelRoute;
use super::pricing::Price;
use super::provider::Provider;

/// What the configuration can serve, for checks that span sections.
pub struct Served<'a> {
    pub providers: &'a [Provider],
    pub clusters: &'a [Cluster],
    pub models: &'a FxHashMap<String, ModelRoute>,
    pub allow_provider_model: bool,
}

impl Served<'_> {
    /// A target's provider; None for a failover cluster.
    pub fn provider(&self, index: usize) -> Option<&Provider> {
        match cluster::upstream(self.providers, self.clusters, index)? {
            Upstream::Provider(p) => Some(p),
            Upstream::Cluster(_) => None,
        }
    }
}

fn priced(prices: &FxHashMap<String, Price>, provider: &str, model: &str) -> bool {
    prices.contains_key(&format!("{provider}/{model}")) || prices.contains_key(model)
}

/// Every price names a provider's upstream model: `provider/model` with a configured
/// provider, or a bare upstream model some target serves. With `allow_provider_model`, any
/// model of a configured provider can be requested, so only the provider is checked.
pub fn prices_name_served_models(
    prices: &FxHashMap<String, Price>,
    served: &Served<'_>,
) -> Result<(), ConfigError> {
    let is_real = |name: &str| served.providers.iter().any(|p| p.name == name);
    let targets = || {
        served.models.values().flat_map(|r| {
            r.targets.iter().filter_map(|t| {
                let p = served.provider(t.provider)?;
                Some((p.name.as_str(), t.model.as_str()))
            })
        })
    };
    let mut names: Vec<&String> = prices.keys().collect();
    names.sort();
    for name in names {
        let ok = match name.split_once('/') {
            Some((p, m)) if is_real(p) => {
                served.allow_provider_model || targets().any(|(tp, tm)| tp == p && tm == m)
            }
            // A bare name that holds a slash (some upstream ids do) is checked as a model too.
            _ => served.allow_provider_model || targets().any(|(_, tm)| tm == name),
        };
        if !ok {
            return Err(ConfigError {
                field: format!("prices[model={name:?}]"),
                reason: "names no upstream model of any configured target (use `provider/model` \
                         or the model as the target names it)"
                    .into(),
            });
        }
    }
    Ok(())
}

/// A key with a budget (its own or its team's) has a price for every upstream model it can
/// reach: each target of each model it may call. Without a `models` list it may call every
/// model, and with `allow_provider_model` any `provider/model`, which no price list can
/// cover: such a key must list its models. Failover-cluster models are priced by the
/// upstream that serves each attempt, which the configuration cannot know: not checked.
pub fn budgets_are_priced(
    access: &Access,
    model_names: &[String],
    prices: &FxHashMap<String, Price>,
    served: &Served<'_>,
) -> Result<(), ConfigError> {
    for (i, key) in access.keys.iter().enumerate() {
        let team_budget = access.team_of(key).is_some_and(|t| t.budget.is_some());
        if key.budget.is_none() && !team_budget {
            continue;
        }
        let field = format!("access.keys[{i}]");
        let reachable: Vec<&str> = match &key.models {
            Some(list) => list.iter().map(String::as_str).collect(),
            None if served.allow_provider_model => {
                return Err(ConfigError {
                    field: format!("{field}.models"),
                    reason: "a key with a budget (its own or its team's) must list its models \
                             when allow_provider_model is on: a provider/model without a price \
                             would never be charged"
                        .into(),
                });
            }
            None => model_names.iter().map(String::as_str).collect(),
        };
        for name in reachable {
            let unpriced = match served.models.get(name) {
                Some(route) => route.targets.iter().find_map(|t| {
                    let p = served.provider(t.provider)?;
                    (!priced(prices, &p.name, &t.model)).then(|| format!("{}/{}", p.name, t.model))
                }),
                None => match name.split_once('/') {
                    Some((p, m)) if !priced(prices, p, m) => Some(name.to_string()),
                    _ => None,
                },
            };
            if let Some(upstream) = unpriced {
                let whose = if key.budget.is_some() {
                    "budget_usd"
                } else {
                    "team"
                };
                return Err(ConfigError {
                    field: format!("{field}.{whose}"),
                    reason: format!(
                        "the key can spend on model {name:?}, whose upstream {upstream:?} has no \
                         price: the budget would never be charged for it (add it to prices; 0 is \
                         a price)"
                    ),
                });
            }
        }
    }
    Ok(())
}
