//! Action items after publication (workflow step 8): when git recorded each closure, and
//! closing an item by editing only its own lines.

use std::collections::HashMap;

use anyhow::{bail, Result};
use chrono::{DateTime, FixedOffset, NaiveDate};
use rayon::prelude::*;

use crate::approvals::History;
use crate::content::{self, ContentPath};
use crate::git::Repo;
use crate::model::{ItemStatus, Postmortem};
use crate::tree::{Node, Value};

/// The commit that recorded an item as done or won't fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub commit: String,
    pub time: DateTime<FixedOffset>,
    /// Found through an `Action-Closed` trailer rather than by reading file history.
    pub by_trailer: bool,
}

pub type Closures = HashMap<(String, String), Recorded>;

/// One file to follow through history: its versions oldest first (change index, blob,
/// path), the blob of the work-tree file, and the (postmortem, item) pairs to find.
/// (postmortem id, item id).
type ItemKey<'a> = (&'a str, &'a str);

struct Job<'a> {
    versions: Vec<(usize, &'a str, &'a str)>,
    current_blob: &'a str,
    pending: Vec<(&'a str, &'a str)>,
}

/// For every closed item: the `Action-Closed` trailer commit, or else the first commit in
/// which the file shows the item closed. File history is read only for items without a
/// trailer, through one path-limited `git log` over the content folder.
pub fn recorded_closures(
    repo: &Repo,
    prefix: &str,
    content_dir: &str,
    postmortems: &[&Postmortem],
    history: &History,
    log: &mut ContentLog,
) -> Result<Closures> {
    let mut found = Closures::new();
    // path → (blob of the work-tree file, the (postmortem, item) pairs to find)
    let mut wanted: HashMap<String, (&str, Vec<ItemKey>)> = HashMap::new();
    for pm in postmortems {
        for item in pm.items().iter().filter(|i| i.status() != ItemStatus::Open) {
            let Some(id) = &item.id else { continue };
            let key = (pm.id.value.clone(), id.value.clone());
            match history.closures.get(&key) {
                Some((commit, time)) => {
                    found.insert(
                        key,
                        Recorded {
                            commit: commit.clone(),
                            time: *time,
                            by_trailer: true,
                        },
                    );
                }
                None => wanted
                    .entry(format!("{prefix}{}", pm.file))
                    .or_insert_with(|| (&pm.blob_id, Vec::new()))
                    .1
                    .push((&pm.id.value, &id.value)),
            }
        }
    }
    if wanted.is_empty() {
        return Ok(found);
    }
    // Read (unless it was read earlier) only now that some closure needs file history.
    let changes = log.get(repo, &format!("{prefix}{content_dir}"))?;
    // path → the changes that touched it (oldest first), with where renamed files came
    // from, so following one file's history does not scan every change (linear, not
    // quadratic).
    let mut touched: HashMap<&str, Vec<(usize, &crate::git::Touched)>> = HashMap::new();
    for (index, change) in changes.iter().enumerate() {
        for file in &change.files {
            touched
                .entry(file.path.as_str())
                .or_default()
                .push((index, file));
        }
    }
    // Each file's history under every name it had (renames followed), oldest first.
    let mut jobs: Vec<Job> = Vec::new();
    for (path, (current_blob, pending)) in &wanted {
        let mut name: &str = path;
        let mut before = usize::MAX;
        let mut versions = Vec::new();
        // Follow the name back through renames: each rename hands over to the older name.
        'names: while let Some(list) = touched.get(name) {
            for &(index, file) in list.iter().rev().filter(|(i, _)| *i < before) {
                versions.push((index, file.blob.as_str(), file.path.as_str()));
                if let Some(old) = &file.renamed_from {
                    name = old;
                    before = index;
                    continue 'names;
                }
            }
            break;
        }
        versions.reverse();
        jobs.push(Job {
            versions,
            current_blob,
            pending: pending.clone(),
        });
    }
    // Each file is followed from its first version until every item shows closed. A
    // version whose blob is the work-tree file itself needs no reading: the items are
    // closed there. Others are read by blob id (no tree lookups), in parallel, one
    // repository handle per worker (libgit2 handles must not be shared between threads,
    // and each keeps a cache of delta bases worth reusing).
    let git_dir = repo.git_dir().to_path_buf();
    let workers = rayon::current_num_threads().max(1);
    let per_worker = jobs.len().div_ceil(workers).max(1);
    let results: Vec<Vec<((String, String), usize)>> = jobs
        .par_chunks(per_worker)
        .map(|chunk| {
            let handle = Repo::open(&git_dir).ok();
            chunk
                .iter()
                .flat_map(|job| follow(handle.as_ref(), job))
                .collect()
        })
        .collect();
    for (key, index) in results.into_iter().flatten() {
        found.insert(
            key,
            Recorded {
                commit: changes[index].commit.clone(),
                time: changes[index].time,
                by_trailer: false,
            },
        );
    }
    Ok(found)
}

/// The history of the content folder, read once when a closure first needs it (or early,
/// on a thread of its own, while files load) and kept while HEAD stays where it is.
#[derive(Default)]
pub struct ContentLog(Option<Result<Vec<crate::git::Change>>>);

impl ContentLog {
    pub fn prefetched(changes: Result<Vec<crate::git::Change>>) -> ContentLog {
        ContentLog(Some(changes))
    }

    fn get(&mut self, repo: &Repo, dir: &str) -> Result<&[crate::git::Change]> {
        // A failed early read is tried again here, where its error can be reported.
        if !matches!(self.0, Some(Ok(_))) {
            self.0 = Some(content_changes(repo, dir));
        }
        match &self.0 {
            Some(Ok(changes)) => Ok(changes),
            Some(Err(e)) => Err(anyhow::anyhow!("{e:#}")),
            None => Ok(&[]),
        }
    }
}

/// The commits that changed the content folder `dir` (root-relative), oldest first.
pub fn content_changes(repo: &Repo, dir: &str) -> Result<Vec<crate::git::Change>> {
    // The cache never changes a result (tests compare both); DEBRIEF_NO_CACHE=1 skips it.
    if std::env::var_os("DEBRIEF_NO_CACHE").is_some_and(|v| !v.is_empty()) {
        repo.changes_under(dir)
    } else {
        repo.changes_under_cached(dir)
    }
}

/// The first version of one file that shows each pending item closed: (item, change index).
fn follow(handle: Option<&Repo>, job: &Job) -> Vec<((String, String), usize)> {
    let mut pending = job.pending.clone();
    let mut out = Vec::new();
    for &(index, blob, path) in &job.versions {
        if pending.is_empty() {
            break;
        }
        let closed: Vec<(&str, &str)> = if !job.current_blob.is_empty() && blob == job.current_blob
        {
            pending.clone()
        } else {
            match handle.and_then(|h| h.read_blob(blob)) {
                Some(bytes) => closed_items(path, bytes, &pending),
                None => Vec::new(),
            }
        };
        pending.retain(|p| !closed.contains(p));
        out.extend(
            closed
                .into_iter()
                .map(|(pm, item)| ((pm.to_owned(), item.to_owned()), index)),
        );
    }
    out
}

/// Which of `pending` the file version `bytes` shows as closed.
fn closed_items<'a>(
    path: &str,
    bytes: Vec<u8>,
    pending: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let path = ContentPath {
        rel: path.to_owned(),
        abs: path.into(),
    };
    let Ok(file) = content::parse_bytes(path, bytes) else {
        return Vec::new();
    };
    pending
        .iter()
        .filter(|(_, item)| item_closed_in(&file.front_matter, item))
        .copied()
        .collect()
}

fn item_closed_in(front_matter: &Node, item_id: &str) -> bool {
    let Some(Value::Seq(items)) = front_matter.get("action_items").map(|n| &n.value) else {
        return false;
    };
    items.iter().any(|item| {
        let text = |key: &str| item.get(key).and_then(Node::scalar_text);
        text("id").as_deref() == Some(item_id)
            && matches!(text("status").as_deref(), Some("done" | "wontfix"))
    })
}

/// How to close an item.
pub struct Closing<'a> {
    pub date: NaiveDate,
    pub ticket: Option<&'a str>,
    pub wontfix: Option<&'a str>,
}

/// Rewrites only the lines of one action item (status, closed_at, ticket, reason). Block
/// style only: a flow-style item (`- {id: AI-1, …}`) is refused rather than reformatted.
pub fn close_item_text(text: &str, item_line: u32, closing: &Closing) -> Result<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = item_line as usize - 1;
    let Some(first) = lines.get(start) else {
        bail!("line {item_line} does not exist");
    };
    let dash = first.len() - first.trim_start().len();
    let body = first.trim_start();
    let Some(after_dash) = body.strip_prefix("- ").or_else(|| body.strip_prefix('-')) else {
        bail!("line {item_line} does not start an action item (`- id: …`); edit this item by hand");
    };
    if after_dash.trim_start().starts_with('{') {
        bail!("this action item is written in flow style (`- {{…}}`); edit it by hand");
    }
    let key_indent = dash + (body.len() - after_dash.trim_start().len());
    // The item runs until a line indented at or left of its dash.
    let mut end = start + 1;
    while end < lines.len() {
        let line = lines[end];
        let trimmed = line.trim_start();
        if !trimmed.trim().is_empty()
            && !trimmed.starts_with('#')
            && line.len() - trimmed.len() <= dash
        {
            break;
        }
        end += 1;
    }
    // Blank lines and comments after the last key belong to what follows.
    while end > start + 1
        && (lines[end - 1].trim().is_empty() || lines[end - 1].trim_start().starts_with('#'))
    {
        end -= 1;
    }
    let newline = if first.ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut block: Vec<String> = lines[start..end].iter().map(|l| (*l).to_owned()).collect();
    if !block.last().is_some_and(|l| l.ends_with('\n')) {
        if let Some(last) = block.last_mut() {
            last.push_str(newline);
        }
    }
    let status = if closing.wontfix.is_some() {
        "wontfix"
    } else {
        "done"
    };
    let quote = |s: &str| {
        serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.replace('"', "'")))
    };
    let mut fields = vec![
        ("status", status.to_owned()),
        ("closed_at", closing.date.to_string()),
    ];
    if let Some(ticket) = closing.ticket {
        fields.push(("ticket", ticket.to_owned()));
    }
    if let Some(reason) = closing.wontfix {
        fields.push(("reason", quote(reason)));
    }
    for (key, value) in fields {
        set_key(&mut block, key_indent, key, &value, newline);
    }
    let mut out = String::with_capacity(text.len() + 64);
    out.extend(lines[..start].iter().copied());
    out.extend(block.iter().map(String::as_str));
    out.extend(lines[end..].iter().copied());
    Ok(out)
}

/// Sets `key: value` in an item block: replaces the line (and any continuation lines of a
/// multi-line value) or appends it at the end.
fn set_key(block: &mut Vec<String>, indent: usize, key: &str, value: &str, newline: &str) {
    let prefix_of = |i: usize, line: &str| -> Option<usize> {
        // The first line carries the dash: its key starts at `indent` as well.
        let column = if i == 0 {
            indent
        } else {
            line.len() - line.trim_start().len()
        };
        let rest = line.get(column..)?;
        (column == indent && rest.starts_with(key) && rest[key.len()..].starts_with(':'))
            .then_some(column)
    };
    let found = block
        .iter()
        .enumerate()
        .find_map(|(i, line)| prefix_of(i, line).map(|c| (i, c)));
    match found {
        Some((i, column)) => {
            let head = block[i][..column].to_owned();
            block[i] = format!("{head}{key}: {value}{newline}");
            let j = i + 1;
            while j < block.len() {
                let line = &block[j];
                let depth = line.len() - line.trim_start().len();
                if line.trim().is_empty() || depth > indent {
                    block.remove(j);
                } else {
                    break;
                }
            }
        }
        None => block.push(format!("{}{key}: {value}{newline}", " ".repeat(indent))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closing(date: &str) -> Closing<'static> {
        Closing {
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap_or_default(),
            ticket: None,
            wontfix: None,
        }
    }

    const TEXT: &str = "---\ntitle: x   # keep me\naction_items:\n  - id: AI-1\n    title: One\n    status: open\n  - id: AI-2\n    title: Two\n    due: 2026-01-01\n# a comment\nlinks: []\n---\nbody\n";

    #[test]
    fn closing_touches_only_that_items_lines() {
        let out = close_item_text(TEXT, 7, &closing("2026-02-03")).unwrap_or_default();
        assert_eq!(
            out,
            TEXT.replace(
                "    due: 2026-01-01\n",
                "    due: 2026-01-01\n    status: done\n    closed_at: 2026-02-03\n"
            )
        );
        let out = close_item_text(TEXT, 4, &closing("2026-02-03")).unwrap_or_default();
        assert_eq!(
            out,
            TEXT.replace(
                "    status: open\n",
                "    status: done\n    closed_at: 2026-02-03\n"
            )
        );
    }

    #[test]
    fn wontfix_quotes_the_reason_and_flow_style_is_refused() {
        let c = Closing {
            wontfix: Some("costs: too high"),
            ticket: Some("https://t.example/1"),
            ..closing("2026-02-03")
        };
        let out = close_item_text(TEXT, 4, &c).unwrap_or_default();
        assert!(out.contains("    status: wontfix\n    closed_at: 2026-02-03\n    ticket: https://t.example/1\n    reason: \"costs: too high\"\n"), "{out}");
        assert!(close_item_text(
            "---\naction_items:\n  - {id: AI-1}\n---\n",
            3,
            &closing("2026-02-03")
        )
        .is_err());
    }
}
