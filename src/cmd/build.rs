//! `debrief build`: validate, then render the site and swap it into place.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;

use super::check::{checked, Checked};
use super::{Outcome, Workspace};
use crate::diagnostic::{Counts, Level};
use crate::model::Status;
use crate::render::{self, SiteInput};
use crate::report::{self, Summary};
use crate::{output, render::Page};

pub struct BuildOptions {
    pub output: Option<PathBuf>,
    pub drafts: bool,
    pub base_url: Option<String>,
    pub today: Option<NaiveDate>,
    pub trust_ref: Option<String>,
    pub color: bool,
}

/// The rendered site and what was found on the way, for `build` and `serve`.
pub struct Built {
    pub pages: Vec<Page>,
    pub published: usize,
    pub checked: Checked,
    /// Errors in postmortems that would be published: the build must not go out.
    pub blocking: usize,
}

pub fn render_site(
    ws: &Workspace,
    drafts: bool,
    base_url: Option<&str>,
    today: NaiveDate,
    trust_ref: Option<&str>,
) -> Result<Built> {
    let checked = checked(ws, today, trust_ref, true)?;
    let published: Vec<&crate::model::Postmortem> = checked
        .loaded
        .postmortems
        .iter()
        .filter(|p| drafts || p.status() >= Status::Published)
        .collect();
    let files: std::collections::HashSet<&str> =
        published.iter().map(|p| p.file.as_str()).collect();
    let loaded_files: std::collections::HashSet<&str> = checked
        .loaded
        .postmortems
        .iter()
        .map(|p| p.file.as_str())
        .collect();
    // A file that does not even load might be a published postmortem: it blocks too.
    let blocking = checked
        .diagnostics
        .iter()
        .filter(|d| {
            d.level == Level::Error
                && (files.contains(d.file.as_str())
                    || (d.rule == "front-matter-invalid"
                        && !loaded_files.contains(d.file.as_str())))
        })
        .count();
    let base_url = base_url.map_or_else(|| ws.config.site.base_url.clone(), str::to_owned);
    let pages = if blocking == 0 {
        ws.timings.time("render", || {
            render::render(&SiteInput {
                config: &ws.config,
                postmortems: published.clone(),
                history: &checked.history,
                trust: &checked.trust,
                closures: &checked.closures,
                today,
                base_url,
                only: None,
                inject: None,
            })
        })?
    } else {
        Vec::new()
    };
    Ok(Built {
        pages,
        published: published.len(),
        blocking,
        checked,
    })
}

pub fn run(ws: &Workspace, opts: &BuildOptions) -> Result<Outcome> {
    let today = ws.today(opts.today);
    let out = opts
        .output
        .as_ref()
        .map_or_else(|| ws.config.root.join("public"), |o| ws.cwd.join(o));
    output::check_target(&out, &ws.config.root, &ws.config.content_dir())?;
    let mut built = render_site(
        ws,
        opts.drafts,
        opts.base_url.as_deref(),
        today,
        opts.trust_ref.as_deref(),
    )?;
    let mut found = std::mem::take(&mut built.checked.diagnostics);
    for d in &mut found {
        d.file = ws.display(&d.file);
    }
    let counts = Counts::of(&found);
    if !found.is_empty() {
        let summary = Summary {
            checked: built.checked.loaded.files.len(),
            counts,
        };
        let text = report::human(&found, &summary, opts.color);
        std::io::stderr()
            .write_all(text.as_bytes())
            .context("cannot write diagnostics")?;
    }
    if built.blocking > 0 {
        eprintln!(
            "error: not building: {} error(s) in postmortems that would be published; {} was left as it was",
            built.blocking,
            out.display()
        );
        return Ok(Outcome::Findings);
    }
    let written = ws
        .timings
        .time("write", || output::write_site(&out, &built.pages))?;
    ws.timings.finish();
    let shown = out.strip_prefix(&ws.cwd).unwrap_or(&out);
    println!(
        "built {} postmortem(s) into {}: {} file(s) written, {} unchanged, {} removed",
        built.published,
        shown.display(),
        written.written,
        written.unchanged,
        written.removed
    );
    Ok(Outcome::Clean)
}
