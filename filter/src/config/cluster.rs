//! Failover clusters: a model served through an Envoy cluster whose endpoints are its
//! targets, with the per-attempt filter behind it translating for whichever endpoint
//! Envoy's retries and priorities pick. The gateway position neither knows nor records
//! which provider served until the per-attempt filter says so in the answer.

use super::kinds::ProviderKind;
use super::provider::Provider;
use super::provider_common::ProviderCommon;
use crate::translate::openai::settings::OpenAi;

#[derive(Debug)]
pub struct Cluster {
    /// How the gateway position writes to the cluster: OpenAI's format, no credentials,
    /// named `cluster:<name>` in usage, metrics and logs.
    pub wire: Provider,
}

impl Cluster {
    /// `name`: the Envoy cluster, already checked.
    pub(super) fn new(name: String) -> Cluster {
        Cluster {
            wire: Provider {
                common: ProviderCommon {
                    name: format!("cluster:{name}"),
                    cluster: name,
                    host: None,
                    base_path: "/v1".into(),
                    api_key: None,
                    preset: None,
                    forward_headers: Vec::new(),
                    credential: Default::default(),
                },
                kind: ProviderKind::OpenAi(OpenAi),
            },
        }
    }
}

/// What a target routes to.
#[derive(Debug, Clone, Copy)]
pub enum Upstream<'a> {
    Provider(&'a Provider),
    Cluster(&'a Cluster),
}

impl<'a> Upstream<'a> {
    /// Who the gateway position writes the request for.
    pub fn wire(self) -> &'a Provider {
        match self {
            Upstream::Provider(p) => p,
            Upstream::Cluster(c) => &c.wire,
        }
    }
}

/// Targets name their upstream by one index: the providers in configuration order,
/// then the clusters in the order of the models that declare them.
pub(super) fn upstream<'a>(
    providers: &'a [Provider],
    clusters: &'a [Cluster],
    index: usize,
) -> Option<Upstream<'a>> {
    match index.checked_sub(providers.len()) {
        None => providers.get(index).map(Upstream::Provider),
        Some(j) => clusters.get(j).map(Upstream::Cluster),
    }
}
