//! Shared by the golden and fuzz tests, included with `mod support;` (each test file is its
//! own crate, so not every helper is used by every file).
#![allow(dead_code)]

pub mod fuzz;
pub mod golden;
