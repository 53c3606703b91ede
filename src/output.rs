//! Output: writing the rendered site.
//!
//! Never half a site: a first build goes into a temporary sibling folder that is renamed
//! into place; a rebuild into an existing output writes only the pages whose bytes changed,
//! staging all of them first, so a failed write leaves the previous site as it was, and only
//! then moving them into place and removing pages that no longer exist. Never someone
//! else's folder: an existing output is touched only if debrief wrote it (a marker file).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::render::{Page, Put, Sink};

/// Marks a folder as debrief output, so a later build may replace it.
pub const MARKER: &str = ".debrief-site";

/// Creates `path`, and the folders it needs, holding `bytes`; fails when anything is
/// already there (the `std::io::Error` in the chain has kind `AlreadyExists`). For the files
/// commands create for people to edit (`init`, `new`, `theme eject`, approval files): those
/// are never written over.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Refuses output folders that would destroy the user's own files.
pub fn check_target(out: &Path, root: &Path, content: &Path) -> Result<()> {
    let resolve = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let (out_abs, root_abs, content_abs) = (absolute(out)?, resolve(root), resolve(content));
    let out_real = resolve(&out_abs);
    if root_abs.starts_with(&out_real) || out_real.starts_with(&content_abs) {
        bail!("refusing to write the site to {}: it holds the repository or its postmortems\nhelp: choose another --output, e.g. public", out.display());
    }
    if out_abs.exists() {
        if !out_abs.is_dir() {
            bail!("{} exists and is not a folder", out.display());
        }
        let empty = fs::read_dir(&out_abs)
            .with_context(|| format!("cannot read {}", out.display()))?
            .next()
            .is_none();
        if !empty && !out_abs.join(MARKER).is_file() {
            bail!("{} exists and was not written by debrief; not replacing it\nhelp: choose another --output, or move that folder away", out.display());
        }
    }
    Ok(())
}

/// An absolute path with `.` and `..` resolved as written, then symlinks resolved as far as
/// the path exists, so `missing/../content` is judged as `content`.
fn absolute(path: &Path) -> Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context("cannot read the current folder")?
            .join(path)
    };
    let mut lexical = PathBuf::new();
    for part in joined.components() {
        match part {
            std::path::Component::ParentDir => {
                lexical.pop();
            }
            std::path::Component::CurDir => {}
            other => lexical.push(other),
        }
    }
    let mut existing = lexical.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (
            existing.file_name().map(std::ffi::OsStr::to_os_string),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return Ok(lexical),
        }
    }
    let mut resolved = existing.canonicalize().unwrap_or(existing);
    resolved.extend(rest.into_iter().rev());
    Ok(resolved)
}

/// What a write did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// Writes the site to `out` as pages arrive, so a large site is never held in memory.
///
/// A first build writes into a temporary sibling folder that [`SiteWriter::finish`] renames
/// into place. A rebuild into an existing debrief output compares each page with the file
/// already there and stages only the changed ones; `finish` moves them in and removes the
/// pages that were not produced this time. Dropping the writer without `finish` (an error
/// while rendering) removes what was staged and leaves the previous site as it was.
pub struct SiteWriter {
    out: PathBuf,
    /// Where new or changed pages go until `finish`.
    staging: PathBuf,
    /// `out` already holds a debrief site: the rebuild only updates it.
    updating: bool,
    seen: Mutex<HashSet<String>>,
    changed: Mutex<Vec<String>>,
    unchanged: AtomicUsize,
    finished: bool,
}

impl SiteWriter {
    pub fn begin(out: &Path) -> Result<SiteWriter> {
        let out = absolute(out)?;
        let updating = out.join(MARKER).is_file();
        let pid = std::process::id();
        let staging = if updating {
            out.join(format!(".debrief-staging-{pid}"))
        } else {
            let parent = out.parent().context("the output folder has no parent")?;
            let name = out
                .file_name()
                .context("the output folder has no name")?
                .to_string_lossy()
                .into_owned();
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
            parent.join(format!(".{name}.tmp-{pid}"))
        };
        if staging.exists() {
            fs::remove_dir_all(&staging)
                .with_context(|| format!("cannot remove {}", staging.display()))?;
        }
        fs::create_dir_all(&staging)
            .with_context(|| format!("cannot create {}", staging.display()))?;
        Ok(SiteWriter {
            out,
            staging,
            updating,
            seen: Mutex::new(HashSet::new()),
            changed: Mutex::new(Vec::new()),
            unchanged: AtomicUsize::new(0),
            finished: false,
        })
    }

    /// Takes one page; called from several threads at once.
    pub fn put(&self, page: &Page) -> Result<()> {
        if !lock(&self.seen).insert(page.path.clone()) {
            bail!("two pages were rendered at {}", page.path);
        }
        if self.updating && same_bytes(&self.out.join(&page.path), page) {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let path = self.staging.join(&page.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        write_parts(&path, &page.parts)
            .with_context(|| format!("cannot write {}", path.display()))?;
        lock(&self.changed).push(page.path.clone());
        Ok(())
    }

    /// A file written piece by piece, then compared with the one already there.
    pub fn stream(&self, path: &str, produce: &mut dyn FnMut(Put) -> Result<()>) -> Result<()> {
        use std::io::Write as _;
        if !lock(&self.seen).insert(path.to_owned()) {
            bail!("two pages were rendered at {path}");
        }
        let staged = self.staging.join(path);
        if let Some(parent) = staged.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let cannot = || format!("cannot write {}", staged.display());
        let mut file = std::io::BufWriter::with_capacity(
            1 << 16,
            fs::File::create(&staged).with_context(cannot)?,
        );
        produce(&mut |piece| file.write_all(piece).with_context(cannot))?;
        file.flush().with_context(cannot)?;
        drop(file);
        if self.updating && same_file(&self.out.join(path), &staged) {
            fs::remove_file(&staged)
                .with_context(|| format!("cannot remove {}", staged.display()))?;
            self.unchanged.fetch_add(1, Ordering::Relaxed);
        } else {
            lock(&self.changed).push(path.to_owned());
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<Written> {
        self.finished = true;
        let result = if self.updating {
            self.move_changed_in()
        } else {
            self.swap_in()
        };
        if result.is_err() && self.staging.exists() {
            let _ = fs::remove_dir_all(&self.staging);
        }
        result
    }

    fn swap_in(&self) -> Result<Written> {
        fs::write(
            self.staging.join(MARKER),
            "This folder is generated by `debrief build`, which updates it on every build.\n",
        )
        .with_context(|| format!("cannot write {}", self.staging.join(MARKER).display()))?;
        let pid = std::process::id();
        let name = self
            .out
            .file_name()
            .context("the output folder has no name")?
            .to_string_lossy()
            .into_owned();
        let old = self.staging.with_file_name(format!(".{name}.old-{pid}"));
        swap(&self.staging, &self.out, &old)?;
        Ok(Written {
            written: lock(&self.changed).len(),
            ..Written::default()
        })
    }

    fn move_changed_in(&self) -> Result<Written> {
        let out = &self.out;
        let changed = lock(&self.changed).clone();
        for rel in &changed {
            let target = out.join(rel);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            if target.is_dir() {
                fs::remove_dir_all(&target)
                    .with_context(|| format!("cannot replace {}", target.display()))?;
            }
            fs::rename(self.staging.join(rel), &target)
                .with_context(|| format!("cannot move {} into place", target.display()))?;
        }
        fs::remove_dir_all(&self.staging)
            .with_context(|| format!("cannot remove {}", self.staging.display()))?;
        let keep = lock(&self.seen);
        let mut removed = 0;
        let mut folders = Vec::new();
        for entry in walkdir::WalkDir::new(out).min_depth(1).contents_first(true) {
            let entry = entry.with_context(|| format!("cannot list {}", out.display()))?;
            let rel = crate::content::relative_name(out, entry.path());
            if entry.file_type().is_dir() {
                folders.push(entry.path().to_path_buf());
            } else if rel != MARKER && !keep.contains(rel.as_str()) {
                fs::remove_file(entry.path())
                    .with_context(|| format!("cannot remove {}", entry.path().display()))?;
                removed += 1;
            }
        }
        for folder in folders {
            // Only empty folders go; `remove_dir` refuses the others.
            let _ = fs::remove_dir(folder);
        }
        Ok(Written {
            written: changed.len(),
            unchanged: self.unchanged.load(Ordering::Relaxed),
            removed,
        })
    }
}

impl Drop for SiteWriter {
    fn drop(&mut self) {
        if !self.finished && self.staging.exists() {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_parts(path: &Path, parts: &[Vec<u8>]) -> std::io::Result<()> {
    use std::io::Write as _;
    if let [bytes] = parts {
        return fs::write(path, bytes);
    }
    let mut file = std::io::BufWriter::with_capacity(1 << 16, fs::File::create(path)?);
    for part in parts {
        file.write_all(part)?;
    }
    file.flush()
}

/// Whether two files hold the same bytes, read a block at a time.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::io::Read as _;
    let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) else {
        return false;
    };
    if !ma.is_file() || ma.len() != mb.len() {
        return false;
    }
    let (Ok(fa), Ok(fb)) = (fs::File::open(a), fs::File::open(b)) else {
        return false;
    };
    let (mut ra, mut rb) = (
        std::io::BufReader::with_capacity(1 << 16, fa),
        std::io::BufReader::with_capacity(1 << 16, fb),
    );
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let Ok(na) = ra.read(&mut ba) else {
            return false;
        };
        if na == 0 {
            return true;
        }
        if rb.read_exact(&mut bb[..na]).is_err() || ba[..na] != bb[..na] {
            return false;
        }
    }
}

/// Whether the file at `path` already holds exactly the page. Same length first: most
/// changed pages differ in size, and then reading is skipped.
fn same_bytes(path: &Path, page: &Page) -> bool {
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() == page.len() as u64 => {
            fs::read(path).is_ok_and(|old| {
                let mut rest = old.as_slice();
                page.parts
                    .iter()
                    .all(|part| match rest.split_at_checked(part.len()) {
                        Some((head, tail)) if head == part.as_slice() => {
                            rest = tail;
                            true
                        }
                        _ => false,
                    })
            })
        }
        _ => false,
    }
}

/// The sink of [`write_site`]: whole pages go to the writer threads; files produced piece by
/// piece are written by the producing thread itself, in order.
struct ToWriters<'a> {
    writer: &'a SiteWriter,
    sender: &'a std::sync::mpsc::SyncSender<Page>,
    failed: &'a std::sync::atomic::AtomicBool,
}

impl Sink for ToWriters<'_> {
    fn page(&self, page: Page) -> Result<()> {
        if self.failed.load(Ordering::Relaxed) {
            bail!("the site writer stopped");
        }
        self.sender
            .send(page)
            .map_err(|_| anyhow::anyhow!("the site writer stopped"))
    }

    fn stream(&self, path: &str, produce: &mut dyn FnMut(Put) -> Result<()>) -> Result<()> {
        if self.failed.load(Ordering::Relaxed) {
            bail!("the site writer stopped");
        }
        self.writer.stream(path, produce)
    }
}

/// Threads that write pages while the renderer goes on: creating thousands of files is
/// mostly waiting on the file system, which rendering threads should not do.
const WRITER_THREADS: usize = 2;

/// Writes the pages `produce` hands to its sink into `out`, on writer threads of their own,
/// and then puts the site in place. Rendering and writing overlap; at most a few pages
/// wait in between, so memory does not grow with the site.
pub fn write_site(out: &Path, produce: impl FnOnce(&dyn Sink) -> Result<()>) -> Result<Written> {
    let writer = SiteWriter::begin(out)?;
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Page>(WRITER_THREADS * 2);
    let receiver = Mutex::new(receiver);
    let failed = std::sync::atomic::AtomicBool::new(false);
    let (produced, wrote) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..WRITER_THREADS)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    let mut error = None;
                    // The lock is held only while waiting for the next page. After an
                    // error, pages are still taken (and dropped) so the renderer never
                    // waits on a full channel; it stops at its next page.
                    while let Ok(page) = lock(&receiver).recv() {
                        if error.is_none() {
                            if let Err(e) = writer.put(&page) {
                                failed.store(true, Ordering::Relaxed);
                                error = Some(e);
                            }
                        }
                    }
                    error.map_or(Ok(()), Err)
                })
            })
            .collect();
        let sink = ToWriters {
            writer: &writer,
            sender: &sender,
            failed: &failed,
        };
        let produced = produce(&sink);
        drop(sender);
        let wrote = workers.into_iter().try_for_each(|worker| {
            worker
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("a site writer thread failed")))
        });
        (produced, wrote)
    });
    // A write error is the cause when both failed (the renderer then only saw the writer
    // stop).
    wrote?;
    produced?;
    writer.finish()
}

fn swap(tmp: &Path, out: &Path, old: &Path) -> Result<()> {
    if out.exists() {
        fs::rename(out, old)
            .with_context(|| format!("cannot move the previous site {} aside", out.display()))?;
        if let Err(e) = fs::rename(tmp, out) {
            let _ = fs::rename(old, out);
            return Err(e)
                .with_context(|| format!("cannot move the new site into {}", out.display()));
        }
        fs::remove_dir_all(old)
            .with_context(|| format!("cannot remove the previous site at {}", old.display()))?;
    } else {
        fs::rename(tmp, out)
            .with_context(|| format!("cannot move the new site into {}", out.display()))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn page(path: &str, text: &str) -> Page {
        Page::new(path, text.as_bytes().to_vec())
    }

    fn siblings(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn a_first_build_appears_whole_and_a_rebuild_writes_only_changes() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let first = write_site(&out, |sink| {
            (0..100).try_for_each(|i| sink.page(page(&format!("p/{i}/index.html"), "one")))
        })
        .unwrap();
        assert_eq!(first.written, 100);
        assert_eq!(siblings(dir.path()), ["public"]);
        let again = write_site(&out, |sink| {
            (0..99).try_for_each(|i| {
                sink.page(page(
                    &format!("p/{i}/index.html"),
                    if i == 7 { "two" } else { "one" },
                ))
            })
        })
        .unwrap();
        assert_eq!(
            again,
            Written {
                written: 1,
                unchanged: 98,
                removed: 1
            }
        );
        assert_eq!(
            fs::read_to_string(out.join("p/7/index.html")).unwrap(),
            "two"
        );
        assert!(!out.join("p/99").exists());
        assert_eq!(siblings(&out), [MARKER, "p"]);
    }

    #[test]
    fn a_page_in_parts_is_written_whole_and_compared_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let parts = |pieces: &[&str]| Page {
            path: "data.json".into(),
            parts: pieces.iter().map(|p| p.as_bytes().to_vec()).collect(),
        };
        write_site(&out, |sink| sink.page(parts(&["[", "1,", "2", "]"]))).unwrap();
        assert_eq!(fs::read_to_string(out.join("data.json")).unwrap(), "[1,2]");
        let same = write_site(&out, |sink| sink.page(parts(&["[1", ",2]"]))).unwrap();
        assert_eq!(same.unchanged, 1);
        let changed = write_site(&out, |sink| sink.page(parts(&["[1", ",3]"]))).unwrap();
        assert_eq!(changed.written, 1);
        assert_eq!(fs::read_to_string(out.join("data.json")).unwrap(), "[1,3]");
    }

    #[test]
    fn a_streamed_file_is_written_in_order_and_compared_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let big = |last: u8| {
            move |sink: &dyn Sink| {
                sink.stream("exports/data.json", &mut |put| {
                    for i in 0..100_000u32 {
                        put(&i.to_le_bytes())?;
                    }
                    put(&[last])
                })
            }
        };
        assert_eq!(write_site(&out, big(1)).unwrap().written, 1);
        let written = fs::read(out.join("exports/data.json")).unwrap();
        assert_eq!(written.len(), 400_001);
        assert_eq!(&written[4..8], &1u32.to_le_bytes());
        assert_eq!(write_site(&out, big(1)).unwrap().unchanged, 1);
        assert_eq!(write_site(&out, big(2)).unwrap().written, 1);
        assert_eq!(fs::read(out.join("exports/data.json")).unwrap()[400_000], 2);
        assert_eq!(siblings(&out), [MARKER, "exports"]);
    }

    #[test]
    fn a_failure_while_producing_or_writing_leaves_the_previous_site_and_no_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        write_site(&out, |sink| sink.page(page("index.html", "old"))).unwrap();
        let failed = write_site(&out, |sink| {
            sink.page(page("index.html", "new"))?;
            anyhow::bail!("template broke")
        });
        assert!(failed.is_err());
        // Two pages at one path: the writer fails, and the producer is stopped.
        let duplicate = write_site(&out, |sink| {
            (0..1000).try_for_each(|_| sink.page(page("same.html", "x")))
        });
        let message = format!("{:#}", duplicate.unwrap_err());
        assert!(message.contains("same.html"), "{message}");
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "old");
        assert_eq!(siblings(&out), [MARKER, "index.html"]);
        assert_eq!(siblings(dir.path()), ["public"]);

        let fresh = dir.path().join("fresh");
        assert!(write_site(&fresh, |_| anyhow::bail!("nothing")).is_err());
        assert_eq!(siblings(dir.path()), ["public"]);
    }
}
