//! The `models` section: client-facing model names, each routed to weighted targets
//! (or to a failover cluster), with its strategy and rate limits.

use rustc_hash::FxHashMap;

use super::cluster::Cluster;
use super::error::{err, ConfigError};
use super::provider::Provider;
use super::raw::{RawModel, Strategy};
use super::text::{cluster_name, header_safe};

const MAX_WEIGHT: u32 = 1_000_000;

#[derive(Debug)]
pub struct ModelRoute {
    pub targets: Vec<Target>,
    /// Failover mode: the virtual-model cluster (targets are its endpoints).
    pub cluster: Option<String>,
    pub strategy: Strategy,
    pub sticky_header: Option<String>,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Target {
    /// The upstream: index into `Config::providers`, then `Config::clusters` after them
    /// (`Config::upstream` tells which).
    pub provider: usize,
    pub model: String,
    pub weight: u32,
    pub context_window: Option<u64>,
}

/// The converted section.
pub(super) struct Models {
    pub routes: FxHashMap<String, ModelRoute>,
    /// Client-facing names in configuration order.
    pub names: Vec<String>,
    /// The failover clusters the models declare, in their order.
    pub clusters: Vec<Cluster>,
}

pub(super) fn convert(raw: Vec<RawModel>, providers: &[Provider]) -> Result<Models, ConfigError> {
    let mut out = Models {
        routes: FxHashMap::default(),
        names: Vec::new(),
        clusters: Vec::new(),
    };
    for (i, m) in raw.into_iter().enumerate() {
        let name = m.name.clone();
        let mut route = route(i, m, providers, &out.clusters)?;
        if let Some(cluster) = &route.cluster {
            // The cluster becomes the model's single (virtual) target.
            route.targets = vec![Target {
                provider: providers.len() + out.clusters.len(),
                model: name.clone(),
                weight: 1,
                context_window: None,
            }];
            out.clusters.push(Cluster::new(cluster.clone()));
        }
        if out.routes.insert(name.clone(), route).is_some() {
            return err(
                format!("models[{i}].name"),
                format!("duplicate model name {name:?}"),
            );
        }
        out.names.push(name);
    }
    Ok(out)
}

/// A target's provider by name; a cluster declared by an earlier model answers to its
/// `cluster:<name>` too, as it did when clusters were listed among the providers.
fn upstream_named(providers: &[Provider], clusters: &[Cluster], name: &str) -> Option<usize> {
    providers.iter().position(|p| p.name == name).or_else(|| {
        let j = clusters.iter().position(|c| c.wire.name == name)?;
        Some(providers.len() + j)
    })
}

/// One model's route. `clusters`: those of the models before it.
fn route(
    i: usize,
    m: RawModel,
    providers: &[Provider],
    clusters: &[Cluster],
) -> Result<ModelRoute, ConfigError> {
    if m.name.is_empty() || m.name.len() > 256 || !header_safe(&m.name) {
        return err(
            format!("models[{i}].name"),
            "must be 1-256 printable ASCII characters",
        );
    }
    if let Some(c) = &m.cluster {
        if !cluster_name(c) {
            return err(
                format!("models[{i}].cluster"),
                "must be the name of an Envoy cluster",
            );
        }
    } else if m.targets.is_empty() {
        return err(
            format!("models[{i}].targets"),
            "at least one target is required (or a cluster for failover mode)",
        );
    }
    if let Some(h) = &m.sticky_header {
        if h.is_empty()
            || !h
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return err(
                format!("models[{i}].sticky_header"),
                "must be a lowercase header name",
            );
        }
    }
    let mut targets = Vec::with_capacity(m.targets.len());
    for (j, t) in m.targets.into_iter().enumerate() {
        let field = format!("models[{i}].targets[{j}]");
        let Some(provider) = upstream_named(providers, clusters, &t.provider) else {
            return err(
                format!("{field}.provider"),
                format!("no provider named {:?}", t.provider),
            );
        };
        if t.model.is_empty() || !header_safe(&t.model) {
            return err(
                format!("{field}.model"),
                "must be a non-empty printable ASCII model name",
            );
        }
        let weight = t.weight.unwrap_or(1);
        if weight > MAX_WEIGHT {
            return err(
                format!("{field}.weight"),
                format!("must be at most {MAX_WEIGHT}"),
            );
        }
        if t.context_window == Some(0) {
            return err(format!("{field}.context_window"), "must be greater than 0");
        }
        targets.push(Target {
            provider,
            model: t.model,
            weight,
            context_window: t.context_window,
        });
    }
    let strategy = m.strategy.unwrap_or(Strategy::Weighted);
    if strategy == Strategy::ContextWindow && targets.iter().any(|t| t.context_window.is_none()) {
        return err(
            format!("models[{i}].targets"),
            "every target needs context_window with strategy context_window",
        );
    }
    if !targets.is_empty() && targets.iter().all(|t| t.weight == 0) {
        return err(
            format!("models[{i}].targets"),
            "at least one target needs a weight above 0",
        );
    }
    for (name, v) in [("rpm", m.rpm), ("tpm", m.tpm)] {
        if v == Some(0) {
            return err(
                format!("models[{i}].{name}"),
                "must be at least 1 (omit it for no limit)",
            );
        }
    }
    Ok(ModelRoute {
        targets,
        cluster: m.cluster,
        strategy,
        sticky_header: m.sticky_header,
        rpm: m.rpm,
        tpm: m.tpm,
    })
}
