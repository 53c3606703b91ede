//! A fixture repository in a temp dir, the real `debrief` binary, and a parsed report.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use tempfile::TempDir;

/// Every run pins "today", so no test depends on the real date.
pub const TODAY: &str = "2026-12-04";

/// A repository of postmortems in a fresh temp dir.
pub struct Repo {
    dir: TempDir,
}

impl Repo {
    /// An empty folder: no `debrief.toml`, no content.
    pub fn empty() -> Repo {
        Repo {
            dir: tempfile::tempdir().expect("create a temp dir"),
        }
    }

    /// A folder with the standard `debrief.toml` and an empty `content/`.
    pub fn new() -> Repo {
        let repo = Repo::empty();
        repo.config(&standard_config());
        fs::create_dir_all(repo.path().join("content")).expect("create content/");
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `debrief.toml`.
    pub fn config(&self, toml: &str) -> &Repo {
        self.write("debrief.toml", toml)
    }

    /// Writes a file (text or bytes) relative to the root, creating folders.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Repo {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent folders");
        }
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        self
    }

    pub fn read(&self, rel: &str) -> String {
        let path = self.path().join(rel);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path().join(rel).exists()
    }

    /// Runs `debrief ARGS` in the repository root.
    pub fn run(&self, args: &[&str]) -> Output {
        run_in(self.path(), args, &[])
    }

    /// Runs `debrief ARGS` in a folder of the repository.
    pub fn run_in(&self, rel_dir: &str, args: &[&str]) -> Output {
        run_in(&self.path().join(rel_dir), args, &[])
    }

    /// Runs with extra environment variables (`Some`) or removed ones (`None`).
    pub fn run_env(&self, args: &[&str], env: &[(&str, Option<&str>)]) -> Output {
        run_in(self.path(), args, env)
    }

    /// `debrief check --today 2026-12-04 EXTRA…` (human output).
    pub fn check(&self, extra: &[&str]) -> Output {
        let mut args = vec!["check", "--today", TODAY];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `debrief check --today 2026-12-04 --format json EXTRA…`, parsed.
    pub fn check_json(&self, extra: &[&str]) -> Report {
        let mut args = vec!["check", "--today", TODAY, "--format", "json"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        let report = out.json();
        let expected_code = i32::from(report.errors > 0);
        assert_eq!(
            out.code, expected_code,
            "exit code does not match the error count\n{out}"
        );
        report
    }

    /// Every file under the root with its bytes, to prove a command wrote nothing.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        let mut stack = vec![self.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).expect("list a folder") {
                let entry = entry.expect("read a folder entry");
                let path = entry.path();
                let kind = entry.file_type().expect("file type");
                let rel = path
                    .strip_prefix(self.path())
                    .expect("under the root")
                    .to_path_buf();
                if kind.is_dir() {
                    stack.push(path);
                } else if kind.is_symlink() {
                    let target = fs::read_link(&path).expect("read a link");
                    files.insert(rel, target.to_string_lossy().as_bytes().to_vec());
                } else {
                    files.insert(rel, fs::read(&path).expect("read a file"));
                }
            }
        }
        files
    }
}

/// Runs the real binary in `dir` with `NO_COLOR=1` and no GitHub Actions variables leaking in.
pub fn run_in(dir: &Path, args: &[&str], env: &[(&str, Option<&str>)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_debrief"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_ACTIONS");
    for (key, value) in env {
        match value {
            Some(v) => command.env(key, v),
            None => command.env_remove(key),
        };
    }
    run(&mut command)
}

/// Runs a prepared command (debrief, git, ssh-keygen) and keeps what it printed.
pub fn run(command: &mut Command) -> Output {
    let out = command.output().expect("run a command");
    Output {
        code: out.status.code().expect("exited normally, not by a signal"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// What a run printed and how it exited.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit code {}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Output {
    pub fn json(&self) -> Report {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not the JSON report: {e}\n{self}"))
    }

    /// True when human output has `FILE:LINE:COL: LEVEL[RULE]: …`.
    pub fn has(&self, rule: &str, level: &str, file: &str, line: u32) -> bool {
        let prefix = format!("{file}:{line}:");
        let tag = format!(": {level}[{rule}]: ");
        self.stdout
            .lines()
            .any(|l| l.starts_with(&prefix) && l.contains(&tag))
    }

    /// Asserts [`Output::has`], printing the whole run when it fails.
    pub fn assert_has(&self, rule: &str, level: &str, file: &str, line: u32) {
        assert!(
            self.has(rule, level, file, line),
            "expected {level}[{rule}] at {file}:{line}\n{self}"
        );
    }

    pub fn assert_code(&self, code: i32) -> &Output {
        assert_eq!(self.code, code, "unexpected exit code\n{self}");
        self
    }

    pub fn assert_stderr_has(&self, needle: &str) -> &Output {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks `{needle}`\n{self}"
        );
        self
    }

    pub fn assert_stdout_has(&self, needle: &str) -> &Output {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks `{needle}`\n{self}"
        );
        self
    }

    /// The last line of human output: `checked N postmortems: …`.
    pub fn summary(&self) -> &str {
        self.stdout.lines().last().unwrap_or("")
    }
}

/// The `--format json` report.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub version: u32,
    pub checked: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    pub diagnostics: Vec<Diag>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diag {
    pub postmortem: Option<String>,
    pub file: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub rule: String,
    pub level: String,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}]: {} (help: {})",
            self.file,
            self.line.unwrap_or(0),
            self.column.unwrap_or(0),
            self.level,
            self.rule,
            self.message,
            self.help.as_deref().unwrap_or("-")
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "checked {}: {} errors, {} warnings, {} notes",
            self.checked, self.errors, self.warnings, self.notes
        )?;
        for d in &self.diagnostics {
            writeln!(f, "  {d}")?;
        }
        Ok(())
    }
}

impl Report {
    /// Findings of one rule.
    pub fn of(&self, rule: &str) -> Vec<&Diag> {
        self.diagnostics.iter().filter(|d| d.rule == rule).collect()
    }

    /// The single finding of `rule` at `file:line`, with that level; panics with the
    /// whole report otherwise.
    pub fn expect(&self, rule: &str, level: &str, file: &str, line: u32) -> &Diag {
        let found: Vec<&Diag> = self
            .diagnostics
            .iter()
            .filter(|d| d.rule == rule && d.file == file && d.line == Some(line))
            .collect();
        match found.as_slice() {
            [one] => {
                assert_eq!(one.level, level, "wrong level for {one}\n{self}");
                one
            }
            [] => panic!("expected {level}[{rule}] at {file}:{line}, got:\n{self}"),
            _ => panic!("{rule} reported more than once at {file}:{line}:\n{self}"),
        }
    }

    /// Asserts that `rule` is not reported anywhere.
    pub fn assert_no(&self, rule: &str) {
        assert!(
            self.of(rule).is_empty(),
            "{rule} was reported but should not be:\n{self}"
        );
    }

    /// Asserts there are no findings at all.
    pub fn assert_clean(&self) {
        assert!(self.diagnostics.is_empty(), "expected no findings:\n{self}");
        assert_eq!(
            (self.errors, self.warnings, self.notes),
            (0, 0, 0),
            "{self}"
        );
    }

    /// The rule ids reported, in report order.
    pub fn rules(&self) -> Vec<&str> {
        self.diagnostics.iter().map(|d| d.rule.as_str()).collect()
    }

    /// The rule ids reported for one file.
    pub fn rules_in(&self, file: &str) -> Vec<&str> {
        self.diagnostics
            .iter()
            .filter(|d| d.file == file)
            .map(|d| d.rule.as_str())
            .collect()
    }
}

/// `debrief.toml` with the default workflow spelt out, a SEV1 override and three people:
/// `alice` (tech lead), `bob` and `carol`. It ends inside `[rules]`, so a test can append
/// rule levels with [`config_with_rules`].
pub fn standard_config() -> String {
    let mut config = String::from(
        r#"[site]
title = "Test incident reviews"
content = "content"
timezone = "UTC"

[workflow]
severities = ["SEV1", "SEV2", "SEV3", "SEV4"]
declare_within = "30m"
min_whys = 5
factor_categories = ["process", "tooling", "communication", "monitoring", "testing"]

[workflow.severity.SEV1]
declare_within = "15m"

[people.alice]
name = "Alice Lead"
emails = ["alice@example.com"]
roles = ["tech-lead"]

[people.bob]
name = "Bob Builder"
emails = ["bob@example.com"]
roles = ["engineer"]

[people.carol]
name = "Carol Ops"
emails = ["carol@example.com"]
roles = ["sre"]

[rules]
"#,
    );
    config.push_str(&approval_rules_off());
    config
}

/// The standard config with extra `[rules]` lines, e.g. `blameful-language = "allow"`.
pub fn config_with_rules(lines: &str) -> String {
    format!("{}{lines}\n", standard_config())
}

/// Rules that judge reviews and sign-offs recorded in git history (workflow steps 6 and 7).
/// These fixtures are plain folders without history, where a published postmortem's
/// sign-off cannot be verified; those rules need git fixtures of their own, so the
/// fixtures here switch off whichever of them the catalogue has.
const APPROVAL_RULES: &[&str] = &[
    "review-missing",
    "signoff-missing",
    "signoff-stale",
    "signoff-not-tech-lead",
    "signoff-unsigned",
    "allowed-signers-invalid",
    "trust-working-tree",
];

/// `[rules]` lines that allow the approval rules present in the catalogue.
pub fn approval_rules_off() -> String {
    APPROVAL_RULES
        .iter()
        .filter(|id| debrief::rules::find(id).is_some())
        .map(|id| format!("{id} = \"allow\"\n"))
        .collect()
}

/// Rule ids of the catalogue that the tests of this suite are about (approvals excluded).
pub fn catalogue_without_approvals() -> Vec<&'static str> {
    debrief::rules::ids()
        .filter(|id| !APPROVAL_RULES.contains(id))
        .collect()
}

/// A complete postmortem; tests start from [`Pm::published`] and change one thing.
#[derive(Clone, Debug)]
pub struct Pm {
    text: String,
}

const PUBLISHED: &str = r#"---
title: Checkout returned 503s for 40 minutes
status: published
severity: SEV2
owner: bob
tech_lead: alice
responders: [bob, alice, carol]
services: [checkout-api, orders-db]
tags: [database, capacity]
started_at: 2026-11-02T09:00:00+01:00
detected_at: 2026-11-02T09:05:00+01:00
declared_at: 2026-11-02T09:15:00+01:00
mitigated_at: 2026-11-02T09:45:00+01:00
resolved_at: 2026-11-02T10:30:00+01:00
summary: >
  Checkout returned 503s for 40 minutes because the orders database connection
  pool was exhausted by a slow report query.
timeline:
  - at: 2026-11-02T09:05:00+01:00
    event: Error-rate alert fires for checkout-api
    who: [PagerDuty, bob]
  - at: 2026-11-02T09:15:00+01:00
    event: Bob declares a SEV2 and takes ownership
    who: bob
  - at: 2026-11-02T09:45:00+01:00
    event: The report job is paused and errors stop
    who: [alice, carol]
  - at: 2026-11-02T10:30:00+01:00
    event: Pool limits raised and the report job moved to a replica
    who: carol
whys:
  - why: Why did checkout return 503s?
    because: Requests timed out waiting for a database connection.
  - why: Why were no connections free?
    because: A monthly report query held twenty connections for minutes.
  - why: Why did the report run against the primary?
    because: Its connection string predates the read replica.
  - why: Why was the connection string not updated?
    because: Job settings live in a repository without code review.
  - why: Why does that repository have no review?
    because: It has no owner in the service catalogue.
root_cause: >
  Batch jobs share the primary's connection pool with checkout, and nothing limits
  how many connections a single job may hold.
factors:
  - category: monitoring
    description: No alert on connection-pool saturation.
  - category: process
    description: Batch job settings have no owner and no review.
action_items:
  - id: AI-1
    title: Alert on connection-pool saturation
    owner: carol
    due: 2026-12-18
    status: open
    ticket: https://tracker.example.com/OPS-101
  - id: AI-2
    title: Move reporting jobs to the read replica
    owner: bob
    due: 2026-11-20
    status: done
    closed_at: 2026-11-18
links:
  - title: Checkout dashboard
    url: https://grafana.example.com/d/checkout
---

## What happened

The monthly report started at 09:00 and held most of the connection pool.

## Impact

About 12% of checkouts failed between 09:05 and 09:45.

## Lessons

Shared pools need per-client limits.
"#;

impl Pm {
    /// A complete, clean postmortem at `status: published`.
    pub fn published() -> Pm {
        Pm {
            text: PUBLISHED.to_owned(),
        }
    }

    /// The same postmortem at another status.
    pub fn with_status(status: &str) -> Pm {
        Pm::published().replace("status: published", &format!("status: {status}"))
    }

    /// Replaces the one occurrence of `from`; panics when it is absent or ambiguous, so a
    /// typo in a test cannot silently leave the fixture unchanged.
    pub fn replace(self, from: &str, to: &str) -> Pm {
        let count = self.text.matches(from).count();
        assert_eq!(count, 1, "`{from}` occurs {count} times in the fixture");
        Pm {
            text: self.text.replacen(from, to, 1),
        }
    }

    /// Removes the one line that is exactly `line` (ignoring its newline).
    pub fn remove_line(self, line: &str) -> Pm {
        self.replace(&format!("\n{line}\n"), "\n")
    }

    /// Inserts `new` as a line after the one line that is exactly `after`.
    pub fn insert_after(self, after: &str, new: &str) -> Pm {
        self.replace(&format!("\n{after}\n"), &format!("\n{after}\n{new}\n"))
    }

    /// Replaces the top-level field `key` (its line and the indented lines below it)
    /// with `new`, e.g. `set_block("timeline", "timeline: []")`.
    pub fn set_block(self, key: &str, new: &str) -> Pm {
        let lines: Vec<&str> = self.text.lines().collect();
        let head = format!("{key}:");
        let start = lines
            .iter()
            .position(|l| l.starts_with(&head))
            .unwrap_or_else(|| panic!("no `{key}:` in the fixture"));
        let end = lines[start + 1..]
            .iter()
            .position(|l| !l.starts_with(' '))
            .map_or(lines.len(), |i| start + 1 + i);
        let mut out: Vec<&str> = lines[..start].to_vec();
        out.extend(new.lines());
        out.extend(&lines[end..]);
        Pm {
            text: out.join("\n") + "\n",
        }
    }

    /// Appends Markdown to the body.
    pub fn body(self, markdown: &str) -> Pm {
        Pm {
            text: format!("{}\n{markdown}", self.text),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The 1-based line of the one line containing `needle`.
    pub fn line_of(&self, needle: &str) -> u32 {
        line_of(&self.text, needle)
    }

    /// The 1-based line of the one line that is exactly `line`.
    pub fn line_exact(&self, line: &str) -> u32 {
        let found: Vec<usize> = self
            .text
            .lines()
            .enumerate()
            .filter(|(_, l)| *l == line)
            .map(|(i, _)| i + 1)
            .collect();
        match found.as_slice() {
            [one] => u32::try_from(*one).expect("small file"),
            _ => panic!("`{line}` is on lines {found:?}, expected exactly one"),
        }
    }
}

impl AsRef<[u8]> for Pm {
    fn as_ref(&self) -> &[u8] {
        self.text.as_bytes()
    }
}

/// The 1-based line of the one line of `text` containing `needle`.
pub fn line_of(text: &str, needle: &str) -> u32 {
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    match lines.as_slice() {
        [one] => u32::try_from(*one).expect("small file"),
        _ => panic!("`{needle}` is on lines {lines:?}, expected exactly one"),
    }
}

/// A second postmortem with exactly one known finding: action item AI-1 is one day
/// overdue (a warning), on the line returned by [`witness_line`].
pub fn witness() -> Pm {
    Pm::published().replace("due: 2026-12-18", "due: 2026-12-03")
}

pub fn witness_line() -> u32 {
    witness().line_of("due: 2026-12-03")
}

/// Asserts `report` holds the witness finding for `file`: proof other files were checked.
pub fn assert_witness(report: &Report, file: &str) {
    report.expect("action-item-overdue", "warning", file, witness_line());
}
