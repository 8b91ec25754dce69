//! Which target serves a request: model resolution, weighted choice, health.
//! Pure: time and randomness are passed in.
pub mod health;
pub mod resolve;
pub mod select;
pub mod strategy;
