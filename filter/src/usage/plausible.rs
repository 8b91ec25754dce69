//! How much usage a request can plausibly cost, decided from the request itself, so
//! that an upstream reporting more (a bug, a hostile server, 2^64−1) is refused instead
//! of charged: trusted, it would fill a key's ledgers and spend its budget for good.
//!
//! * Prompt: a token covers at least one byte of text (byte-level BPE and byte-fallback
//!   tokenisers), and the body holds the text, so prompt tokens are at most the body's
//!   bytes, plus an allowance for what costs tokens without bytes: images and documents
//!   by URL, tool-use system prompts the provider adds.
//! * Completion: at most the requested `max_tokens`/`max_completion_tokens` per choice,
//!   plus room for thinking tokens some providers count beside it, plus the body's bytes
//!   (OpenAI counts rejected predicted-output tokens, which the body holds); without a
//!   request limit, a cap per choice above every model's output limit.
//! * Neither beyond the target's `context_window` when the configuration gives one.

use super::TokenUsage;

/// Prompt tokens a request may cost beyond its body's bytes: media referenced by URL
/// (a long video on Gemini comes near 2M tokens) and provider-added prompts.
pub const PROMPT_ALLOWANCE: u64 = 1 << 21;
/// Completion tokens beyond the requested maximum (thinking budgets counted apart).
pub const COMPLETION_ALLOWANCE: u64 = 1 << 16;
/// Completion tokens per choice when the request sets no maximum (models stop at 128k
/// today).
pub const COMPLETION_PER_CHOICE: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub prompt: u64,
    pub completion: u64,
}

impl Default for Bound {
    /// Before a request is known: the allowances alone.
    fn default() -> Bound {
        Bound::of(0, None, 1)
    }
}

impl Bound {
    /// `max_completion`: the request's own limit per choice, if it set one.
    pub fn of(body_bytes: usize, max_completion: Option<u64>, choices: u64) -> Bound {
        let choices = choices.max(1);
        let per_choice = max_completion.unwrap_or(COMPLETION_PER_CHOICE);
        let bytes = body_bytes as u64;
        Bound {
            prompt: bytes.saturating_add(PROMPT_ALLOWANCE),
            completion: per_choice
                .saturating_mul(choices)
                .saturating_add(COMPLETION_ALLOWANCE)
                .saturating_add(bytes),
        }
    }

    /// Whether `u` fits this request (missing counts fit: they are not charged).
    pub fn admits(&self, u: &TokenUsage, context_window: Option<u64>) -> bool {
        let cap = |b: u64| context_window.map_or(b, |w| b.min(w));
        let fits = |v: Option<u64>, b: u64| v.is_none_or(|v| v <= cap(b));
        fits(u.prompt, self.prompt)
            && fits(u.completion, self.completion)
            // Cached prompt tokens are part of the prompt.
            && u.cached_prompt.is_none_or(|c| c <= u.prompt.unwrap_or(0))
            // Reasoning tokens are part of the completion.
            && u.reasoning.is_none_or(|r| r <= u.completion.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(prompt: u64, completion: u64, cached: Option<u64>) -> TokenUsage {
        TokenUsage {
            prompt: Some(prompt),
            completion: Some(completion),
            cached_prompt: cached,
            reasoning: None,
        }
    }

    #[test]
    fn bounds_follow_the_request() {
        let b = Bound::of(1_000, Some(100), 2);
        assert_eq!(b.prompt, 1_000 + PROMPT_ALLOWANCE);
        assert_eq!(b.completion, 200 + COMPLETION_ALLOWANCE + 1_000);
        assert!(b.admits(&usage(b.prompt, b.completion, Some(5)), None));
        assert!(!b.admits(&usage(b.prompt + 1, 0, None), None));
        assert!(!b.admits(&usage(0, b.completion + 1, None), None));
        assert!(
            !b.admits(&usage(10, 0, Some(11)), None),
            "cached beyond prompt"
        );
        let thinking = |r| TokenUsage {
            reasoning: Some(r),
            ..usage(10, 20, None)
        };
        assert!(b.admits(&thinking(20), None));
        assert!(
            !b.admits(&thinking(21), None),
            "reasoning beyond completion"
        );
        assert!(!b.admits(&usage(u64::MAX, u64::MAX, None), None));
        // Missing is not charged, so not refused.
        assert!(b.admits(&TokenUsage::default(), None));
        // The context window narrows both.
        assert!(!b.admits(&usage(5_000, 0, None), Some(4_096)));
        assert!(b.admits(&usage(4_000, 90, None), Some(4_096)));
    }

    #[test]
    fn no_overflow_at_the_edges() {
        let b = Bound::of(usize::MAX, Some(u64::MAX), u64::MAX);
        assert_eq!((b.prompt, b.completion), (u64::MAX, u64::MAX));
        let d = Bound::of(0, None, 0);
        assert_eq!(d.completion, COMPLETION_PER_CHOICE + COMPLETION_ALLOWANCE);
    }
}
