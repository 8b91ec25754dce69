//! What the store reserved for one request (carried in its admission until it ends).

use super::plan::Plan;
use super::wire::KeyRecord;

/// What the store was asked to reserve for this request.
#[derive(Debug, Clone)]
pub struct Reserved {
    pub plan: Plan,
    /// Tokens reserved in each window.
    pub estimate: u64,
    /// The admission call in flight.
    pub pending: Option<u32>,
    /// The store holds the reservation (reconcile it there).
    pub held: bool,
    /// A runtime key's record, from the store's answer.
    pub key: Option<KeyRecord>,
}

impl Reserved {
    pub fn pending(&self) -> bool {
        self.pending.is_some()
    }
}
