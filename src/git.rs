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
        // Re-hashing every object read (SHA-1 with collision detection) dominates history
        // reads; it guards against disk corruption, which git's own fsck is for.
        git2::opts::strict_hash_verification(false);
        match Repository::discover(path) {
            Ok(repo) => Ok(Some(Repo { repo })),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e)
                .with_context(|| format!("cannot open the git repository at {}", path.display())),
        }
    }

    /// The `.git` folder, to open more handles (one per thread).
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// A handle on the repository at `git_dir` (from [`Repo::git_dir`]).
    pub fn open(git_dir: &Path) -> Result<Repo> {
        let repo = Repository::open(git_dir)
            .with_context(|| format!("cannot open {}", git_dir.display()))?;
        Ok(Repo { repo })
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

    /// Every commit reachable from HEAD whose message `wanted` accepts. Only the raw
    /// commit bytes are searched for the rest, which keeps a walk over 100k commits cheap.
    pub fn scan(&self, wanted: impl Fn(&[u8]) -> bool) -> Result<Vec<Commit>> {
        if !self.has_head() {
            return Ok(Vec::new());
        }
        self.walk(None, &wanted)
    }

    /// Walks from HEAD, stopping at `known` (a commit whose ancestors were already scanned).
    /// git reads history about twice as fast as a libgit2 walk, so it is used when
    /// git is installed; libgit2 is the fallback and gives the same answers (a test
    /// compares them).
    fn walk(&self, known: Option<Oid>, wanted: &dyn Fn(&[u8]) -> bool) -> Result<Vec<Commit>> {
        match self.walk_with_git_cli(known, wanted) {
            Ok(Some(found)) => Ok(found),
            Ok(None) => self.walk_with_libgit2(known, wanted),
            Err(e) => Err(e),
        }
    }

    /// `None` when git cannot be run at all. One `git log` pass with a format that keeps
    /// each message byte for byte (`%B`; `--pretty=raw` would drop carriage returns and
    /// trailing spaces), parsed as it streams in.
    fn walk_with_git_cli(
        &self,
        known: Option<Oid>,
        wanted: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Option<Vec<Commit>>> {
        use std::io::BufRead as _;
        use std::process::{Command, Stdio};
        let mut command = Command::new("git");
        command
            .arg("--git-dir")
            .arg(self.repo.path())
            // What libgit2 reads: no replacement objects, names as written (no mailmap),
            // messages in their stored bytes.
            .args([
                "--no-replace-objects",
                "-c",
                "log.mailmap=false",
                "-c",
                "log.showSignature=false",
                "log",
                "--encoding=none",
                "--no-color",
                "--date=raw",
                "--format=%H%x1f%an%x1f%ae%x1f%cd%x1f%B%x00",
                "HEAD",
            ]);
        if let Some(known) = known {
            command.arg(format!("^{known}"));
        }
        command.arg("--");
        let mut child = match command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).context("cannot run `git log`"),
        };
        let stdout = child.stdout.take().context("cannot read `git log`")?;
        let mut reader = std::io::BufReader::with_capacity(1 << 16, stdout);
        let mut found = Vec::new();
        let mut record = Vec::new();
        loop {
            record.clear();
            if reader
                .read_until(0, &mut record)
                .context("cannot read `git log`")?
                == 0
            {
                break;
            }
            // Records end in NUL; git puts a newline between them.
            let text = record.strip_suffix(&[0]).unwrap_or(&record);
            let text = text.strip_prefix(b"\n").unwrap_or(text);
            let mut fields = text.splitn(5, |&b| b == 0x1f);
            let (Some(id), Some(name), Some(email), Some(when), Some(message)) = (
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
            ) else {
                continue;
            };
            // As libgit2 reads it: leading newlines skipped.
            let start = message
                .iter()
                .position(|&b| b != b'\n')
                .unwrap_or(message.len());
            let message = &message[start..];
            if !wanted(message) {
                continue;
            }
            let message = String::from_utf8_lossy(message);
            let Some(time) = parse_time(&String::from_utf8_lossy(when)) else {
                continue;
            };
            found.push(Commit {
                id: String::from_utf8_lossy(id).into_owned(),
                author_name: String::from_utf8_lossy(name).into_owned(),
                author_email: String::from_utf8_lossy(email).into_owned(),
                time,
                message: message.into_owned(),
            });
        }
        let output = child.wait_with_output().context("cannot run `git log`")?;
        if !output.status.success() {
            anyhow::bail!(
                "git log failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(Some(found))
    }

    /// The `gpgsig` header of a commit (SSH or OpenPGP armour) and the bytes it signs;
    /// `None` when it is not signed. Read only where signatures are checked.
    pub fn signature(&self, id: &str) -> Option<(String, Vec<u8>)> {
        let oid = Oid::from_str(id).ok()?;
        self.repo
            .extract_signature(&oid, None)
            .ok()
            .map(|(sig, data)| (String::from_utf8_lossy(&sig).into_owned(), data.to_vec()))
    }

    fn walk_with_libgit2(
        &self,
        known: Option<Oid>,
        wanted: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<Commit>> {
        let mut found = Vec::new();
        let mut walk = self.repo.revwalk().context("cannot walk the git history")?;
        walk.set_sorting(Sort::TIME)
            .context("cannot sort the git history")?;
        walk.push_head().context("cannot walk from HEAD")?;
        if let Some(known) = known {
            walk.hide(known).context("cannot walk the git history")?;
        }
        let odb = self
            .repo
            .odb()
            .context("cannot open the git object database")?;
        for oid in walk {
            let oid = oid.context("cannot read the git history")?;
            // Most commits carry no record: look at the raw bytes before parsing anything.
            let raw = odb
                .read(oid)
                .with_context(|| format!("cannot read commit {oid}"))?;
            let data = raw.data();
            if !wanted(data) {
                continue;
            }
            let commit = self
                .repo
                .find_commit(oid)
                .with_context(|| format!("cannot read commit {oid}"))?;
            if !wanted(commit.message_bytes()) {
                continue;
            }
            let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
            let author = commit.author();
            found.push(Commit {
                id: oid.to_string(),
                author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
                author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
                time: git_time(commit.time()),
                message,
            });
        }
        Ok(found)
    }

    /// [`Repo::scan`] with a cache in the git folder (`.git/debrief/`), keyed by the commit
    /// HEAD pointed at: unchanged HEAD → no walk; HEAD moved forward → only the new commits
    /// are walked; anything else (rewritten history, a different filter version, an
    /// unreadable cache) → a full walk. The cache holds raw commit facts only; everything
    /// that depends on trust roots (signatures, people) is judged again on every run.
    pub fn scan_cached(
        &self,
        filter_version: u32,
        wanted: impl Fn(&[u8]) -> bool,
    ) -> Result<Vec<Commit>> {
        if !self.has_head() {
            return Ok(Vec::new());
        }
        let head = self
            .repo
            .head()
            .ok()
            .and_then(|h| h.target())
            .context("HEAD does not point at a commit")?;
        let path = self.repo.path().join("debrief").join("history-cache.json");
        let cached = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<cache::File>(&bytes).ok())
            .filter(|c| c.version == cache::VERSION && c.filter == filter_version);
        let commits = match cached {
            Some(c) if c.head == head.to_string() => {
                return Ok(c
                    .commits
                    .into_iter()
                    .filter_map(cache::Entry::into_commit)
                    .collect())
            }
            Some(c) => match Oid::from_str(&c.head) {
                Ok(old) if self.repo.graph_descendant_of(head, old).unwrap_or(false) => {
                    let mut commits = self.walk(Some(old), &wanted)?;
                    commits.extend(c.commits.into_iter().filter_map(cache::Entry::into_commit));
                    commits
                }
                _ => self.walk(None, &wanted)?,
            },
            None => self.walk(None, &wanted)?,
        };
        let file = cache::File {
            version: cache::VERSION,
            filter: filter_version,
            head: head.to_string(),
            commits: commits.iter().map(cache::Entry::from_commit).collect(),
        };
        write_cache(&path, &file);
        Ok(commits)
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

/// Writes a cache file whole or not at all. A cache that cannot be written (a read-only
/// checkout) only costs time on the next run.
fn write_cache(path: &Path, value: &impl serde::Serialize) {
    if let (Some(dir), Ok(bytes)) = (path.parent(), serde_json::to_vec(value)) {
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        if std::fs::create_dir_all(dir).is_ok()
            && std::fs::write(&tmp, bytes).is_ok()
            && std::fs::rename(&tmp, path).is_err()
        {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// `1796427784 +0100` → that instant in that offset.
fn parse_time(text: &str) -> Option<DateTime<FixedOffset>> {
    let mut when = text.split_whitespace();
    let seconds: i64 = when.next()?.parse().ok()?;
    let zone = when.next().unwrap_or("+0000");
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits = zone.trim_start_matches(['+', '-']);
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..4)?.parse().ok()?;
    let offset = FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))?;
    offset.timestamp_opt(seconds, 0).single()
}

/// A commit that changed files under a folder.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub commit: String,
    pub time: DateTime<FixedOffset>,
    /// The files it added, modified or renamed (deletions are left out).
    pub files: Vec<Touched>,
}

/// One file as a commit left it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Touched {
    /// Relative to the work-tree root, after the commit.
    pub path: String,
    /// The path it was renamed from, if it was.
    pub renamed_from: Option<String>,
    /// The blob the commit stored at `path`.
    pub blob: String,
}

/// The git object id of `bytes` stored as a blob (what `git hash-object` prints).
pub fn blob_id(bytes: &[u8]) -> String {
    Oid::hash_object(ObjectType::Blob, bytes).map_or_else(|_| String::new(), |id| id.to_string())
}

impl Repo {
    /// Commits reachable from HEAD that changed anything under `dir`, oldest first, with
    /// renames detected and the blob each change stored. Uses the git CLI: its
    /// path-limited log skips unchanged trees far faster than a tree diff per commit
    /// through libgit2, and `--raw` names the blobs, so no tree is read afterwards.
    pub fn changes_under(&self, dir: &str) -> Result<Vec<Change>> {
        let workdir = self
            .repo
            .workdir()
            .context("the repository has no work tree")?;
        let output = std::process::Command::new("git")
            .args([
                "log",
                "--reverse",
                "-M",
                "--format=%x1e%H%x1f%cI",
                "--raw",
                "--no-abbrev",
                // NUL-separated paths: no quoting, whatever the file names hold.
                "-z",
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
        Ok(parse_raw_log(&String::from_utf8_lossy(&output.stdout)))
    }

    /// [`Repo::changes_under`], kept in the git folder (`.git/debrief/changes-cache.json`)
    /// for the commit HEAD points at and `dir`: the same HEAD has the same history, so an
    /// unchanged repository needs no `git log` (checks and `serve` rebuilds run often).
    pub fn changes_under_cached(&self, dir: &str) -> Result<Vec<Change>> {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Cached {
            version: u32,
            head: String,
            dir: String,
            changes: Vec<Change>,
        }
        const VERSION: u32 = 1;
        let head = match self.repo.head().ok().and_then(|h| h.target()) {
            Some(head) => head.to_string(),
            None => return self.changes_under(dir),
        };
        let path = self.repo.path().join("debrief").join("changes-cache.json");
        let cached = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Cached>(&bytes).ok())
            .filter(|c| c.version == VERSION && c.head == head && c.dir == dir);
        if let Some(cached) = cached {
            return Ok(cached.changes);
        }
        let changes = self.changes_under(dir)?;
        let file = Cached {
            version: VERSION,
            head,
            dir: dir.to_owned(),
            changes,
        };
        write_cache(&path, &file);
        Ok(file.changes)
    }

    /// One blob by its id; `None` when the object is missing or not a blob.
    pub fn read_blob(&self, id: &str) -> Option<Vec<u8>> {
        let oid = Oid::from_str(id).ok()?;
        self.repo.find_blob(oid).ok().map(|b| b.content().to_vec())
    }
}

/// Parses `git log --format=%x1e%H%x1f%cI --raw --no-abbrev -z`: per commit a header
/// ending in NUL, then `:<modes> <old blob> <new blob> <status>` NUL `<path>` NUL, with a
/// second path after renames and copies.
fn parse_raw_log(text: &str) -> Vec<Change> {
    let mut changes = Vec::new();
    for record in text.split('\u{1e}').filter(|r| !r.trim().is_empty()) {
        let mut fields = record.split('\0');
        let Some((commit, date)) = fields.next().and_then(|h| h.split_once('\u{1f}')) else {
            continue;
        };
        let Ok(time) = DateTime::parse_from_rfc3339(date.trim()) else {
            continue;
        };
        let mut files = Vec::new();
        while let Some(meta) = fields.next() {
            let meta = meta.trim_start_matches('\n');
            let Some(meta) = meta.strip_prefix(':') else {
                continue;
            };
            let parts: Vec<&str> = meta.split(' ').collect();
            let (Some(blob), Some(status)) = (parts.get(3), parts.get(4)) else {
                continue;
            };
            let Some(first) = fields.next() else { break };
            let (path, renamed_from) = if status.starts_with('R') || status.starts_with('C') {
                let Some(second) = fields.next() else { break };
                let from = status.starts_with('R').then(|| first.to_owned());
                (second.to_owned(), from)
            } else {
                (first.to_owned(), None)
            };
            if status.starts_with('D') {
                continue;
            }
            files.push(Touched {
                path,
                renamed_from,
                blob: (*blob).to_owned(),
            });
        }
        changes.push(Change {
            commit: commit.to_owned(),
            time,
            files,
        });
    }
    changes
}

/// The on-disk form of the history cache.
mod cache {
    use chrono::DateTime;
    use serde::{Deserialize, Serialize};

    /// 2: signatures are no longer cached (they are read where they are checked).
    pub const VERSION: u32 = 2;

    #[derive(Serialize, Deserialize)]
    pub struct File {
        pub version: u32,
        pub filter: u32,
        pub head: String,
        pub commits: Vec<Entry>,
    }

    #[derive(Serialize, Deserialize)]
    pub struct Entry {
        id: String,
        author_name: String,
        author_email: String,
        time: String,
        message: String,
    }

    impl Entry {
        pub fn from_commit(c: &super::Commit) -> Entry {
            Entry {
                id: c.id.clone(),
                author_name: c.author_name.clone(),
                author_email: c.author_email.clone(),
                time: c.time.to_rfc3339(),
                message: c.message.clone(),
            }
        }

        pub fn into_commit(self) -> Option<super::Commit> {
            Some(super::Commit {
                id: self.id,
                author_name: self.author_name,
                author_email: self.author_email,
                time: DateTime::parse_from_rfc3339(&self.time).ok()?,
                message: self.message,
            })
        }
    }
}

fn git_time(time: git2::Time) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(time.offset_minutes() * 60).unwrap_or(chrono::Utc.fix());
    offset
        .timestamp_opt(time.seconds(), 0)
        .single()
        .unwrap_or_else(|| DateTime::<FixedOffset>::from(DateTime::UNIX_EPOCH))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn raw_log_gives_paths_renames_and_blobs_and_skips_deletions() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let zero = "0".repeat(40);
        let text = format!(
            "\u{1e}c1\u{1f}2026-03-01T10:00:00+00:00\0\n:000000 100644 {zero} {a} A\0content/x\ty.md\0\
             \u{1e}c2\u{1f}2026-03-02T10:00:00+01:00\0\n:100644 100644 {a} {b} R091\0content/x\ty.md\0content/2026/x.md\0\
             :100644 000000 {a} {zero} D\0content/gone.md\0"
        );
        let changes = parse_raw_log(&text);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].commit, "c1");
        assert_eq!(
            changes[0].files,
            vec![Touched {
                path: "content/x\ty.md".into(),
                renamed_from: None,
                blob: a.clone(),
            }]
        );
        assert_eq!(changes[1].time.offset().local_minus_utc(), 3600);
        assert_eq!(
            changes[1].files,
            vec![Touched {
                path: "content/2026/x.md".into(),
                renamed_from: Some("content/x\ty.md".into()),
                blob: b,
            }]
        );
    }

    fn git(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> String {
        use std::io::Write as _;
        let mut child = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Ånna \"Ops\" Lund")
            .env("GIT_AUTHOR_EMAIL", "anna@example.com")
            .env("GIT_AUTHOR_DATE", "2026-03-01T10:00:00+05:30")
            .env("GIT_COMMITTER_NAME", "Commit Ter")
            .env("GIT_COMMITTER_EMAIL", "ct@example.com")
            .env("GIT_COMMITTER_DATE", "2026-03-02T11:00:00-04:00")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(bytes) = stdin {
            child.stdin.take().unwrap().write_all(bytes).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Commits made with `git commit-tree`, so messages are stored byte for byte.
    fn commit(dir: &Path, parents: &[&str], message: &[u8]) -> String {
        let tree = git(dir, &["write-tree"], None);
        let mut args = vec!["commit-tree", tree.as_str()];
        for parent in parents {
            args.extend(["-p", parent]);
        }
        git(dir, &args, Some(message))
    }

    #[test]
    fn git_log_and_libgit2_walks_give_the_same_commits() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"], None);
        let messages: [&[u8]; 6] = [
            b"First\n\nPostmortem-Review: pm-1 sha256:aa\n",
            b"\tTabs\tand trailing spaces   \n\n    indented body line\n\nPostmortem-Signoff: pm-1 sha256:bb\n",
            b"No newline at the end\n\nAction-Closed: pm-1 AI-1",
            b"\n\nLeading blank lines\n\ncommit 0123456789abcdef0123456789abcdef01234567\nPostmortem-Review: pm-2 sha256:cc\n\n\n",
            b"Windows\r\n\r\nPostmortem-Review: pm-3 sha256:dd\r\n",
            b"Unicode \xc3\xa9\xf0\x9f\x9a\x92 and nothing else\n",
        ];
        let mut head = String::new();
        for message in messages {
            let parents: Vec<&str> = if head.is_empty() { vec![] } else { vec![&head] };
            head = commit(root, &parents, message);
        }
        let side = commit(
            root,
            &[],
            b"Side branch\n\nPostmortem-Review: pm-4 sha256:ee\n",
        );
        let merge = commit(root, &[&head, &side], b"Merge\n");
        git(root, &["update-ref", "HEAD", &merge], None);
        let repo = Repo::open(&root.join(".git")).unwrap();
        let all = |_: &[u8]| true;
        let by_cli = repo.walk_with_git_cli(None, &all).unwrap().unwrap();
        let by_lib = repo.walk_with_libgit2(None, &all).unwrap();
        let facts = |commits: &[Commit]| {
            let mut facts: Vec<_> = commits
                .iter()
                .map(|c| {
                    (
                        c.id.clone(),
                        c.author_name.clone(),
                        c.author_email.clone(),
                        c.time,
                        c.message.clone(),
                    )
                })
                .collect();
            facts.sort_by(|a, b| a.0.cmp(&b.0));
            facts
        };
        assert_eq!(by_cli.len(), 8);
        assert_eq!(facts(&by_cli), facts(&by_lib));
        // Only what is new since a known commit.
        let newer = repo
            .walk_with_git_cli(Some(Oid::from_str(&head).unwrap()), &all)
            .unwrap()
            .unwrap();
        let mut ids: Vec<String> = newer.into_iter().map(|c| c.id).collect();
        ids.sort();
        let mut expected = vec![side, merge];
        expected.sort();
        assert_eq!(ids, expected);
    }

    #[test]
    fn blob_ids_are_what_git_hash_object_prints() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }
}
