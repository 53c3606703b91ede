//! Integration tests: fixture repositories in temp dirs, checked by the real `debrief` binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod actions;
mod approvals;
mod bad_input;
mod check_rules;
mod commands;
mod formats;
mod git_harness;
mod harness;
mod serve;
mod site;
