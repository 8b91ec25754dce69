//! OpenTelemetry GenAI attribute values the gateway reports.

use crate::config::Provider;

/// `gen_ai.provider.name`: the conventions' well-known value for the provider's kind
/// (each kind's translator names it); OpenAI-compatible services without one keep
/// their preset's name.
pub fn provider_name(p: &Provider) -> &'static str {
    p.kind.translator().semconv_name(p.preset)
}
