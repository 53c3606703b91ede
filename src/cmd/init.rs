//! `debrief init [DIR]`: a new postmortem repository that passes `check` as written.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::config;

const CONFIG: &str = include_str!("templates/debrief.toml");
const EXAMPLE: &str = include_str!("templates/example.md");
const WORKFLOW: &str = include_str!("../../examples/github/postmortems.yml");

/// Files `init` writes, relative to the target folder.
fn plan() -> Vec<(PathBuf, &'static str)> {
    vec![
        (PathBuf::from(config::FILE_NAME), CONFIG),
        (
            PathBuf::from("content/2026-01-12-example-stale-search-index.md"),
            EXAMPLE,
        ),
        (PathBuf::from(".github/workflows/postmortems.yml"), WORKFLOW),
    ]
}

/// Writes the files, or none of them when any already exists (nothing is overwritten).
pub fn run(dir: &Path) -> Result<Vec<PathBuf>> {
    let files = plan();
    let existing: Vec<String> = files
        .iter()
        .map(|(rel, _)| dir.join(rel))
        .filter(|p| p.exists() || p.is_symlink())
        .map(|p| format!("  {}", p.display()))
        .collect();
    if !existing.is_empty() {
        bail!(
            "not initialising {}: these files already exist and would be overwritten:\n{}\nhelp: move them away, or edit them by hand",
            dir.display(),
            existing.join("\n")
        );
    }
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(&rel);
        crate::output::write_new(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}
