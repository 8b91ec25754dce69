//! A background call, its answer, and the job that makes it.

/// The answer to a call: Envoy gives no `:status` when the call failed (cluster unknown
/// at the time, connection refused, timeout, reset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    Failed,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        match self {
            Answer::Reply { headers, .. } => headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str()),
            Answer::Failed => None,
        }
    }
}

/// An HTTP call a job asks for.
pub struct Call<'a> {
    /// The Envoy cluster to send it to.
    pub cluster: &'a str,
    /// Must include `:method`, `:path` and `:authority`.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    pub timeout_ms: u32,
}

/// Starts calls; the token identifies the answer. `None`: the call could not be
/// started (no such cluster, bad headers); the job treats it as a failed call.
pub trait Calls {
    fn dispatch(&mut self, call: &Call<'_>) -> Option<u32>;
}

/// One piece of background work.
pub trait Job {
    /// How often it wants a tick, in milliseconds (0: never).
    fn period_ms(&self) -> u64;
    /// A tick: start whatever calls are due.
    fn tick(&mut self, now_ms: u64, calls: &mut dyn Calls) -> Vec<u32>;
    /// The answer to one of its calls; may start more.
    fn answer(
        &mut self,
        now_ms: u64,
        token: u32,
        answer: Answer,
        calls: &mut dyn Calls,
    ) -> Vec<u32>;
}
