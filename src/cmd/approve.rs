//! `debrief review`, `debrief approve`, `debrief approvals` and `debrief digest`: recording
//! and reading workflow steps 6 and 7.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;

use super::check::{checked, Checked};
use super::Workspace;
use crate::approvals::files::{self, Statement};
use crate::approvals::{self, trailers, Kind, Trust};
use crate::config::Record;
use crate::diagnostic::Level;
use crate::digest;
use crate::model::{Postmortem, Status};
use crate::tree::did_you_mean;

/// Rules that judge approvals: they cannot block the act of approving.
const APPROVAL_RULES: &[&str] = &[
    "review-missing",
    "signoff-missing",
    "signoff-stale",
    "signoff-not-tech-lead",
    "signoff-unsigned",
    "trust-working-tree",
];

/// Finds a postmortem by id or by file path.
pub fn find<'a>(
    ws: &Workspace,
    postmortems: &'a [Postmortem],
    target: &str,
) -> Result<&'a Postmortem> {
    let as_path = ws.cwd.join(target);
    if let Ok(abs) = as_path.canonicalize() {
        if let Some(pm) = postmortems.iter().find(|p| {
            ws.config
                .root
                .join(&p.file)
                .canonicalize()
                .is_ok_and(|f| f == abs)
        }) {
            return Ok(pm);
        }
    }
    if let Some(pm) = postmortems.iter().find(|p| p.id.value == target) {
        return Ok(pm);
    }
    let hint = did_you_mean(target, postmortems.iter().map(|p| p.id.value.as_str()))
        .map_or_else(String::new, |c| format!("\nhelp: did you mean `{c}`?"));
    bail!("no postmortem with id or file `{target}`{hint}")
}

pub fn digest(ws: &Workspace, target: &str, canonical: bool) -> Result<String> {
    let loaded = crate::load::load_all(&ws.config)?;
    let pm = find(ws, &loaded.postmortems, target)?;
    Ok(if canonical {
        let tree = pm.tree().context("the front-matter was not kept")?;
        digest::canonical_form(tree, &pm.body)
    } else {
        format!("{}\n", pm.digest)
    })
}

fn git(root: &Path, args: &[&str]) -> Result<std::process::Output> {
    Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .with_context(|| format!("cannot run `git {}` (is git installed?)", args.join(" ")))
}

/// The caller's `[people]` handle, judged by the trusted roster. The email is the one git
/// will write as the commit author (`git var GIT_AUTHOR_IDENT` honours GIT_AUTHOR_EMAIL,
/// author.email and user.email), so the check and the record agree.
fn caller(ws: &Workspace, trust: &Trust) -> Result<String> {
    let output = git(&ws.config.root, &["var", "GIT_AUTHOR_IDENT"])?;
    let ident = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let email = match (ident.find('<'), ident.find('>')) {
        (Some(start), Some(end)) if start < end => ident[start + 1..end].trim().to_owned(),
        _ => String::new(),
    };
    if !output.status.success() || email.is_empty() {
        bail!("git does not know who you are\nhelp: git config user.email you@example.com");
    }
    match trust.person_by_email(&email) {
        Some(handle) => Ok(handle.to_owned()),
        None => bail!("your git identity <{email}> belongs to nobody in the trusted [people]\nhelp: add it to your entry's `emails` in debrief.toml (on the trusted branch)"),
    }
}

pub struct ApproveOptions {
    pub target: String,
    pub kind: Kind,
    pub no_commit: bool,
    pub trust_ref: Option<String>,
    pub today: Option<NaiveDate>,
}

/// What `review`/`approve` did, for the command to print.
pub struct Approved {
    pub postmortem: String,
    pub trailer: String,
    pub committed: bool,
    pub status_changed: Option<PathBuf>,
    /// The approval file written, with `[approvals] record = "file"`.
    pub approval_file: Option<String>,
}

pub fn approve(ws: &Workspace, opts: &ApproveOptions) -> Result<Approved> {
    let today = ws.today(opts.today);
    let Checked {
        loaded,
        diagnostics,
        trust,
        ..
    } = checked(ws, today, opts.trust_ref.as_deref(), true)?;
    let pm = find(ws, &loaded.postmortems, &opts.target)?;
    let verb = match opts.kind {
        Kind::Review => "review",
        Kind::Signoff => "approve",
    };
    if !crate::config::is_handle(&pm.id.value) {
        bail!("`{}` is not a valid postmortem id, so an approval of it could not be recorded\nhelp: use lowercase letters, digits and dashes (rename the file or set `id:`)", pm.id.value);
    }
    if pm.status() == Status::Draft {
        bail!("`{}` is a draft\nhelp: set `status: review` when it is ready, then `debrief {verb}` it", pm.id.value);
    }
    let blocking: Vec<String> = diagnostics
        .iter()
        .filter(|d| {
            d.file == pm.file && d.level == Level::Error && !APPROVAL_RULES.contains(&d.rule)
        })
        .map(|d| {
            format!(
                "  {}:{}: {}[{}]: {}",
                ws.display(&d.file),
                d.line().unwrap_or(0),
                d.level,
                d.rule,
                d.message
            )
        })
        .collect();
    if !blocking.is_empty() {
        bail!("`{}` does not pass `debrief check` at status {}:\n{}\nhelp: fix these first; an approval must be of content that follows the workflow", pm.id.value, pm.status(), blocking.join("\n"));
    }
    let me = caller(ws, &trust)?;
    match opts.kind {
        Kind::Review => {
            let responders = pm
                .responders
                .as_ref()
                .map(|r| r.value.iter().any(|h| h.value == me))
                .unwrap_or(false);
            if !responders {
                bail!("you ({me}) are not among the responders of `{}`\nhelp: reviews come from the response team listed in `responders`", pm.id.value);
            }
        }
        Kind::Signoff => {
            let lead = pm.tech_lead.as_ref().map(|t| t.value.as_str());
            if lead != Some(me.as_str()) {
                bail!(
                    "only the tech lead ({}) can sign off `{}`; you are {me}",
                    lead.unwrap_or("not set"),
                    pm.id.value
                );
            }
            if !trust
                .people
                .get(&me)
                .is_some_and(crate::config::Person::is_tech_lead)
            {
                bail!("you ({me}) do not have the tech-lead role in the trusted [people]");
            }
        }
    }
    let root = &ws.config.root;
    let file = root.join(&pm.file);
    if !opts.no_commit {
        let status = git(root, &["status", "--porcelain", "--", &pm.file])?;
        if !status.stdout.is_empty() {
            bail!("{} has uncommitted changes\nhelp: commit them first: an approval records content that is in history", ws.display(&pm.file));
        }
    }
    let digest = pm.digest.clone();
    let trailer = trailers::format(opts.kind, &pm.id.value, &digest);
    // Sign the approval file before touching the postmortem, so a signing failure
    // leaves the repository as it was.
    let approval_file = match trust.policy.record {
        Record::Commit => None,
        Record::File => Some(write_approval_file(
            ws,
            opts.kind,
            &pm.id.value,
            &digest,
            &me,
        )?),
    };
    let mut status_changed = None;
    if opts.kind == Kind::Signoff && pm.status() == Status::Review {
        let line = pm.status.as_ref().map(|s| s.pos.line).unwrap_or(0);
        set_status_line(&file, line, "published")?;
        status_changed = Some(file.clone());
    }
    let mut approved = Approved {
        postmortem: pm.id.value.clone(),
        trailer,
        committed: false,
        status_changed,
        approval_file,
    };
    if opts.no_commit {
        return Ok(approved);
    }
    let subject = match opts.kind {
        Kind::Review => format!("Review postmortem {}", pm.id.value),
        Kind::Signoff => format!("Sign off postmortem {}", pm.id.value),
    };
    let body = match &approved.approval_file {
        Some(path) => format!("Approval file: {path}"),
        None => approved.trailer.clone(),
    };
    let mut paths: Vec<String> = Vec::new();
    if approved.status_changed.is_some() {
        paths.push(pm.file.clone());
    }
    if let Some(path) = &approved.approval_file {
        let added = git(root, &["add", "--", path])?;
        if !added.status.success() {
            bail!(
                "git add {path} failed:\n{}",
                String::from_utf8_lossy(&added.stderr).trim()
            );
        }
        paths.push(path.clone());
    }
    let mut args = vec!["commit", "--quiet", "--allow-empty"];
    if trust.policy.require_signature {
        let format = git(root, &["config", "gpg.format"])?;
        if String::from_utf8_lossy(&format.stdout).trim() != "ssh" {
            bail!("signatures are required and debrief verifies SSH signatures only\nhelp: git config gpg.format ssh && git config user.signingkey ~/.ssh/id_ed25519.pub");
        }
        args.push("-S");
    }
    args.extend(["-m", &subject, "-m", &body]);
    if paths.is_empty() {
        let staged = git(root, &["diff", "--cached", "--quiet"])?;
        if !staged.status.success() {
            bail!("you have staged changes\nhelp: commit or unstage them first, so the review commit records only the review");
        }
    } else {
        args.extend(["--only", "--"]);
        args.extend(paths.iter().map(String::as_str));
    }
    let output = git(root, &args)?;
    if !output.status.success() {
        if approved.status_changed.is_some() {
            let _ = git(root, &["checkout", "--", &pm.file]);
        }
        bail!(
            "git commit failed:\n{}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    approved.committed = true;
    Ok(approved)
}

/// Signs an approval statement with the caller's SSH key and writes it under
/// `.debrief/approvals/`. Refuses to replace an existing approval.
fn write_approval_file(
    ws: &Workspace,
    kind: Kind,
    id: &str,
    digest: &str,
    signer: &str,
) -> Result<String> {
    let key_output = git(&ws.config.root, &["config", "user.signingkey"])?;
    let key = String::from_utf8_lossy(&key_output.stdout)
        .trim()
        .to_owned();
    if key.is_empty() {
        bail!("approval files are signed with your SSH key, and git has no user.signingkey\nhelp: git config user.signingkey ~/.ssh/id_ed25519.pub");
    }
    let statement = Statement {
        kind,
        postmortem: id.to_owned(),
        digest: digest.to_owned(),
        signer: signer.to_owned(),
        date: chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0).fixed_offset(),
    };
    let rel = statement.path();
    let path = ws.config.root.join(&rel);
    if path.exists() {
        bail!("{} already records this approval", ws.display(&rel));
    }
    let key_path = key.strip_prefix("~/").map_or_else(
        || key.clone(),
        |rest| {
            std::env::var("HOME")
                .map(|h| format!("{h}/{rest}"))
                .unwrap_or(key.clone())
        },
    );
    let text = statement.text();
    let armor = files::sign(&key_path, &text)?;
    crate::output::write_new(&path, format!("{text}{armor}").as_bytes())?;
    Ok(rel)
}

/// Rewrites only the value on `line` (`status: review  # note` keeps its comment), leaving
/// every other byte of the user's file as it was.
pub fn set_status_line(path: &Path, line: u32, value: &str) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = String::with_capacity(text.len() + 8);
    let mut done = false;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        if index + 1 == line as usize {
            let (content, ending) = match raw.strip_suffix("\r\n") {
                Some(c) => (c, "\r\n"),
                None => raw.strip_suffix('\n').map_or((raw, ""), |c| (c, "\n")),
            };
            let content = content.strip_prefix('\u{feff}').unwrap_or(content);
            let Some(rest) = content.trim_start().strip_prefix("status:") else {
                bail!("{}:{line} is not the `status:` line", path.display());
            };
            let indent = &content[..content.len() - content.trim_start().len()];
            let after = rest.trim_start();
            let token_len = after.find([' ', '\t', '#']).unwrap_or(after.len());
            let _ = write!(
                out,
                "{indent}status: {value}{}{ending}",
                &after[token_len..]
            );
            done = true;
        } else {
            out.push_str(raw);
        }
    }
    if !done {
        bail!("{} has no line {line}", path.display());
    }
    let tmp = path.with_extension("md.debrief-tmp");
    std::fs::write(&tmp, out).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
}

pub fn approvals_report(
    ws: &Workspace,
    target: Option<&str>,
    json: bool,
    trust_ref: Option<&str>,
    today: Option<NaiveDate>,
) -> Result<String> {
    let Checked {
        loaded,
        history,
        trust,
        ..
    } = checked(ws, ws.today(today), trust_ref, true)?;
    let selected: Vec<&Postmortem> = match target {
        Some(t) => vec![find(ws, &loaded.postmortems, t)?],
        None => {
            let mut all: Vec<&Postmortem> = loaded.postmortems.iter().collect();
            all.sort_by(|a, b| a.id.value.cmp(&b.id.value));
            all
        }
    };
    let standings: Vec<approvals::Standing> = selected
        .iter()
        .map(|pm| approvals::standing(pm, &pm.digest, &history, &trust))
        .collect();
    if json {
        let value = serde_json::json!({
            "version": 1,
            "history": match &history.available { Ok(()) => "available".to_owned(), Err(e) => e.clone() },
            "postmortems": selected.iter().zip(&standings).map(|(pm, s)| serde_json::json!({
                "id": pm.id.value,
                "file": pm.file,
                "status": pm.status(),
                "tech_lead": pm.tech_lead.as_ref().map(|t| &t.value),
                "digest": s.digest,
                "signed_off": s.signoff.is_some(),
                "reviewed_by": s.reviewed_by,
                "awaiting_review": s.awaiting_review,
                "records": s.records,
            })).collect::<Vec<_>>(),
        });
        return Ok(format!("{}\n", serde_json::to_string_pretty(&value)?));
    }
    let mut out = String::new();
    if let Err(reason) = &history.available {
        let _ = writeln!(out, "note: history unavailable ({reason})");
    }
    for (pm, s) in selected.iter().zip(&standings) {
        let state = if s.signoff.is_some() {
            "signed off"
        } else {
            "not signed off"
        };
        let _ = writeln!(
            out,
            "{}  [{}]  {state}  {}",
            pm.id.value,
            pm.status(),
            s.digest
        );
        for r in &s.records {
            let kind = match r.kind {
                Kind::Review => "review ",
                Kind::Signoff => "sign-off",
            };
            let _ = writeln!(
                out,
                "  {kind}  {:<12} {}  {}  {:<7}  signature: {}",
                r.who,
                &r.date[..10.min(r.date.len())],
                r.commit.as_deref().map_or_else(
                    || r.file.clone().unwrap_or_default(),
                    |c| c[..10.min(c.len())].to_owned()
                ),
                r.digest,
                r.signature
            );
        }
        if !s.awaiting_review.is_empty() {
            let _ = writeln!(
                out,
                "  awaiting review of the current content: {}",
                s.awaiting_review.join(", ")
            );
        }
    }
    Ok(out)
}
