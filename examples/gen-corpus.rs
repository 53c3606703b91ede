//! Generates a realistic corpus of postmortems for benchmarks (see docs/performance.md):
//!
//! ```text
//! cargo run --release --example gen-corpus -- --count 10000 --out DIR [--seed 1]
//!     [--commits 100000] [--no-git] [--hugo HUGODIR]
//! ```
//!
//! DIR gets a `debrief.toml` (about fifty people), `content/*.md` (4–8 KB each) and, unless
//! `--no-git`, a git repository whose history records a review by every responder and a
//! sign-off by the tech lead for each published or closed postmortem, with digests computed
//! by debrief itself, so `debrief check` finds no approval errors. `--commits N` pads the
//! history with small `notes/` commits to N commits in all. Everything is a function of
//! the seed: no wall clock, no OS randomness.

#[path = "gen_corpus/history.rs"]
mod history;
#[path = "gen_corpus/hugo.rs"]
mod hugo;
#[path = "gen_corpus/pools.rs"]
mod pools;
#[path = "gen_corpus/postmortem.rs"]
mod postmortem;
#[path = "gen_corpus/rng.rs"]
mod rng;
#[path = "gen_corpus/roster.rs"]
mod roster;

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use clap::Parser;
use rayon::prelude::*;

use debrief::content::{split, ContentPath};
use debrief::digest::content_digest;

/// Generate a benchmark corpus of postmortems.
#[derive(Parser)]
#[command(name = "gen-corpus")]
struct Args {
    /// How many postmortems.
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Folder to create (must not exist, or be empty).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the generator: the same seed gives the same corpus and history.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Total number of commits; the history is padded with `notes/` commits to reach it
    /// (default: only the commits the content and its approvals need).
    #[arg(long)]
    commits: Option<usize>,
    /// Write the files only, without a git repository (published postmortems then fail
    /// `debrief check` with signoff-missing).
    #[arg(long, conflicts_with = "commits")]
    no_git: bool,
    /// Also write the same content as a Hugo site into this folder.
    #[arg(long, value_name = "HUGODIR")]
    hugo: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    prepare(&args.out)?;
    if let Some(dir) = &args.hugo {
        prepare(dir)?;
    }
    let mut rng = rng::Rng::new(args.seed);
    let roster = roster::roster(50);
    let config = roster.config();

    // Incident start times: from 2019 to a week before "today", denser towards the end
    // (the company grew), sorted so that ids and `related` links follow time.
    let first = NaiveDate::from_ymd_opt(2019, 1, 1)
        .context("bad start date")?
        .and_time(chrono::NaiveTime::MIN);
    let last = postmortem::TODAY.and_time(chrono::NaiveTime::MIN) - TimeDelta::days(4);
    let span = (last - first).num_minutes();
    let mut times: Vec<NaiveDateTime> = (0..args.count)
        .map(|_| first + TimeDelta::minutes((rng.unit().sqrt() * span as f64) as i64))
        .collect();
    times.sort();

    let mut used = HashSet::new();
    let mut earlier = postmortem::Earlier::default();
    let postmortems: Vec<postmortem::Postmortem> = times
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let mut one = rng.fork(i as u64);
            postmortem::generate(&mut one, &roster, t, &mut used, &mut earlier)
        })
        .collect();

    fs::write(args.out.join("debrief.toml"), &config)
        .with_context(|| format!("cannot write {}", args.out.join("debrief.toml").display()))?;
    let content = args.out.join("content");
    fs::create_dir_all(&content).with_context(|| format!("cannot create {}", content.display()))?;
    // Digests exactly as debrief computes them, from the file text.
    let digests: Vec<String> = postmortems
        .par_iter()
        .map(|pm| -> Result<String> {
            let rel = format!("content/{}.md", pm.id);
            let abs = args.out.join(&rel);
            fs::write(&abs, &pm.text).with_context(|| format!("cannot write {}", abs.display()))?;
            let file = split(ContentPath { rel, abs }, pm.text.clone()).map_err(|p| {
                anyhow::anyhow!("generated {} does not parse: {}", pm.id, p.message)
            })?;
            Ok(content_digest(&file.front_matter, &file.body))
        })
        .collect::<Result<_>>()?;

    let bytes: usize = postmortems.iter().map(|p| p.text.len()).sum();
    let mut by_status = [0usize; 4];
    for pm in &postmortems {
        by_status[pm.status as usize] += 1;
    }
    eprintln!(
        "gen-corpus: {} postmortems ({:.1} MB, {:.1} KB average) in {}: {} draft, {} review, {} published, {} closed",
        postmortems.len(),
        bytes as f64 / 1e6,
        bytes as f64 / postmortems.len().max(1) as f64 / 1024.0,
        args.out.display(),
        by_status[0],
        by_status[1],
        by_status[2],
        by_status[3]
    );

    if !args.no_git {
        let files = history::Files {
            config: &config,
            postmortems: &postmortems,
            digests: &digests,
        };
        let mut hist_rng = rng.fork(u64::MAX);
        let summary = history::write(
            &args.out,
            &mut hist_rng,
            &roster,
            &files,
            args.commits,
            args.seed,
        )?;
        eprintln!(
            "gen-corpus: git history of {} commits ({} reviews and sign-offs, {} closures, {} notes)",
            summary.commits, summary.approvals, summary.closures, summary.notes
        );
    }
    if let Some(dir) = &args.hugo {
        hugo::write(dir, &postmortems)?;
        eprintln!("gen-corpus: Hugo site in {}", dir.display());
    }
    eprintln!(
        "gen-corpus: done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Creates `dir`, refusing one that holds anything: the generator never overwrites.
fn prepare(dir: &Path) -> Result<()> {
    if dir.exists() {
        let mut entries =
            fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty; the generator only writes into a new or empty folder",
                dir.display()
            );
        }
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}
