//! Known OpenAI-compatible services: a `preset` fills the provider's `host` and
//! `base_path` defaults (explicit settings still win). Nothing else changes: these
//! services take the OpenAI wire format as it is.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    OpenAi,
    Mistral,
    Groq,
    DeepSeek,
    Together,
    Vllm,
    Ollama,
}

impl Preset {
    pub const NAMES: &'static str = "openai, mistral, groq, deepseek, together, vllm, ollama";

    pub fn parse(name: &str) -> Option<Preset> {
        Some(match name {
            "openai" => Preset::OpenAi,
            "mistral" => Preset::Mistral,
            "groq" => Preset::Groq,
            "deepseek" => Preset::DeepSeek,
            "together" => Preset::Together,
            "vllm" => Preset::Vllm,
            "ollama" => Preset::Ollama,
            _ => return None,
        })
    }

    /// Public API host; self-hosted servers (vLLM, Ollama) have none.
    pub fn host(self) -> Option<&'static str> {
        match self {
            Preset::OpenAi => Some("api.openai.com"),
            Preset::Mistral => Some("api.mistral.ai"),
            Preset::Groq => Some("api.groq.com"),
            Preset::DeepSeek => Some("api.deepseek.com"),
            Preset::Together => Some("api.together.xyz"),
            Preset::Vllm | Preset::Ollama => None,
        }
    }

    pub fn base_path(self) -> &'static str {
        match self {
            Preset::Groq => "/openai/v1",
            // DeepSeek documents both `/chat/completions` and `/v1/chat/completions`.
            Preset::DeepSeek => "",
            _ => "/v1",
        }
    }

    /// The service serves OpenAI's Responses API (`/v1/responses` passes through);
    /// the others get Responses requests translated to chat completions.
    pub fn serves_responses(self) -> bool {
        matches!(self, Preset::OpenAi)
    }

    /// The service reads `max_tokens` but not (or not everywhere) the newer
    /// `max_completion_tokens`; matters only when the gateway writes the request
    /// itself (Anthropic-shaped clients).
    pub fn legacy_max_tokens(self) -> bool {
        matches!(
            self,
            Preset::Mistral | Preset::DeepSeek | Preset::Together | Preset::Vllm | Preset::Ollama
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_parses() {
        for name in Preset::NAMES.split(", ") {
            assert!(Preset::parse(name).is_some(), "{name}");
        }
        assert_eq!(Preset::parse("Groq"), None);
        assert_eq!(Preset::Groq.base_path(), "/openai/v1");
    }
}
