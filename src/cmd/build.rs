//! `debrief build`: validate, then render the site and swap it into place.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;

use super::check::{checked, Checked};
use super::{Outcome, Workspace};
use crate::diagnostic::{Counts, Level};
use crate::model::Status;
use crate::output;
use crate::render::{self, SiteInput};
use crate::report::{self, Summary};

pub struct BuildOptions {
    pub output: Option<PathBuf>,
    pub drafts: bool,
    pub base_url: Option<String>,
    pub today: Option<NaiveDate>,
    pub trust_ref: Option<String>,
    pub color: bool,
}

pub fn run(ws: &Workspace, opts: &BuildOptions) -> Result<Outcome> {
    let today = ws.today(opts.today);
    let out = opts
        .output
        .as_ref()
        .map_or_else(|| ws.config.root.join("public"), |o| ws.cwd.join(o));
    output::check_target(&out, &ws.config.root, &ws.config.content_dir())?;
    let trust_ref = opts.trust_ref.as_deref();
    let mut checked = checked(ws, today, trust_ref, true)?;
    let published: Vec<&crate::model::Postmortem> = checked
        .loaded
        .postmortems
        .iter()
        .filter(|p| opts.drafts || p.status() >= Status::Published)
        .collect();
    let blocking = blocking_errors(&checked, &published);
    let mut found = std::mem::take(&mut checked.diagnostics);
    for d in &mut found {
        d.file = ws.display(&d.file);
    }
    if !found.is_empty() {
        let summary = Summary {
            checked: checked.loaded.files.len(),
            counts: Counts::of(&found),
        };
        let text = report::human(&found, &summary, opts.color);
        std::io::stderr()
            .write_all(text.as_bytes())
            .context("cannot write diagnostics")?;
    }
    if blocking > 0 {
        eprintln!(
            "error: not building: {blocking} error(s) in postmortems that would be published; {} was left as it was",
            out.display()
        );
        return Ok(Outcome::Findings);
    }
    let base_url = opts
        .base_url
        .clone()
        .unwrap_or_else(|| ws.config.site.base_url.clone());
    let input = SiteInput {
        config: &ws.config,
        postmortems: published.clone(),
        history: &checked.history,
        trust: &checked.trust,
        closures: &checked.closures,
        today,
        base_url,
        inject: None,
        memo: None,
    };
    // Pages are written as they are rendered: the site is never whole in memory.
    let written = ws.timings.time("render+write", || {
        output::write_site(&out, |sink| render::render(&input, sink))
    })?;
    ws.timings.finish();
    let published = published.len();
    // As in `check`: the process is about to exit, so nothing is freed one by one.
    std::mem::forget(input);
    std::mem::forget(checked);
    let shown = out.strip_prefix(&ws.cwd).unwrap_or(&out);
    println!(
        "built {} postmortem(s) into {}: {} file(s) written, {} unchanged, {} removed",
        published,
        shown.display(),
        written.written,
        written.unchanged,
        written.removed
    );
    Ok(Outcome::Clean)
}

/// Errors in postmortems that would be published: the site must not go out. A file that
/// does not even load might be a published postmortem, so it blocks too.
fn blocking_errors(checked: &Checked, published: &[&crate::model::Postmortem]) -> usize {
    let files: HashSet<&str> = published.iter().map(|p| p.file.as_str()).collect();
    let loaded_files: HashSet<&str> = checked
        .loaded
        .postmortems
        .iter()
        .map(|p| p.file.as_str())
        .collect();
    checked
        .diagnostics
        .iter()
        .filter(|d| {
            d.level == Level::Error
                && (files.contains(d.file.as_str())
                    || (d.rule == "front-matter-invalid"
                        && !loaded_files.contains(d.file.as_str())))
        })
        .count()
}
