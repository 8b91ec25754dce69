//! Keys, rate limits and budgets as pure decisions over small state values; the
//! gateway stores those values in shared data with CAS so every worker agrees.
pub mod auth;
pub mod period;
pub mod rate;
