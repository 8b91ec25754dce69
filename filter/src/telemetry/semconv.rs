//! OpenTelemetry GenAI attribute values the gateway reports.

use crate::config::{Preset, Provider, ProviderKind};

/// `gen_ai.provider.name`: the conventions' well-known value for the provider's kind;
/// OpenAI-compatible services without one keep their preset's name.
pub fn provider_name(p: &Provider) -> &'static str {
    match &p.kind {
        ProviderKind::OpenAi(_) => match p.preset {
            None | Some(Preset::OpenAi) => "openai",
            Some(Preset::Mistral) => "mistral_ai",
            Some(Preset::Groq) => "groq",
            Some(Preset::DeepSeek) => "deepseek",
            Some(Preset::Together) => "together",
            Some(Preset::Vllm) => "vllm",
            Some(Preset::Ollama) => "ollama",
        },
        ProviderKind::Anthropic(_) => "anthropic",
        ProviderKind::Gemini(_) => "gcp.gemini",
        ProviderKind::Vertex(_) | ProviderKind::VertexAnthropic(_) => "gcp.vertex_ai",
        ProviderKind::Azure(_) => "azure.ai.openai",
        ProviderKind::Bedrock(_) => "aws.bedrock",
    }
}
