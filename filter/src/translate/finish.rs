//! The finish reasons of an answer, one per choice, as an OpenAI client reads them
//! (`stop`, `length`, `tool_calls`, `content_filter`, or what an OpenAI-compatible
//! server said): what spans (`gen_ai.response.finish_reasons`) and the access log
//! report. Each translator records the reason it already read for its own answer.

use std::borrow::Cow;

/// Finish reasons by choice; empty until a choice ends.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FinishReasons(Vec<(u32, Cow<'static, str>)>);

/// OpenAI's values: kept without an allocation.
const KNOWN: [&str; 5] = [
    "stop",
    "length",
    "tool_calls",
    "content_filter",
    "function_call",
];

fn interned(reason: &str) -> Cow<'static, str> {
    match KNOWN.iter().find(|k| **k == reason) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(reason.to_string()),
    }
}

/// What a mapper without finish reasons reports.
pub static NONE: FinishReasons = FinishReasons(Vec::new());

/// Reasons longer than this are no finish reason (a hostile upstream's text).
const MAX_LEN: usize = 64;

impl FinishReasons {
    /// Choice `choice` ended for `reason` (a later reason for it replaces the earlier).
    pub fn set(&mut self, choice: u32, reason: &str) {
        if reason.is_empty() || reason.len() > MAX_LEN {
            return;
        }
        match self.0.iter_mut().find(|(c, _)| *c == choice) {
            Some((_, r)) if *r == reason => {}
            Some((_, r)) => *r = interned(reason),
            None => self.0.push((choice, interned(reason))),
        }
    }

    /// The reason choice `choice` ended for.
    pub fn get(&self, choice: u32) -> Option<&str> {
        self.0
            .iter()
            .find(|(c, _)| *c == choice)
            .map(|(_, r)| r.as_ref())
    }

    /// The choices that ended.
    pub fn choices(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().map(|(c, _)| *c)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The reasons in choice order.
    pub fn list(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.0.len());
        self.each(|r| out.push(r.to_string()));
        out
    }

    /// `f` on each reason in choice order (choices mostly end in order: no sorting then).
    pub fn each(&self, mut f: impl FnMut(&str)) {
        if self
            .0
            .windows(2)
            .all(|w| w.first().map(|a| a.0) <= w.get(1).map(|b| b.0))
        {
            self.0.iter().for_each(|(_, r)| f(r));
        } else {
            let mut by_choice: Vec<&(u32, Cow<'static, str>)> = self.0.iter().collect();
            by_choice.sort_by_key(|(c, _)| *c);
            by_choice.iter().for_each(|(_, r)| f(r));
        }
    }

    /// One reason per choice, for answers whose choices are read in order.
    pub fn of<'a>(reasons: impl IntoIterator<Item = Option<&'a str>>) -> FinishReasons {
        let mut out = FinishReasons::default();
        for (i, r) in reasons.into_iter().enumerate() {
            if let Some(r) = r {
                out.set(u32::try_from(i).unwrap_or(u32::MAX), r);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_kept_per_choice_in_choice_order() {
        let mut f = FinishReasons::default();
        assert!(f.is_empty());
        f.set(1, "length");
        f.set(0, "stop");
        f.set(1, "length");
        assert_eq!(f.list(), ["stop", "length"]);
        f.set(0, "tool_calls");
        assert_eq!(f.list(), ["tool_calls", "length"]);
        f.set(2, "");
        f.set(2, &"x".repeat(65));
        assert_eq!(f.list().len(), 2);
        assert_eq!(
            FinishReasons::of([Some("stop"), None, Some("length")]).list(),
            ["stop", "length"]
        );
    }
}
