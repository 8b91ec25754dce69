//! Token usage as reported (or not) by providers, estimates, metrics and batching.
pub mod batch;
pub mod estimate;
pub mod metrics;
pub mod plausible;
#[cfg(feature = "tiktoken")]
pub mod tokenizer;

/// Counts are `Option`: a provider that reports nothing has not reported zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    pub prompt: Option<u64>,
    pub completion: Option<u64>,
    /// Part of `prompt` served from the provider's prompt cache.
    pub cached_prompt: Option<u64>,
    /// Part of `completion` the model spent thinking, where the provider reports it
    /// apart (OpenAI, Azure, Gemini); Anthropic and Bedrock count thinking in the
    /// output without a separate number, so theirs stays `None`.
    pub reasoning: Option<u64>,
}

impl TokenUsage {
    pub fn is_known(&self) -> bool {
        self.prompt.is_some() || self.completion.is_some()
    }

    pub fn from_openai(u: &crate::api::openai::Usage) -> TokenUsage {
        TokenUsage {
            prompt: Some(u.prompt_tokens),
            completion: Some(u.completion_tokens),
            cached_prompt: u.prompt_tokens_details.map(|d| d.cached_tokens),
            reasoning: u.completion_tokens_details.map(|d| d.reasoning_tokens),
        }
    }

    /// Anthropic's `input_tokens` excludes cache reads and writes; OpenAI's
    /// `prompt_tokens` includes them.
    pub fn from_anthropic(u: &crate::translate::anthropic::wire::Usage) -> TokenUsage {
        let cached = u.cache_read_input_tokens;
        let prompt = match (u.input_tokens, u.cache_creation_input_tokens, cached) {
            (None, None, None) => None,
            // Saturating: a wrapped sum would pass for a small, plausible count.
            (a, b, c) => Some(
                a.unwrap_or(0)
                    .saturating_add(b.unwrap_or(0))
                    .saturating_add(c.unwrap_or(0)),
            ),
        };
        TokenUsage {
            prompt,
            completion: u.output_tokens,
            cached_prompt: cached,
            reasoning: None,
        }
    }

    pub fn to_openai(self) -> crate::api::openai::Usage {
        let prompt = self.prompt.unwrap_or(0);
        let completion = self.completion.unwrap_or(0);
        crate::api::openai::Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt.saturating_add(completion),
            prompt_tokens_details: self
                .cached_prompt
                .map(|c| crate::api::openai::PromptTokensDetails { cached_tokens: c }),
            completion_tokens_details: self.reasoning.map(|r| {
                crate::api::openai::CompletionTokensDetails {
                    reasoning_tokens: r,
                }
            }),
        }
    }
}
