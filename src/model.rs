//! The typed postmortem and what can be derived from it. No I/O here.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta};
use serde::Serialize;

use crate::tree::{Node, Pos, Spanned};

/// Where a postmortem is in the workflow. Ordered: later statuses demand more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Review,
    Published,
    Closed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Draft,
        Status::Review,
        Status::Published,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Review => "review",
            Status::Published => "published",
            Status::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn names() -> impl Iterator<Item = &'static str> {
        Status::ALL.into_iter().map(Status::as_str)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemStatus {
    Open,
    Done,
    Wontfix,
}

impl ItemStatus {
    pub const NAMES: [&'static str; 3] = ["open", "done", "wontfix"];

    pub fn parse(text: &str) -> Option<ItemStatus> {
        match text {
            "open" => Some(ItemStatus::Open),
            "done" => Some(ItemStatus::Done),
            "wontfix" => Some(ItemStatus::Wontfix),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Open => "open",
            ItemStatus::Done => "done",
            ItemStatus::Wontfix => "wontfix",
        }
    }
}

pub type Text = Spanned<String>;
pub type Time = Spanned<DateTime<FixedOffset>>;

#[derive(Clone, Debug)]
pub struct TimelineEntry {
    pub pos: Pos,
    /// Keys written with a value, valid or not (an ill-typed value is not "missing").
    pub given: Vec<String>,
    pub at: Option<Time>,
    pub event: Option<Text>,
    /// Handles or free-text names (a pager, "Support desk").
    pub who: Vec<Text>,
}

#[derive(Clone, Debug)]
pub struct Why {
    pub pos: Pos,
    /// Keys written with a value, valid or not (an ill-typed value is not "missing").
    pub given: Vec<String>,
    pub why: Option<Text>,
    pub because: Option<Text>,
}

#[derive(Clone, Debug)]
pub struct Factor {
    pub pos: Pos,
    /// Keys written with a value, valid or not (an ill-typed value is not "missing").
    pub given: Vec<String>,
    pub category: Option<Text>,
    pub description: Option<Text>,
}

#[derive(Clone, Debug)]
pub struct ActionItem {
    pub pos: Pos,
    /// Keys written with a value, valid or not (an ill-typed value is not "missing").
    pub given: Vec<String>,
    pub id: Option<Text>,
    pub title: Option<Text>,
    pub owner: Option<Text>,
    pub due: Option<Spanned<NaiveDate>>,
    /// `None` when the field is absent (which means open) or invalid (already reported).
    pub status: Option<Spanned<ItemStatus>>,
    pub closed_at: Option<Spanned<NaiveDate>>,
    pub ticket: Option<Text>,
    /// Why an item is `wontfix`.
    pub reason: Option<Text>,
}

/// True when `key` was written with a value in an entry.
pub fn given(keys: &[String], key: &str) -> bool {
    keys.iter().any(|k| k == key)
}

impl ActionItem {
    pub fn status(&self) -> ItemStatus {
        self.status.as_ref().map_or(ItemStatus::Open, |s| s.value)
    }

    /// Days past due as of `today`; `None` when closed, undated or not yet due.
    pub fn overdue_days(&self, today: NaiveDate) -> Option<i64> {
        let due = self.due.as_ref()?.value;
        (self.status() == ItemStatus::Open && due < today).then(|| (today - due).num_days())
    }

    /// Days a closure came after its due date.
    pub fn closed_late_days(&self) -> Option<i64> {
        let due = self.due.as_ref()?.value;
        let closed = self.closed_at.as_ref()?.value;
        (self.status() == ItemStatus::Done && closed > due).then(|| (closed - due).num_days())
    }
}

#[derive(Clone, Debug)]
pub struct Link {
    pub pos: Pos,
    /// Keys written with a value, valid or not (an ill-typed value is not "missing").
    pub given: Vec<String>,
    pub title: Option<Text>,
    pub url: Option<Text>,
}

#[derive(Clone, Debug)]
pub struct Waiver {
    pub pos: Pos,
    /// Keys written with a value, valid or not (an ill-typed value is not "missing").
    pub given: Vec<String>,
    pub rule: Option<Text>,
    pub reason: Option<Text>,
    /// Limits the waiver to one action item (`AI-2`); otherwise it covers the postmortem.
    pub item: Option<Text>,
}

/// A custom field declared in `[fields]`, as read from the front-matter.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CustomValue {
    Text(String),
    Number(f64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
    List(Vec<String>),
}

/// One postmortem file, typed. Fields that were absent, empty or ill-typed are `None`
/// (type errors were already reported while reading).
#[derive(Clone, Debug)]
pub struct Postmortem {
    pub file: String,
    pub id: Text,
    /// True when `id` came from the file name rather than an `id:` field.
    pub id_from_stem: bool,
    pub title: Option<Text>,
    pub status: Option<Spanned<Status>>,
    pub severity: Option<Text>,
    pub owner: Option<Text>,
    pub tech_lead: Option<Text>,
    pub responders: Option<Spanned<Vec<Text>>>,
    pub services: Vec<Text>,
    pub tags: Vec<Text>,
    pub started_at: Option<Time>,
    pub detected_at: Option<Time>,
    pub declared_at: Option<Time>,
    pub mitigated_at: Option<Time>,
    pub resolved_at: Option<Time>,
    pub summary: Option<Text>,
    pub timeline: Option<Spanned<Vec<TimelineEntry>>>,
    pub whys: Option<Spanned<Vec<Why>>>,
    pub root_cause: Option<Text>,
    pub factors: Option<Spanned<Vec<Factor>>>,
    pub action_items: Option<Spanned<Vec<ActionItem>>>,
    pub related: Vec<Text>,
    pub links: Vec<Link>,
    pub waivers: Vec<Waiver>,
    pub custom: BTreeMap<String, Spanned<CustomValue>>,
    /// The front-matter as parsed (see [`FrontMatter`]).
    pub front_matter: FrontMatter,
    /// The content digest of this version (`digest::content_digest`), computed once.
    pub digest: String,
    /// The git object id of the file as read (see `SourceFile::blob_id`).
    pub blob_id: String,
    pub body: String,
    pub body_line: u32,
}

/// The front-matter as written. A tree while the file's own rules run; then, for the rest
/// of a run, the same content as JSON text (`Postmortem::compact`): the trees of a
/// 10k-postmortem repository took half the memory of a run.
#[derive(Clone, Debug)]
pub enum FrontMatter {
    Tree(Node),
    Json(String),
}

impl Postmortem {
    /// The parsed front-matter, until [`Postmortem::compact`].
    pub fn tree(&self) -> Option<&Node> {
        match &self.front_matter {
            FrontMatter::Tree(node) => Some(node),
            FrontMatter::Json(_) => None,
        }
    }

    /// The front-matter as JSON text, keys sorted (`digest::to_json`).
    pub fn front_matter_json(&self) -> std::borrow::Cow<'_, str> {
        match &self.front_matter {
            FrontMatter::Tree(node) => std::borrow::Cow::Owned(crate::digest::json_text(node)),
            FrontMatter::Json(text) => std::borrow::Cow::Borrowed(text),
        }
    }

    /// Trades the tree for its JSON text, and drops the lists of given keys, once the
    /// rules of the file (the only readers of both) have run.
    pub fn compact(&mut self) {
        if let FrontMatter::Tree(node) = &self.front_matter {
            self.front_matter = FrontMatter::Json(crate::digest::json_text(node));
        }
        fn forget<T>(
            list: &mut Option<Spanned<Vec<T>>>,
            given: impl Fn(&mut T) -> &mut Vec<String>,
        ) {
            for entry in list.iter_mut().flat_map(|l| l.value.iter_mut()) {
                *given(entry) = Vec::new();
            }
        }
        forget(&mut self.timeline, |e| &mut e.given);
        forget(&mut self.whys, |e| &mut e.given);
        forget(&mut self.factors, |e| &mut e.given);
        forget(&mut self.action_items, |e| &mut e.given);
        for link in &mut self.links {
            link.given = Vec::new();
        }
        for waiver in &mut self.waivers {
            waiver.given = Vec::new();
        }
    }

    /// The status rules are judged at. A missing or invalid status (already an error) is
    /// judged as a draft so one mistake does not bury the file in follow-on errors.
    pub fn status(&self) -> Status {
        self.status.as_ref().map_or(Status::Draft, |s| s.value)
    }

    pub fn items(&self) -> &[ActionItem] {
        self.action_items.as_ref().map_or(&[], |s| &s.value)
    }

    pub fn factors(&self) -> &[Factor] {
        self.factors.as_ref().map_or(&[], |s| &s.value)
    }

    /// The incident's reference moment: when it started, else when it was detected.
    pub fn incident_time(&self) -> Option<DateTime<FixedOffset>> {
        self.started_at
            .as_ref()
            .or(self.detected_at.as_ref())
            .map(|t| t.value)
    }

    pub fn metrics(&self) -> Metrics {
        let between = |a: &Option<Time>, b: &Option<Time>| match (a, b) {
            (Some(a), Some(b)) => Some(b.value - a.value),
            _ => None,
        };
        Metrics {
            time_to_detect: between(&self.started_at, &self.detected_at),
            time_to_declare: between(&self.detected_at, &self.declared_at),
            time_to_mitigate: between(&self.detected_at, &self.mitigated_at),
            time_to_resolve: between(&self.detected_at, &self.resolved_at),
        }
    }
}

/// Durations derived from the timestamps; each `None` when an end is missing.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Metrics {
    /// started → detected
    pub time_to_detect: Option<TimeDelta>,
    /// detected → declared (workflow step 1)
    pub time_to_declare: Option<TimeDelta>,
    /// detected → mitigated
    pub time_to_mitigate: Option<TimeDelta>,
    /// detected → resolved
    pub time_to_resolve: Option<TimeDelta>,
}

/// `1h 5m`-style rendering for messages and pages.
pub fn format_duration(delta: TimeDelta) -> String {
    let total = delta.num_seconds();
    let sign = if total < 0 { "-" } else { "" };
    let total = total.unsigned_abs();
    let (days, hours, minutes, seconds) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days}d"));
    }
    if hours > 0 {
        parts.push(format!("{hours}h"));
    }
    if minutes > 0 {
        parts.push(format!("{minutes}m"));
    }
    if seconds > 0 && days == 0 && hours == 0 {
        parts.push(format!("{seconds}s"));
    }
    if parts.is_empty() {
        return "0m".into();
    }
    format!("{sign}{}", parts.join(" "))
}

/// Parses `30m`, `2h`, `1h30m`, `3d`, `1w`, `45s`.
pub fn parse_duration(text: &str) -> Option<TimeDelta> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total = TimeDelta::zero();
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().ok()?;
        digits.clear();
        let part = match c {
            's' => TimeDelta::try_seconds(n)?,
            'm' => TimeDelta::try_minutes(n)?,
            'h' => TimeDelta::try_hours(n)?,
            'd' => TimeDelta::try_days(n)?,
            'w' => TimeDelta::try_weeks(n)?,
            _ => return None,
        };
        total = total.checked_add(&part)?;
    }
    digits.is_empty().then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_format() {
        assert_eq!(parse_duration("30m"), Some(TimeDelta::minutes(30)));
        assert_eq!(parse_duration("1h30m"), Some(TimeDelta::minutes(90)));
        assert_eq!(parse_duration("3d"), Some(TimeDelta::days(3)));
        assert_eq!(parse_duration("30"), None);
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(format_duration(TimeDelta::minutes(90)), "1h 30m");
        assert_eq!(format_duration(TimeDelta::minutes(48)), "48m");
        assert_eq!(
            format_duration(TimeDelta::days(2) + TimeDelta::hours(3)),
            "2d 3h"
        );
    }

    #[test]
    fn overdue_is_strictly_after_due() {
        let item = ActionItem {
            pos: Pos::START,
            given: Vec::new(),
            id: None,
            title: None,
            owner: None,
            due: Some(Spanned::new(
                NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default(),
                Pos::START,
            )),
            status: None,
            closed_at: None,
            ticket: None,
            reason: None,
        };
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap_or_default();
        assert_eq!(item.overdue_days(day(1)), None);
        assert_eq!(item.overdue_days(day(2)), Some(1));
    }
}
