//! Findings about a user's files: the one type every rule produces and every report prints.

use std::fmt;

use serde::Serialize;

use crate::tree::Pos;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    /// Shown to readers but never fails a run, e.g. a waived timing rule.
    Note,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable kebab-case id, listed in `docs/rules.md`.
    pub rule: &'static str,
    pub level: Level,
    /// Path relative to the repository root, with `/` separators.
    pub file: String,
    pub pos: Option<Pos>,
    pub message: String,
    pub help: Option<String>,
    /// The postmortem id, when the file got far enough to have one.
    pub postmortem: Option<String>,
}

impl Diagnostic {
    pub fn new(
        rule: &'static str,
        level: Level,
        file: &str,
        pos: Option<Pos>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            rule,
            level,
            file: file.to_owned(),
            pos,
            message: message.into(),
            help: None,
            postmortem: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn line(&self) -> Option<u32> {
        self.pos.map(|p| p.line)
    }

    pub fn column(&self) -> Option<u32> {
        self.pos.map(|p| p.col)
    }

    fn sort_key(&self) -> (&str, Pos, Level, &str, &str) {
        (
            &self.file,
            self.pos.unwrap_or_default(),
            self.level,
            self.rule,
            &self.message,
        )
    }
}

/// Sorts findings so reports are stable: by file, position, level, rule, message.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// What changed between two sorted lists of findings: the findings of `after` that
/// `before` did not have, and how many of `before` are gone. Linear (a merge).
pub fn changes<'a>(before: &[Diagnostic], after: &'a [Diagnostic]) -> (Vec<&'a Diagnostic>, usize) {
    let (mut i, mut j) = (0, 0);
    let (mut new, mut gone) = (Vec::new(), 0);
    while i < before.len() || j < after.len() {
        let order = match (before.get(i), after.get(j)) {
            (Some(b), Some(a)) => b.sort_key().cmp(&a.sort_key()),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, _) => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                gone += 1;
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                new.push(&after[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    (new, gone)
}

/// Counts by level, for summaries and exit codes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

impl Counts {
    pub fn of(diagnostics: &[Diagnostic]) -> Counts {
        let mut counts = Counts::default();
        for d in diagnostics {
            match d.level {
                Level::Error => counts.errors += 1,
                Level::Warning => counts.warnings += 1,
                Level::Note => counts.notes += 1,
            }
        }
        counts
    }
}
