//! Git fixtures for the approval tests: a temp repository with pinned identities and dates,
//! isolated from the machine's git configuration, real SSH keys, and the real binary.
//!
//! Every `git` and `debrief` run gets `HOME`, `GIT_CONFIG_NOSYSTEM=1` and
//! `GIT_CONFIG_GLOBAL=/dev/null`, so nothing from the developer's or CI's git setup (a
//! signing key, `commit.gpgsign`, hooks paths, an author) can leak in. Identities are given
//! per run through `GIT_AUTHOR_*`/`GIT_COMMITTER_*` and `GIT_CONFIG_COUNT` (which is what
//! `git config user.email`, and so `debrief review|approve`, read).

use std::cell::Cell;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::run;
pub use crate::harness::Output;
use tempfile::TempDir;

/// Every check pins "today", so no test depends on the real date.
pub const TODAY: &str = "2026-12-04";

/// The fixture postmortem's id (its file stem) and file.
pub const PM_ID: &str = "2026-01-12-search-stale";
pub const PM_FILE: &str = "content/2026-01-12-search-stale.md";

/// The trusted allowed-signers file.
pub const SIGNERS: &str = ".debrief/allowed_signers";

/// A person as git sees them; `key` signs their commits (SSH) when set.
#[derive(Clone, Debug)]
pub struct Who {
    pub name: String,
    /// `user.email`, and the author and committer email unless `author_email` is set.
    pub email: String,
    /// `GIT_AUTHOR_EMAIL`/`GIT_COMMITTER_EMAIL` when they differ from `user.email`.
    pub author_email: Option<String>,
    pub key: Option<PathBuf>,
}

impl Who {
    pub fn new(name: &str, email: &str) -> Who {
        Who {
            name: name.to_owned(),
            email: email.to_owned(),
            author_email: None,
            key: None,
        }
    }

    /// The same name and email, signing with `key` (whoever that key belongs to).
    pub fn signing_with(&self, key: &Key) -> Who {
        Who {
            key: Some(key.private.clone()),
            ..self.clone()
        }
    }
}

/// The people of [`CONFIG`]; `fixture()` sets the repository up and is nobody in `[people]`.
pub fn alice() -> Who {
    Who::new("Alice Lead", "alice@example.com")
}
pub fn bob() -> Who {
    Who::new("Bob Builder", "bob@example.com")
}
pub fn carol() -> Who {
    Who::new("Carol Ops", "carol@example.com")
}
pub fn mallory() -> Who {
    Who::new("Mallory Mask", "mallory@example.com")
}
pub fn fixture() -> Who {
    Who::new("Fixture Setup", "fixture@example.com")
}

/// An ed25519 key pair made by `ssh-keygen`.
#[derive(Clone, Debug)]
pub struct Key {
    pub private: PathBuf,
    /// The `.pub` line: `ssh-ed25519 AAAA… comment`.
    pub public: String,
}

impl Key {
    /// The key's SHA-256 fingerprint as `ssh-keygen -l` prints it (`SHA256:…`).
    pub fn fingerprint(&self) -> String {
        let out = Command::new("ssh-keygen")
            .arg("-l")
            .arg("-f")
            .arg(self.private.with_extension("pub"))
            .output()
            .expect("run ssh-keygen -l");
        assert!(out.status.success(), "ssh-keygen -l failed");
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        text.split_whitespace()
            .nth(1)
            .expect("a fingerprint")
            .to_owned()
    }
}

/// One allowed-signers line: `principal [options] key`.
pub fn signer_line(principal: &str, options: &str, key: &Key) -> String {
    if options.is_empty() {
        format!("{principal} {}\n", key.public)
    } else {
        format!("{principal} {options} {}\n", key.public)
    }
}

/// `[people]` with alice (tech lead), bob, carol and mallory (engineers); the field the
/// example postmortem uses. `[approvals]` is appended by tests that need it.
pub const CONFIG: &str = r#"[site]
title = "Approval tests"
content = "content"
timezone = "UTC"

[workflow]
severities = ["SEV1", "SEV2", "SEV3", "SEV4"]
declare_within = "30m"
min_whys = 5
factor_categories = ["process", "tooling", "communication", "monitoring", "testing"]

[fields.customer_impact]
type = "text"
label = "Customer impact"
required_from = "review"

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
roles = ["engineer"]

[people.mallory]
name = "Mallory Mask"
emails = ["mallory@example.com"]
roles = ["engineer"]
"#;

/// [`CONFIG`] with signatures required.
pub fn signed_config() -> String {
    format!("{CONFIG}\n[approvals]\nrequire_signature = true\n")
}

/// A complete postmortem at `status: review` (the `debrief init` example): responders
/// bob and alice, tech lead alice, owner bob; action item AI-2 is still open.
pub const POSTMORTEM: &str = r#"---
title: "Search results were stale after an index rebuild stalled"
status: review
severity: SEV3
owner: bob
tech_lead: alice
responders: [bob, alice]
services: [search]
tags: [indexing]
started_at: 2026-01-12T08:40:00Z
detected_at: 2026-01-12T09:05:00Z
declared_at: 2026-01-12T09:15:00Z
mitigated_at: 2026-01-12T09:50:00Z
resolved_at: 2026-01-12T11:30:00Z
summary: >
  For about three hours search showed products that were already sold out, because the
  nightly index rebuild stalled and nothing alerted on its age.
customer_impact: >
  Roughly 4% of searches showed at least one sold-out item; no orders failed.
timeline:
  - at: 2026-01-12T08:40:00Z
    event: The nightly index rebuild stops making progress at 62%.
    who: Indexer
  - at: 2026-01-12T09:05:00Z
    event: Support reports customers seeing sold-out products in search.
    who: [Support desk, bob]
  - at: 2026-01-12T09:15:00Z
    event: Bob declares a SEV3 and takes ownership.
    who: bob
  - at: 2026-01-12T09:50:00Z
    event: Search is pointed back at the previous complete index.
    who: [bob, alice]
  - at: 2026-01-12T11:30:00Z
    event: A fresh rebuild completes and is swapped in.
    who: alice
whys:
  - why: Why did search show sold-out products?
    because: It served an index built 26 hours earlier.
  - why: Why was the index 26 hours old?
    because: The nightly rebuild stalled and the previous index stayed live.
  - why: Why did the rebuild stall?
    because: A worker waited forever on a lock that an aborted job still held.
  - why: Why was the lock never released?
    because: Locks had no expiry, so a crashed holder kept them indefinitely.
  - why: Why did nobody notice for 25 minutes?
    because: We alerted on rebuild failures, not on index age.
root_cause: >
  Index rebuild locks had no expiry, so one crashed job blocked every later rebuild, and
  no alert watched the age of the live index.
factors:
  - category: monitoring
    description: No alert on the age of the live search index.
  - category: tooling
    description: Rebuild locks were taken without a timeout.
action_items:
  - id: AI-1
    title: Alert when the live index is older than 6 hours
    owner: bob
    due: 2026-03-09
    status: done
    closed_at: 2026-02-28
  - id: AI-2
    title: Give rebuild locks a 30-minute expiry
    owner: alice
    due: 2027-02-09
    status: open
---

## What happened

The nightly index rebuild stalled on a lock that a crashed job still held, and search kept
serving the previous day's index.

## Impact

Roughly 4% of searches showed at least one sold-out item for three hours.

## Lessons

Every lock needs an expiry, and the age of derived data needs an alert.
"#;

/// [`POSTMORTEM`] with one exact, unique substring replaced (panics otherwise, so a typo
/// cannot leave the fixture silently unchanged).
pub fn postmortem_with(from: &str, to: &str) -> String {
    replace_once(POSTMORTEM, from, to)
}

pub fn replace_once(text: &str, from: &str, to: &str) -> String {
    let count = text.matches(from).count();
    assert_eq!(count, 1, "`{from}` occurs {count} times");
    text.replacen(from, to, 1)
}

/// A git repository in a temp dir, next to a private `HOME` and a folder of keys.
pub struct GitRepo {
    dir: TempDir,
    /// Minutes after 2026-03-01T10:00Z of the next commit: dates are fixed but increasing.
    clock: Cell<u32>,
}

impl GitRepo {
    /// `git init -b main` and nothing else.
    pub fn empty() -> GitRepo {
        let dir = tempfile::tempdir().expect("create a temp dir");
        for sub in ["repo", "home", "keys"] {
            fs::create_dir_all(dir.path().join(sub)).expect("create a folder");
        }
        let repo = GitRepo {
            dir,
            clock: Cell::new(0),
        };
        repo.git(&["init", "--quiet", "-b", "main"]);
        repo
    }

    /// [`CONFIG`] and [`POSTMORTEM`] (at `review`), committed on `main`.
    pub fn new() -> GitRepo {
        GitRepo::with(CONFIG, &[(PM_FILE, POSTMORTEM)])
    }

    /// A repository whose first commit holds `config` and `files`.
    pub fn with(config: &str, files: &[(&str, &str)]) -> GitRepo {
        let repo = GitRepo::empty();
        repo.write("debrief.toml", config);
        for (rel, text) in files {
            repo.write(rel, text);
        }
        repo.commit_all("Add postmortems");
        repo
    }

    /// The work tree.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// A fresh folder next to the repository (for clones and copies).
    pub fn sibling(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        assert!(!path.exists(), "{} exists already", path.display());
        path
    }

    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent folders");
        }
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    pub fn read(&self, rel: &str) -> String {
        let path = self.path().join(rel);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Rewrites a file by replacing one unique substring.
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        self.write(rel, replace_once(&text, from, to));
    }

    /// A new ed25519 key pair named `name` (comment `name`), without a passphrase.
    pub fn key(&self, name: &str) -> Key {
        let private = self.dir.path().join("keys").join(name);
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
            .arg(&private)
            .env("HOME", self.dir.path().join("home"))
            .output()
            .expect("run ssh-keygen (install openssh-client)");
        assert!(
            out.status.success(),
            "ssh-keygen failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let public = fs::read_to_string(private.with_extension("pub"))
            .expect("read the public key")
            .trim()
            .to_owned();
        Key { private, public }
    }

    /// The date of the next commit; each call moves the clock a minute on.
    fn next_date(&self) -> String {
        let minutes = self.clock.get();
        self.clock.set(minutes + 1);
        format!(
            "2026-03-01T{:02}:{:02}:00+00:00",
            10 + minutes / 60,
            minutes % 60
        )
    }

    /// A command with the isolated environment and `who`'s identity (and signing key).
    fn command(&self, program: &Path, dir: &Path, who: &Who) -> Command {
        let home = self.dir.path().join("home");
        let date = self.next_date();
        let mut command = Command::new(program);
        command.current_dir(dir);
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_CEILING_DIRECTORIES",
            "GIT_CONFIG",
            "GIT_CONFIG_PARAMETERS",
            "GIT_NAMESPACE",
            "GIT_SSH_COMMAND",
            "SSH_AUTH_SOCK",
            "EMAIL",
            "GITHUB_STEP_SUMMARY",
            "GITHUB_ACTIONS",
        ] {
            command.env_remove(var);
        }
        let mut config: Vec<(&str, String)> = vec![
            ("user.email", who.email.clone()),
            ("user.name", who.name.clone()),
        ];
        if let Some(key) = &who.key {
            config.push(("gpg.format", "ssh".into()));
            config.push(("user.signingkey", key.display().to_string()));
            config.push(("commit.gpgsign", "true".into()));
        }
        let author_email = who.author_email.as_ref().unwrap_or(&who.email);
        command
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", &who.name)
            .env("GIT_AUTHOR_EMAIL", author_email)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_NAME", &who.name)
            .env("GIT_COMMITTER_EMAIL", author_email)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_COUNT", config.len().to_string())
            .env("NO_COLOR", "1")
            .env("TZ", "UTC");
        for (i, (key, value)) in config.iter().enumerate() {
            command.env(format!("GIT_CONFIG_KEY_{i}"), key);
            command.env(format!("GIT_CONFIG_VALUE_{i}"), value);
        }
        command
    }

    /// `git ARGS` in `dir` as `who`, whatever its outcome.
    pub fn git_in(&self, dir: &Path, who: &Who, args: &[&str]) -> Output {
        run(self.command(Path::new("git"), dir, who).args(args))
    }

    /// `git ARGS` as the fixture identity; panics unless it succeeds. Returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_in(&self.path(), &fixture(), args);
        assert_eq!(out.code, 0, "git {} failed\n{out}", args.join(" "));
        out.stdout
    }

    /// `git add -A` and a commit (as the fixture identity) with `subject`.
    pub fn commit_all(&self, subject: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "--quiet", "--allow-empty", "-m", subject]);
        self.head()
    }

    /// An empty commit with exactly `message` (no cleanup: `---`, CR and blank lines are
    /// kept), authored and committed by `who`, signed when `who` has a key.
    pub fn commit_message(&self, who: &Who, message: &str) -> String {
        let file = self.dir.path().join("message.txt");
        fs::write(&file, message).expect("write the message");
        let file = file.display().to_string();
        let mut args = vec!["commit", "--quiet", "--allow-empty", "--cleanup=verbatim"];
        if who.key.is_some() {
            args.push("-S");
        }
        args.extend(["-F", &file]);
        let out = self.git_in(&self.path(), who, &args);
        assert_eq!(out.code, 0, "git commit failed\n{out}");
        self.head()
    }

    /// The full id of HEAD.
    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    /// The raw message of a commit, byte for byte.
    pub fn raw_message(&self, rev: &str) -> String {
        let raw = self.git(&["cat-file", "commit", rev]);
        raw.split_once("\n\n")
            .map(|(_, m)| m.to_owned())
            .unwrap_or_default()
    }

    /// `debrief ARGS` in `dir` as `who`.
    pub fn debrief_in(&self, dir: &Path, who: &Who, args: &[&str]) -> Output {
        run(self
            .command(Path::new(env!("CARGO_BIN_EXE_debrief")), dir, who)
            .args(args))
    }

    /// `debrief ARGS` in the repository with extra environment variables.
    pub fn debrief_env(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut command = self.command(
            Path::new(env!("CARGO_BIN_EXE_debrief")),
            &self.path(),
            &fixture(),
        );
        command.envs(env.iter().copied()).args(args);
        run(&mut command)
    }

    /// `debrief ARGS` in the repository as `who`.
    pub fn debrief_as(&self, who: &Who, args: &[&str]) -> Output {
        self.debrief_in(&self.path(), who, args)
    }

    /// `debrief ARGS` as the fixture identity (nobody in `[people]`).
    pub fn debrief(&self, args: &[&str]) -> Output {
        self.debrief_as(&fixture(), args)
    }

    /// `debrief review ID` as `who`; panics unless it succeeds.
    pub fn review(&self, who: &Who, id: &str) -> String {
        let out = self.debrief_as(who, &["review", id]);
        out.assert_code(0);
        self.head()
    }

    /// `debrief approve ID` as `who`; panics unless it succeeds.
    pub fn approve(&self, who: &Who, id: &str) -> String {
        let out = self.debrief_as(who, &["approve", id]);
        out.assert_code(0);
        self.head()
    }

    /// `debrief digest ID`.
    pub fn digest(&self, id: &str) -> String {
        let out = self.debrief(&["digest", id]);
        out.assert_code(0);
        let digest = out.stdout.trim().to_owned();
        assert!(digest.starts_with("sha256:") && digest.len() == 71, "{out}");
        digest
    }

    /// `debrief check --today 2026-12-04 EXTRA…` (human output).
    pub fn check(&self, extra: &[&str]) -> Output {
        check_in(self, &self.path(), extra)
    }

    /// `debrief check --today 2026-12-04 --format json EXTRA…`, parsed.
    pub fn check_json(&self, extra: &[&str]) -> Report {
        check_json_in(self, &self.path(), extra)
    }

    /// `debrief approvals --format json`, parsed.
    pub fn approvals_json(&self) -> Value {
        let out = self.debrief(&["approvals", "--format", "json"]);
        out.assert_code(0);
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON: {e}\n{out}"))
    }

    /// Marks the fixture postmortem (or another file) published by hand and commits it.
    pub fn publish_by_hand(&self, rel: &str) {
        self.edit(rel, "status: review", "status: published");
        self.commit_all("Publish by hand");
    }
}

/// `debrief check` in any folder, with the repository's isolated environment.
pub fn check_in(repo: &GitRepo, dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["check", "--today", TODAY];
    args.extend_from_slice(extra);
    repo.debrief_in(dir, &fixture(), &args)
}

pub fn check_json_in(repo: &GitRepo, dir: &Path, extra: &[&str]) -> Report {
    let mut args = vec!["check", "--today", TODAY, "--format", "json"];
    args.extend_from_slice(extra);
    let out = repo.debrief_in(dir, &fixture(), &args);
    let value: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not the JSON report: {e}\n{out}"));
    let report = Report { value, out };
    let errors = report.count("errors");
    assert_eq!(
        report.out.code,
        i32::from(errors > 0),
        "exit code does not match the error count\n{report}"
    );
    report
}

/// One finding of the JSON report.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: String,
    pub level: String,
    pub file: String,
    pub line: Option<u64>,
    pub postmortem: Option<String>,
    pub message: String,
    pub help: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}[{}] ({}): {} (help: {})",
            self.file,
            self.line.unwrap_or(0),
            self.level,
            self.rule,
            self.postmortem.as_deref().unwrap_or("-"),
            self.message,
            self.help
        )
    }
}

/// The `--format json` report of `debrief check`.
pub struct Report {
    pub value: Value,
    pub out: Output,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "exit code {}: {} errors, {} warnings",
            self.out.code,
            self.count("errors"),
            self.count("warnings")
        )?;
        for d in self.findings() {
            writeln!(f, "  {d}")?;
        }
        if !self.out.stderr.is_empty() {
            writeln!(f, "--- stderr ---\n{}", self.out.stderr)?;
        }
        Ok(())
    }
}

impl Report {
    pub fn code(&self) -> i32 {
        self.out.code
    }

    fn count(&self, key: &str) -> u64 {
        self.value[key]
            .as_u64()
            .unwrap_or_else(|| panic!("no `{key}`"))
    }

    pub fn findings(&self) -> Vec<Finding> {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        self.value["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| Finding {
                rule: text(&d["rule"]),
                level: text(&d["level"]),
                file: text(&d["file"]),
                line: d["line"].as_u64(),
                postmortem: d["postmortem"].as_str().map(str::to_owned),
                message: text(&d["message"]),
                help: text(&d["help"]),
            })
            .collect()
    }

    /// The rule ids reported, in report order.
    pub fn rules(&self) -> Vec<String> {
        self.findings().into_iter().map(|d| d.rule).collect()
    }

    /// The rule ids reported for one postmortem id.
    pub fn rules_for(&self, id: &str) -> Vec<String> {
        self.findings()
            .into_iter()
            .filter(|d| d.postmortem.as_deref() == Some(id))
            .map(|d| d.rule)
            .collect()
    }

    /// The single finding of `rule` for postmortem `id`; panics with the report otherwise.
    pub fn expect(&self, rule: &str, id: &str) -> Finding {
        let found: Vec<Finding> = self
            .findings()
            .into_iter()
            .filter(|d| d.rule == rule && d.postmortem.as_deref() == Some(id))
            .collect();
        match found.as_slice() {
            [one] => {
                assert_eq!(one.level, "error", "wrong level for {one}\n{self}");
                one.clone()
            }
            [] => panic!("expected [{rule}] for {id}, got:\n{self}"),
            _ => panic!("[{rule}] reported more than once for {id}:\n{self}"),
        }
    }

    pub fn assert_no(&self, rule: &str) {
        assert!(
            !self.rules().iter().any(|r| r == rule),
            "[{rule}] was reported but should not be:\n{self}"
        );
    }

    /// Exit 0 and nothing but the `trust-working-tree` warning (expected without a trust
    /// ref; pass `allow_trust_warning = false` when a trust ref is given).
    pub fn assert_clean(&self, allow_trust_warning: bool) {
        let rules = self.rules();
        let expected: Vec<String> = if allow_trust_warning {
            vec!["trust-working-tree".to_owned()]
        } else {
            Vec::new()
        };
        assert_eq!(rules, expected, "expected a clean check:\n{self}");
        assert_eq!(self.code(), 0, "{self}");
    }
}
