//! Approvals (workflow steps 6 and 7): reviews and sign-offs recorded in git history,
//! judged against trust roots read from a protected revision.
//!
//! The flow: [`Trust::load`] decides whose word counts (`[people]`, `[approvals]`, allowed
//! signers — from `--trust-ref` when given), [`History::commits`] reads every commit that may
//! hold a record reachable from HEAD, [`History::judge`] resolves who made each record, and [`evaluate`] turns that into findings
//! for each published postmortem. `docs/signoff.md` explains the model and its threats.

pub mod files;
pub mod signers;
pub mod trailers;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use crate::config::{ApprovalPolicy, Config, Person, RuleSetting};
use crate::diagnostic::{Diagnostic, Level};
use crate::git::Repo;
use crate::model::{Postmortem, Status};
use crate::tree::Pos;
use signers::{AllowedSigner, SigProblem};
pub use trailers::Kind;

/// Where the trust roots came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustSource {
    WorkingTree,
    Ref { name: String, commit: String },
}

/// Whose approvals count, and how they are recognised.
pub struct Trust {
    pub source: TrustSource,
    pub people: BTreeMap<String, Person>,
    pub policy: ApprovalPolicy,
    /// `[rules]` of the trusted revision: they set the levels of the approval rules, so a
    /// pull request cannot allow away its own missing sign-off.
    pub rules: BTreeMap<String, RuleSetting>,
    pub signers: Vec<AllowedSigner>,
    /// Problems in the trusted allowed-signers file.
    pub problems: Vec<Diagnostic>,
}

impl Trust {
    /// The ref the trust roots are read from: `--trust-ref`, else `[approvals] trust_ref`;
    /// `None`: the working tree.
    pub fn wanted_ref(config: &Config, trust_ref: Option<&str>) -> Option<String> {
        trust_ref
            .map(str::to_owned)
            .or_else(|| config.approvals.trust_ref.clone())
    }

    /// The working tree's own roster and policy, used when no approval is being judged.
    pub fn working_tree(config: &Config) -> Trust {
        Trust::new(
            TrustSource::WorkingTree,
            config.people.clone(),
            config.approvals.clone(),
            config.rules.clone(),
            "",
            signers::PATH,
        )
    }

    /// Reads the trust roots from `trust_ref` (or `[approvals] trust_ref`), else from the
    /// working tree. A trust ref that cannot be read is an operational error: guessing
    /// would let a pull request vouch for itself.
    pub fn load(config: &Config, repo: Option<&Repo>, trust_ref: Option<&str>) -> Result<Trust> {
        let wanted = Trust::wanted_ref(config, trust_ref);
        let Some(name) = wanted else {
            let text = match std::fs::read_to_string(config.root.join(signers::PATH)) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", signers::PATH)),
            };
            return Ok(Trust::new(
                TrustSource::WorkingTree,
                config.people.clone(),
                config.approvals.clone(),
                config.rules.clone(),
                &text,
                signers::PATH,
            ));
        };
        let Some(repo) = repo else {
            bail!(
                "the trust ref `{name}` cannot be read: {} is not in a git repository",
                config.root.display()
            );
        };
        let commit = repo.resolve(&name).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the trust ref: {e:#}\nhelp: fetch it first, e.g. `git fetch origin {}`",
                name.trim_start_matches("origin/")
            )
        })?;
        let prefix = repo_prefix(repo, &config.root);
        let config_path = format!("{prefix}{}", crate::config::FILE_NAME);
        let Some(bytes) = repo.read_at(&commit, &config_path)? else {
            bail!(
                "the trust ref `{name}` has no {config_path}; trust roots cannot be read from it"
            );
        };
        let text = String::from_utf8(bytes)
            .with_context(|| format!("{config_path} at `{name}` is not UTF-8"))?;
        let trusted = Config::parse(&config.root, &text).map_err(|errors| {
            let lines: Vec<String> = errors
                .0
                .iter()
                .map(|d| format!("  line {}: {}", d.line().unwrap_or(0), d.message))
                .collect();
            anyhow::anyhow!(
                "{config_path} at the trust ref `{name}` is invalid:\n{}",
                lines.join("\n")
            )
        })?;
        let signers_path = format!("{prefix}{}", signers::PATH);
        let signers_text = repo
            .read_at(&commit, &signers_path)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let label = format!("{}@{name}", signers::PATH);
        Ok(Trust::new(
            TrustSource::Ref { name, commit },
            trusted.people,
            trusted.approvals,
            trusted.rules,
            &signers_text,
            &label,
        ))
    }

    fn new(
        source: TrustSource,
        people: BTreeMap<String, Person>,
        policy: ApprovalPolicy,
        rules: BTreeMap<String, RuleSetting>,
        signers_text: &str,
        label: &str,
    ) -> Trust {
        let (signers, line_problems) = signers::parse(signers_text);
        let problems = line_problems
            .into_iter()
            .map(|p| {
                Diagnostic::new(
                    "allowed-signers-invalid",
                    Level::Warning,
                    label,
                    Some(Pos::new(p.line, 1)),
                    format!("line not used: {}", p.message),
                )
                .help("fix the line; keys on unusable lines are not trusted")
            })
            .collect();
        Trust {
            source,
            people,
            policy,
            rules,
            signers,
            problems,
        }
    }

    /// The handle whose `[people].emails` contains `email` (case-insensitive).
    pub fn person_by_email(&self, email: &str) -> Option<&str> {
        let email = email.to_lowercase();
        self.people
            .iter()
            .find(|(_, p)| p.emails.iter().any(|e| e.to_lowercase() == email))
            .map(|(handle, _)| handle.as_str())
    }
}

/// The root's path inside the git work tree, as a prefix (`""` or `sub/dir/`).
pub fn repo_prefix(repo: &Repo, root: &Path) -> String {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let workdir = repo.workdir().and_then(|w| w.canonicalize().ok());
    match workdir.and_then(|w| root.strip_prefix(&w).ok().map(Path::to_path_buf)) {
        Some(rel) if !rel.as_os_str().is_empty() => {
            format!("{}/", crate::content::relative_name(Path::new(""), &rel))
        }
        _ => String::new(),
    }
}

/// What a commit's signature established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureStatus {
    /// Signatures are not required; the author email is the identity.
    NotChecked,
    Verified {
        principals: Vec<String>,
    },
    Rejected(SigProblem),
}

/// One review or sign-off found in history.
#[derive(Clone, Debug)]
pub struct Approval {
    pub kind: Kind,
    pub postmortem: String,
    pub digest: String,
    pub origin: Origin,
    pub time: DateTime<FixedOffset>,
    pub author_name: String,
    pub author_email: String,
    pub signature: SignatureStatus,
    /// The `[people]` handle this record counts for, when its identity is trusted.
    pub person: Option<String>,
}

/// Where an approval is recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Commit(String),
    File(String),
}

impl Origin {
    /// `commit 1a2b3c4d5e` or the approval file's path.
    pub fn label(&self) -> String {
        match self {
            Origin::Commit(id) => format!("commit {}", &id[..id.len().min(10)]),
            Origin::File(path) => path.clone(),
        }
    }
}

impl Approval {
    pub fn short_commit(&self) -> String {
        self.origin.label()
    }

    /// Who made it, as a reader should see it.
    pub fn who(&self) -> String {
        match (&self.person, &self.signature) {
            (Some(handle), _) => handle.clone(),
            (None, SignatureStatus::Verified { principals }) => principals.join(", "),
            (None, _) => self.author_email.clone(),
        }
    }
}

/// Approvals found in history, or why history could not be read.
pub struct History {
    /// `Err(reason)` outside a git repository or before the first commit.
    pub available: Result<(), String>,
    /// Newest first.
    pub approvals: Vec<Approval>,
    /// Ids of the postmortems that exist now (see [`History::for_postmortem`]).
    pub known_ids: HashSet<String>,
    /// `Action-Closed` trailers: (postmortem, item) → the earliest commit recording it.
    pub closures: HashMap<(String, String), (String, DateTime<FixedOffset>)>,
    /// Positions in `approvals` by postmortem id and by digest, so looking up one
    /// postmortem's records does not scan them all.
    by_id: HashMap<String, Vec<usize>>,
    by_digest: HashMap<String, Vec<usize>>,
}

impl History {
    pub fn unavailable(reason: impl Into<String>) -> History {
        History {
            available: Err(reason.into()),
            approvals: Vec::new(),
            known_ids: HashSet::new(),
            closures: HashMap::new(),
            by_id: HashMap::new(),
            by_digest: HashMap::new(),
        }
    }

    /// The commits that may hold records, reachable from HEAD: the part of reading history
    /// that asks git, and does not depend on trust roots (so it can run early).
    pub fn commits(repo: &Repo) -> Result<Vec<crate::git::Commit>> {
        // The cache never changes a result (tests compare both); DEBRIEF_NO_CACHE=1 skips it.
        if std::env::var_os("DEBRIEF_NO_CACHE").is_some_and(|v| !v.is_empty()) {
            repo.scan(trailers::may_hold_records)
        } else {
            repo.scan_cached(trailers::FILTER_VERSION, trailers::may_hold_records)
        }
    }

    /// The records of `commits` ([`History::commits`]), judged against `trust`; signatures
    /// are verified only for commits that carry approval trailers.
    pub fn judge(repo: &Repo, commits: Vec<crate::git::Commit>, trust: &Trust) -> Result<History> {
        if !repo.has_head() {
            return Ok(History::unavailable(
                "the git repository has no commits yet",
            ));
        }
        let mut approvals = Vec::new();
        let mut closures = HashMap::new();
        for commit in commits {
            // The earliest commit recording a closure is the one that counts.
            for key in trailers::parse_closures(&commit.message) {
                let earlier = closures
                    .get(&key)
                    .is_none_or(|(_, t): &(String, DateTime<FixedOffset>)| commit.time < *t);
                if earlier {
                    closures.insert(key, (commit.id.clone(), commit.time));
                }
            }
            let records = trailers::parse(&commit.message);
            if records.is_empty() {
                continue;
            }
            let signature = if trust.policy.require_signature {
                match &repo.signature(&commit.id) {
                    None => SignatureStatus::Rejected(SigProblem::Missing),
                    Some((armor, data)) => match signers::verify(
                        armor,
                        data,
                        "git",
                        commit.time.with_timezone(&Utc),
                        &trust.signers,
                    ) {
                        Ok(principals) => SignatureStatus::Verified { principals },
                        Err(problem) => SignatureStatus::Rejected(problem),
                    },
                }
            } else {
                SignatureStatus::NotChecked
            };
            // In signed mode the author field is ignored: anyone can write any author.
            let person = match &signature {
                SignatureStatus::NotChecked => trust
                    .person_by_email(&commit.author_email)
                    .map(str::to_owned),
                SignatureStatus::Verified { principals } => principals
                    .iter()
                    .find_map(|p| trust.person_by_email(p))
                    .map(str::to_owned),
                SignatureStatus::Rejected(_) => None,
            };
            for record in records {
                approvals.push(Approval {
                    kind: record.kind,
                    postmortem: record.postmortem,
                    digest: record.digest,
                    origin: Origin::Commit(commit.id.clone()),
                    time: commit.time,
                    author_name: commit.author_name.clone(),
                    author_email: commit.author_email.clone(),
                    signature: signature.clone(),
                    person: person.clone(),
                });
            }
        }
        approvals.sort_by_key(|a| std::cmp::Reverse(a.time));
        let mut history = History {
            available: Ok(()),
            approvals,
            known_ids: HashSet::new(),
            closures,
            by_id: HashMap::new(),
            by_digest: HashMap::new(),
        };
        history.reindex();
        Ok(history)
    }

    /// Adds records kept outside history (approval files), keeping newest first.
    pub fn add(&mut self, more: Vec<Approval>) {
        self.approvals.extend(more);
        self.approvals.sort_by_key(|a| std::cmp::Reverse(a.time));
        self.reindex();
    }

    fn reindex(&mut self) {
        self.by_id.clear();
        self.by_digest.clear();
        for (i, a) in self.approvals.iter().enumerate() {
            self.by_id.entry(a.postmortem.clone()).or_default().push(i);
            self.by_digest.entry(a.digest.clone()).or_default().push(i);
        }
    }

    /// Records about a postmortem: those naming its id, and those approving exactly its
    /// content under an id that no longer exists (the file was renamed, so its default id
    /// changed). A record for a postmortem that still exists never counts for another.
    pub fn for_postmortem<'a>(
        &'a self,
        id: &'a str,
        digest: &'a str,
    ) -> impl Iterator<Item = &'a Approval> + 'a {
        let mut positions: Vec<usize> = self.by_id.get(id).cloned().unwrap_or_default();
        positions.extend(
            self.by_digest
                .get(digest)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&i| {
                    self.approvals[i].postmortem != id
                        && !self.known_ids.contains(&self.approvals[i].postmortem)
                }),
        );
        positions.sort_unstable();
        positions.into_iter().map(move |i| &self.approvals[i])
    }
}

/// The approval state of one postmortem, for `check`, `approvals` and the site.
#[derive(Clone, Debug, Serialize)]
pub struct Standing {
    pub postmortem: String,
    pub digest: String,
    /// Responders (handles) with a review or sign-off of the current digest.
    pub reviewed_by: Vec<String>,
    /// Responders still to review the current digest.
    pub awaiting_review: Vec<String>,
    /// The valid sign-off of the current digest by the tech lead, if any.
    pub signoff: Option<Record>,
    pub records: Vec<Record>,
}

/// A history record as shown to people and scripts.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub kind: Kind,
    pub who: String,
    pub person: Option<String>,
    pub commit: Option<String>,
    /// The approval file, for records kept as files.
    pub file: Option<String>,
    pub date: String,
    #[serde(skip)]
    pub time: DateTime<FixedOffset>,
    /// `current` or `stale`.
    pub digest: &'static str,
    /// `not-required`, `verified`, or the problem.
    pub signature: String,
}

fn record(a: &Approval, current: &str) -> Record {
    Record {
        kind: a.kind,
        who: a.who(),
        person: a.person.clone(),
        commit: match &a.origin {
            Origin::Commit(id) => Some(id.clone()),
            Origin::File(_) => None,
        },
        file: match &a.origin {
            Origin::File(path) => Some(path.clone()),
            Origin::Commit(_) => None,
        },
        date: a.time.to_rfc3339(),
        time: a.time,
        digest: if a.digest == current {
            "current"
        } else {
            "stale"
        },
        signature: match &a.signature {
            SignatureStatus::NotChecked => "not-required".into(),
            SignatureStatus::Verified { .. } => "verified".into(),
            SignatureStatus::Rejected(p) => match &a.origin {
                Origin::File(_) => files::describe(p),
                Origin::Commit(_) => p.to_string(),
            },
        },
    }
}

/// Is `handle` a tech lead according to the trusted roster?
fn trusted_tech_lead(trust: &Trust, handle: &str) -> bool {
    trust.people.get(handle).is_some_and(Person::is_tech_lead)
}

pub fn standing(pm: &Postmortem, digest: &str, history: &History, trust: &Trust) -> Standing {
    let mine: Vec<&Approval> = history.for_postmortem(&pm.id.value, digest).collect();
    let valid_current = |a: &&&Approval| a.digest == digest && a.person.is_some();
    let tech_lead = pm.tech_lead.as_ref().map(|t| t.value.as_str());
    let signoff = mine
        .iter()
        .filter(valid_current)
        .find(|a| {
            a.kind == Kind::Signoff
                && a.person.as_deref() == tech_lead
                && tech_lead.is_some_and(|t| trusted_tech_lead(trust, t))
        })
        .map(|a| record(a, digest));
    let responders: Vec<&str> = pm
        .responders
        .as_ref()
        .map(|r| r.value.iter().map(|s| s.value.as_str()).collect())
        .unwrap_or_default();
    let approvers: Vec<&str> = mine
        .iter()
        .filter(valid_current)
        .filter_map(|a| a.person.as_deref())
        .collect();
    let (reviewed_by, awaiting_review): (Vec<&str>, Vec<&str>) =
        responders.iter().partition(|r| approvers.contains(r));
    Standing {
        postmortem: pm.id.value.clone(),
        digest: digest.to_owned(),
        reviewed_by: reviewed_by.into_iter().map(str::to_owned).collect(),
        awaiting_review: awaiting_review.into_iter().map(str::to_owned).collect(),
        signoff,
        records: mine.iter().map(|a| record(a, digest)).collect(),
    }
}

/// The old version of a postmortem at a commit, to say what changed since an approval.
pub type OldVersion<'a> = &'a dyn Fn(&str) -> Option<OldContent>;

/// A postmortem's front-matter and body as they were at some commit.
pub type OldContent = (crate::tree::Node, String);

/// Findings of the approval rules for postmortems that are `published` or `closed`.
pub fn evaluate(
    pm: &Postmortem,
    digest: &str,
    history: &History,
    trust: &Trust,
    old_version: OldVersion,
) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    if pm.status() < Status::Published {
        return out;
    }
    let recorded = history
        .for_postmortem(&pm.id.value, digest)
        .next()
        .is_some();
    if let (Err(reason), false) = (&history.available, recorded) {
        out.push((
            "signoff-missing",
            format!(
                "`{}` is {} but its sign-off cannot be verified: {reason}",
                pm.id.value,
                pm.status()
            ),
            "run debrief inside the git repository that records the approvals".into(),
        ));
        return out;
    }
    let standing = standing(pm, digest, history, trust);
    let mine: Vec<&Approval> = history.for_postmortem(&pm.id.value, digest).collect();
    let tech_lead = pm.tech_lead.as_ref().map(|t| t.value.as_str());
    let signoffs: Vec<&&Approval> = mine.iter().filter(|a| a.kind == Kind::Signoff).collect();
    if standing.signoff.is_none() {
        let by_lead = |a: &&&Approval| a.person.as_deref() == tech_lead && tech_lead.is_some();
        let current_by_other = signoffs
            .iter()
            .find(|a| a.digest == digest && a.person.is_some() && !by_lead(a));
        let stale_by_lead = signoffs.iter().find(|a| by_lead(a) && a.digest != digest);
        let rejected = signoffs.iter().find_map(|a| match &a.signature {
            SignatureStatus::Rejected(problem) => Some((a, problem)),
            _ => None,
        });
        let lead_name = tech_lead.unwrap_or("(none set)");
        if let Some(t) = tech_lead.filter(|t| !trusted_tech_lead(trust, t)) {
            out.push((
                "signoff-not-tech-lead",
                format!("`{t}` is not a tech lead in the trusted [people]{}", trust_label(trust)),
                "a sign-off counts only from a person with the tech-lead role on the trusted revision".into(),
            ));
        } else if let Some(a) = stale_by_lead {
            let old = match &a.origin {
                Origin::Commit(id) => old_version(id),
                Origin::File(_) => None,
            };
            let changed = old
                .map(|(fm, body)| {
                    crate::digest::changed_fields(&fm, &body, &pm.front_matter_json(), &pm.body)
                })
                .filter(|c| !c.is_empty())
                .map_or_else(String::new, |c| {
                    format!("; changed since: {}", c.join(", "))
                });
            out.push((
                "signoff-stale",
                format!(
                    "the sign-off by {} in {} approved different content{changed}",
                    a.who(),
                    a.short_commit()
                ),
                format!(
                    "ask {lead_name} to review the changes and run `debrief approve {}` again",
                    pm.id.value
                ),
            ));
        } else if let Some(a) = current_by_other {
            out.push((
                "signoff-not-tech-lead",
                format!(
                    "signed off by {} in {}, but the tech lead is {lead_name}",
                    a.who(),
                    a.short_commit()
                ),
                format!("only the postmortem's tech_lead ({lead_name}) can sign off"),
            ));
        } else if let Some((a, problem)) = rejected {
            out.push((
                "signoff-unsigned",
                {
                    let problem = match &a.origin {
                        Origin::File(_) => files::describe(problem),
                        Origin::Commit(_) => problem.to_string(),
                    };
                    format!("sign-off in {} (author {}) does not count: {problem}", a.short_commit(), a.author_email)
                },
                "sign the approval with a key listed in the trusted .debrief/allowed_signers (`git config gpg.format ssh` and `user.signingkey`), then run `debrief approve` again".into(),
            ));
        } else {
            let unknown = signoffs
                .iter()
                .find(|a| a.person.is_none() && a.digest == digest);
            let detail = unknown.map_or_else(String::new, |a| {
                format!(
                    " ({} is by {}, who is not in the trusted [people])",
                    a.short_commit(),
                    a.who()
                )
            });
            out.push((
                "signoff-missing",
                format!("`{}` is {} without a sign-off of its current content by the tech lead ({lead_name}){detail}", pm.id.value, pm.status()),
                format!("the tech lead runs `debrief approve {}`", pm.id.value),
            ));
        }
    }
    let responders = standing.reviewed_by.len() + standing.awaiting_review.len();
    let needed = trust
        .policy
        .review_quorum
        .map_or(responders, |q| q.min(responders));
    if standing.reviewed_by.len() < needed {
        let quorum = if needed < responders {
            format!(" ({needed} of {responders} required)")
        } else {
            String::new()
        };
        out.push((
            "review-missing",
            format!("no review of the current content from: {}{quorum}", standing.awaiting_review.join(", ")),
            format!("each responder runs `debrief review {}` (a stale review approved an earlier version)", pm.id.value),
        ));
    }
    out
}

fn trust_label(trust: &Trust) -> String {
    match &trust.source {
        TrustSource::WorkingTree => String::new(),
        TrustSource::Ref { name, .. } => format!(" of `{name}`"),
    }
}
