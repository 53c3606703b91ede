//! `debrief new "Title"`: a scaffolded draft that passes `check` with warnings only.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Result};
use chrono::NaiveDate;

use super::Workspace;
use crate::config::{is_handle, FieldKind};
use crate::tree::did_you_mean;

pub struct NewOptions {
    pub title: String,
    pub severity: Option<String>,
    pub owner: Option<String>,
    pub id: Option<String>,
    pub date: Option<NaiveDate>,
}

/// `Checkout outage!` → `checkout-outage`.
pub fn slug(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let mut slug: String = slug.trim_matches('-').chars().take(60).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        slug.push_str("incident");
    }
    slug
}

/// The handle whose email matches `git config user.email`, if any.
fn owner_from_git(ws: &Workspace) -> Option<String> {
    let output = Command::new("git")
        .args(["config", "user.email"])
        .current_dir(&ws.config.root)
        .output()
        .ok()?;
    let email = String::from_utf8(output.stdout).ok()?.trim().to_lowercase();
    if email.is_empty() {
        return None;
    }
    ws.config
        .people
        .iter()
        .find(|(_, p)| p.emails.iter().any(|e| e.to_lowercase() == email))
        .map(|(handle, _)| handle.clone())
}

pub fn run(ws: &Workspace, opts: &NewOptions) -> Result<PathBuf> {
    let config = &ws.config;
    let title = opts.title.trim();
    if title.is_empty() {
        bail!("the title is empty\nhelp: debrief new \"Checkout returned 503s\"");
    }
    let severities = &config.workflow.severities;
    let severity = match &opts.severity {
        Some(s) if severities.contains(s) => s.clone(),
        Some(s) => {
            let hint = did_you_mean(s, severities.iter().map(String::as_str))
                .map_or_else(String::new, |c| format!(" (did you mean {c}?)"));
            bail!(
                "unknown severity `{s}`{hint}\nhelp: use one of {}",
                severities.join(", ")
            );
        }
        None => severities.last().cloned().unwrap_or_default(),
    };
    let owner = match opts.owner.clone().or_else(|| owner_from_git(ws)) {
        Some(h) if config.people.contains_key(&h) => h,
        Some(h) => {
            let hint = did_you_mean(&h, config.people.keys().map(String::as_str)).map_or_else(String::new, |c| format!(" (did you mean {c}?)"));
            bail!("`{h}` is not in [people] of debrief.toml{hint}\nhelp: add [people.{h}] or pass --owner with a known handle");
        }
        None => bail!(
            "cannot tell who owns this postmortem: your git user.email is not in [people]\nhelp: pass --owner HANDLE (known: {})",
            config.people.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    };
    if let Some(id) = &opts.id {
        if !is_handle(id) {
            bail!("id `{id}` is not lowercase letters, digits and dashes");
        }
    }
    let date = opts.date.unwrap_or_else(|| ws.today(None));
    let stem = format!("{date}-{}", slug(title));
    let rel = format!("{}/{stem}.md", config.site.content.trim_end_matches('/'));
    let path = config.root.join(&rel);
    let id = opts.id.clone().unwrap_or_else(|| stem.clone());
    let existing = if config.content_dir().is_dir() {
        crate::load::load_all(config)?.postmortems
    } else {
        Vec::new()
    };
    if let Some(other) = existing.iter().find(|p| p.id.value == id) {
        bail!(
            "id `{id}` is already used by {}\nhelp: pass --id with another id",
            ws.display(&other.file)
        );
    }
    let text = scaffold(ws, title, &severity, &owner, opts.id.as_deref(), date);
    if let Err(e) = crate::output::write_new(&path, text.as_bytes()) {
        let exists = e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::AlreadyExists);
        if exists {
            bail!(
                "{} already exists; not overwriting it\nhelp: pick another title or pass --id",
                ws.display(&rel)
            );
        }
        return Err(e);
    }
    Ok(path)
}

fn scaffold(
    ws: &Workspace,
    title: &str,
    severity: &str,
    owner: &str,
    id: Option<&str>,
    date: NaiveDate,
) -> String {
    let config = &ws.config;
    let quoted_title =
        serde_json::to_string(title).unwrap_or_else(|_| format!("\"{}\"", title.replace('"', "'")));
    let limit = crate::model::format_duration(config.workflow.declare_limit(Some(severity)));
    let example_time = format!("{date}T09:12:00+00:00");
    let mut s = String::from("---\n");
    let _ = writeln!(s, "title: {quoted_title}");
    if let Some(id) = id {
        let _ = writeln!(s, "id: {id}");
    }
    let _ = writeln!(
        s,
        "status: draft            # draft → review → published → closed"
    );
    let _ = writeln!(
        s,
        "severity: {severity}           # one of {}",
        config.workflow.severities.join(", ")
    );
    let _ = writeln!(s, "owner: {owner}                # drives the postmortem; declared within {limit} of detection");
    s.push_str(
        "tech_lead:               # handle with the tech-lead role; signs off before publishing\n",
    );
    let _ = writeln!(
        s,
        "responders: [{owner}]      # the whole response team, owner included"
    );
    s.push_str("services: []\ntags: []\n");
    let _ = writeln!(
        s,
        "# Timestamps are RFC 3339 with an offset, e.g. {example_time}"
    );
    s.push_str("started_at:              # when the problem began (often known only afterwards)\n");
    s.push_str("detected_at:             # when a person or an alert first noticed\n");
    s.push_str("declared_at:             # when owner and severity were declared\n");
    s.push_str("mitigated_at:            # when customers stopped being affected\n");
    s.push_str("resolved_at:             # when the incident was closed operationally\n");
    s.push_str(
        "summary:                 # two or three sentences: what happened, impact, duration\n",
    );
    for (name, field) in &config.fields {
        let hint = match field.kind {
            FieldKind::List => " []",
            _ => "",
        };
        let required = field
            .required_from
            .map_or_else(String::new, |st| format!(" (required from {st})"));
        let _ = writeln!(s, "{name}:{hint}    # {}{required}", field.label);
    }
    s.push_str("timeline: []\n");
    let _ = writeln!(s, "#  - at: {example_time}\n#    event: Error-rate alert fires for checkout-api\n#    who: [{owner}, PagerDuty]");
    let _ = writeln!(
        s,
        "whys: []                 # at least {}: ask \"why?\" of each answer",
        config.workflow.min_whys
    );
    s.push_str("#  - why: Why did checkout return errors?\n#    because: The database connection pool was exhausted.\n");
    s.push_str("root_cause:\n");
    let _ = writeln!(
        s,
        "factors: []              # category: one of {}",
        config.workflow.factor_categories.join(", ")
    );
    s.push_str(
        "#  - category: monitoring\n#    description: No alert on connection-pool saturation.\n",
    );
    s.push_str("action_items: []\n");
    let due = date + chrono::TimeDelta::days(30);
    let _ = writeln!(s, "#  - id: AI-1\n#    title: Alert on connection-pool saturation\n#    owner: {owner}\n#    due: {due}\n#    status: open");
    s.push_str("related: []              # ids of earlier postmortems this one repeats\n");
    s.push_str("links: []                # {title, url} of dashboards and tickets (https only)\n");
    s.push_str("---\n\n");
    s.push_str("## What happened\n\n<!-- The story in order: what the systems did, what people saw, which decisions were made\nand why they made sense at the time. Describe systems and decisions, not people's failings. -->\n\n");
    s.push_str("## Impact\n\n<!-- Who was affected, how, and for how long. Numbers where you have them. -->\n\n");
    s.push_str("## What went well\n\n## What went poorly\n\n## Where we got lucky\n\n## Lessons\n");
    s
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_valid_ids() {
        assert_eq!(slug("Checkout outage!"), "checkout-outage");
        assert_eq!(slug("  DNS: TTL  too long "), "dns-ttl-too-long");
        assert_eq!(slug("???"), "incident");
        assert_eq!(slug(&"a".repeat(100)).len(), 60);
    }
}
