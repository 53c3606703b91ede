//! The only module that touches git2. It answers questions about history with plain owned
//! values, so the rest of debrief never sees a git2 type.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, FixedOffset, Offset, TimeZone};
use git2::{ErrorCode, ObjectType, Oid, Repository, Sort};

/// A commit that carries debrief trailers, with what is needed to judge it.
#[derive(Clone, Debug)]
pub struct Commit {
    pub id: String,
    pub author_name: String,
    pub author_email: String,
    pub time: DateTime<FixedOffset>,
    pub message: String,
    /// The `gpgsig` header (SSH or OpenPGP armour) and the bytes it signs.
    pub signature: Option<(String, Vec<u8>)>,
}

impl Commit {
    pub fn short_id(&self) -> &str {
        &self.id[..self.id.len().min(10)]
    }
}

pub struct Repo {
    repo: Repository,
}

impl Repo {
    /// Opens the repository that contains `path`; `None` when there is none.
    pub fn discover(path: &Path) -> Result<Option<Repo>> {
        match Repository::discover(path) {
            Ok(repo) => Ok(Some(Repo { repo })),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e)
                .with_context(|| format!("cannot open the git repository at {}", path.display())),
        }
    }

    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow()
    }

    /// The folder holding `.git`, i.e. the root of the work tree.
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// True when HEAD points at a commit (false in a fresh `git init`).
    pub fn has_head(&self) -> bool {
        self.repo.head().ok().and_then(|h| h.target()).is_some()
    }

    /// Every commit reachable from HEAD whose message `wanted` accepts, newest first.
    /// Only messages are read for the rest, which keeps a walk over 100k commits cheap.
    pub fn scan(&self, wanted: impl Fn(&str) -> bool) -> Result<Vec<Commit>> {
        let mut found = Vec::new();
        if !self.has_head() {
            return Ok(found);
        }
        let mut walk = self.repo.revwalk().context("cannot walk the git history")?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .context("cannot sort the git history")?;
        walk.push_head().context("cannot walk from HEAD")?;
        for oid in walk {
            let oid = oid.context("cannot read the git history")?;
            let commit = self
                .repo
                .find_commit(oid)
                .with_context(|| format!("cannot read commit {oid}"))?;
            let message = String::from_utf8_lossy(commit.message_bytes());
            if !wanted(&message) {
                continue;
            }
            let author = commit.author();
            let signature = match self.repo.extract_signature(&oid, None) {
                Ok((sig, data)) => {
                    Some((String::from_utf8_lossy(&sig).into_owned(), data.to_vec()))
                }
                Err(_) => None,
            };
            found.push(Commit {
                id: oid.to_string(),
                author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
                author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
                time: git_time(commit.time()),
                message: message.into_owned(),
                signature,
            });
        }
        Ok(found)
    }

    /// Resolves a revision (`origin/main`, a tag, a commit id) to a commit id.
    pub fn resolve(&self, rev: &str) -> Result<String> {
        let object = self
            .repo
            .revparse_single(rev)
            .with_context(|| format!("cannot find the revision `{rev}` in the git repository"))?;
        let commit = object
            .peel_to_commit()
            .with_context(|| format!("`{rev}` does not name a commit"))?;
        Ok(commit.id().to_string())
    }

    /// The bytes of `path` (relative to the work-tree root) at `commit`; `None` if absent.
    pub fn read_at(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>> {
        let oid = Oid::from_str(commit).with_context(|| format!("bad commit id {commit}"))?;
        let tree = self.repo.find_commit(oid)?.tree()?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(entry) => entry,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if entry.kind() != Some(ObjectType::Blob) {
            return Ok(None);
        }
        let blob = self.repo.find_blob(entry.id())?;
        Ok(Some(blob.content().to_vec()))
    }

    /// Every `*.md` blob under `dir` at `commit`, as (path, bytes).
    pub fn markdown_at(&self, commit: &str, dir: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let oid = Oid::from_str(commit).with_context(|| format!("bad commit id {commit}"))?;
        let tree = self.repo.find_commit(oid)?.tree()?;
        let mut out = Vec::new();
        let mut failure = None;
        tree.walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
            let name = entry.name().unwrap_or("");
            let path = format!("{parent}{name}");
            let inside = path.starts_with(&format!("{}/", dir.trim_end_matches('/')));
            if inside && name.ends_with(".md") && entry.kind() == Some(ObjectType::Blob) {
                match self.repo.find_blob(entry.id()) {
                    Ok(blob) => out.push((path, blob.content().to_vec())),
                    Err(e) => failure = Some(e),
                }
            }
            git2::TreeWalkResult::Ok
        })?;
        if let Some(e) = failure {
            return Err(e.into());
        }
        Ok(out)
    }
}

/// A commit that changed files under a folder.
#[derive(Clone, Debug)]
pub struct Change {
    pub commit: String,
    pub time: DateTime<FixedOffset>,
    /// Paths (relative to the work-tree root) as they are after the commit, each with the
    /// path it was renamed from, if it was.
    pub paths: Vec<(String, Option<String>)>,
}

impl Repo {
    /// Commits reachable from HEAD that changed anything under `dir`, oldest first, with
    /// renames detected. Uses the git CLI: its path-limited log skips unchanged trees far
    /// faster than a tree diff per commit through libgit2.
    pub fn changes_under(&self, dir: &str) -> Result<Vec<Change>> {
        let workdir = self
            .repo
            .workdir()
            .context("the repository has no work tree")?;
        let output = std::process::Command::new("git")
            .args([
                "-c",
                "core.quotePath=false",
                "log",
                "--reverse",
                "-M",
                "--format=%x1e%H%x1f%cI",
                "--name-status",
                "--",
                dir,
            ])
            .current_dir(workdir)
            .output()
            .context("cannot run `git log` (is git installed?)")?;
        if !output.status.success() {
            anyhow::bail!(
                "git log failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let mut changes = Vec::new();
        for chunk in text.split('\u{1e}').filter(|c| !c.trim().is_empty()) {
            let mut lines = chunk.lines();
            let Some((commit, date)) = lines.next().and_then(|l| l.split_once('\u{1f}')) else {
                continue;
            };
            let Ok(time) = DateTime::parse_from_rfc3339(date.trim()) else {
                continue;
            };
            let paths = lines
                .filter_map(|line| {
                    let mut fields = line.split('\t');
                    let status = fields.next()?;
                    let first = fields.next()?.to_owned();
                    match (status.starts_with('R'), fields.next()) {
                        (true, Some(new)) => Some((new.to_owned(), Some(first))),
                        _ => Some((first, None)),
                    }
                })
                .collect();
            changes.push(Change {
                commit: commit.to_owned(),
                time,
                paths,
            });
        }
        Ok(changes)
    }
}

fn git_time(time: git2::Time) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(time.offset_minutes() * 60).unwrap_or(chrono::Utc.fix());
    offset
        .timestamp_opt(time.seconds(), 0)
        .single()
        .unwrap_or_else(|| DateTime::<FixedOffset>::from(DateTime::UNIX_EPOCH))
}
