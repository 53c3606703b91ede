//! `debrief check`: validate every postmortem and report.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;

use super::{Outcome, Workspace};
use crate::diagnostic::{self, Counts, Diagnostic, Level};
use crate::report::{self, Format, Summary};
use crate::{load, validate};

pub struct CheckOptions {
    /// Narrow the report to these files or folders; everything is still loaded.
    pub paths: Vec<PathBuf>,
    pub format: Format,
    pub today: Option<NaiveDate>,
    pub deny_warnings: bool,
    pub color: bool,
}

/// Loads and validates the repository. Shared by every command that must refuse bad input.
pub fn findings(ws: &Workspace, today: NaiveDate) -> Result<(load::Loaded, Vec<Diagnostic>)> {
    let mut loaded = load::load_all(&ws.config)?;
    let mut found = std::mem::take(&mut loaded.diagnostics);
    found.extend(validate::validate(&ws.config, &loaded.postmortems, today));
    diagnostic::sort(&mut found);
    Ok((loaded, found))
}

pub fn run(ws: &Workspace, opts: &CheckOptions) -> Result<Outcome> {
    let today = ws.today(opts.today);
    let (loaded, mut found) = findings(ws, today)?;
    let mut checked = loaded.files.len();
    if !opts.paths.is_empty() {
        let scopes = opts
            .paths
            .iter()
            .map(|p| {
                let abs = ws.cwd.join(p);
                abs.canonicalize()
                    .with_context(|| format!("no such file or folder: {}", p.display()))
            })
            .collect::<Result<Vec<_>>>()?;
        let in_scope = |rel: &str| {
            let abs = ws.config.root.join(rel);
            let abs = abs.canonicalize().unwrap_or(abs);
            scopes.iter().any(|s| abs.starts_with(s))
        };
        found.retain(|d| in_scope(&d.file));
        checked = loaded.files.iter().filter(|f| in_scope(f)).count();
    }
    for d in &mut found {
        d.file = ws.display(&d.file);
    }
    let counts = Counts::of(&found);
    let summary = Summary { checked, counts };
    let text = report::render(opts.format, &found, &summary, opts.color);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .context("cannot write the report")?;
    if opts.format == Format::Github {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| {
                    format!(
                        "cannot append to GITHUB_STEP_SUMMARY ({})",
                        PathBuf::from(&path).display()
                    )
                })?;
            file.write_all(report::github_step_summary(&found, &summary).as_bytes())
                .context("cannot write the step summary")?;
        }
    }
    let fails = counts.errors > 0
        || (opts.deny_warnings && found.iter().any(|d| d.level == Level::Warning));
    Ok(if fails {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
