//! View structs: what templates see. Built from the model once, serialised into tera
//! contexts. Every URL is relative to the site root; templates prefix `{{ root }}`, so the
//! site works under any sub-path and straight from disk.

use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate};
use chrono_tz::Tz;
use serde::Serialize;

use crate::approvals::{self, History, Kind, Trust};
use crate::config::{Config, FieldKind};
use crate::model::{format_duration, CustomValue, ItemStatus, Postmortem, Status};
use crate::render::markdown::{self, Heading};
use crate::render::trends::slug;
use crate::schema::is_http_url;

/// A link to a taxonomy page (service, tag, person, severity, year).
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Named {
    pub name: String,
    pub url: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PersonRef {
    pub handle: String,
    pub name: String,
    /// `None` for free-text names (a pager, "Support desk").
    pub url: Option<String>,
}

/// One line of a postmortem list.
#[derive(Clone, Debug, Serialize)]
pub struct Card {
    pub id: String,
    pub title: String,
    pub url: String,
    /// Local date of the incident, `YYYY-MM-DD`; empty when unknown.
    pub date: String,
    pub year: String,
    pub severity: String,
    /// 1 = most severe, for sorting and the CSS class `sev-1`.
    pub severity_rank: usize,
    pub severity_url: String,
    pub status: Status,
    pub draft: bool,
    pub services: Vec<Named>,
    pub tags: Vec<Named>,
    /// Detected → resolved.
    pub duration: Option<String>,
    pub open_items: usize,
    pub overdue_items: usize,
    pub owner: Option<PersonRef>,
    pub summary: Option<String>,
    pub signed_off: bool,
    /// When the tech lead signed off (for the time-to-publish trend).
    #[serde(skip)]
    pub signed_off_at: Option<DateTime<FixedOffset>>,
    /// Sort key: incident time as RFC 3339 in UTC.
    #[serde(skip)]
    pub sort_key: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Metric {
    pub label: String,
    pub value: Option<String>,
    /// e.g. "limit 30m" for time to declare.
    pub note: Option<String>,
    pub over_limit: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct TimelineRow {
    pub time: String,
    pub time_iso: String,
    /// `T+12m` from the start of the incident.
    pub relative: String,
    pub event: String,
    pub who: Vec<PersonRef>,
    /// The incident milestones (Detected, Declared, …) at this entry's minute.
    pub milestones: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WhyRow {
    pub why: String,
    pub because: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct FactorGroup {
    pub category: String,
    pub descriptions: Vec<String>,
}

/// An action item, on a postmortem page and on `/actions/`.
#[derive(Clone, Debug, Serialize)]
pub struct ItemView {
    pub postmortem_id: String,
    pub postmortem_title: String,
    pub postmortem_url: String,
    pub id: String,
    pub title: String,
    pub owner: Option<PersonRef>,
    pub due: Option<String>,
    pub status: ItemStatus,
    pub closed_at: Option<String>,
    pub ticket: Option<String>,
    pub reason: Option<String>,
    pub overdue_days: Option<i64>,
    pub late_days: Option<i64>,
    /// Days until due for open items not yet overdue.
    pub due_in_days: Option<i64>,
    pub due_soon: bool,
    /// The commit that recorded the closure (short id) and its date.
    pub closure_commit: Option<String>,
    pub closure_date: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WaiverView {
    pub rule: String,
    pub reason: String,
    pub item: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FieldView {
    pub label: String,
    pub value: String,
    pub url: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecordView {
    pub kind: Kind,
    pub who: PersonRef,
    pub date: String,
    pub commit: Option<String>,
    pub file: Option<String>,
    pub signature: String,
    pub current: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ApprovalView {
    pub signed_off: bool,
    pub signoff: Option<RecordView>,
    pub records: Vec<RecordView>,
    pub reviewed_by: Vec<PersonRef>,
    pub awaiting: Vec<PersonRef>,
    /// Why history could not be read, if it could not.
    pub unavailable: Option<String>,
    pub time_to_publish: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RelatedView {
    pub title: String,
    pub url: Option<String>,
    pub date: String,
    /// "listed as related" or "shares checkout-api, tooling".
    pub reason: String,
    pub explicit: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct LinkView {
    pub title: String,
    pub url: String,
}

/// Everything on a postmortem's own page.
#[derive(Clone, Debug, Serialize)]
pub struct PostmortemView {
    pub card: Card,
    pub file: String,
    pub tech_lead: Option<PersonRef>,
    pub responders: Vec<PersonRef>,
    pub times: Vec<(String, String)>,
    pub metrics: Vec<Metric>,
    pub summary: Option<String>,
    pub timeline: Vec<TimelineRow>,
    pub whys: Vec<WhyRow>,
    pub root_cause: Option<String>,
    pub factors: Vec<FactorGroup>,
    pub items: Vec<ItemView>,
    pub waivers: Vec<WaiverView>,
    pub fields: Vec<FieldView>,
    pub links: Vec<LinkView>,
    pub body_html: String,
    pub headings: Vec<Heading>,
    pub approvals: ApprovalView,
    pub related: Vec<RelatedView>,
    pub edit_url: Option<String>,
    pub digest: String,
}

/// Shared look-ups for building views.
pub struct Context<'a> {
    pub config: &'a Config,
    pub tz: Tz,
    pub today: NaiveDate,
    pub history: &'a History,
    pub trust: &'a Trust,
    pub closures: &'a crate::actions::Closures,
}

pub fn postmortem_url(id: &str) -> String {
    format!("postmortems/{id}/index.html")
}

impl Context<'_> {
    pub fn person(&self, handle: &str) -> PersonRef {
        match self.config.people.get(handle) {
            Some(p) => PersonRef {
                handle: handle.to_owned(),
                name: p.name.clone(),
                url: Some(format!("people/{}/index.html", slug(handle))),
            },
            None => PersonRef {
                handle: handle.to_owned(),
                name: handle.to_owned(),
                url: None,
            },
        }
    }

    pub fn local(&self, t: &DateTime<FixedOffset>) -> DateTime<Tz> {
        t.with_timezone(&self.tz)
    }

    pub fn time_text(&self, t: &DateTime<FixedOffset>) -> String {
        self.local(t).format("%Y-%m-%d %H:%M %Z").to_string()
    }

    fn severity_rank(&self, severity: &str) -> usize {
        self.config
            .workflow
            .severities
            .iter()
            .position(|s| s == severity)
            .map_or(0, |i| i + 1)
    }

    pub fn card(&self, pm: &Postmortem, standing: &approvals::Standing) -> Card {
        let when = pm.incident_time();
        let local = when.map(|t| self.local(&t));
        let severity = pm
            .severity
            .as_ref()
            .map(|s| s.value.clone())
            .unwrap_or_default();
        let items = pm.items();
        Card {
            id: pm.id.value.clone(),
            title: pm
                .title
                .as_ref()
                .map_or_else(|| pm.id.value.clone(), |t| t.value.clone()),
            url: postmortem_url(&pm.id.value),
            date: local
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            year: local
                .map(|t| t.format("%Y").to_string())
                .unwrap_or_default(),
            severity_rank: self.severity_rank(&severity),
            severity_url: format!("severity/{}/index.html", slug(&severity)),
            severity,
            status: pm.status(),
            draft: pm.status() < Status::Published,
            services: pm
                .services
                .iter()
                .map(|s| named("services", &s.value))
                .collect(),
            tags: pm.tags.iter().map(|t| named("tags", &t.value)).collect(),
            duration: pm.metrics().time_to_resolve.map(format_duration),
            open_items: items
                .iter()
                .filter(|i| i.status() == ItemStatus::Open)
                .count(),
            overdue_items: items
                .iter()
                .filter(|i| i.overdue_days(self.today).is_some())
                .count(),
            owner: pm.owner.as_ref().map(|o| self.person(&o.value)),
            summary: pm.summary.as_ref().map(|s| s.value.trim().to_owned()),
            signed_off: standing.signoff.is_some(),
            signed_off_at: standing.signoff.as_ref().map(|s| s.time),
            sort_key: when.map(|t| t.to_utc().to_rfc3339()).unwrap_or_default(),
        }
    }

    pub fn standing(&self, pm: &Postmortem) -> approvals::Standing {
        approvals::standing(pm, &pm.digest, self.history, self.trust)
    }

    pub fn item(&self, pm: &Postmortem, item: &crate::model::ActionItem) -> ItemView {
        let due = item.due.as_ref().map(|d| d.value);
        let due_in = due
            .filter(|_| item.status() == ItemStatus::Open)
            .map(|d| (d - self.today).num_days())
            .filter(|days| *days >= 0);
        let recorded = item
            .id
            .as_ref()
            .and_then(|id| self.closures.get(&(pm.id.value.clone(), id.value.clone())));
        ItemView {
            closure_commit: recorded.map(|r| r.commit[..r.commit.len().min(10)].to_owned()),
            closure_date: recorded.map(|r| self.local(&r.time).format("%Y-%m-%d").to_string()),
            postmortem_id: pm.id.value.clone(),
            postmortem_title: pm
                .title
                .as_ref()
                .map_or_else(|| pm.id.value.clone(), |t| t.value.clone()),
            postmortem_url: postmortem_url(&pm.id.value),
            id: item
                .id
                .as_ref()
                .map(|i| i.value.clone())
                .unwrap_or_default(),
            title: item
                .title
                .as_ref()
                .map(|t| t.value.clone())
                .unwrap_or_default(),
            owner: item.owner.as_ref().map(|o| self.person(&o.value)),
            due: due.map(|d| d.to_string()),
            status: item.status(),
            closed_at: item.closed_at.as_ref().map(|d| d.value.to_string()),
            ticket: item
                .ticket
                .as_ref()
                .map(|t| t.value.clone())
                .filter(|t| is_http_url(t)),
            reason: item.reason.as_ref().map(|r| r.value.clone()),
            overdue_days: item.overdue_days(self.today),
            late_days: item.closed_late_days(),
            due_in_days: due_in,
            due_soon: due_in.is_some_and(|d| d <= 14),
        }
    }

    pub fn postmortem(
        &self,
        pm: &Postmortem,
        card: Card,
        standing: approvals::Standing,
        related: Vec<RelatedView>,
    ) -> PostmortemView {
        let metrics = pm.metrics();
        let limit = self
            .config
            .workflow
            .declare_limit(pm.severity.as_ref().map(|s| s.value.as_str()));
        let metric = |label: &str, value: Option<chrono::TimeDelta>| Metric {
            label: label.to_owned(),
            value: value.map(format_duration),
            note: None,
            over_limit: false,
        };
        let mut declare = metric("Time to declare", metrics.time_to_declare);
        declare.note = Some(format!("limit {}", format_duration(limit)));
        declare.over_limit = metrics.time_to_declare.is_some_and(|t| t > limit);
        let times = [
            ("Started", &pm.started_at),
            ("Detected", &pm.detected_at),
            ("Declared", &pm.declared_at),
            ("Mitigated", &pm.mitigated_at),
            ("Resolved", &pm.resolved_at),
        ]
        .into_iter()
        .filter_map(|(label, t)| {
            t.as_ref()
                .map(|t| (label.to_owned(), self.time_text(&t.value)))
        })
        .collect::<Vec<(String, String)>>();
        let origin = pm.incident_time().or_else(|| {
            pm.timeline
                .as_ref()
                .and_then(|t| t.value.first())
                .and_then(|e| e.at.as_ref())
                .map(|a| a.value)
        });
        let timeline = pm
            .timeline
            .as_ref()
            .map(|t| {
                t.value
                    .iter()
                    .map(|entry| {
                        let time = entry
                            .at
                            .as_ref()
                            .map(|a| self.local(&a.value).format("%Y-%m-%d %H:%M").to_string())
                            .unwrap_or_default();
                        let milestones = times
                            .iter()
                            .filter(|(_, at)| !time.is_empty() && at.starts_with(&time))
                            .map(|(label, _)| label.clone())
                            .collect();
                        TimelineRow {
                            time,
                            milestones,
                            time_iso: entry
                                .at
                                .as_ref()
                                .map(|a| a.value.to_rfc3339())
                                .unwrap_or_default(),
                            relative: match (origin, entry.at.as_ref()) {
                                (Some(o), Some(a)) => relative(a.value - o),
                                _ => String::new(),
                            },
                            event: entry
                                .event
                                .as_ref()
                                .map(|e| e.value.clone())
                                .unwrap_or_default(),
                            who: entry.who.iter().map(|w| self.person(&w.value)).collect(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let whys = pm
            .whys
            .as_ref()
            .map(|w| {
                w.value
                    .iter()
                    .map(|why| WhyRow {
                        why: why
                            .why
                            .as_ref()
                            .map(|t| t.value.clone())
                            .unwrap_or_default(),
                        because: why
                            .because
                            .as_ref()
                            .map(|t| t.value.clone())
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut factor_map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in pm.factors() {
            let category = f
                .category
                .as_ref()
                .map_or_else(|| "uncategorised".to_owned(), |c| c.value.clone());
            factor_map.entry(category).or_default().push(
                f.description
                    .as_ref()
                    .map(|d| d.value.clone())
                    .unwrap_or_default(),
            );
        }
        // Configured order first, then anything else alphabetically.
        let order = &self.config.workflow.factor_categories;
        let mut factors: Vec<FactorGroup> = factor_map
            .into_iter()
            .map(|(category, descriptions)| FactorGroup {
                category,
                descriptions,
            })
            .collect();
        factors.sort_by_key(|g| {
            (
                order
                    .iter()
                    .position(|c| *c == g.category)
                    .unwrap_or(usize::MAX),
                g.category.clone(),
            )
        });
        let fields = self
            .config
            .fields
            .iter()
            .filter_map(|(name, spec)| {
                let value = pm.custom.get(name)?;
                let text = match &value.value {
                    CustomValue::Text(t) => t.trim().to_owned(),
                    CustomValue::Number(n) => n.to_string(),
                    CustomValue::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
                    CustomValue::Date(d) => d.to_string(),
                    CustomValue::DateTime(t) => self.time_text(t),
                    CustomValue::List(items) => items.join(", "),
                };
                let url = (spec.kind == FieldKind::Url && is_http_url(&text)).then(|| text.clone());
                Some(FieldView {
                    label: spec.label.clone(),
                    value: text,
                    url,
                })
            })
            .collect();
        let links = pm
            .links
            .iter()
            .filter_map(|l| {
                let url = l.url.as_ref()?.value.clone();
                is_http_url(&url).then(|| LinkView {
                    title: l
                        .title
                        .as_ref()
                        .map_or_else(|| url.clone(), |t| t.value.clone()),
                    url,
                })
            })
            .collect();
        let (body_html, headings) = markdown::render(&pm.body);
        let record = |r: &approvals::Record| RecordView {
            kind: r.kind,
            who: r.person.as_deref().map_or_else(
                || PersonRef {
                    handle: r.who.clone(),
                    name: r.who.clone(),
                    url: None,
                },
                |h| self.person(h),
            ),
            date: self.local(&r.time).format("%Y-%m-%d %H:%M %Z").to_string(),
            commit: r.commit.as_ref().map(|c| c[..c.len().min(10)].to_owned()),
            file: r.file.clone(),
            signature: r.signature.clone(),
            current: r.digest == "current",
        };
        let time_to_publish = match (&standing.signoff, &pm.resolved_at) {
            (Some(s), Some(resolved)) => Some(format_duration(s.time - resolved.value)),
            _ => None,
        };
        let approvals = ApprovalView {
            signed_off: standing.signoff.is_some(),
            signoff: standing.signoff.as_ref().map(record),
            records: standing.records.iter().map(record).collect(),
            reviewed_by: standing
                .reviewed_by
                .iter()
                .map(|h| self.person(h))
                .collect(),
            awaiting: standing
                .awaiting_review
                .iter()
                .map(|h| self.person(h))
                .collect(),
            unavailable: self.history.available.as_ref().err().cloned(),
            time_to_publish,
        };
        PostmortemView {
            file: pm.file.clone(),
            tech_lead: pm.tech_lead.as_ref().map(|t| self.person(&t.value)),
            responders: pm
                .responders
                .as_ref()
                .map(|r| r.value.iter().map(|h| self.person(&h.value)).collect())
                .unwrap_or_default(),
            times,
            metrics: vec![
                metric("Time to detect", metrics.time_to_detect),
                declare,
                metric("Time to mitigate", metrics.time_to_mitigate),
                metric("Time to resolve", metrics.time_to_resolve),
            ],
            summary: pm.summary.as_ref().map(|s| s.value.trim().to_owned()),
            timeline,
            whys,
            root_cause: pm.root_cause.as_ref().map(|r| r.value.trim().to_owned()),
            factors,
            items: pm.items().iter().map(|i| self.item(pm, i)).collect(),
            waivers: pm
                .waivers
                .iter()
                .filter_map(|w| {
                    Some(WaiverView {
                        rule: w.rule.as_ref()?.value.clone(),
                        reason: w.reason.as_ref()?.value.trim().to_owned(),
                        item: w.item.as_ref().map(|i| i.value.clone()),
                    })
                })
                .collect(),
            fields,
            links,
            body_html,
            headings,
            approvals,
            related,
            edit_url: self.edit_url(&pm.file),
            digest: standing.digest,
            card,
        }
    }

    fn edit_url(&self, file: &str) -> Option<String> {
        let repo = self.config.site.repo_url.as_deref()?;
        let url = if repo.contains("{path}") {
            repo.replace("{path}", file)
        } else {
            format!("{}/edit/main/{file}", repo.trim_end_matches('/'))
        };
        is_http_url(&url).then_some(url)
    }
}

pub fn named(kind: &str, name: &str) -> Named {
    Named {
        name: name.to_owned(),
        url: format!("{kind}/{}/index.html", slug(name)),
    }
}

/// `T+12m`, `T+1h 5m`, `T-3m` (an entry before the start).
pub fn relative(delta: chrono::TimeDelta) -> String {
    if delta < chrono::TimeDelta::zero() {
        format!("T-{}", format_duration(-delta))
    } else {
        format!("T+{}", format_duration(delta))
    }
}

/// The services, factor categories and tags of a postmortem, with their weight in
/// suggestions: the keys related incidents share.
fn related_keys(pm: &Postmortem) -> impl Iterator<Item = (usize, &str, u32)> {
    pm.services
        .iter()
        .map(|s| (0, s.value.as_str(), 3))
        .chain(
            pm.factors()
                .iter()
                .filter_map(|f| f.category.as_ref())
                .map(|c| (1, c.value.as_str(), 2)),
        )
        .chain(pm.tags.iter().map(|t| (2, t.value.as_str(), 1)))
}

/// Who shares which key, in time order, over one ordered list of postmortems: built once
/// per rendering, and kept by `serve` while no edit changes a postmortem's keys, time, id
/// or publication (see [`related_signature`]).
pub struct RelatedIndex {
    /// key → positions by kind (service, factor category, tag), sorted by (time, position).
    postings: HashMap<String, [Vec<usize>; 3]>,
    times: Vec<i64>,
    by_id: HashMap<String, usize>,
    ids: Vec<String>,
}

impl RelatedIndex {
    pub fn new(postmortems: &[&Postmortem]) -> RelatedIndex {
        let mut postings: HashMap<String, [Vec<usize>; 3]> = HashMap::new();
        for (i, pm) in postmortems.iter().enumerate() {
            for (kind, key, _) in related_keys(pm) {
                match postings.get_mut(key) {
                    Some(lists) => lists[kind].push(i),
                    None => {
                        let mut lists: [Vec<usize>; 3] = Default::default();
                        lists[kind].push(i);
                        postings.insert(key.to_owned(), lists);
                    }
                }
            }
        }
        let times: Vec<i64> = postmortems
            .iter()
            .map(|p| p.incident_time().map_or(0, |t| t.timestamp()))
            .collect();
        for list in postings.values_mut().flatten() {
            list.sort_by_key(|&i| (times[i], i));
            list.dedup();
        }
        let ids: Vec<String> = postmortems.iter().map(|p| p.id.value.clone()).collect();
        let by_id = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        RelatedIndex {
            postings,
            times,
            by_id,
            ids,
        }
    }

    /// The ids of the postmortems whose suggestions may include `pm` (as this index knows
    /// it): its neighbours in time under each key it has. Suggestions are symmetric in
    /// this, so these are also the only ones `pm`'s page may suggest.
    pub fn neighbours(&self, pm: &Postmortem) -> Vec<&str> {
        let Some(&at) = self.by_id.get(&pm.id.value) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for (kind, key, _) in related_keys(pm) {
            let Some(list) = self.postings.get(key).map(|lists| &lists[kind]) else {
                continue;
            };
            let key = (self.times[at], at);
            let Ok(pos) = list.binary_search_by_key(&key, |&j| (self.times[j], j)) else {
                continue;
            };
            let range = pos.saturating_sub(NEIGHBOURS)..(pos + NEIGHBOURS + 1).min(list.len());
            found.extend(
                list[range]
                    .iter()
                    .filter(|&&j| j != at)
                    .map(|&j| self.ids[j].as_str()),
            );
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// How many incidents before and after in time a suggestion may come from, per key.
const NEIGHBOURS: usize = 25;

/// A postmortem's id, time, status and keys, as [`related_signature`] gives them.
pub type RelatedSignature = (
    String,
    Option<DateTime<FixedOffset>>,
    Status,
    Vec<(usize, String)>,
);

/// What a postmortem contributes to a [`RelatedIndex`]: while this stays the same after
/// an edit (and no postmortem comes or goes), the index stays valid.
pub fn related_signature(pm: &Postmortem) -> RelatedSignature {
    (
        pm.id.value.clone(),
        // The instant to the nanosecond: the site's order depends on all of it.
        pm.incident_time(),
        pm.status(),
        related_keys(pm)
            .map(|(kind, key, _)| (kind, key.to_owned()))
            .collect(),
    )
}

/// Related incidents of `postmortems[i]` for each `i` in `which`: the explicit `related`
/// list, then up to five suggestions that share services, factor categories or tags.
/// Candidates come from per-key posting lists capped to the nearest incidents in time, so
/// the work per postmortem is bounded (no O(n²)). `index` is that of `postmortems`.
pub fn related(
    index: &RelatedIndex,
    postmortems: &[&Postmortem],
    cards: &[&Card],
    which: &[usize],
) -> Vec<Vec<RelatedView>> {
    const SUGGESTIONS: usize = 5;
    let time = |i: usize| index.times[i];
    let by_id = &index.by_id;
    which
        .par_iter()
        .map(|&i| {
            let pm = postmortems[i];
            let mut out: Vec<RelatedView> = pm
                .related
                .iter()
                .map(|r| match by_id.get(r.value.as_str()) {
                    Some(&other) => {
                        let card = cards[other];
                        RelatedView {
                            title: card.title.clone(),
                            url: Some(card.url.clone()),
                            date: card.date.clone(),
                            reason: "listed as related".into(),
                            explicit: true,
                        }
                    }
                    None => RelatedView {
                        title: r.value.clone(),
                        url: None,
                        date: String::new(),
                        reason: "listed as related (not published)".into(),
                        explicit: true,
                    },
                })
                .collect();
            let mut scores: HashMap<usize, (u32, Vec<String>)> = HashMap::new();
            for (kind, key, weight) in related_keys(pm) {
                let Some(list) = index.postings.get(key).map(|lists| &lists[kind]) else {
                    continue;
                };
                let Ok(pos) = list.binary_search_by_key(&(time(i), i), |&j| (time(j), j)) else {
                    continue;
                };
                let start = pos.saturating_sub(NEIGHBOURS);
                let end = (pos + NEIGHBOURS + 1).min(list.len());
                for &j in &list[start..end] {
                    if j == i {
                        continue;
                    }
                    let entry = scores.entry(j).or_default();
                    if !entry.1.iter().any(|k| k == key) {
                        entry.0 += weight;
                        entry.1.push(key.to_owned());
                    }
                }
            }
            let explicit: Vec<&str> = pm.related.iter().map(|r| r.value.as_str()).collect();
            let mut ranked: Vec<(usize, u32, Vec<String>)> = scores
                .into_iter()
                .filter(|(j, (score, _))| {
                    *score >= 3 && !explicit.contains(&postmortems[*j].id.value.as_str())
                })
                .map(|(j, (score, keys))| (j, score, keys))
                .collect();
            ranked.sort_by(|a, b| {
                b.1.cmp(&a.1)
                    .then(time(b.0).cmp(&time(a.0)))
                    .then(postmortems[a.0].id.value.cmp(&postmortems[b.0].id.value))
            });
            for (j, _, keys) in ranked.into_iter().take(SUGGESTIONS) {
                let card = &cards[j];
                out.push(RelatedView {
                    title: card.title.clone(),
                    url: Some(card.url.clone()),
                    date: card.date.clone(),
                    reason: format!("shares {}", keys.join(", ")),
                    explicit: false,
                });
            }
            out
        })
        .collect()
}
