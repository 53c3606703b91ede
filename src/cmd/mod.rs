//! One function per command. Each returns the process outcome; `main` maps errors to exit 2.

pub mod actions;
pub mod approve;
pub mod build;
pub mod check;
pub mod init;
pub mod new;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use chrono::NaiveDate;

use crate::config::{self, Config};

/// How a successful run ended: 0 clean, 1 findings that fail the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    Findings,
}

/// The repository a command works on.
pub struct Workspace {
    pub config: Config,
    /// Where the command was started, for printing paths the user can click.
    pub cwd: PathBuf,
    pub timings: crate::timings::Timings,
}

impl Workspace {
    /// Finds `debrief.toml` from `dir` upwards and loads it.
    pub fn open(dir: &Path) -> Result<Workspace> {
        let cwd = dir
            .canonicalize()
            .map_err(|e| anyhow!("cannot open {}: {e}", dir.display()))?;
        let root = config::find_root(&cwd).ok_or_else(|| {
            anyhow!(
                "no {} in {} or any parent folder\nhelp: run `debrief init` to set up a postmortem repository here",
                config::FILE_NAME,
                cwd.display()
            )
        })?;
        let config = Config::load(&root)?;
        Ok(Workspace {
            config,
            cwd,
            timings: crate::timings::Timings::default(),
        })
    }

    /// A root-relative path as the user should see it: relative to where they ran debrief.
    pub fn display(&self, rel: &str) -> String {
        let abs = self.config.root.join(rel);
        match abs.strip_prefix(&self.cwd) {
            Ok(p) if !p.as_os_str().is_empty() => p.to_string_lossy().into_owned(),
            _ => abs.to_string_lossy().into_owned(),
        }
    }

    /// Today in the configured time zone, unless `--today` pins it (tests, CI replays).
    pub fn today(&self, pinned: Option<NaiveDate>) -> NaiveDate {
        pinned.unwrap_or_else(|| {
            chrono::Utc::now()
                .with_timezone(&self.config.site.timezone)
                .date_naive()
        })
    }
}

/// Parses `YYYY-MM-DD` for `--today` and `--date`.
pub fn parse_date_arg(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date; use YYYY-MM-DD"))
}
