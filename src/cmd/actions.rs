//! `debrief actions`: every action item across postmortems, and `actions close`.

use std::fmt::Write as _;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;

use super::check::{checked, Checked};
use super::{Outcome, Workspace};
use crate::actions::{close_item_text, Closing};
use crate::model::{parse_duration, ItemStatus};
use crate::render::view::{self, ItemView};
use crate::schema::is_http_url;
use crate::tree::did_you_mean;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFilter {
    Open,
    Done,
    Wontfix,
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Csv,
    Ics,
    Markdown,
}

pub struct ListOptions {
    pub status: StatusFilter,
    pub overdue: bool,
    pub due_within: Option<String>,
    pub owner: Option<String>,
    pub service: Option<String>,
    pub severity: Option<String>,
    pub today: Option<NaiveDate>,
    pub format: ListFormat,
    pub fail_on_overdue: bool,
}

/// The selected items, overdue first (most overdue first), then by due date.
pub fn select(
    ws: &Workspace,
    checked: &Checked,
    opts: &ListOptions,
    today: NaiveDate,
) -> Result<Vec<ItemView>> {
    let within = match &opts.due_within {
        Some(text) => Some(
            parse_duration(text)
                .filter(|d| d.num_days() >= 0)
                .with_context(|| {
                    format!("`--due-within {text}` is not a duration; write e.g. 14d or 2w")
                })?,
        ),
        None => None,
    };
    let config = &ws.config;
    for (flag, value, known) in [
        (
            "--owner",
            &opts.owner,
            config.people.keys().cloned().collect::<Vec<_>>(),
        ),
        (
            "--severity",
            &opts.severity,
            config.workflow.severities.clone(),
        ),
    ] {
        if let Some(value) = value.as_ref().filter(|v| !known.contains(v)) {
            let hint = did_you_mean(value, known.iter().map(String::as_str))
                .map_or_else(String::new, |c| format!(" (did you mean `{c}`?)"));
            bail!("{flag} `{value}` is not known{hint}");
        }
    }
    if let Some(service) = &opts.service {
        let known: std::collections::BTreeSet<&str> = checked
            .loaded
            .postmortems
            .iter()
            .flat_map(|p| p.services.iter().map(|s| s.value.as_str()))
            .collect();
        if !known.contains(service.as_str()) {
            let hint = did_you_mean(service, known.iter().copied())
                .map_or_else(String::new, |c| format!(" (did you mean `{c}`?)"));
            bail!("no postmortem is about service `{service}`{hint}");
        }
    }
    let ctx = view::Context {
        config,
        tz: config.site.timezone,
        today,
        history: &checked.history,
        trust: &checked.trust,
        closures: &checked.closures,
    };
    let mut items: Vec<ItemView> = Vec::new();
    for pm in &checked.loaded.postmortems {
        if opts
            .service
            .as_ref()
            .is_some_and(|s| !pm.services.iter().any(|x| &x.value == s))
        {
            continue;
        }
        if opts
            .severity
            .as_ref()
            .is_some_and(|s| pm.severity.as_ref().is_none_or(|x| &x.value != s))
        {
            continue;
        }
        for item in pm.items() {
            let view = ctx.item(pm, item);
            let status_ok = match opts.status {
                StatusFilter::All => true,
                StatusFilter::Open => view.status == ItemStatus::Open,
                StatusFilter::Done => view.status == ItemStatus::Done,
                StatusFilter::Wontfix => view.status == ItemStatus::Wontfix,
            };
            let owner_ok = opts
                .owner
                .as_ref()
                .is_none_or(|o| view.owner.as_ref().is_some_and(|p| &p.handle == o));
            let overdue_ok = !opts.overdue || view.overdue_days.is_some();
            let within_ok = within.is_none_or(|w| {
                view.status == ItemStatus::Open
                    && item
                        .due
                        .as_ref()
                        .is_some_and(|d| (d.value - today).num_days() <= w.num_days())
            });
            if status_ok && owner_ok && overdue_ok && within_ok {
                items.push(view);
            }
        }
    }
    items.sort_by(|a, b| {
        b.overdue_days
            .unwrap_or(-1)
            .cmp(&a.overdue_days.unwrap_or(-1))
            .then_with(|| a.due.is_none().cmp(&b.due.is_none()))
            .then_with(|| a.due.cmp(&b.due))
            .then_with(|| a.postmortem_id.cmp(&b.postmortem_id))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(items)
}

pub fn list(ws: &Workspace, opts: &ListOptions) -> Result<Outcome> {
    let today = ws.today(opts.today);
    let checked = checked(ws, today, None, false)?;
    let items = select(ws, &checked, opts, today)?;
    // A file that does not load would silently drop its items from the list (and from
    // --fail-on-overdue): name it, and fail the run.
    let unreadable: Vec<&crate::diagnostic::Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.rule == "front-matter-invalid")
        .collect();
    for d in &unreadable {
        let at = d.line().map_or_else(String::new, |l| format!(":{l}"));
        eprintln!(
            "error: {}{at}: {} — its action items are not listed",
            ws.display(&d.file),
            d.message
        );
    }
    let text = match opts.format {
        ListFormat::Table => table(&items),
        ListFormat::Json => json(&items, today)?,
        ListFormat::Csv => crate::export::csv(&items),
        ListFormat::Ics => crate::export::ics(
            &items,
            &format!("{} action items", ws.config.site.title),
            today,
        ),
        ListFormat::Markdown => markdown(&items, today),
    };
    print!("{text}");
    let overdue = items.iter().any(|i| i.overdue_days.is_some());
    Ok(
        if (opts.fail_on_overdue && overdue) || !unreadable.is_empty() {
            Outcome::Findings
        } else {
            Outcome::Clean
        },
    )
}

fn state(item: &ItemView) -> String {
    match (item.status, item.overdue_days, item.due_in_days) {
        (ItemStatus::Open, Some(days), _) => format!("{days}d overdue"),
        (ItemStatus::Open, None, Some(0)) => "due today".into(),
        (ItemStatus::Open, None, Some(days)) => format!("{days}d left"),
        (ItemStatus::Open, None, None) => "no due date".into(),
        (status, _, _) => match (&item.closed_at, item.late_days) {
            (Some(at), Some(late)) => format!("{} {at} ({late}d late)", status.as_str()),
            (Some(at), None) => format!("{} {at}", status.as_str()),
            (None, _) => status.as_str().to_owned(),
        },
    }
}

/// Text for one terminal cell: whitespace runs (newlines included) become one space and
/// control characters are dropped, so a title cannot break its row or drive the terminal.
fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

/// Columns sized to the content, the title cut to fit the terminal.
fn table(items: &[ItemView]) -> String {
    if items.is_empty() {
        return "no action items match\n".into();
    }
    let width: usize = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(120);
    let rows: Vec<[String; 5]> = items
        .iter()
        .map(|i| {
            [
                i.owner
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |o| o.handle.clone()),
                i.due.clone().unwrap_or_else(|| "-".into()),
                state(i),
                format!("{}/{}", i.postmortem_id, i.id),
                one_line(&i.title),
            ]
        })
        .collect();
    let header = ["OWNER", "DUE", "STATE", "ITEM", "TITLE"];
    let widths: Vec<usize> = (0..4)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let used: usize = widths.iter().map(|w| w + 2).sum();
    let title_width = width.saturating_sub(used).max(20);
    let mut out = String::new();
    let mut line = |cells: [&str; 5]| {
        for (c, cell) in cells.iter().take(4).enumerate() {
            let _ = write!(out, "{cell:<width$}  ", width = widths[c]);
        }
        let title: String = if cells[4].chars().count() > title_width {
            let cut: String = cells[4]
                .chars()
                .take(title_width.saturating_sub(1))
                .collect();
            format!("{cut}…")
        } else {
            cells[4].to_owned()
        };
        let _ = writeln!(out, "{}", title.trim_end());
    };
    line(header);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
    out
}

fn json(items: &[ItemView], today: NaiveDate) -> Result<String> {
    let list: Vec<serde_json::Value> = items
        .iter()
        .map(|i| {
            serde_json::json!({
                "postmortem": i.postmortem_id,
                "postmortem_title": i.postmortem_title,
                "id": i.id,
                "title": i.title,
                "owner": i.owner.as_ref().map(|o| &o.handle),
                "due": i.due,
                "status": i.status,
                "closed_at": i.closed_at,
                "ticket": i.ticket,
                "reason": i.reason,
                "overdue_days": i.overdue_days,
                "closed_late_days": i.late_days,
                "closure_commit": i.closure_commit,
            })
        })
        .collect();
    let value = serde_json::json!({ "version": 1, "today": today.to_string(), "items": list });
    Ok(format!("{}\n", serde_json::to_string_pretty(&value)?))
}

/// For a weekly message or a CI job summary.
fn markdown(items: &[ItemView], today: NaiveDate) -> String {
    let overdue = items.iter().filter(|i| i.overdue_days.is_some()).count();
    let mut out = format!("## Action items ({today})\n\n");
    if items.is_empty() {
        out.push_str("Nothing to report.\n");
        return out;
    }
    let _ = writeln!(out, "{} item(s), **{overdue} overdue**.\n", items.len());
    out.push_str("| Due | State | Owner | Item | Postmortem |\n|---|---|---|---|---|\n");
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    for i in items {
        let title = match &i.ticket {
            Some(t) => format!("[{}]({t})", cell(&i.title)),
            None => cell(&i.title),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} {} | {} |",
            i.due.as_deref().unwrap_or("—"),
            if i.overdue_days.is_some() {
                format!("**{}**", state(i))
            } else {
                state(i)
            },
            i.owner.as_ref().map_or("—", |o| o.name.as_str()),
            i.id,
            title,
            cell(&i.postmortem_title)
        );
    }
    out
}

pub struct CloseOptions {
    pub target: String,
    pub date: Option<NaiveDate>,
    pub ticket: Option<String>,
    pub wontfix: Option<String>,
    pub no_commit: bool,
}

fn git(ws: &Workspace, args: &[&str]) -> Result<std::process::Output> {
    std::process::Command::new("git")
        .args(args)
        .current_dir(&ws.config.root)
        .output()
        .with_context(|| format!("cannot run `git {}`", args.join(" ")))
}

/// Closes one item: edits its lines only, then commits with an `Action-Closed` trailer.
pub fn close(ws: &Workspace, opts: &CloseOptions) -> Result<String> {
    let today = ws.today(None);
    let date = opts.date.unwrap_or(today);
    let loaded = crate::load::load_all(&ws.config)?;
    let Some((pm_id, item_id)) = opts.target.split_once('/') else {
        bail!(
            "`{}` is not POSTMORTEM-ID/ITEM-ID, e.g. 2026-02-11-checkout-outage/AI-2",
            opts.target
        );
    };
    let Some(pm) = loaded.postmortems.iter().find(|p| p.id.value == pm_id) else {
        let hint = did_you_mean(
            pm_id,
            loaded.postmortems.iter().map(|p| p.id.value.as_str()),
        )
        .map_or_else(String::new, |c| format!("\nhelp: did you mean `{c}`?"));
        bail!("no postmortem with id `{pm_id}`{hint}");
    };
    let Some(item) = pm
        .items()
        .iter()
        .find(|i| i.id.as_ref().is_some_and(|id| id.value == item_id))
    else {
        let ids: Vec<&str> = pm
            .items()
            .iter()
            .filter_map(|i| i.id.as_ref())
            .map(|i| i.value.as_str())
            .collect();
        let hint = did_you_mean(item_id, ids.iter().copied()).map_or_else(
            || format!("\nhelp: its items are {}", ids.join(", ")),
            |c| format!("\nhelp: did you mean `{c}`?"),
        );
        bail!("`{pm_id}` has no action item `{item_id}`{hint}");
    };
    if item.status() != ItemStatus::Open {
        bail!("{pm_id}/{item_id} is already {}", item.status().as_str());
    }
    if let Some(ticket) = &opts.ticket {
        if !is_http_url(ticket) {
            bail!("--ticket `{ticket}` is not an http(s) URL");
        }
    }
    if opts.wontfix.as_deref().is_some_and(|r| r.trim().is_empty()) {
        bail!("--wontfix needs a reason");
    }
    if date > today {
        bail!("--date {date} is in the future");
    }
    let path = ws.config.root.join(&pm.file);
    if !opts.no_commit {
        let status = git(ws, &["status", "--porcelain", "--", &pm.file])?;
        if !status.status.success() {
            bail!(
                "{} is not in a git repository\nhelp: pass --no-commit to only edit the file",
                ws.display(&pm.file)
            );
        }
        if !status.stdout.is_empty() {
            bail!(
                "{} has uncommitted changes\nhelp: commit them first, or pass --no-commit",
                ws.display(&pm.file)
            );
        }
    }
    let original = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let closing = Closing {
        date,
        ticket: opts.ticket.as_deref(),
        wontfix: opts.wontfix.as_deref(),
    };
    let edited = close_item_text(&original, item.pos.line, &closing)
        .with_context(|| format!("cannot edit {}", ws.display(&pm.file)))?;
    // Prove the edit reads back as intended before it replaces the user's file.
    let reread = crate::content::parse_bytes(
        crate::content::ContentPath {
            rel: pm.file.clone(),
            abs: path.clone(),
        },
        edited.clone().into_bytes(),
    )
    .map_err(|p| {
        anyhow::anyhow!(
            "editing {} would break it ({}); nothing was changed",
            ws.display(&pm.file),
            p.message
        )
    })?;
    let (after, _) = crate::load::read_postmortem(&ws.config, reread);
    let closed = after
        .items()
        .iter()
        .find(|i| i.id.as_ref().is_some_and(|id| id.value == item_id))
        .map(|i| i.status());
    if closed == Some(ItemStatus::Open) || closed.is_none() {
        bail!("could not close {pm_id}/{item_id} by editing its lines; nothing was changed");
    }
    let tmp = path.with_extension("md.debrief-tmp");
    std::fs::write(&tmp, &edited).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))?;
    let trailer = format!(
        "{}: {pm_id}/{item_id}",
        crate::approvals::trailers::CLOSED_KEY
    );
    if opts.no_commit {
        return Ok(format!(
            "closed {pm_id}/{item_id} in {}; commit it with the trailer:\n\n{trailer}\n",
            ws.display(&pm.file)
        ));
    }
    let subject = format!("Close action item {pm_id}/{item_id}");
    let output = git(
        ws,
        &[
            "commit", "--quiet", "-m", &subject, "-m", &trailer, "--only", "--", &pm.file,
        ],
    )?;
    if !output.status.success() {
        let _ = std::fs::write(&path, &original);
        bail!(
            "git commit failed, the file was restored:\n{}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(format!(
        "closed {pm_id}/{item_id} ({}) and committed it\n",
        if opts.wontfix.is_some() {
            "wontfix"
        } else {
            "done"
        }
    ))
}
