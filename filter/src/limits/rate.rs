//! Requests and tokens per minute in fixed one-minute windows. Admission reserves one
//! request and an estimate of its tokens; after the answer the estimate is replaced by
//! the real count. A window admits while it is under its limits, so a burst overshoots a
//! token limit by at most one request's worth, and never overshoots a request limit.

pub const WINDOW_MS: u64 = 60_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub id: u64,
    pub requests: u64,
    pub tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Requests,
    Tokens,
}

/// What the client is told in `x-ratelimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub limits: Limits,
    pub window: Window,
    pub reset_ms: u64,
}

impl Status {
    pub fn remaining_requests(&self) -> Option<u64> {
        self.limits
            .rpm
            .map(|l| l.saturating_sub(self.window.requests))
    }
    pub fn remaining_tokens(&self) -> Option<u64> {
        self.limits
            .tpm
            .map(|l| l.saturating_sub(self.window.tokens))
    }
}

pub fn window_id(now_ms: u64) -> u64 {
    now_ms / WINDOW_MS
}

pub fn reset_ms(now_ms: u64) -> u64 {
    WINDOW_MS - now_ms % WINDOW_MS
}

/// The state after admitting one request reserving `tokens`, or why not.
pub fn admit(current: Window, now_ms: u64, limits: Limits, tokens: u64) -> Result<Window, Refusal> {
    let id = window_id(now_ms);
    let w = if current.id == id {
        current
    } else {
        Window {
            id,
            ..Window::default()
        }
    };
    if limits.rpm.is_some_and(|l| w.requests >= l) {
        return Err(Refusal::Requests);
    }
    if limits.tpm.is_some_and(|l| w.tokens >= l) {
        return Err(Refusal::Tokens);
    }
    Ok(Window {
        id,
        requests: w.requests + 1,
        tokens: w.tokens.saturating_add(tokens),
    })
}

/// Replace a reservation made in window `id` by the real numbers. Windows that have
/// moved on are left alone (their counts no longer matter).
pub fn adjust(current: Window, id: u64, requests: i64, tokens: i64) -> Window {
    if current.id != id {
        return current;
    }
    Window {
        id,
        requests: current.requests.saturating_add_signed(requests),
        tokens: current.tokens.saturating_add_signed(tokens),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        rpm: Some(3),
        tpm: Some(100),
    };

    #[test]
    fn requests_limit_is_exact() {
        let mut w = Window::default();
        for _ in 0..3 {
            w = admit(w, 1_000, L, 1).unwrap();
        }
        assert_eq!(admit(w, 59_999, L, 1), Err(Refusal::Requests));
        // next window starts fresh
        assert_eq!(admit(w, 60_000, L, 1).unwrap().requests, 1);
    }

    #[test]
    fn tokens_overshoot_by_at_most_one_request() {
        let w = admit(Window::default(), 0, L, 90).unwrap();
        let w = admit(w, 0, L, 90).unwrap(); // under the limit at admission
        assert_eq!(w.tokens, 180);
        assert_eq!(admit(w, 0, L, 1), Err(Refusal::Tokens));
        // reconciliation: the second request really used 5 tokens
        let w = adjust(w, 0, 0, 5 - 90);
        assert_eq!(w.tokens, 95);
        assert!(admit(w, 0, L, 1).is_ok());
        // stale window: untouched
        assert_eq!(adjust(w, 7, -1, -1), w);
    }
}
