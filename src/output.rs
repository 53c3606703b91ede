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
use rayon::prelude::*;

use crate::render::Page;

/// Marks a folder as debrief output, so a later build may replace it.
pub const MARKER: &str = ".debrief-site";

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

/// Writes the site to `out`: whole into a fresh folder, or only the changes into an
/// existing debrief output.
pub fn write_site(out: &Path, pages: &[Page]) -> Result<Written> {
    let out = absolute(out)?;
    if out.join(MARKER).is_file() {
        return update(&out, pages);
    }
    let parent = out.parent().context("the output folder has no parent")?;
    let name = out
        .file_name()
        .context("the output folder has no name")?
        .to_string_lossy()
        .into_owned();
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.tmp-{pid}"));
    let old = parent.join(format!(".{name}.old-{pid}"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).with_context(|| format!("cannot remove {}", tmp.display()))?;
    }
    let result = write_all(&tmp, pages).and_then(|()| swap(&tmp, &out, &old));
    if result.is_err() && tmp.exists() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result.map(|()| Written {
        written: pages.len(),
        ..Written::default()
    })
}

/// A rebuild into an existing output: compare, stage the changed pages, then move them in.
fn update(out: &Path, pages: &[Page]) -> Result<Written> {
    let staging = out.join(format!(".debrief-staging-{}", std::process::id()));
    let changed: Vec<&Page> = pages
        .par_iter()
        .filter(|page| {
            let path = out.join(&page.path);
            // Same length first: most changed pages differ in size, and reading is skipped.
            match fs::metadata(&path) {
                Ok(meta) if meta.is_file() && meta.len() == page.bytes.len() as u64 => {
                    fs::read(&path).map_or(true, |old| old != page.bytes)
                }
                _ => true,
            }
        })
        .collect();
    let staged = write_all(
        &staging,
        &changed.iter().map(|p| (*p).clone()).collect::<Vec<_>>(),
    );
    if let Err(e) = staged {
        let _ = fs::remove_dir_all(&staging);
        return Err(e.context("the previous site was left as it was"));
    }
    for page in &changed {
        let target = out.join(&page.path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        if target.is_dir() {
            fs::remove_dir_all(&target)
                .with_context(|| format!("cannot replace {}", target.display()))?;
        }
        fs::rename(staging.join(&page.path), &target)
            .with_context(|| format!("cannot move {} into place", target.display()))?;
    }
    fs::remove_dir_all(&staging).with_context(|| format!("cannot remove {}", staging.display()))?;
    let keep: std::collections::HashSet<&str> = pages.iter().map(|p| p.path.as_str()).collect();
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
        unchanged: pages.len() - changed.len(),
        removed,
    })
}

fn write_all(dir: &Path, pages: &[Page]) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut folders: Vec<PathBuf> = pages
        .iter()
        .filter_map(|p| dir.join(&p.path).parent().map(Path::to_path_buf))
        .collect();
    folders.sort();
    folders.dedup();
    for folder in &folders {
        fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
    }
    pages.par_iter().try_for_each(|page| {
        let path = dir.join(&page.path);
        fs::write(&path, &page.bytes).with_context(|| format!("cannot write {}", path.display()))
    })?;
    fs::write(
        dir.join(MARKER),
        "This folder is generated by `debrief build`, which updates it on every build.\n",
    )
    .with_context(|| format!("cannot write {}", dir.join(MARKER).display()))
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
