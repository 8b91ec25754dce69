//! Exact token counts with tiktoken, for estimates only (provider-reported usage always
//! wins). Compiled in with the `tiktoken` feature. Building the BPE tables takes a few
//! hundred milliseconds per VM, so the root context does it on its first timer tick after
//! configuration, never on a request; until then the cheap estimator answers.

use std::cell::RefCell;

use tiktoken_rs::CoreBPE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    O200k,
    Cl100k,
}

/// OpenAI's own families use o200k since GPT-4o; everything else is counted with
/// cl100k, the closest public approximation for other vendors' tokenisers.
pub fn encoding_for(model: &str) -> Encoding {
    let m = model.rsplit('/').next().unwrap_or(model);
    let o200k = [
        "gpt-4o",
        "gpt-4.1",
        "gpt-4.5",
        "gpt-5",
        "o1",
        "o3",
        "o4",
        "chatgpt-4o",
    ];
    if o200k.iter().any(|p| m.starts_with(p)) {
        Encoding::O200k
    } else {
        Encoding::Cl100k
    }
}

thread_local! {
    // A proxy-wasm VM is single-threaded: one set of tables per VM.
    static TABLES: RefCell<Option<(CoreBPE, CoreBPE)>> = const { RefCell::new(None) };
}

/// Build the tables (idempotent). Returns false if tiktoken failed to build them.
pub fn warm_up() -> bool {
    TABLES.with(|t| {
        if t.borrow().is_some() {
            return true;
        }
        match (tiktoken_rs::o200k_base(), tiktoken_rs::cl100k_base()) {
            (Ok(o), Ok(c)) => {
                *t.borrow_mut() = Some((o, c));
                true
            }
            _ => false,
        }
    })
}

pub fn ready() -> bool {
    TABLES.with(|t| t.borrow().is_some())
}

/// Tokens in `text` for `model`, or None while the tables are not built.
pub fn count(model: &str, text: &str) -> Option<u64> {
    TABLES.with(|t| {
        let tables = t.borrow();
        let (o200k, cl100k) = tables.as_ref()?;
        let bpe = match encoding_for(model) {
            Encoding::O200k => o200k,
            Encoding::Cl100k => cl100k,
        };
        Some(bpe.encode_ordinary(text).len() as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(encoding_for("gpt-4o-mini"), Encoding::O200k);
        assert_eq!(encoding_for("openai/o3-mini"), Encoding::O200k);
        assert_eq!(encoding_for("gpt-4-turbo"), Encoding::Cl100k);
        assert_eq!(encoding_for("claude-sonnet-4-5"), Encoding::Cl100k);
    }

    #[test]
    fn counts_after_warm_up_only() {
        assert_eq!(count("gpt-4o", "hello world"), None);
        assert!(warm_up());
        assert!(ready());
        assert_eq!(count("gpt-4o", "hello world"), Some(2));
        assert_eq!(count("gpt-4", "hello world"), Some(2));
        // a known difference between the two vocabularies
        let text = "こんにちは世界、今日はいい天気ですね。";
        assert_ne!(count("gpt-4o", text), count("gpt-4", text));
    }
}
