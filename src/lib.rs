//! debrief: incident postmortems as code.
//!
//! The pipeline, one module per step:
//! `config` + `content` (files → front-matter trees) → `load` (typed [`model::Postmortem`]s)
//! → `validate` (the rules in [`rules`]) → `diagnostic` → `report`.
//! Commands in [`cmd`] wire the steps together; `main` only parses arguments.

pub mod actions;
pub mod approvals;
pub mod cmd;
pub mod config;
pub mod content;
pub mod diagnostic;
pub mod digest;
pub mod export;
pub mod git;
pub mod load;
pub mod model;
pub mod output;
pub mod render;
pub mod report;
pub mod rules;
pub mod schema;
pub mod serve;
pub mod timings;
pub mod tree;
pub mod validate;
