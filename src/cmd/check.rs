//! `debrief check`: validate every postmortem, including its approvals, and report.

use std::collections::{HashMap, HashSet};
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

fn checked_with(
    ws: &Workspace,
    mut loaded: load::Loaded,
    trust_ref: Option<&str>,
    scan_history: bool,
    prefetched: Prefetched,
) -> Result<Checked> {
    let config = &ws.config;
    let mut found = std::mem::take(&mut loaded.diagnostics);
    // Each file's own rules ran as it was loaded; what is left looks across files.
    found.extend(ws.timings.time("validate", || {
        validate::validate_across(config, &loaded.postmortems)
    }));
    let all: Vec<&Postmortem> = loaded.postmortems.iter().collect();
    let git = GitSide::read(
        ws,
        &loaded.postmortems,
        trust_ref,
        scan_history,
        prefetched.commits,
    )?;
    found.extend(git.roots.iter().cloned());
    found.extend(ws.timings.time("approvals", || git.approval_findings(&all)));
    let mut log = prefetched
        .changes
        .map(crate::actions::ContentLog::prefetched)
        .unwrap_or_default();
    let (closures, closure_findings) = ws
        .timings
        .time("closures", || git.closures(config, &all, &mut log))?;
    found.extend(closure_findings);
    diagnostic::sort(&mut found);
    Ok(Checked {
        loaded,
        diagnostics: found,
        history: git.history,
        trust: git.trust,
        closures,
    })
}

/// The part of checking that asks git: the trust roots, the approval history and the
/// findings about the roots. It depends on commits, not on the files being edited, so
/// `serve` keeps it between edits while HEAD and the trust ref stay where they are.
pub struct GitSide {
    repo: Option<Repo>,
    prefix: String,
    pub history: History,
    pub trust: Trust,
    /// The configuration with the trusted `[rules]`: approval findings take their levels
    /// from there, not from a working tree that a pull request can change.
    trusted: Config,
    /// Findings about the trust roots themselves.
    pub roots: Vec<Diagnostic>,
}

impl GitSide {
    /// `scan_history` reads approvals even when nothing is published yet. `commits` are
    /// the history's candidate commits when they were read early.
    pub fn read(
        ws: &Workspace,
        postmortems: &[Postmortem],
        trust_ref: Option<&str>,
        scan_history: bool,
        commits: Option<Result<Vec<crate::git::Commit>>>,
    ) -> Result<GitSide> {
        let config = &ws.config;
        let repo = Repo::discover(&config.root)?;
        let needs_history =
            scan_history || postmortems.iter().any(|p| p.status() >= Status::Published);
        // Trust roots matter only when approvals are judged; an unfetched trust ref must
        // not block checking drafts.
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
                let commits = match commits {
                    Some(commits) => commits?,
                    None => History::commits(repo)?,
                };
                History::judge(repo, commits, &trust)
            })?,
        };
        history.known_ids = postmortems.iter().map(|p| p.id.value.clone()).collect();
        if needs_history {
            history.add(crate::approvals::files::scan(&config.root, &trust)?);
        }
        let trusted = Config {
            rules: trust.rules.clone(),
            ..config.clone()
        };
        let mut roots = Vec::new();
        if needs_history && repo.is_some() {
            roots = trust.problems.clone();
            if trust.source == TrustSource::WorkingTree {
                roots.push(
                    Diagnostic::new("trust-working-tree", Level::Warning, config::FILE_NAME, None, "[people], [approvals] and allowed signers were read from the working tree, which a pull request can change")
                        .help("in CI pass `--trust-ref origin/<base branch>`, or set `[approvals] trust_ref`"),
                );
            }
            trusted.apply_overrides(&mut roots);
        }
        let prefix = repo
            .as_ref()
            .map(|r| repo_prefix(r, &config.root))
            .unwrap_or_default();
        Ok(GitSide {
            repo,
            prefix,
            history,
            trust,
            trusted,
            roots,
        })
    }

    /// Workflow steps 6 and 7 (review and sign-off) for `postmortems`.
    pub fn approval_findings(&self, postmortems: &[&Postmortem]) -> Vec<Diagnostic> {
        let config = &self.trusted;
        let prefix = &self.prefix;
        let old_version = |pm: &Postmortem, commit: &str| -> Option<(Node, String)> {
            let repo = self.repo.as_ref()?;
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
                            path.strip_prefix(prefix.as_str())
                                .unwrap_or(&path)
                                .to_owned(),
                            bytes,
                        )
                    })
                    .find(|f| f.id() == pm.id.value)
            })?;
            Some((found.front_matter, found.body))
        };
        let ctx = ApprovalContext {
            history: &self.history,
            trust: &self.trust,
            old_version: &old_version,
        };
        validate::validate_approvals(config, postmortems, &ctx)
    }

    /// When git recorded each closed action item of `postmortems`, and the findings about
    /// back-dated closures (workflow step 8).
    pub fn closures(
        &self,
        config: &Config,
        postmortems: &[&Postmortem],
        log: &mut crate::actions::ContentLog,
    ) -> Result<(crate::actions::Closures, Vec<Diagnostic>)> {
        match &self.repo {
            Some(repo) if self.history.available.is_ok() => {
                let closures = crate::actions::recorded_closures(
                    repo,
                    &self.prefix,
                    &config.site.content,
                    postmortems,
                    &self.history,
                    log,
                )?;
                let found = validate::validate_closures(config, postmortems, &closures);
                Ok((closures, found))
            }
            _ => Ok((crate::actions::Closures::new(), Vec::new())),
        }
    }
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

/// Checking again after some files changed, for `serve`: the git side is kept while HEAD
/// and the trust ref stay where they are, and the findings across files, of approvals and
/// of closures for files that did not change are kept with it. When the set of ids
/// changes, every file is judged again: one file's id can change another's findings.
#[derive(Default)]
pub struct Rechecker {
    git: Option<(String, GitSide)>,
    log: crate::actions::ContentLog,
    /// Per file: its findings across files, of approvals and of closures, and the
    /// closures it contributed.
    per_file: HashMap<String, FileFindings>,
    closures: crate::actions::Closures,
    /// The ids the history's look-ups were made against (`History::known_ids`).
    ids: Vec<String>,
}

#[derive(Default)]
struct FileFindings {
    found: Vec<Diagnostic>,
    closures: Vec<(String, String)>,
}

/// What [`Rechecker::update`] found, borrowing what it keeps.
pub struct Rechecked<'a> {
    /// Findings across files and from git (the files' own findings are the caller's).
    pub diagnostics: Vec<Diagnostic>,
    pub history: &'a History,
    pub trust: &'a Trust,
    pub closures: &'a crate::actions::Closures,
    /// Whether everything was judged again (history moved), so every page may differ.
    pub everything: bool,
}

impl Rechecker {
    /// Checks `postmortems` again; only the files in `changed` (root-relative: those that
    /// changed, appeared or went) are judged again unless git moved, the set of ids
    /// changed, or `changed` is `None`.
    pub fn update(
        &mut self,
        ws: &Workspace,
        postmortems: &[Postmortem],
        changed: Option<&HashSet<String>>,
        trust_ref: Option<&str>,
    ) -> Result<Rechecked<'_>> {
        let config = &ws.config;
        let mut ids: Vec<&str> = postmortems.iter().map(|p| p.id.value.as_str()).collect();
        ids.sort_unstable();
        let ids_moved = ids != self.ids;
        let stamp = git_stamp(ws, trust_ref);
        let kept = self.git.take().filter(|(s, _)| *s == stamp);
        let git_moved = kept.is_none();
        let (_, git) = match kept {
            Some(kept) => self.git.insert(kept),
            None => {
                self.log = crate::actions::ContentLog::default();
                let git = GitSide::read(ws, postmortems, trust_ref, true, None)?;
                self.git.insert((stamp, git))
            }
        };
        let everything = git_moved || changed.is_none() || ids_moved;
        if ids_moved {
            git.history.known_ids = ids.iter().map(|&id| id.to_owned()).collect();
            self.ids = ids.into_iter().map(str::to_owned).collect();
        }
        let git = &*git;
        // The files judged again: all of them, or those that changed (which include the
        // files that went).
        let again: Vec<&Postmortem> = match changed.filter(|_| !everything) {
            None => {
                self.per_file.clear();
                self.closures.clear();
                postmortems.iter().collect()
            }
            Some(changed) => {
                // A duplicate id's finding names the other files: those sharing an id
                // with a changed file are judged again too. (While the ids stay the same
                // as a whole, the changed files' old ids are among their new ones.)
                let shared: HashSet<&str> = postmortems
                    .iter()
                    .filter(|p| changed.contains(&p.file))
                    .map(|p| p.id.value.as_str())
                    .collect();
                let again: Vec<&Postmortem> = postmortems
                    .iter()
                    .filter(|p| changed.contains(&p.file) || shared.contains(p.id.value.as_str()))
                    .collect();
                let files = changed
                    .iter()
                    .map(String::as_str)
                    .chain(again.iter().map(|p| p.file.as_str()));
                for file in files {
                    for key in self
                        .per_file
                        .remove(file)
                        .into_iter()
                        .flat_map(|f| f.closures)
                    {
                        self.closures.remove(&key);
                    }
                }
                again
            }
        };
        let (closures, closure_findings) = git.closures(config, &again, &mut self.log)?;
        let mut by_file: HashMap<String, FileFindings> = again
            .iter()
            .map(|p| (p.file.clone(), FileFindings::default()))
            .collect();
        // While the ids stay the same, another file's edit cannot change these findings.
        for d in validate::validate_across_for(config, postmortems, &again)
            .into_iter()
            .chain(git.approval_findings(&again))
            .chain(closure_findings)
        {
            if let Some(entry) = by_file.get_mut(&d.file) {
                entry.found.push(d);
            }
        }
        let file_of: HashMap<&str, &str> = again
            .iter()
            .map(|p| (p.id.value.as_str(), p.file.as_str()))
            .collect();
        for (key, recorded) in closures {
            if let Some(entry) = file_of
                .get(key.0.as_str())
                .and_then(|f| by_file.get_mut(*f))
            {
                entry.closures.push(key.clone());
            }
            self.closures.insert(key, recorded);
        }
        self.per_file.extend(by_file);
        let mut diagnostics = git.roots.clone();
        for findings in self.per_file.values() {
            diagnostics.extend(findings.found.iter().cloned());
        }
        Ok(Rechecked {
            diagnostics,
            history: &git.history,
            trust: &git.trust,
            closures: &self.closures,
            everything,
        })
    }

    /// What the last [`Rechecker::update`] judged against.
    pub fn current(&self) -> Option<(&History, &Trust, &crate::actions::Closures)> {
        let (_, git) = self.git.as_ref()?;
        Some((&git.history, &git.trust, &self.closures))
    }
}

/// Where HEAD and the trust ref point: the git side stays valid while this is unchanged.
fn git_stamp(ws: &Workspace, trust_ref: Option<&str>) -> String {
    let Ok(Some(repo)) = Repo::discover(&ws.config.root) else {
        return String::new();
    };
    let resolve = |rev: &str| repo.resolve(rev).unwrap_or_default();
    let trust = Trust::wanted_ref(&ws.config, trust_ref)
        .map(|r| resolve(&r))
        .unwrap_or_default();
    format!("{} {trust}", resolve("HEAD"))
}
