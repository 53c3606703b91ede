//! The git history of a corpus, written with `git fast-import` in one stream: the content
//! in a few initial commits, then every review, sign-off and action-item closure as its
//! own commit (with the exact trailers `debrief review`, `debrief approve` and
//! `debrief actions close` write), interleaved with small `notes/` commits up to the
//! requested total. Dates are fixed and strictly increasing.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use chrono::{NaiveDateTime, TimeDelta};

use super::pools;
use super::postmortem::{ItemStatus, Postmortem};
use super::rng::Rng;
use super::roster::Roster;

const GITIGNORE: &str = "/public/\n";

enum Kind {
    Review { pm: usize, person: usize },
    Signoff { pm: usize },
    Close { pm: usize, item: usize },
    Note,
}

struct Event {
    time: i64,
    kind: Kind,
}

/// What [`write`] made.
pub struct Summary {
    pub commits: usize,
    pub approvals: usize,
    pub closures: usize,
    pub notes: usize,
}

fn unix(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp()
}

/// Files in a postmortem corpus, in commit order: (path, bytes).
pub struct Files<'a> {
    pub config: &'a str,
    pub postmortems: &'a [Postmortem],
    pub digests: &'a [String],
}

pub fn write(
    dir: &Path,
    rng: &mut Rng,
    roster: &Roster,
    files: &Files,
    commits: Option<usize>,
    seed: u64,
) -> Result<Summary> {
    let pms = files.postmortems;
    let mut events = Vec::new();
    for (i, pm) in pms.iter().enumerate() {
        if pm.status.approved() {
            // Reviews a few days after resolution, during working hours, then the sign-off.
            let mut t = unix(pm.resolved) + rng.range(1, 10) * 86_400 + rng.range(0, 8 * 3600);
            let mut order = pm.responders.clone();
            rng.shuffle(&mut order);
            for person in order {
                events.push(Event {
                    time: t,
                    kind: Kind::Review { pm: i, person },
                });
                t += rng.range(600, 36_000);
            }
            events.push(Event {
                time: t + rng.range(1800, 240_000),
                kind: Kind::Signoff { pm: i },
            });
        }
        for (k, item) in pm.items.iter().enumerate() {
            let (Some(day), true) = (item.closed_at, item.status != ItemStatus::Open) else {
                continue;
            };
            // Most closures go through `debrief actions close`; the rest were edits by
            // hand, which debrief finds in file history.
            if rng.chance(0.7) {
                let start = unix(day.and_time(chrono::NaiveTime::MIN));
                events.push(Event {
                    time: start + rng.range(7 * 3600, 17 * 3600),
                    kind: Kind::Close { pm: i, item: k },
                });
            }
        }
    }
    let first = pms
        .iter()
        .map(|p| unix(p.resolved))
        .min()
        .unwrap_or(1_546_300_800);
    let last = events.iter().map(|e| e.time).max().unwrap_or(first);
    let batches = pms.len().div_ceil(2500).max(1);
    let required = 1 + batches + events.len();
    let target = commits.unwrap_or(required);
    if target < required {
        eprintln!(
            "gen-corpus: --commits {target} is fewer than the {required} commits the approvals need; writing {required}"
        );
    }
    let notes = target.saturating_sub(required);
    let span = (last - first).max(1);
    for n in 0..notes {
        let time = first + (span as i128 * n as i128 / notes.max(1) as i128) as i64;
        events.push(Event {
            time: time + rng.range(0, 3600),
            kind: Kind::Note,
        });
    }
    events.sort_by_key(|e| e.time);

    let status = Command::new("git")
        .args(["init", "-q", "-b", "main"])
        .arg(dir)
        .status()
        .context("cannot run `git init` (is git installed?)")?;
    if !status.success() {
        bail!("git init {} failed", dir.display());
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet", "--done"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .spawn()
        .context("cannot run `git fast-import`")?;
    let stdin = child.stdin.take().context("no stdin for git fast-import")?;
    let mut out = BufWriter::with_capacity(1 << 20, stdin);

    let ident = |p: usize| {
        let person = &roster.people[p];
        format!("{} <{}>", person.name, person.emails[0])
    };
    let mut clock = first - 86_400 * 2;
    let mut commit = |out: &mut BufWriter<_>, who: &str, time: i64, message: &str| -> Result<()> {
        clock = clock.max(time - 1) + 1;
        write!(
            out,
            "commit refs/heads/main\nauthor {who} {clock} +0000\ncommitter {who} {clock} +0000\ndata {}\n{message}\n",
            message.len()
        )?;
        Ok(())
    };
    let blob = |out: &mut BufWriter<_>, path: &str, bytes: &[u8]| -> Result<()> {
        write!(out, "M 100644 inline {path}\ndata {}\n", bytes.len())?;
        out.write_all(bytes)?;
        out.write_all(b"\n")?;
        Ok(())
    };

    let lead = ident(roster.tech_leads[0]);
    commit(
        &mut out,
        &lead,
        first - 86_400 * 2,
        "Set up the postmortem repository\n",
    )?;
    blob(&mut out, "debrief.toml", files.config.as_bytes())?;
    blob(&mut out, ".gitignore", GITIGNORE.as_bytes())?;
    let per = pms.len().div_ceil(batches).max(1);
    for (b, chunk) in pms.chunks(per).enumerate() {
        let message = format!(
            "Import postmortems ({} of {batches})\n\nGenerated benchmark corpus, seed {seed}.\n",
            b + 1
        );
        commit(&mut out, &lead, first - 86_400, &message)?;
        for pm in chunk {
            blob(
                &mut out,
                &format!("content/{}.md", pm.id),
                pm.text.as_bytes(),
            )?;
        }
    }
    let (mut approvals, mut closures, mut note_count) = (0, 0, 0);
    for event in &events {
        match event.kind {
            Kind::Review { pm, person } => {
                let id = &pms[pm].id;
                let message = format!(
                    "Review postmortem {id}\n\nPostmortem-Review: {id} {}\n",
                    files.digests[pm]
                );
                commit(&mut out, &ident(person), event.time, &message)?;
                approvals += 1;
            }
            Kind::Signoff { pm } => {
                let id = &pms[pm].id;
                let message = format!(
                    "Sign off postmortem {id}\n\nPostmortem-Signoff: {id} {}\n",
                    files.digests[pm]
                );
                commit(&mut out, &ident(pms[pm].tech_lead), event.time, &message)?;
                approvals += 1;
            }
            Kind::Close { pm, item } => {
                let id = &pms[pm].id;
                let item = &pms[pm].items[item].id;
                let message =
                    format!("Close action item {id}/{item}\n\nAction-Closed: {id}/{item}\n");
                commit(&mut out, &ident(pms[pm].owner), event.time, &message)?;
                closures += 1;
            }
            Kind::Note => {
                note_count += 1;
                let person = rng.below(roster.people.len());
                let when = NaiveDateTime::default() + TimeDelta::seconds(event.time);
                let week = when.format("%G-W%V").to_string();
                let mut message = format!("{} {week}\n", rng.pick(pools::NOTE_SUBJECTS));
                if rng.chance(0.3) {
                    message.push_str(
                        "\nKeeps the handover short; details are in the linked tickets.\n",
                    );
                }
                if rng.chance(0.1) {
                    let other = rng.below(roster.people.len());
                    message.push_str(&format!("\nCo-authored-by: {}\n", ident(other)));
                }
                commit(&mut out, &ident(person), event.time, &message)?;
                let text = format!(
                    "# On-call notes {week}\n\n- handover by {}\n- entry {note_count}: {}\n",
                    roster.people[person].handle,
                    rng.pick(pools::SENTENCES)
                );
                blob(
                    &mut out,
                    &format!("notes/{}.md", &week[..4]),
                    text.as_bytes(),
                )?;
            }
        }
    }
    out.write_all(b"done\n")?;
    out.flush()?;
    drop(out);
    let status = child.wait().context("git fast-import did not finish")?;
    if !status.success() {
        bail!("git fast-import failed in {}", dir.display());
    }
    let ignore = dir.join(".gitignore");
    std::fs::write(&ignore, GITIGNORE)
        .with_context(|| format!("cannot write {}", ignore.display()))?;
    // The files are already in the work tree: make the index match HEAD.
    let status = Command::new("git")
        .args(["reset", "-q"])
        .current_dir(dir)
        .status()
        .context("cannot run `git reset`")?;
    if !status.success() {
        bail!("git reset failed in {}", dir.display());
    }
    Ok(Summary {
        commits: 1 + batches + events.len(),
        approvals,
        closures,
        notes: note_count,
    })
}
