//! A cheap prompt-token estimate for admission control (about four characters per
//! token, as for OpenAI's and Anthropic's English tokenisers, plus per-message and
//! per-image overheads). Provider-reported usage always replaces it afterwards.

use crate::api::embeddings::{EmbeddingInput, EmbeddingsRequest};
use crate::api::openai::{ChatRequest, Content, ContentPart, Message};
use crate::api::text::Text;
use crate::config::TokenEstimator;

const PER_MESSAGE: u64 = 4;
const PER_IMAGE: u64 = 85;

fn text_chars(c: &Content) -> (u64, u64) {
    match c {
        Content::Text(t) => (t.char_count() as u64, 0),
        Content::Parts(parts) => parts.iter().fold((0, 0), |(chars, images), p| match p {
            ContentPart::Text { text } => (chars + text.char_count() as u64, images),
            ContentPart::ImageUrl { .. } => (chars, images + 1),
            ContentPart::Unsupported => (chars, images),
        }),
    }
}

/// With `TokenEstimator::Tiktoken` (when built in and its tables are ready) tiktoken's
/// count, else the cheap rule.
#[cfg_attr(not(feature = "tiktoken"), allow(unused_variables))]
pub fn prompt_tokens(req: &ChatRequest, estimator: TokenEstimator) -> u64 {
    #[cfg(feature = "tiktoken")]
    if estimator == TokenEstimator::Tiktoken {
        if let Some(n) = tiktoken_prompt_tokens(req) {
            return n;
        }
    }
    cheap_prompt_tokens(req)
}

/// OpenAI's accounting: the text of every message, 3 tokens of framing per message and
/// 3 to prime the answer; images at the low-detail price.
#[cfg(feature = "tiktoken")]
fn tiktoken_prompt_tokens(req: &ChatRequest) -> Option<u64> {
    use super::tokenizer::count;
    let model = req.model.as_str();
    let mut total = 3u64;
    let text_of = |c: &Content| -> (String, u64) {
        match c {
            Content::Text(t) => (t.as_str().into_owned(), 0),
            Content::Parts(parts) => {
                parts
                    .iter()
                    .fold((String::new(), 0), |(mut s, i), p| match p {
                        ContentPart::Text { text } => {
                            s.push_str(&text.as_str());
                            (s, i)
                        }
                        ContentPart::ImageUrl { .. } => (s, i + 1),
                        ContentPart::Unsupported => (s, i),
                    })
            }
        }
    };
    for m in &req.messages {
        let (text, images) = match m {
            Message::System { content }
            | Message::Developer { content }
            | Message::User { content }
            | Message::Tool { content, .. } => text_of(content),
            Message::Assistant {
                content,
                tool_calls,
            } => {
                let (mut t, i) = content.as_ref().map(text_of).unwrap_or_default();
                for c in tool_calls.iter().flatten() {
                    t.push_str(&c.function.name);
                    t.push_str(&c.function.arguments);
                }
                (t, i)
            }
        };
        total += 3 + count(model, &text)? + PER_IMAGE * images;
    }
    for t in req.tools.iter().flatten() {
        total += count(model, &t.function.name)?;
        if let Some(d) = &t.function.description {
            total += count(model, d)?;
        }
        if let Some(p) = &t.function.parameters {
            total += count(model, p.get())?;
        }
    }
    Some(total)
}

fn cheap_prompt_tokens(req: &ChatRequest) -> u64 {
    let mut chars = 0u64;
    let mut images = 0u64;
    for m in &req.messages {
        let (c, i) = match m {
            Message::System { content }
            | Message::Developer { content }
            | Message::User { content }
            | Message::Tool { content, .. } => text_chars(content),
            Message::Assistant {
                content,
                tool_calls,
            } => {
                let (c, i) = content.as_ref().map(text_chars).unwrap_or((0, 0));
                let args: u64 = tool_calls
                    .iter()
                    .flatten()
                    .map(|t| t.function.arguments.len() as u64 + t.function.name.len() as u64)
                    .sum();
                (c + args, i)
            }
        };
        chars += c;
        images += i;
    }
    let tools: u64 = req
        .tools
        .iter()
        .flatten()
        .map(|t| {
            t.function.name.len() as u64
                + t.function
                    .description
                    .as_ref()
                    .map_or(0, |d| d.len() as u64)
                + t.function
                    .parameters
                    .as_ref()
                    .map_or(0, |p| p.get().len() as u64)
        })
        .sum();
    (chars + tools).div_ceil(4) + PER_MESSAGE * req.messages.len() as u64 + PER_IMAGE * images
}

/// Input tokens of an embeddings request: about four characters per token for each
/// text (rounded up), the count of ids for token arrays. Used for admission and, for
/// providers that report no usage for embeddings (Gemini), as the accounted usage.
pub fn embedding_tokens(req: &EmbeddingsRequest) -> u64 {
    let text = |s: &String| (s.chars().count() as u64).div_ceil(4);
    match &req.input {
        EmbeddingInput::Text(s) => text(s),
        EmbeddingInput::Texts(v) => v.iter().map(text).sum(),
        EmbeddingInput::Tokens(t) => t.len() as u64,
        EmbeddingInput::TokenLists(v) => v.iter().map(|t| t.len() as u64).sum(),
    }
}

/// What identifies a conversation for prompt-cache affinity (sticky routing): the text
/// of every message but the last (system prompt and history, which a provider's prompt
/// cache can reuse), up to `max` bytes; for a single message, its first 256 bytes.
pub fn prompt_prefix(req: &ChatRequest, max: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(max);
    let history = req.messages.len().saturating_sub(1);
    let (messages, limit) = if history == 0 {
        (req.messages.as_slice(), max.min(256))
    } else {
        (req.messages.get(..history).unwrap_or(&[]), max)
    };
    for m in messages {
        let content = match m {
            Message::System { content }
            | Message::Developer { content }
            | Message::User { content }
            | Message::Tool { content, .. } => Some(content),
            Message::Assistant { content, .. } => content.as_ref(),
        };
        let texts: Vec<&Text> = match content {
            Some(Content::Text(t)) => vec![t],
            Some(Content::Parts(parts)) => parts
                .iter()
                .filter_map(|p| match p {
                    ContentPart::Text { text } => Some(text),
                    _ => None,
                })
                .collect(),
            None => Vec::new(),
        };
        for t in texts {
            let t = t.as_str();
            let room = limit.saturating_sub(out.len());
            out.extend_from_slice(t.as_bytes().get(..room.min(t.len())).unwrap_or(&[]));
            if out.len() >= limit {
                return out;
            }
        }
        out.push(0);
    }
    out
}

/// Completion tokens to reserve against a token limit before the answer is known: the
/// client's own cap, else a fixed allowance. Reserving at least what a request really
/// uses is what bounds a burst's overshoot to one request.
pub const DEFAULT_COMPLETION_RESERVE: u64 = 256;

pub fn completion_reserve(req: &ChatRequest) -> u64 {
    req.max_completion_tokens
        .or(req.max_tokens)
        .map(u64::from)
        .unwrap_or(DEFAULT_COMPLETION_RESERVE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ignores_the_last_turn() {
        let a: ChatRequest = serde_json::from_str(
            r#"{"model":"m","messages":[{"role":"system","content":"long system"},{"role":"user","content":"q1"}]}"#,
        )
        .unwrap();
        let b: ChatRequest = serde_json::from_str(
            r#"{"model":"m","messages":[{"role":"system","content":"long system"},{"role":"user","content":"q2"}]}"#,
        )
        .unwrap();
        assert_eq!(prompt_prefix(&a, 2048), prompt_prefix(&b, 2048));
        assert_eq!(prompt_prefix(&a, 4), b"long");
    }

    #[cfg(feature = "tiktoken")]
    #[test]
    fn tiktoken_counts_when_chosen_and_ready() {
        let req: ChatRequest = serde_json::from_str(
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hello world"}]}"#,
        )
        .unwrap();
        assert!(crate::usage::tokenizer::warm_up());
        // 3 priming + 3 framing + 2 ("hello", " world")
        assert_eq!(prompt_tokens(&req, TokenEstimator::Tiktoken), 8);
        assert_eq!(prompt_tokens(&req, TokenEstimator::Cheap), 3 + 4);
    }

    #[test]
    fn embeddings_estimate() {
        let req: EmbeddingsRequest =
            serde_json::from_str(r#"{"model":"m","input":["abcde","été"]}"#).unwrap();
        assert_eq!(embedding_tokens(&req), 2 + 1);
        let req: EmbeddingsRequest =
            serde_json::from_str(r#"{"model":"m","input":[[1,2,3],[4]]}"#).unwrap();
        assert_eq!(embedding_tokens(&req), 4);
    }

    #[test]
    fn estimate() {
        let req: ChatRequest = serde_json::from_str(
            r#"{"model":"m","messages":[{"role":"user","content":"abcdefgh"},
               {"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#,
        )
        .unwrap();
        assert_eq!(prompt_tokens(&req, TokenEstimator::Cheap), 2 + 8 + 85);
    }
}
