//! The store protocol: JSON over HTTP/1.1 to the adapter (`POST /v1/admit`,
//! `POST /v1/report`, `POST /v1/spend`). Keys are the store's, without its prefix:
//! `rate:<window>:<key|model>:<name>` and `spend:<day|month>:<date>:<key|team|model>:<name>`
//! (the name last, so any name stays unambiguous).

use serde::{Deserialize, Serialize};

pub const ADMIT_PATH: &str = "/v1/admit";
pub const REPORT_PATH: &str = "/v1/report";
pub const SPEND_PATH: &str = "/v1/spend";

/// Reserve one request and `tokens` in every window, unless one is at its limit or a
/// budget is spent: all or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmitRequest {
    pub rates: Vec<RateCheck>,
    pub budgets: Vec<BudgetCheck>,
    /// A key the configuration does not know: the store's record decides (`runtime keys`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_key: Option<RuntimeKey>,
}

/// Who presented an unconfigured key, and what its own window and budget need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeKey {
    /// Hex SHA-256 of the presented key (the key itself never leaves the filter).
    pub sha256: String,
    /// The model as requested, for the key's allow-list.
    pub model: String,
    pub window: u64,
    pub tokens: u64,
    /// ISO dates of the current day and month, for the key's budget.
    pub day: String,
    pub month: String,
}

/// A runtime key's record, as the store holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub name: String,
    /// Client-facing models it may use; empty: all.
    #[serde(default)]
    pub models: Vec<String>,
    #[serde(default)]
    pub rpm: Option<u64>,
    #[serde(default)]
    pub tpm: Option<u64>,
    #[serde(default)]
    pub budget_nano_usd: Option<u64>,
    /// `day` or `month`.
    #[serde(default)]
    pub budget_period: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateCheck {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    pub tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetCheck {
    pub key: String,
    pub limit_nano_usd: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmitAnswer {
    pub admitted: bool,
    /// Admitted: each window after the reservation; refused: each window as it was.
    #[serde(default)]
    pub rates: Vec<Counts>,
    #[serde(default)]
    pub refused: Option<Refused>,
    /// A runtime key's record: its window comes first in `rates`, its budget last in
    /// the budgets checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyRecord>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub requests: u64,
    pub tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    /// Index into `rates` (reason rpm or tpm) or `budgets` (reason budget).
    pub index: usize,
    pub reason: Reason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    Rpm,
    Tpm,
    Budget,
    /// A runtime key the store does not hold, or revoked.
    Unauthorized,
    /// A runtime key whose allow-list lacks the model.
    Model,
}

/// What a worker adds after requests ended; applied at most once per `id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub id: String,
    pub rates: Vec<RateDelta>,
    pub spend: Vec<SpendDelta>,
}

/// Applied only while the window exists (a window that expired is not recreated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateDelta {
    pub key: String,
    pub requests: i64,
    pub tokens: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendDelta {
    pub key: String,
    #[serde(flatten)]
    pub totals: Spend,
}

/// One spend row (the ledger's `Totals` without its period).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spend {
    pub requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_nano_usd: u64,
    pub errors: u64,
}

impl Spend {
    pub fn add(&mut self, d: &Spend) {
        self.requests = self.requests.saturating_add(d.requests);
        self.prompt_tokens = self.prompt_tokens.saturating_add(d.prompt_tokens);
        self.completion_tokens = self.completion_tokens.saturating_add(d.completion_tokens);
        self.cost_nano_usd = self.cost_nano_usd.saturating_add(d.cost_nano_usd);
        self.errors = self.errors.saturating_add(d.errors);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendRequest {
    pub keys: Vec<String>,
    /// Rate windows to read as well (`rate:` keys), for the dashboard's limits. Absent
    /// when empty, so a store that predates it reads the same request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rates: Vec<String>,
}

/// One row per requested key, in order (zeros for a key never written).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendAnswer {
    pub spend: Vec<Spend>,
    /// One row per requested rate window, in order (zeros for a window not open). A
    /// store that predates it leaves it out: the filter then shows its own figures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rates: Vec<Counts>,
}

pub fn rate_key(window: u64, scope: &str, name: &str) -> String {
    format!("rate:{window}:{scope}:{name}")
}

pub fn spend_key(period: &str, date: &str, scope: &str, name: &str) -> String {
    format!("spend:{period}:{date}:{scope}:{name}")
}
