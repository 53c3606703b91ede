//! `debrief check`: validate every postmortem, including its approvals, and report.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;

use super::{Outcome, Workspace};
use crate::approvals::{repo_prefix, History, Trust, TrustSource};
use crate::config::{self, Config};
use crate::content::{self, ContentPath};
use crate::diagnostic::{self, Counts, Diagnostic, Level};
use crate::git::Repo;
use crate::load;
use crate::model::{Postmortem, Status};
use crate::report::{self, Format, Summary};
use crate::tree::Node;
use crate::validate::{self, ApprovalContext};

pub struct CheckOptions {
    /// Narrow the report to these files or folders; everything is still loaded.
    pub paths: Vec<PathBuf>,
    pub format: Format,
    pub today: Option<NaiveDate>,
    pub deny_warnings: bool,
    pub color: bool,
    pub trust_ref: Option<String>,
}

/// A shallow clone cannot prove that an approval is missing: exit 2, not a finding.
#[derive(Debug)]
pub struct HistoryShallow;

impl fmt::Display for HistoryShallow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[history-shallow] the git repository is a shallow clone, so approvals in older commits cannot be seen\nhelp: fetch full history, e.g. `git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout")
    }
}

impl std::error::Error for HistoryShallow {}

/// Everything a checked repository yields: shared by `check`, `approvals` and the site.
pub struct Checked {
    pub loaded: load::Loaded,
    pub diagnostics: Vec<Diagnostic>,
    pub history: History,
    pub trust: Trust,
    /// When git recorded each closed action item.
    pub closures: crate::actions::Closures,
}

/// Loads, validates and judges approvals. Shared by every command that must refuse bad input.
/// `scan_history` reads approvals even when nothing is published yet (`debrief approvals`).
pub fn checked(
    ws: &Workspace,
    today: NaiveDate,
    trust_ref: Option<&str>,
    scan_history: bool,
) -> Result<Checked> {
    let rules = validate::FileRules::new(&ws.config, today);
    // git answers in processes of its own: start it while the files load.
    let (loaded, prefetched) = std::thread::scope(|scope| {
        let early = scope.spawn(|| Prefetched::read(ws));
        let loaded = ws
            .timings
            .time("load", || load::load_checked(&ws.config, &rules));
        let prefetched = ws
            .timings
            .time("git wait", || early.join().unwrap_or_default());
        (loaded, prefetched)
    });
    checked_with(ws, loaded?, trust_ref, scan_history, prefetched)
}

/// What git can tell before the files are loaded: the commits that may hold records and
/// the history of the content folder. Errors are kept for the step that needs the answer
/// (a draft-only repository never does).
#[derive(Default)]
pub struct Prefetched {
    commits: Option<Result<Vec<crate::git::Commit>>>,
    changes: Option<Result<Vec<crate::git::Change>>>,
}

impl Prefetched {
    fn read(ws: &Workspace) -> Prefetched {
        let config = &ws.config;
        let Ok(Some(repo)) = Repo::discover(&config.root) else {
            return Prefetched::default();
        };
        // Those cases are reported where history is needed.
        if repo.is_shallow() || !repo.has_head() {
            return Prefetched::default();
        }
        let dir = format!(
            "{}{}",
            repo_prefix(&repo, &config.root),
            config.site.content
        );
        Prefetched {
            commits: Some(
                ws.timings
                    .time_background("scan", || History::commits(&repo)),
            ),
            changes: Some(
                ws.timings
                    .time_background("file-log", || crate::actions::content_changes(&repo, &dir)),
            ),
        }
    }
}

/// [`checked`] for postmortems that were already loaded and checked file by file
/// (`load::load_checked`, or `load::load_one` with the file rules; `serve` keeps them
/// between edits).
pub fn checked_from(
    ws: &Workspace,
    loaded: load::Loaded,
    trust_ref: Option<&str>,
    scan_history: bool,
) -> Result<Checked> {
    checked_with(ws, loaded, trust_ref, scan_history, Prefetched::default())
}

fn checked_with(
    ws: &Workspace,
    mut loaded: load::Loaded,
    trust_ref: Option<&str>,
    scan_history: bool,
    mut prefetched: Prefetched,
) -> Result<Checked> {
    let config = &ws.config;
    let mut found = std::mem::take(&mut loaded.diagnostics);
    // Each file's own rules ran as it was loaded; what is left looks across files.
    found.extend(ws.timings.time("validate", || {
        validate::validate_across(config, &loaded.postmortems)
    }));
    let repo = Repo::discover(&config.root)?;
    let needs_history = scan_history
        || loaded
            .postmortems
            .iter()
            .any(|p| p.status() >= Status::Published);
    // Trust roots matter only when approvals are judged; an unfetched trust ref must not
    // block checking drafts.
    let trust = if needs_history {
        Trust::load(config, repo.as_ref(), trust_ref)?
    } else {
        Trust::working_tree(config)
    };
    let mut history = match &repo {
        None => History::unavailable("not a git repository"),
        Some(_) if !needs_history => History::unavailable("no published postmortems"),
        Some(repo) if repo.is_shallow() => return Err(HistoryShallow.into()),
        Some(repo) => ws.timings.time("history", || {
            let commits = match prefetched.commits.take() {
                Some(commits) => commits?,
                None => History::commits(repo)?,
            };
            History::judge(repo, commits, &trust)
        })?,
    };
    history.known_ids = loaded
        .postmortems
        .iter()
        .map(|p| p.id.value.clone())
        .collect();
    if needs_history {
        history.add(crate::approvals::files::scan(&config.root, &trust)?);
    }
    // Approval findings take their levels from the trusted [rules].
    let trusted = Config {
        rules: trust.rules.clone(),
        ..config.clone()
    };
    if needs_history && repo.is_some() {
        let mut roots = trust.problems.clone();
        if trust.source == TrustSource::WorkingTree {
            roots.push(
                Diagnostic::new("trust-working-tree", Level::Warning, config::FILE_NAME, None, "[people], [approvals] and allowed signers were read from the working tree, which a pull request can change")
                    .help("in CI pass `--trust-ref origin/<base branch>`, or set `[approvals] trust_ref`"),
            );
        }
        trusted.apply_overrides(&mut roots);
        found.extend(roots);
    }
    let prefix = repo
        .as_ref()
        .map(|r| repo_prefix(r, &config.root))
        .unwrap_or_default();
    let old_version = |pm: &Postmortem, commit: &str| -> Option<(Node, String)> {
        let repo = repo.as_ref()?;
        let parse = |rel: String, bytes: Vec<u8>| {
            let path = ContentPath {
                abs: config.root.join(&rel),
                rel,
            };
            content::parse_bytes(path, bytes).ok()
        };
        let same_path = repo
            .read_at(commit, &format!("{prefix}{}", pm.file))
            .ok()
            .flatten()
            .and_then(|bytes| parse(pm.file.clone(), bytes))
            .filter(|f| f.id() == pm.id.value);
        let found = same_path.or_else(|| {
            let dir = format!("{prefix}{}", config.site.content);
            repo.markdown_at(commit, &dir)
                .ok()?
                .into_iter()
                .filter_map(|(path, bytes)| {
                    parse(
                        path.strip_prefix(&prefix).unwrap_or(&path).to_owned(),
                        bytes,
                    )
                })
                .find(|f| f.id() == pm.id.value)
        })?;
        Some((found.front_matter, found.body))
    };
    let ctx = ApprovalContext {
        history: &history,
        trust: &trust,
        old_version: &old_version,
    };
    found.extend(ws.timings.time("approvals", || {
        validate::validate_approvals(&trusted, &loaded.postmortems, &ctx)
    }));
    let closures = match &repo {
        Some(repo) if history.available.is_ok() => {
            let closures = ws.timings.time("closures", || {
                crate::actions::recorded_closures(
                    repo,
                    &prefix,
                    &config.site.content,
                    &loaded.postmortems,
                    &history,
                    prefetched.changes.take(),
                )
            })?;
            found.extend(validate::validate_closures(
                config,
                &loaded.postmortems,
                &closures,
            ));
            closures
        }
        _ => crate::actions::Closures::new(),
    };
    diagnostic::sort(&mut found);
    Ok(Checked {
        loaded,
        diagnostics: found,
        history,
        trust,
        closures,
    })
}

pub fn run(ws: &Workspace, opts: &CheckOptions) -> Result<Outcome> {
    let today = ws.today(opts.today);
    let mut all = checked(ws, today, opts.trust_ref.as_deref(), false)?;
    let mut found = std::mem::take(&mut all.diagnostics);
    let loaded = &all.loaded;
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
        // Resolve the folder but not the file itself: a symlink is judged where it lies.
        let in_scope = |rel: &str| {
            let abs = ws.config.root.join(rel);
            let resolved = match (
                abs.parent().and_then(|p| p.canonicalize().ok()),
                abs.file_name(),
            ) {
                (Some(dir), Some(name)) => dir.join(name),
                _ => abs,
            };
            scopes
                .iter()
                .any(|s| resolved.starts_with(s) || resolved.canonicalize().is_ok_and(|r| &r == s))
        };
        found.retain(|d| in_scope(&d.file));
        checked = loaded.files.iter().filter(|f| in_scope(f)).count();
    }
    // GitHub and code scanning resolve paths from the repository root, wherever debrief
    // ran; people get paths they can open from where they are.
    let repo_relative = matches!(opts.format, Format::Github | Format::Sarif);
    let prefix = match Repo::discover(&ws.config.root)? {
        Some(repo) if repo_relative => repo_prefix(&repo, &ws.config.root),
        _ => String::new(),
    };
    for d in &mut found {
        d.file = if repo_relative {
            format!("{prefix}{}", d.file)
        } else {
            ws.display(&d.file)
        };
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
    ws.timings.finish();
    let fails = counts.errors > 0
        || (opts.deny_warnings && found.iter().any(|d| d.level == Level::Warning));
    // Freeing every postmortem and history record one by one takes a noticeable part of
    // a large run, just before the process exits and the system reclaims it all at once.
    std::mem::forget(all);
    std::mem::forget(found);
    Ok(if fails {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
