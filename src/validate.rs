//! The rule catalogue applied: pure functions from postmortems (+ config, + today) to
//! findings. Nothing here prints, exits or touches files.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::approvals::{self, History, OldContent, Trust};
use crate::config::{is_handle, Config, FieldKind};
use crate::diagnostic::{Diagnostic, Level};
use crate::model::{self, format_duration, CustomValue, ItemStatus, Postmortem, Status, Text};
use crate::rules::{self, LevelPolicy};
use crate::schema::is_http_url;
use crate::tree::{did_you_mean, Node, Pos};

/// The rules of one file on its own. They run on each file as it is loaded, while its
/// parsed front-matter (with every position) is at hand; see `load::load_checked`.
pub struct FileRules<'a> {
    config: &'a Config,
    today: NaiveDate,
    blameful: Blameful,
}

impl<'a> FileRules<'a> {
    pub fn new(config: &'a Config, today: NaiveDate) -> FileRules<'a> {
        FileRules {
            config,
            today,
            blameful: Blameful::new(&config.workflow.blameful_words),
        }
    }

    pub fn check(&self, pm: &Postmortem) -> Vec<Diagnostic> {
        let mut check = Check::new(self.config, pm);
        check.run(self.today, &self.blameful);
        check.out
    }
}

/// The rules across files (duplicate ids, `related`), over one index, so the run stays
/// linear.
pub fn validate_across(config: &Config, postmortems: &[Postmortem]) -> Vec<Diagnostic> {
    let all: Vec<&Postmortem> = postmortems.iter().collect();
    validate_across_for(config, postmortems, &all)
}

/// The rules across files for `these`, judged against all of `postmortems`.
pub fn validate_across_for(
    config: &Config,
    postmortems: &[Postmortem],
    these: &[&Postmortem],
) -> Vec<Diagnostic> {
    let mut by_id: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for pm in postmortems {
        by_id
            .entry(pm.id.value.as_str())
            .or_default()
            .push(&pm.file);
    }
    these
        .par_iter()
        .flat_map_iter(|pm| {
            let mut check = Check::new(config, pm);
            check.cross_file(&by_id);
            check.out
        })
        .collect()
}

/// What the approval rules need besides the postmortems.
pub struct ApprovalContext<'a> {
    pub history: &'a History,
    pub trust: &'a Trust,
    /// The front-matter and body of a postmortem at a commit, to name what changed.
    pub old_version: &'a dyn Fn(&Postmortem, &str) -> Option<OldContent>,
}

/// Workflow steps 6 and 7 for every published or closed postmortem. Sequential: history
/// look-ups for stale sign-offs go through one git handle.
pub fn validate_approvals(
    config: &Config,
    postmortems: &[&Postmortem],
    ctx: &ApprovalContext,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for pm in postmortems
        .iter()
        .copied()
        .filter(|p| p.status() >= Status::Published)
    {
        let digest = &pm.digest;
        let old = |commit: &str| (ctx.old_version)(pm, commit);
        let mut check = Check::new(config, pm);
        let pos = pm.status.as_ref().map_or(Pos::START, |s| s.pos);
        for (rule, message, help) in approvals::evaluate(pm, digest, ctx.history, ctx.trust, &old) {
            check.emit(rule, pos, message, help);
        }
        out.extend(check.out);
    }
    out
}

/// Step 8 against history: a `closed_at` well before the commit that recorded the closure
/// is a back-dated closure.
pub fn validate_closures(
    config: &Config,
    postmortems: &[&Postmortem],
    closures: &crate::actions::Closures,
) -> Vec<Diagnostic> {
    let tolerance = config.workflow.closure_tolerance;
    let mut out = Vec::new();
    for pm in postmortems {
        let mut check = Check::new(config, pm);
        for item in pm.items() {
            let (Some(id), Some(closed_at)) = (&item.id, &item.closed_at) else {
                continue;
            };
            let Some(recorded) = closures.get(&(pm.id.value.clone(), id.value.clone())) else {
                continue;
            };
            let recorded_day = recorded.time.date_naive();
            let gap = recorded_day - closed_at.value;
            if gap > tolerance {
                let level = check.natural_level("action-item-closed-unverified");
                check.emit_at(
                    "action-item-closed-unverified",
                    level,
                    Some(&id.value),
                    closed_at.pos,
                    format!(
                        "action item {} says it was closed on {}, but the closure was recorded {} day(s) later, in commit {} on {recorded_day}",
                        id.value,
                        closed_at.value,
                        gap.num_days(),
                        &recorded.commit[..recorded.commit.len().min(10)]
                    ),
                    format!("record closures when they happen (`debrief actions close {}/{}`); if the date is right, the tolerance is workflow.closure_tolerance", pm.id.value, id.value),
                );
            }
        }
        out.extend(check.out);
    }
    out
}

struct Check<'a> {
    config: &'a Config,
    pm: &'a Postmortem,
    status: Status,
    out: Vec<Diagnostic>,
}

impl<'a> Check<'a> {
    fn new(config: &'a Config, pm: &'a Postmortem) -> Self {
        Check {
            config,
            pm,
            status: pm.status(),
            out: Vec::new(),
        }
    }

    /// The level a rule's default gives at this postmortem's status.
    fn natural_level(&self, rule: &str) -> Level {
        match rules::find(rule).map(|r| r.default) {
            Some(LevelPolicy::Warning) => Level::Warning,
            Some(LevelPolicy::ErrorFromReview) if self.status == Status::Draft => Level::Warning,
            Some(LevelPolicy::ErrorWhenClosed) if self.status != Status::Closed => Level::Warning,
            _ => Level::Error,
        }
    }

    fn emit(&mut self, rule: &'static str, pos: Pos, message: String, help: impl Into<String>) {
        let level = self.natural_level(rule);
        self.emit_at(rule, level, None, pos, message, help.into());
    }

    /// Emits with an explicit level (before `[rules]` overrides and waivers), optionally
    /// scoped to one action item so a waiver can name it.
    fn emit_at(
        &mut self,
        rule: &'static str,
        level: Level,
        item: Option<&str>,
        pos: Pos,
        message: String,
        help: String,
    ) {
        let Some(level) = self.config.level_for(rule, level) else {
            return;
        };
        let waiver = rules::find(rule)
            .filter(|r| r.waivable)
            .and_then(|_| {
                self.pm.waivers.iter().find(|w| {
                    w.rule.as_ref().is_some_and(|r| r.value == rule)
                        && w.item
                            .as_ref()
                            .is_none_or(|i| Some(i.value.as_str()) == item)
                })
            })
            .and_then(|w| w.reason.as_ref());
        // A waived finding is a note for readers; the fix-it help no longer applies.
        let mut d = match waiver {
            Some(reason) => {
                let message = format!("{message} — waived: {}", reason.value.trim());
                Diagnostic::new(rule, Level::Note, &self.pm.file, Some(pos), message)
            }
            None => Diagnostic::new(rule, level, &self.pm.file, Some(pos), message).help(help),
        };
        d.postmortem = Some(self.pm.id.value.clone());
        self.out.push(d);
    }

    /// Where a top-level key was written, or the top of the file when it is absent.
    fn key_pos(&self, key: &str) -> Pos {
        self.pm
            .tree()
            .and_then(Node::as_map)
            .and_then(|m| m.iter().find(|(k, _)| k.value == key))
            .map_or(Pos::START, |(k, _)| k.pos)
    }

    /// True when a top-level key was written with a value, valid or not.
    fn given(&self, key: &str) -> bool {
        self.pm
            .tree()
            .and_then(|t| t.get(key))
            .is_some_and(crate::load::has_value)
    }

    fn required<T>(&mut self, value: &Option<T>, key: &str, from: Status, help: &str) {
        if value.is_some() || self.given(key) {
            return;
        }
        let level = if self.status >= from {
            Level::Error
        } else {
            Level::Warning
        };
        let when = if from == Status::Draft {
            "always required".to_owned()
        } else {
            format!("required from status `{from}`")
        };
        let pos = self.key_pos(key);
        self.emit_at(
            "field-missing",
            level,
            None,
            pos,
            format!("`{key}` is missing ({when})"),
            help.to_owned(),
        );
    }

    fn run(&mut self, today: NaiveDate, blameful: &Blameful) {
        let pm = self.pm;
        self.identity();
        self.required(
            &pm.title,
            "title",
            Status::Draft,
            "add `title: <what broke, for whom>`",
        );
        self.required(
            &pm.status,
            "status",
            Status::Draft,
            "add `status: draft` (then review, published, closed)",
        );
        self.required(
            &pm.severity,
            "severity",
            Status::Draft,
            &format!(
                "add `severity:` with one of {}",
                self.config.workflow.severities.join(", ")
            ),
        );
        self.required(
            &pm.owner,
            "owner",
            Status::Draft,
            "add `owner:` with the handle of the person driving the postmortem",
        );
        self.required(
            &pm.tech_lead,
            "tech_lead",
            Status::Review,
            "add `tech_lead:` with the handle of the technical lead who signs off",
        );
        self.required(
            &pm.responders,
            "responders",
            Status::Review,
            "add `responders: [handle, …]`: everyone on the response team, owner included",
        );
        self.required(&pm.detected_at, "detected_at", Status::Review, "add `detected_at:` with when a person or alert first noticed, e.g. 2026-03-14T09:12:00+01:00");
        self.required(
            &pm.declared_at,
            "declared_at",
            Status::Review,
            "add `declared_at:` with when owner and severity were declared",
        );
        self.required(
            &pm.resolved_at,
            "resolved_at",
            Status::Review,
            "add `resolved_at:` with when the incident was resolved and closed operationally",
        );
        self.required(
            &pm.summary,
            "summary",
            Status::Review,
            "add a `summary:` of two or three sentences: what happened, impact, duration",
        );
        self.people();
        self.timestamps();
        self.timeline();
        self.whys();
        self.factors();
        self.action_items(today);
        self.links_and_custom_fields();
        self.waivers();
        self.blameful_language(blameful);
    }

    fn identity(&mut self) {
        let pm = self.pm;
        if !is_handle(&pm.id.value) {
            let help = if pm.id_from_stem {
                "the id comes from the file name: rename the file to lowercase letters, digits and dashes, or set `id:`"
            } else {
                "use lowercase letters, digits and dashes, e.g. `2026-03-14-checkout-outage`"
            };
            let message = format!(
                "id `{}` is not lowercase letters, digits and dashes",
                pm.id.value
            );
            self.emit("id-invalid", pm.id.pos, message, help);
        }
        if let Some(severity) = &pm.severity {
            let known = &self.config.workflow.severities;
            if !known.contains(&severity.value) {
                let help = did_you_mean(&severity.value, known.iter().map(String::as_str))
                    .map_or_else(
                        || format!("use one of: {}", known.join(", ")),
                        |s| format!("did you mean `{s}`?"),
                    );
                self.emit(
                    "severity-invalid",
                    severity.pos,
                    format!(
                        "severity `{}` is not one of {}",
                        severity.value,
                        known.join(", ")
                    ),
                    help,
                );
            }
        }
    }

    fn person(&mut self, handle: &Text, role: &str) {
        if self.config.people.contains_key(&handle.value) {
            return;
        }
        let help = did_you_mean(&handle.value, self.config.people.keys().map(String::as_str))
            .map_or_else(
                || format!("add [people.{}] to debrief.toml", handle.value),
                |h| {
                    format!(
                        "did you mean `{h}`? Otherwise add [people.{}] to debrief.toml",
                        handle.value
                    )
                },
            );
        self.emit(
            "person-unknown",
            handle.pos,
            format!("{role} `{}` is not in [people]", handle.value),
            help,
        );
    }

    fn people(&mut self) {
        let pm = self.pm;
        if let Some(owner) = &pm.owner {
            self.person(owner, "owner");
        }
        if let Some(lead) = &pm.tech_lead {
            self.person(lead, "tech lead");
            if let Some(person) = self.config.people.get(&lead.value) {
                if !person.is_tech_lead() {
                    self.emit("tech-lead-role", lead.pos, format!("`{}` is named tech lead but has no `tech-lead` role", lead.value), format!("pick a tech lead from [people], or add \"tech-lead\" to people.{}.roles", lead.value));
                }
            }
        }
        if let Some(responders) = &pm.responders {
            for r in &responders.value {
                self.person(r, "responder");
            }
            if responders.value.is_empty() {
                self.required(
                    &None::<()>,
                    "responders",
                    Status::Review,
                    "list everyone on the response team, owner included",
                );
            }
            if let Some(owner) = &pm.owner {
                if !responders.value.iter().any(|r| r.value == owner.value) {
                    self.emit(
                        "owner-not-responder",
                        responders.pos,
                        format!("owner `{}` is not among the responders", owner.value),
                        format!("add `{}` to `responders`", owner.value),
                    );
                }
            }
        }
    }

    fn timestamps(&mut self) {
        let pm = self.pm;
        let stamps = [
            ("started_at", &pm.started_at),
            ("detected_at", &pm.detected_at),
            ("declared_at", &pm.declared_at),
            ("mitigated_at", &pm.mitigated_at),
            ("resolved_at", &pm.resolved_at),
        ];
        let present: Vec<_> = stamps
            .iter()
            .filter_map(|(k, t)| t.as_ref().map(|t| (*k, t)))
            .collect();
        for pair in present.windows(2) {
            let ((earlier_key, earlier), (later_key, later)) = (pair[0], pair[1]);
            if later.value < earlier.value {
                self.emit("timestamps-order", later.pos, format!("`{later_key}` ({}) is before `{earlier_key}` ({})", later.value.to_rfc3339(), earlier.value.to_rfc3339()), "the order is started ≤ detected ≤ declared ≤ mitigated ≤ resolved; check the date, time and offset");
            }
        }
        if let (Some(detected), Some(declared)) = (&pm.detected_at, &pm.declared_at) {
            let taken = declared.value - detected.value;
            let severity = pm.severity.as_ref().map(|s| s.value.as_str());
            let limit = self.config.workflow.declare_limit(severity);
            if taken > limit {
                let of = severity.map_or_else(String::new, |s| format!(" for {s}"));
                self.emit("declare-late", declared.pos, format!("owner and severity declared {} after detection; the limit{of} is {}", format_duration(taken), format_duration(limit)), "if the delay had a reason readers should know, add `waivers: [{rule: declare-late, reason: \"…\"}]`");
            }
        }
    }

    fn timeline(&mut self) {
        let pm = self.pm;
        let entries = pm.timeline.as_ref().map_or(&[][..], |t| &t.value);
        if entries.is_empty() && (pm.timeline.is_some() || !self.given("timeline")) {
            let pos = self.key_pos("timeline");
            self.emit("timeline-missing", pos, "the timeline is empty".into(), "add `timeline:` entries with `at`, `event` and `who`, from first signal to resolution");
            return;
        }
        let mut previous = None;
        for entry in entries {
            self.required_in(
                &entry.given,
                "at",
                entry.pos,
                "timeline entry `at`",
                "add `at: <RFC 3339 timestamp>`",
            );
            self.required_in(
                &entry.given,
                "event",
                entry.pos,
                "timeline entry `event`",
                "add `event:` saying what happened",
            );
            if entry.who.is_empty() && !model::given(&entry.given, "who") {
                self.emit(
                    "timeline-who-missing",
                    entry.pos,
                    "timeline entry does not say who was involved".into(),
                    "add `who:` with a handle, a name such as \"PagerDuty\", or a list of them",
                );
            }
            if let Some(at) = &entry.at {
                if let Some(prev) = previous {
                    if at.value < prev {
                        self.emit(
                            "timeline-order",
                            at.pos,
                            format!(
                                "timeline entry at {} comes after a later one ({})",
                                at.value.to_rfc3339(),
                                prev.to_rfc3339()
                            ),
                            "keep the timeline in chronological order",
                        );
                    }
                }
                previous = Some(
                    previous.map_or(at.value, |p: chrono::DateTime<chrono::FixedOffset>| {
                        p.max(at.value)
                    }),
                );
            }
        }
    }

    /// A field inside an entry (timeline, why, action item) that was not written at all;
    /// one written with a bad value already has its type error.
    fn required_in(&mut self, given: &[String], key: &str, pos: Pos, what: &str, help: &str) {
        if !model::given(given, key) {
            self.emit("field-missing", pos, format!("{what} is missing"), help);
        }
    }

    fn whys(&mut self) {
        let pm = self.pm;
        let whys = pm.whys.as_ref().map_or(&[][..], |w| &w.value);
        let min = self.config.workflow.min_whys;
        if whys.len() < min && (pm.whys.is_some() || !self.given("whys")) {
            let pos = self.key_pos("whys");
            self.emit(
                "whys-too-few",
                pos,
                format!("{} whys given, at least {min} required", whys.len()),
                "keep asking \"why?\" of each answer until you reach a cause you can act on",
            );
        }
        for why in whys {
            let has = |key| model::given(&why.given, key);
            let missing = match (has("why"), has("because")) {
                (false, false) => Some("both `why` and `because`"),
                (false, true) => Some("`why`"),
                (true, false) => Some("`because`"),
                _ => None,
            };
            if let Some(missing) = missing {
                self.emit(
                    "whys-empty",
                    why.pos,
                    format!("this why has no {missing}"),
                    "each entry is a question (`why`) and its answer (`because`)",
                );
            }
        }
        if pm.root_cause.is_none() && !self.given("root_cause") {
            let pos = self.key_pos("root_cause");
            self.emit(
                "root-cause-missing",
                pos,
                "`root_cause` is missing".into(),
                "state the root cause the whys lead to in one or two sentences",
            );
        }
    }

    fn factors(&mut self) {
        let pm = self.pm;
        let categories = &self.config.workflow.factor_categories;
        if pm.factors().is_empty() && (pm.factors.is_some() || !self.given("factors")) {
            let pos = self.key_pos("factors");
            self.emit(
                "factors-missing",
                pos,
                "no contributing factors".into(),
                format!(
                    "add `factors:` entries with a `category` ({}) and a `description`",
                    categories.join(", ")
                ),
            );
        }
        for factor in pm.factors() {
            match &factor.category {
                Some(category) if !categories.contains(&category.value) => {
                    let help = did_you_mean(&category.value, categories.iter().map(String::as_str))
                        .map_or_else(
                            || {
                                format!(
                                    "use one of: {} (or add it to workflow.factor_categories)",
                                    categories.join(", ")
                                )
                            },
                            |c| format!("did you mean `{c}`?"),
                        );
                    self.emit(
                        "factor-category-unknown",
                        category.pos,
                        format!(
                            "factor category `{}` is not one of the configured categories",
                            category.value
                        ),
                        help,
                    );
                }
                Some(_) => {}
                None => self.required_in(
                    &factor.given,
                    "category",
                    factor.pos,
                    "factor `category`",
                    "add `category:`",
                ),
            }
            self.required_in(
                &factor.given,
                "description",
                factor.pos,
                "factor `description`",
                "add `description:` explaining how it contributed",
            );
        }
    }

    fn action_items(&mut self, today: NaiveDate) {
        let pm = self.pm;
        if pm.items().is_empty() && (pm.action_items.is_some() || !self.given("action_items")) {
            let pos = self.key_pos("action_items");
            self.emit(
                "action-items-missing",
                pos,
                "no action items".into(),
                "add `action_items:` entries with `id`, `title`, `owner` and `due`",
            );
        }
        let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
        for item in pm.items() {
            let item_id = item.id.as_ref().map(|i| i.value.as_str());
            let label =
                item_id.map_or_else(|| "action item".to_owned(), |i| format!("action item {i}"));
            match &item.id {
                Some(id) => {
                    if let Some(first) = seen.insert(&id.value, id.pos.line) {
                        self.emit(
                            "action-item-id-duplicate",
                            id.pos,
                            format!(
                                "action item id `{}` is used twice (first at line {first})",
                                id.value
                            ),
                            "give each action item its own id, e.g. AI-1, AI-2",
                        );
                    }
                }
                None if model::given(&item.given, "id") => {}
                None => self.emit_at(
                    "field-missing",
                    Level::Error,
                    None,
                    item.pos,
                    "action item `id` is missing".into(),
                    "add `id:` (e.g. `AI-3`) so the item can be closed and referenced".into(),
                ),
            }
            self.required_in(
                &item.given,
                "title",
                item.pos,
                &format!("{label} `title`"),
                "add `title:` saying what will change",
            );
            match &item.owner {
                Some(owner) => self.person(owner, &format!("{label} owner")),
                None if model::given(&item.given, "owner") => {}
                None => self.emit(
                    "action-item-owner-missing",
                    item.pos,
                    format!("{label} has no owner"),
                    "add `owner:` with the handle of the person who will do it",
                ),
            }
            if !model::given(&item.given, "due") {
                self.emit(
                    "action-item-due-missing",
                    item.pos,
                    format!("{label} has no due date"),
                    "add `due: YYYY-MM-DD`",
                );
            }
            if let Some(ticket) = &item.ticket {
                self.url(ticket, &format!("{label} ticket"));
            }
            let status_pos = item.status.as_ref().map_or(item.pos, |s| s.pos);
            if let Some(days) = item.overdue_days(today) {
                let due = item.due.as_ref().map_or(item.pos, |d| d.pos);
                let level = self.natural_level("action-item-overdue");
                self.emit_at("action-item-overdue", level, item_id, due, format!("{label} is {days} day(s) overdue (due {})", item.due.as_ref().map(|d| d.value.to_string()).unwrap_or_default()), "close it with `status: done` and `closed_at:`, or agree a new `due` date with its owner".into());
            }
            if let Some(days) = item.closed_late_days() {
                let pos = item.closed_at.as_ref().map_or(item.pos, |c| c.pos);
                let level = self.natural_level("action-item-closed-late");
                self.emit_at(
                    "action-item-closed-late",
                    level,
                    item_id,
                    pos,
                    format!("{label} was closed {days} day(s) after its due date"),
                    "nothing to fix now; the trend pages count on-time closure".into(),
                );
            }
            let closed_status = item.status() != ItemStatus::Open;
            if closed_status && !model::given(&item.given, "closed_at") {
                let level = if self.status == Status::Closed {
                    Level::Error
                } else {
                    Level::Warning
                };
                let rule = if self.status == Status::Closed {
                    "action-item-not-closed"
                } else {
                    "field-missing"
                };
                self.emit_at(
                    rule,
                    level,
                    item_id,
                    status_pos,
                    format!(
                        "{label} is {} but has no `closed_at`",
                        item.status().as_str()
                    ),
                    "add `closed_at: YYYY-MM-DD` with the day it was closed".into(),
                );
            }
            if item.status() == ItemStatus::Wontfix && item.reason.is_none() {
                let level = if self.status == Status::Closed {
                    Level::Error
                } else {
                    Level::Warning
                };
                let rule = if self.status == Status::Closed {
                    "action-item-not-closed"
                } else {
                    "field-missing"
                };
                self.emit_at(
                    rule,
                    level,
                    item_id,
                    status_pos,
                    format!("{label} is wontfix without a `reason`"),
                    "add `reason:` explaining why it will not be done".into(),
                );
            }
            if self.status == Status::Closed && item.status() == ItemStatus::Open {
                self.emit("action-item-not-closed", status_pos, format!("{label} is still open, but the postmortem is closed"), "finish the item (`status: done`, `closed_at:`), mark it `wontfix` with a `reason`, or move the postmortem back to `published`");
            }
        }
    }

    fn url(&mut self, url: &Text, what: &str) {
        if !is_http_url(&url.value) {
            self.emit(
                "url-invalid",
                url.pos,
                format!(
                    "{what} `{}` is not an http(s) URL",
                    crate::schema::shorten(&url.value)
                ),
                "use an absolute link starting with https://",
            );
        }
    }

    fn links_and_custom_fields(&mut self) {
        let pm = self.pm;
        for link in &pm.links {
            match &link.url {
                Some(url) => self.url(url, "link"),
                None => self.required_in(
                    &link.given,
                    "url",
                    link.pos,
                    "link `url`",
                    "add `url: https://…`",
                ),
            }
            self.required_in(
                &link.given,
                "title",
                link.pos,
                "link `title`",
                "add `title:` naming what the link shows",
            );
        }
        for (name, spec) in &self.config.fields {
            let value = pm.custom.get(name);
            if let Some(from) = spec.required_from {
                self.required(
                    &value,
                    name,
                    from,
                    &format!("add `{name}:` ({})", spec.label),
                );
            }
            if let (Some(value), FieldKind::Url) = (value, spec.kind) {
                if let CustomValue::Text(text) = &value.value {
                    self.url(&Text::new(text.clone(), value.pos), name);
                }
            }
        }
    }

    fn waivers(&mut self) {
        let pm = self.pm;
        let item_ids: HashSet<&str> = pm
            .items()
            .iter()
            .filter_map(|i| i.id.as_ref())
            .map(|i| i.value.as_str())
            .collect();
        for waiver in &pm.waivers {
            let Some(rule) = &waiver.rule else {
                self.emit("waiver-invalid", waiver.pos, "waiver without a `rule`".into(), "name the rule being waived: declare-late, action-item-overdue or action-item-closed-late");
                continue;
            };
            let waivable: Vec<&str> = rules::RULES
                .iter()
                .filter(|r| r.waivable)
                .map(|r| r.id)
                .collect();
            match rules::find(&rule.value) {
                None => {
                    let help = did_you_mean(&rule.value, rules::ids()).map_or_else(
                        || format!("waivable rules: {}", waivable.join(", ")),
                        |r| format!("did you mean `{r}`?"),
                    );
                    self.emit(
                        "waiver-invalid",
                        rule.pos,
                        format!("waiver names unknown rule `{}`", rule.value),
                        help,
                    );
                }
                Some(r) if !r.waivable => {
                    self.emit(
                        "waiver-invalid",
                        rule.pos,
                        format!("`{}` cannot be waived; only timing rules can", rule.value),
                        format!(
                            "fix what `{}` reports instead; waivable rules: {}",
                            rule.value,
                            waivable.join(", ")
                        ),
                    );
                }
                Some(_) => {}
            }
            if waiver.reason.is_none() {
                self.emit(
                    "waiver-invalid",
                    waiver.pos,
                    format!("waiver of `{}` has no reason", rule.value),
                    "add `reason:` telling readers why the rule did not apply here",
                );
            }
            if let Some(item) = &waiver.item {
                if !rule.value.starts_with("action-item-") {
                    self.emit(
                        "waiver-invalid",
                        item.pos,
                        format!("`{}` is about the whole postmortem; a waiver of it cannot name an action item", rule.value),
                        "remove `item:` from this waiver",
                    );
                } else if !item_ids.contains(item.value.as_str()) {
                    self.emit(
                        "waiver-invalid",
                        item.pos,
                        format!(
                            "waiver names action item `{}`, which does not exist",
                            item.value
                        ),
                        "use the `id` of an action item in this file",
                    );
                }
            }
        }
    }

    fn blameful_language(&mut self, blameful: &Blameful) {
        let pm = self.pm;
        if blameful.words.is_empty() {
            return;
        }
        let mut hits = Vec::new();
        // Front-matter strings are joined (one per line) and folded once, then searched
        // for every word in one pass. A hit is reported at its string, once per word.
        let strings = pm.tree().map(Node::strings).unwrap_or_default();
        let mut joined = String::new();
        let mut starts = Vec::with_capacity(strings.len());
        for (text, _) in &strings {
            starts.push(joined.len());
            joined.push_str(text);
            joined.push('\n');
        }
        let mut string_hits: Vec<(usize, usize)> = blameful
            .find(&Folded::new(&joined))
            .map(|(w, at)| (starts.partition_point(|&start| start <= at) - 1, w))
            .collect();
        string_hits.sort_unstable();
        string_hits.dedup();
        for (i, w) in string_hits {
            hits.push((strings[i].1, blameful.words[w].clone()));
        }
        // The body likewise, once per word and line, outside fenced code.
        let fenced = fenced_lines(&pm.body);
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(pm.body.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut body_hits: Vec<(usize, usize, usize)> = blameful
            .find(&Folded::new(&pm.body))
            .filter_map(|(w, at)| {
                let line = line_starts.partition_point(|&start| start <= at) - 1;
                let col = pm.body[line_starts[line]..at].chars().count() + 1;
                (!fenced.get(line).copied().unwrap_or(false)).then_some((line, w, col))
            })
            .collect();
        // The first hit of each word on a line.
        body_hits.sort_unstable();
        body_hits.dedup_by_key(|(line, w, _)| (*line, *w));
        for (line, w, col) in body_hits {
            let line_no = pm.body_line as usize + line;
            hits.push((Pos::new(line_no, col), blameful.words[w].clone()));
        }
        for (pos, word) in hits {
            self.emit("blameful-language", pos, format!("blameful wording: \"{word}\""), "describe what the system and the process allowed, not a person's failing (see workflow.blameful_words)");
        }
    }

    fn cross_file(&mut self, by_id: &BTreeMap<&str, Vec<&str>>) {
        let pm = self.pm;
        if let Some(files) = by_id.get(pm.id.value.as_str()) {
            let others: Vec<&str> = files.iter().copied().filter(|f| *f != pm.file).collect();
            if !others.is_empty() {
                self.emit(
                    "id-duplicate",
                    pm.id.pos,
                    format!("id `{}` is also used by {}", pm.id.value, others.join(", ")),
                    "ids must be unique: rename one file or set a different `id:`",
                );
            }
        }
        for related in &pm.related {
            if related.value == pm.id.value {
                self.emit(
                    "related-unknown",
                    related.pos,
                    "`related` lists this postmortem itself".into(),
                    "remove it from `related`",
                );
            } else if !by_id.contains_key(related.value.as_str()) {
                let others = by_id.keys().copied().filter(|id| *id != pm.id.value);
                let help = did_you_mean(&related.value, others).map_or_else(
                    || "use the id (file name without .md) of another postmortem".to_owned(),
                    |c| format!("did you mean `{c}`?"),
                );
                self.emit(
                    "related-unknown",
                    related.pos,
                    format!("related postmortem `{}` does not exist", related.value),
                    help,
                );
            }
        }
    }
}

/// 1-based column (in characters) of `phrase` in `text` as whole words, ignoring case.
/// `phrase` is lowercase. Characters are folded one by one, remembering which original
/// character each folded byte came from, so columns stay right even where lowercasing
/// changes the length (`İ` → `i̇`).
#[cfg(test)]
fn find_phrase(text: &str, phrase: &str) -> Option<usize> {
    let folded = Folded::new(text);
    let blameful = Blameful::new(&[phrase.to_owned()]);
    let at = blameful.find(&folded).map(|(_, at)| at).min()?;
    Some(text[..at].chars().count() + 1)
}

/// Which lines of a body are inside fenced code (the fence lines included).
fn fenced_lines(body: &str) -> Vec<bool> {
    let mut in_fence = false;
    body.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
                in_fence = !in_fence;
                return true;
            }
            in_fence
        })
        .collect()
}

/// A text folded to lowercase once, remembering where each folded byte came from, so
/// positions stay right even where lowercasing changes the length (`İ` → `i̇`). Where
/// every character folds to one of the same length (nearly all text), offsets are the same
/// in both and no map is kept.
struct Folded {
    lower: String,
    /// Per folded byte, the byte offset of the original character; `None` when offsets
    /// are unchanged by folding.
    origin: Option<Vec<usize>>,
}

impl Folded {
    fn new(text: &str) -> Folded {
        if text.is_ascii() {
            return Folded {
                lower: text.to_ascii_lowercase(),
                origin: None,
            };
        }
        let mut lower = String::with_capacity(text.len());
        let mut same_offsets = true;
        for c in text.chars() {
            let mut folded = c.to_lowercase();
            match (folded.next(), folded.next()) {
                (Some(one), None) => {
                    same_offsets &= one.len_utf8() == c.len_utf8();
                    lower.push(one);
                }
                (first, second) => {
                    same_offsets = false;
                    lower.extend(first.into_iter().chain(second).chain(folded));
                }
            }
        }
        let origin = (!same_offsets).then(|| {
            let mut origin = Vec::with_capacity(lower.len());
            for (offset, c) in text.char_indices() {
                for folded in c.to_lowercase() {
                    origin.extend(std::iter::repeat_n(offset, folded.len_utf8()));
                }
            }
            origin
        });
        Folded { lower, origin }
    }

    /// The original byte offset of the folded byte at `at`.
    fn origin(&self, at: usize) -> usize {
        self.origin.as_ref().map_or(at, |o| o[at])
    }
}

/// The configured blameful words and phrases, lowercase, with one automaton that finds all
/// of them in a single pass over a text.
struct Blameful {
    words: Vec<String>,
    matcher: Option<aho_corasick::AhoCorasick>,
}

impl Blameful {
    fn new(configured: &[String]) -> Blameful {
        let mut words: Vec<String> = configured
            .iter()
            .map(|w| w.to_lowercase())
            // Texts are searched one string or body line per line.
            .filter(|w| !w.trim().is_empty() && !w.contains('\n'))
            .collect();
        words.dedup();
        // Built from a handful of short words; an error here could only be a size limit,
        // and then the rule finds nothing rather than failing the run.
        let matcher = aho_corasick::AhoCorasick::new(&words).ok();
        Blameful { words, matcher }
    }

    /// (word index, original byte offset) of every whole-word occurrence of every word,
    /// overlapping ones included (`no blame` inside `no no blame`).
    fn find<'a>(&'a self, folded: &'a Folded) -> impl Iterator<Item = (usize, usize)> + 'a {
        let lower = &folded.lower;
        let is_word_char = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        self.matcher
            .iter()
            .flat_map(move |m| m.find_overlapping_iter(lower.as_str()))
            .filter(move |m| {
                !is_word_char(lower[..m.start()].chars().next_back())
                    && !is_word_char(lower[m.end()..].chars().next())
            })
            .map(|m| (m.pattern().as_usize(), folded.origin(m.start())))
    }
}

#[cfg(test)]
mod tests {
    use super::{fenced_lines, find_phrase, Blameful, Folded};

    #[test]
    fn every_whole_word_match_is_found_at_its_original_offset() {
        let text = "İİ careless, carelessly careless";
        let blameful = Blameful::new(&["Careless".into(), "no blame".into()]);
        let offsets: Vec<(usize, usize)> = blameful.find(&Folded::new(text)).collect();
        assert_eq!(offsets, [(0, 5), (0, 26)]);
        assert_eq!(&text[26..], "careless");
        let overlapping: Vec<(usize, usize)> = blameful.find(&Folded::new("no no blame")).collect();
        assert_eq!(overlapping, [(1, 3)]);
        let aa = Blameful::new(&["aa".into()]);
        assert_eq!(
            aa.find(&Folded::new("aaa aa")).collect::<Vec<_>>(),
            [(0, 4)]
        );
    }

    #[test]
    fn fence_lines_and_their_contents_are_marked() {
        let body = "a\n```sh\nrm -rf\n```\nb\n  ~~~\nc\n";
        assert_eq!(
            fenced_lines(body),
            [false, true, true, true, false, true, true]
        );
    }

    #[test]
    fn phrases_match_whole_words_only() {
        assert_eq!(find_phrase("It was human error.", "human error"), Some(8));
        assert_eq!(find_phrase("The default route", "fault"), None);
        assert_eq!(find_phrase("a blameless review", "blame"), None);
        assert_eq!(find_phrase("FAULT found", "fault"), Some(1));
        assert_eq!(find_phrase("İlker kept the default timeout", "fault"), None);
        assert_eq!(find_phrase("İİ careless", "careless"), Some(4));
    }
}
