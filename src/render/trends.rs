//! Trend pages: aggregates over all incidents, each as a chart (inline SVG) and a table.
//!
//! [`compute`] is pure: incidents, configuration and `today` in, a serializable [`Trends`] out.
//! Incidents fall into the month and quarter of their own local date (the UTC offset written
//! in their front-matter), so an incident at 23:30 on 31 December in New York is a Q4 incident
//! even though it is already January in UTC. Every aggregate is a single pass plus sorting
//! (n·log n); maps are `BTreeMap`s and percentages use integer arithmetic, so the output is
//! byte-for-byte reproducible.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeDelta};
use serde::Serialize;

use super::svg::{self, Chart};
use crate::model::format_duration;

/// Longest span of months shown by the per-month chart (older months are left out).
pub const MAX_MONTHS: usize = 36;
/// Longest span of quarters shown by the quarterly charts and tables (36 months).
pub const MAX_QUARTERS: usize = 12;
/// A service or factor category hit again within this many days (24 h each) is recurring.
pub const RECURRENCE_DAYS: i64 = 90;
/// How many services and tags the "top" charts show.
pub const TOP: usize = 10;
/// Most recurrences listed in the table (the newest); the chart counts all of them.
pub const MAX_RECURRENCE_ROWS: usize = 200;

/// One incident, already reduced to the facts the trends need (built by the caller).
#[derive(Clone, Debug)]
pub struct Incident<'a> {
    pub id: &'a str,
    pub title: &'a str,
    /// Site-root-relative link to its page, e.g. "postmortems/<id>/index.html".
    pub url: String,
    pub severity: &'a str,
    /// When it started (or was detected): places it in a month and a quarter.
    pub at: DateTime<FixedOffset>,
    pub services: Vec<&'a str>,
    pub tags: Vec<&'a str>,
    pub factor_categories: Vec<&'a str>,
    /// started → detected
    pub time_to_detect: Option<TimeDelta>,
    /// detected → declared
    pub time_to_declare: Option<TimeDelta>,
    /// detected → mitigated
    pub time_to_mitigate: Option<TimeDelta>,
    /// detected → resolved
    pub time_to_resolve: Option<TimeDelta>,
    /// Declared within the configured limit for its severity (None if timestamps missing).
    pub declared_within_limit: Option<bool>,
    /// resolved → sign-off commit (publication), when known from git.
    pub time_to_publish: Option<TimeDelta>,
    pub items: Vec<ItemFacts>,
}

/// The facts about one action item that on-time closure needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemFacts {
    pub due: Option<NaiveDate>,
    pub closed_at: Option<NaiveDate>,
    pub done: bool,
    pub wontfix: bool,
}

/// Everything the trends template needs: one [`Section`] per chart, in page order.
#[derive(Clone, Debug, Serialize)]
pub struct Trends {
    /// No incidents at all: every section is `empty` too.
    pub empty: bool,
    pub incident_count: usize,
    /// 1. Incidents per month, stacked by severity.
    pub per_month: Section,
    /// 2. Time to detect / declare / mitigate / resolve per quarter (median, p90).
    pub response_times: Section,
    /// 3. Share of incidents declared within the limit, per quarter.
    pub declared: Section,
    /// 4. Contributing-factor categories per quarter.
    pub factors: Section,
    /// 5a. The services with most incidents.
    pub top_services: Section,
    /// 5b. The tags with most incidents.
    pub top_tags: Section,
    /// 6. Services and factor categories hit again within [`RECURRENCE_DAYS`].
    pub recurring: Section,
    /// The same recurrences as `recurring.rows`, typed (newest first, at most
    /// [`MAX_RECURRENCE_ROWS`]).
    pub recurrences: Vec<Recurrence>,
    /// 7. On-time closure of action items, per quarter of the due date.
    pub closure: Section,
    /// 8. Time from resolution to sign-off, per quarter (median, p90).
    pub publish: Section,
}

impl Trends {
    /// The sections in page order.
    pub fn sections(&self) -> [&Section; 9] {
        [
            &self.per_month,
            &self.response_times,
            &self.declared,
            &self.factors,
            &self.top_services,
            &self.top_tags,
            &self.recurring,
            &self.closure,
            &self.publish,
        ]
    }
}

/// One chart with the same data as a table.
///
/// `svg` is finished, escaped markup (insert it unescaped); every other string is plain text
/// for the template to escape.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    /// Stable kebab-case id, usable as the section's anchor; the chart's ids are `chart-<id>…`.
    pub id: String,
    pub title: String,
    /// What is counted and how, in a sentence or two.
    pub description: String,
    /// A headline figure, e.g. "Overall 80.0% (40 of 50)".
    pub summary: Option<String>,
    /// What the chart leaves out, e.g. months before a 36-month window.
    pub note: Option<String>,
    /// No data: show `empty_text` (the `svg` then just says "No data yet").
    pub empty: bool,
    pub empty_text: String,
    pub svg: String,
    pub columns: Vec<String>,
    /// Right-align this column (numbers), one entry per column.
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
    /// Same shape as `rows`: the link target of a cell, if it has one.
    pub links: Vec<Vec<Option<String>>>,
}

impl Section {
    fn new(id: &str, title: &str, description: &str) -> Section {
        Section {
            id: id.to_string(),
            title: title.to_string(),
            description: description.to_string(),
            summary: None,
            note: None,
            empty: false,
            empty_text: String::new(),
            svg: String::new(),
            columns: Vec::new(),
            numeric: Vec::new(),
            rows: Vec::new(),
            links: Vec::new(),
        }
    }

    fn chart_id(&self) -> String {
        format!("chart-{}", self.id)
    }

    /// Sets the table header; the first column is text, the others numbers unless listed.
    fn set_columns<S: Into<String>>(&mut self, columns: impl IntoIterator<Item = S>) {
        self.columns = columns.into_iter().map(Into::into).collect();
        self.numeric = (0..self.columns.len()).map(|i| i > 0).collect();
    }

    fn push_row(&mut self, row: Vec<String>) {
        self.links.push(vec![None; row.len()]);
        self.rows.push(row);
    }

    /// Marks the section as having no data, with `text` explaining what is missing.
    fn into_empty(mut self, text: &str) -> Section {
        let id = self.chart_id();
        self.svg = svg::no_data(
            &Chart {
                id: &id,
                title: &self.title,
                desc: text,
            },
            "No data yet",
        );
        self.empty = true;
        self.empty_text = text.to_string();
        self.rows.clear();
        self.links.clear();
        self
    }
}

/// A service or factor category that came back within [`RECURRENCE_DAYS`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recurrence {
    /// `"service"` or `"factor"`.
    pub kind: &'static str,
    pub name: String,
    pub earlier: IncidentRef,
    pub later: IncidentRef,
    /// Whole days from the earlier start to the later one (rounded down).
    pub days: i64,
}

/// An incident as a link target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IncidentRef {
    pub id: String,
    pub title: String,
    /// With the `root` prefix given to [`compute`].
    pub url: String,
    /// Its local start date, `YYYY-MM-DD`.
    pub date: String,
}

/// Folder name for a service or tag page: lowercase, each run of characters that are not
/// alphanumeric becomes one `-`, no `-` at either end. A name with no alphanumeric character
/// at all becomes `x` and the hex of its UTF-8 bytes, so it still gets a distinct, non-empty
/// folder.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push('x');
        for byte in s.bytes() {
            out.push_str(&format!("{byte:02x}"));
        }
    }
    out
}

/// Nearest-rank percentile of an ascending slice: the smallest value such that at least `p`
/// percent of the values are less than or equal to it, i.e. the value at 1-based rank
/// ⌈p/100 · n⌉ (at least rank 1). Always one of the values, never an interpolation: the
/// median of 1..=10 is 5 and its p90 is 9; with a single value every percentile is that value.
/// `None` for an empty slice.
pub fn percentile<T: Copy>(sorted: &[T], p: u32) -> Option<T> {
    let n = sorted.len();
    let rank = (p as usize * n).div_ceil(100).clamp(1, n.max(1));
    sorted.get(rank - 1).copied()
}

/// How one action item counts towards on-time closure as of `today`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closure {
    /// Done, closed on or before its due date.
    OnTime,
    /// Done, closed after its due date.
    Late,
    /// Still open and its due date has passed (an item due today is not overdue yet).
    Overdue,
    /// Still open and not yet due: not counted.
    NotYetDue,
    /// Done but without a closing date: not counted.
    ClosedDateUnknown,
    /// No due date, or `wontfix`: not counted.
    Excluded,
}

impl Closure {
    /// Counts towards the on-time rate (as on time or as not on time).
    pub fn counted(self) -> bool {
        matches!(self, Closure::OnTime | Closure::Late | Closure::Overdue)
    }
}

/// Classifies an action item for the on-time closure rate.
pub fn classify(item: &ItemFacts, today: NaiveDate) -> Closure {
    let Some(due) = item.due else {
        return Closure::Excluded;
    };
    if item.wontfix {
        return Closure::Excluded;
    }
    match (item.done, item.closed_at) {
        (true, Some(closed)) if closed <= due => Closure::OnTime,
        (true, Some(_)) => Closure::Late,
        (true, None) => Closure::ClosedDateUnknown,
        (false, _) if due < today => Closure::Overdue,
        (false, _) => Closure::NotYetDue,
    }
}

/// Computes every trend section from `incidents`. `severities` are the configured ones, most
/// severe first; `categories` the configured factor categories; unknown values found in the
/// incidents are added after them in name order. `root` is prefixed to every link.
pub fn compute(
    incidents: &[Incident],
    severities: &[String],
    categories: &[String],
    today: NaiveDate,
    root: &str,
) -> Trends {
    let dates: Vec<NaiveDate> = incidents.iter().map(|i| i.at.date_naive()).collect();
    let quarters = Window::over(dates.iter().map(|&d| quarter_index(d)), MAX_QUARTERS);
    let ctx = Ctx {
        incidents,
        dates: &dates,
        quarters,
        root,
    };
    let (recurring, recurrences) = recurring(&ctx);
    Trends {
        empty: incidents.is_empty(),
        incident_count: incidents.len(),
        per_month: per_month(&ctx, severities),
        response_times: response_times(&ctx),
        declared: declared(&ctx),
        factors: factors(&ctx, categories),
        top_services: top(&ctx, Kind::Services),
        top_tags: top(&ctx, Kind::Tags),
        recurring,
        recurrences,
        closure: closure(incidents, today),
        publish: publish(&ctx),
    }
}

/// Shared inputs of the section builders.
struct Ctx<'c, 'a> {
    incidents: &'c [Incident<'a>],
    /// Local start date of each incident.
    dates: &'c [NaiveDate],
    /// Quarters shown by the incident-based quarterly sections.
    quarters: Option<Window>,
    root: &'c str,
}

impl Ctx<'_, '_> {
    /// Incidents with their local dates.
    fn each(&self) -> impl Iterator<Item = (&Incident<'_>, NaiveDate)> {
        self.incidents.iter().zip(self.dates.iter().copied())
    }

    fn quarter_note(&self) -> Option<String> {
        self.quarters
            .and_then(|w| w.note(quarter_label, "quarters"))
    }
}

/// Months and quarters as consecutive integers (`year·12 + month0`, `year·4 + quarter0`).
fn month_index(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

fn quarter_index(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 4 + i64::from(d.month0() / 3)
}

/// `2026-02`
fn month_label(index: i64) -> String {
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

/// `2026 Q1`
fn quarter_label(index: i64) -> String {
    format!("{} Q{}", index.div_euclid(4), index.rem_euclid(4) + 1)
}

/// A continuous range of periods ending at the latest one, at most `max` long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    start: i64,
    end: i64,
    /// The first period with data, before `start` when the window cut it off.
    first: i64,
}

impl Window {
    fn over(periods: impl Iterator<Item = i64>, max: usize) -> Option<Window> {
        let (first, end) = periods.fold(None, |acc: Option<(i64, i64)>, p| match acc {
            None => Some((p, p)),
            Some((lo, hi)) => Some((lo.min(p), hi.max(p))),
        })?;
        let span = i64::try_from(max).unwrap_or(i64::MAX).max(1);
        Some(Window {
            start: first.max(end - span + 1),
            end,
            first,
        })
    }

    fn len(&self) -> usize {
        usize::try_from(self.end - self.start + 1).unwrap_or(0)
    }

    /// Position of `period` in the window.
    fn pos(&self, period: i64) -> Option<usize> {
        (self.start..=self.end)
            .contains(&period)
            .then(|| usize::try_from(period - self.start).ok())
            .flatten()
    }

    fn periods(&self) -> impl Iterator<Item = i64> {
        self.start..=self.end
    }

    fn labels(&self, label: fn(i64) -> String) -> Vec<String> {
        self.periods().map(label).collect()
    }

    fn note(&self, label: fn(i64) -> String, unit: &str) -> Option<String> {
        (self.first < self.start).then(|| {
            format!(
                "Showing the last {} {unit} ({} to {}); data from {} to {} is left out.",
                self.len(),
                label(self.start),
                label(self.end),
                label(self.first),
                label(self.start - 1)
            )
        })
    }
}

/// Configured names first (in their order, without duplicates), then names only found in the
/// data, sorted; with the index of each name.
fn ordered_names<'n>(
    configured: &'n [String],
    found: impl Iterator<Item = &'n str>,
) -> (Vec<String>, BTreeMap<&'n str, usize>) {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut names = Vec::new();
    for name in configured {
        if !index.contains_key(name.as_str()) {
            index.insert(name, names.len());
            names.push(name.clone());
        }
    }
    let unknown: BTreeSet<&str> = found.filter(|n| !index.contains_key(n)).collect();
    for name in unknown {
        index.insert(name, names.len());
        names.push(name.to_string());
    }
    (names, index)
}

/// Series for a stacked chart: `<prefix> <prefix>-k` classes cycling through the palette.
fn palette_series(names: &[String], prefix: &str) -> Vec<svg::Series> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| svg::Series {
            name: name.clone(),
            class: format!("{prefix} {prefix}-{}", i % svg::HATCHES + 1),
            hatch: svg::hatch_for(i),
        })
        .collect()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `num / den` as a percentage with one decimal, rounded half up in integer arithmetic.
fn percent(num: u64, den: u64) -> String {
    if den == 0 {
        return "—".into();
    }
    let tenths = (u128::from(num) * 2000 + u128::from(den)) / (2 * u128::from(den));
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// `num / den` as a whole percentage, for chart labels.
fn percent_whole(num: u64, den: u64) -> String {
    if den == 0 {
        return "—".into();
    }
    format!(
        "{}%",
        (u128::from(num) * 200 + u128::from(den)) / (2 * u128::from(den))
    )
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 * 100.0 / den as f64)
}

/// Sorted non-negative durations in seconds, with their summary figures.
#[derive(Clone, Debug, Default)]
struct Sample(Vec<i64>);

impl Sample {
    fn push(&mut self, delta: Option<TimeDelta>, skipped: &mut usize) {
        match delta {
            Some(d) if d >= TimeDelta::zero() => self.0.push(d.num_seconds()),
            Some(_) => *skipped += 1,
            None => {}
        }
    }

    fn sort(&mut self) {
        self.0.sort_unstable();
    }

    fn median(&self) -> Option<i64> {
        percentile(&self.0, 50)
    }

    fn p90(&self) -> Option<i64> {
        percentile(&self.0, 90)
    }
}

fn duration_text(seconds: Option<i64>) -> String {
    seconds
        .and_then(TimeDelta::try_seconds)
        .map_or_else(|| "—".into(), format_duration)
}

/// A duration axis with steps of round durations (10 s … 30 d), at most five above zero.
fn duration_axis(max_seconds: i64) -> svg::Axis {
    const STEPS: [u64; 18] = [
        10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800,
        604_800, 1_209_600, 2_592_000,
    ];
    const MONTH: u64 = 2_592_000;
    let max = u64::try_from(max_seconds).unwrap_or(0);
    let step = STEPS
        .iter()
        .copied()
        .find(|&s| max.div_ceil(s) <= 5)
        .unwrap_or_else(|| max.div_ceil(5 * MONTH) * MONTH);
    let steps = max.div_ceil(step).max(1);
    let label = |k: u64| {
        let secs = i64::try_from(k * step).unwrap_or(i64::MAX);
        if k == 0 {
            "0".to_string()
        } else {
            duration_text(Some(secs))
        }
    };
    svg::Axis {
        max: (steps * step) as f64,
        ticks: (0..=steps).map(|k| ((k * step) as f64, label(k))).collect(),
    }
}

/// A median/p90 panel over `samples` (one per quarter of `window`).
fn stats_panel(title: &str, what: &str, window: &Window, samples: &[&Sample]) -> svg::Panel {
    let labels = window.labels(quarter_label);
    let max = samples.iter().filter_map(|s| s.p90()).max().unwrap_or(0);
    let line = |name: &str, class: &str, marker, pick: fn(&Sample) -> Option<i64>| svg::Line {
        name: name.to_string(),
        class: class.to_string(),
        marker,
        values: samples.iter().map(|s| pick(s).map(|v| v as f64)).collect(),
        tooltips: labels
            .iter()
            .zip(samples)
            .map(|(quarter, s)| {
                format!(
                    "{quarter}: {what} {name} {} (n={})",
                    duration_text(pick(s)),
                    s.0.len()
                )
            })
            .collect(),
    };
    svg::Panel {
        title: title.to_string(),
        lines: vec![
            line(
                "median",
                "series-median",
                svg::Marker::Circle,
                Sample::median,
            ),
            line("p90", "series-p90", svg::Marker::Square, Sample::p90),
        ],
        x_labels: labels,
        axis: duration_axis(max),
    }
}

fn skipped_note(skipped: usize) -> Option<String> {
    (skipped > 0).then(|| {
        format!(
            "{} (timestamps out of order) left out.",
            plural(skipped, "negative duration", "negative durations")
        )
    })
}

fn join_notes(notes: impl IntoIterator<Item = Option<String>>) -> Option<String> {
    let notes: Vec<String> = notes.into_iter().flatten().collect();
    (!notes.is_empty()).then(|| notes.join(" "))
}

fn per_month(ctx: &Ctx, severities: &[String]) -> Section {
    let mut section = Section::new(
        "incidents-per-month",
        "Incidents per month by severity",
        "Each incident counts in the month it started (or was detected), by its own local date.",
    );
    let Some(window) = Window::over(ctx.dates.iter().map(|&d| month_index(d)), MAX_MONTHS) else {
        return section.into_empty("No incidents yet.");
    };
    let (names, index) = ordered_names(severities, ctx.incidents.iter().map(|i| i.severity));
    let mut counts = vec![vec![0u64; names.len()]; window.len()];
    for (incident, date) in ctx.each() {
        if let (Some(p), Some(&s)) = (window.pos(month_index(date)), index.get(incident.severity)) {
            counts[p][s] += 1;
        }
    }
    let labels = window.labels(month_label);
    section.set_columns(
        std::iter::once("Month".to_string())
            .chain(names.iter().cloned())
            .chain(std::iter::once("Total".to_string())),
    );
    for (label, row) in labels.iter().zip(&counts) {
        let mut cells = vec![label.clone()];
        cells.extend(row.iter().map(u64::to_string));
        cells.push(row.iter().sum::<u64>().to_string());
        section.push_row(cells);
    }
    section.summary = Some(format!(
        "{} from {} to {}",
        plural(ctx.incidents.len(), "incident", "incidents"),
        month_label(window.first),
        month_label(window.end)
    ));
    section.note = window.note(month_label, "months");
    let series = palette_series(&names, "sev");
    let id = section.chart_id();
    let desc = format!(
        "Stacked bars: incidents per month from {} to {}, one segment per severity ({}). The table lists the same numbers.",
        month_label(window.start),
        month_label(window.end),
        names.join(", ")
    );
    section.svg = svg::stacked_bars(&svg::StackedBars {
        chart: Chart {
            id: &id,
            title: &section.title,
            desc: &desc,
        },
        x_labels: &labels,
        series: &series,
        values: &counts,
        x_label: "Month",
        y_label: "Incidents",
    });
    section
}

const METRICS: [(&str, &str); 4] = [
    ("Detect", "time to detect"),
    ("Declare", "time to declare"),
    ("Mitigate", "time to mitigate"),
    ("Resolve", "time to resolve"),
];

fn response_times(ctx: &Ctx) -> Section {
    let mut section = Section::new(
        "response-times",
        "Time to detect, declare, mitigate and resolve",
        "Median and 90th percentile per quarter of the incident's start. Percentiles use the \
         nearest-rank method: the p90 is the smallest value that at least 90% of the incidents \
         do not exceed. Detect runs from start to detection, the others from detection.",
    );
    let Some(window) = ctx.quarters else {
        return section.into_empty("No incidents yet.");
    };
    let mut samples: Vec<[Sample; 4]> = vec![Default::default(); window.len()];
    let mut skipped = 0;
    for (incident, date) in ctx.each() {
        let Some(p) = window.pos(quarter_index(date)) else {
            continue;
        };
        let deltas = [
            incident.time_to_detect,
            incident.time_to_declare,
            incident.time_to_mitigate,
            incident.time_to_resolve,
        ];
        for (sample, delta) in samples[p].iter_mut().zip(deltas) {
            sample.push(delta, &mut skipped);
        }
    }
    if samples.iter().flatten().all(|s| s.0.is_empty()) {
        return section.into_empty(
            "No data yet: no incident in this period has detection, declaration, mitigation \
             or resolution times.",
        );
    }
    samples.iter_mut().flatten().for_each(Sample::sort);
    let mut columns = vec!["Quarter".to_string()];
    for (short, _) in METRICS {
        columns.extend([
            format!("{short} median"),
            format!("{short} p90"),
            format!("{short} n"),
        ]);
    }
    section.set_columns(columns);
    for (quarter, row) in window.periods().zip(&samples) {
        let mut cells = vec![quarter_label(quarter)];
        for sample in row {
            cells.extend([
                duration_text(sample.median()),
                duration_text(sample.p90()),
                sample.0.len().to_string(),
            ]);
        }
        section.push_row(cells);
    }
    section.note = join_notes([ctx.quarter_note(), skipped_note(skipped)]);
    let panels: Vec<svg::Panel> = METRICS
        .iter()
        .enumerate()
        .map(|(k, (_, what))| {
            let column: Vec<&Sample> = samples.iter().map(|row| &row[k]).collect();
            let mut title = what.to_string();
            if let Some(first) = title.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            stats_panel(&title, what, &window, &column)
        })
        .collect();
    let id = section.chart_id();
    let desc = format!(
        "Four line charts, one per metric, from {} to {}: the median as a solid line with \
         circles, the 90th percentile as a dashed line with squares. The table lists the same \
         numbers.",
        quarter_label(window.start),
        quarter_label(window.end)
    );
    section.svg = svg::small_multiples(
        &Chart {
            id: &id,
            title: &section.title,
            desc: &desc,
        },
        &panels,
        2,
    );
    section
}

fn declared(ctx: &Ctx) -> Section {
    let mut section = Section::new(
        "declared-within-limit",
        "Declared within the limit",
        "Share of incidents declared within the configured time for their severity, per quarter \
         of the incident's start. Incidents without detection or declaration time are not counted.",
    );
    let Some(window) = ctx.quarters else {
        return section.into_empty("No incidents yet.");
    };
    let mut counts = vec![(0u64, 0u64); window.len()];
    for (incident, date) in ctx.each() {
        if let (Some(p), Some(within)) = (
            window.pos(quarter_index(date)),
            incident.declared_within_limit,
        ) {
            counts[p].0 += u64::from(within);
            counts[p].1 += 1;
        }
    }
    let (within, total) = counts.iter().fold((0, 0), |(a, b), &(w, t)| (a + w, b + t));
    if total == 0 {
        return section.into_empty(
            "No data yet: no incident in this period has both detection and declaration times.",
        );
    }
    section.set_columns(["Quarter", "Within limit", "With data", "Share"]);
    let mut bars = Vec::with_capacity(window.len());
    for (quarter, &(w, t)) in window.periods().zip(&counts) {
        let label = quarter_label(quarter);
        section.push_row(vec![
            label.clone(),
            w.to_string(),
            t.to_string(),
            percent(w, t),
        ]);
        bars.push(svg::Bar {
            tooltip: if t == 0 {
                format!("{label}: no data")
            } else {
                format!(
                    "{label}: {w} of {t} declared within the limit ({})",
                    percent(w, t)
                )
            },
            label,
            value: ratio(w, t),
            text: if t == 0 {
                String::new()
            } else {
                percent_whole(w, t)
            },
        });
    }
    section.summary = Some(format!(
        "Overall {} ({within} of {total})",
        percent(within, total)
    ));
    section.note = ctx.quarter_note();
    let id = section.chart_id();
    let desc = format!(
        "Bars: percentage of incidents declared within the limit per quarter, {} to {}. The \
         table lists the same numbers.",
        quarter_label(window.start),
        quarter_label(window.end)
    );
    let axis = svg::percent_axis();
    section.svg = svg::bars(&svg::Bars {
        chart: Chart {
            id: &id,
            title: &section.title,
            desc: &desc,
        },
        bars: &bars,
        axis: &axis,
        class: "bar bar-declared",
        x_label: "Quarter",
        y_label: "Declared within limit",
    });
    section
}

/// The distinct non-empty names in `names`, sorted.
fn distinct<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut names: Vec<&str> = names.iter().copied().filter(|n| !n.is_empty()).collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn factors(ctx: &Ctx, categories: &[String]) -> Section {
    let mut section = Section::new(
        "factor-categories",
        "Contributing-factor categories over time",
        "Incidents per quarter with at least one contributing factor in each category (an \
         incident with factors in two categories counts in both).",
    );
    let Some(window) = ctx.quarters else {
        return section.into_empty("No incidents yet.");
    };
    let found: Vec<Vec<&str>> = ctx
        .incidents
        .iter()
        .map(|i| distinct(&i.factor_categories))
        .collect();
    let (names, index) = ordered_names(categories, found.iter().flatten().copied());
    let mut counts = vec![vec![0u64; names.len()]; window.len()];
    let mut any = false;
    for (cats, &date) in found.iter().zip(ctx.dates) {
        let Some(p) = window.pos(quarter_index(date)) else {
            continue;
        };
        for cat in cats {
            if let Some(&c) = index.get(cat) {
                counts[p][c] += 1;
                any = true;
            }
        }
    }
    if !any {
        return section
            .into_empty("No data yet: no incident in this period names a contributing factor.");
    }
    let labels = window.labels(quarter_label);
    section.set_columns(std::iter::once("Quarter".to_string()).chain(names.iter().cloned()));
    for (label, row) in labels.iter().zip(&counts) {
        let mut cells = vec![label.clone()];
        cells.extend(row.iter().map(u64::to_string));
        section.push_row(cells);
    }
    section.note = ctx.quarter_note();
    let series = palette_series(&names, "cat");
    let id = section.chart_id();
    let desc = format!(
        "Stacked bars: incidents per quarter from {} to {} by contributing-factor category ({}). \
         The table lists the same numbers.",
        quarter_label(window.start),
        quarter_label(window.end),
        names.join(", ")
    );
    section.svg = svg::stacked_bars(&svg::StackedBars {
        chart: Chart {
            id: &id,
            title: &section.title,
            desc: &desc,
        },
        x_labels: &labels,
        series: &series,
        values: &counts,
        x_label: "Quarter",
        y_label: "Incidents",
    });
    section
}

#[derive(Clone, Copy)]
enum Kind {
    Services,
    Tags,
}

fn top(ctx: &Ctx, kind: Kind) -> Section {
    let (id, title, one, many, folder, column, class) = match kind {
        Kind::Services => (
            "top-services",
            "Services with most incidents",
            "service",
            "services",
            "services",
            "Service",
            "bar bar-service",
        ),
        Kind::Tags => (
            "top-tags",
            "Tags with most incidents",
            "tag",
            "tags",
            "tags",
            "Tag",
            "bar bar-tag",
        ),
    };
    let mut section = Section::new(
        id,
        title,
        &format!("The {TOP} {many} named by most incidents, over all time (ties in name order)."),
    );
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for incident in ctx.incidents {
        let names = match kind {
            Kind::Services => &incident.services,
            Kind::Tags => &incident.tags,
        };
        for name in distinct(names) {
            *counts.entry(name).or_default() += 1;
        }
    }
    if counts.is_empty() {
        let text = if ctx.incidents.is_empty() {
            "No incidents yet.".to_string()
        } else {
            format!("No data yet: no incident names a {one}.")
        };
        return section.into_empty(&text);
    }
    let mut ranked: Vec<(&str, u64)> = counts.iter().map(|(&n, &c)| (n, c)).collect();
    ranked.sort_by_key(|&(name, count)| (Reverse(count), name));
    let total = ranked.len();
    ranked.truncate(TOP);
    section.set_columns([column, "Incidents"]);
    let mut rows = Vec::with_capacity(ranked.len());
    for &(name, count) in &ranked {
        let href = format!("{}{folder}/{}/index.html", ctx.root, slug(name));
        section.rows.push(vec![name.to_string(), count.to_string()]);
        section.links.push(vec![Some(href.clone()), None]);
        rows.push(svg::HBar {
            label: name.to_string(),
            href: Some(href),
            value: count,
            tooltip: format!(
                "{name}: {}",
                plural(
                    usize::try_from(count).unwrap_or(usize::MAX),
                    "incident",
                    "incidents"
                )
            ),
        });
    }
    section.summary = Some(plural(total, one, many) + " in total");
    if total > TOP {
        section.note = Some(format!("Showing the top {TOP} of {total} {many}."));
    }
    let chart_id = section.chart_id();
    let desc = format!(
        "Horizontal bars: incidents per {one} for the {} {} with most incidents; each label \
         links to its page. The table lists the same numbers.",
        ranked.len(),
        if ranked.len() == 1 { one } else { many }
    );
    section.svg = svg::hbars(
        &Chart {
            id: &chart_id,
            title: &section.title,
            desc: &desc,
        },
        &rows,
        class,
        "Incidents",
    );
    section
}

fn incident_ref(ctx: &Ctx, index: usize) -> Option<IncidentRef> {
    let incident = ctx.incidents.get(index)?;
    Some(IncidentRef {
        id: incident.id.to_string(),
        title: incident.title.to_string(),
        url: format!("{}{}", ctx.root, incident.url),
        date: ctx.dates.get(index)?.format("%Y-%m-%d").to_string(),
    })
}

/// Consecutive hits of one name within [`RECURRENCE_DAYS`]: `(kind, name, earlier, later)`
/// as incident indices, found by sorting each name's incidents by start (then id).
fn recurrence_pairs<'a>(ctx: &Ctx<'_, 'a>) -> Vec<(&'static str, &'a str, usize, usize)> {
    let mut by_name: BTreeMap<(&'static str, &'a str), Vec<usize>> = BTreeMap::new();
    for (i, incident) in ctx.incidents.iter().enumerate() {
        for name in distinct(&incident.services) {
            by_name.entry(("service", name)).or_default().push(i);
        }
        for name in distinct(&incident.factor_categories) {
            by_name.entry(("factor", name)).or_default().push(i);
        }
    }
    let limit = TimeDelta::days(RECURRENCE_DAYS);
    let mut pairs = Vec::new();
    for ((kind, name), mut hits) in by_name {
        hits.sort_by_key(|&i| (ctx.incidents[i].at, ctx.incidents[i].id, i));
        for pair in hits.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if ctx.incidents[b].at - ctx.incidents[a].at <= limit {
                pairs.push((kind, name, a, b));
            }
        }
    }
    pairs.sort_by_key(|&(kind, name, a, b)| {
        (
            Reverse(ctx.incidents[b].at),
            kind,
            name,
            ctx.incidents[b].id,
            ctx.incidents[a].id,
            b,
            a,
        )
    });
    pairs
}

fn recurring(ctx: &Ctx) -> (Section, Vec<Recurrence>) {
    let mut section = Section::new(
        "recurring-patterns",
        "Recurring patterns",
        &format!(
            "A service or contributing-factor category hit again within {RECURRENCE_DAYS} days \
             of its previous incident (consecutive incidents only), newest first."
        ),
    );
    let Some(window) = ctx.quarters else {
        return (section.into_empty("No incidents yet."), Vec::new());
    };
    let pairs = recurrence_pairs(ctx);
    if pairs.is_empty() {
        let text =
            format!("No service or factor category came back within {RECURRENCE_DAYS} days.");
        return (section.into_empty(&text), Vec::new());
    }
    let mut per_quarter = vec![0u64; window.len()];
    for &(_, _, _, later) in &pairs {
        if let Some(p) = ctx
            .dates
            .get(later)
            .and_then(|&d| window.pos(quarter_index(d)))
        {
            per_quarter[p] += 1;
        }
    }
    let mut recurrences = Vec::new();
    for &(kind, name, a, b) in pairs.iter().take(MAX_RECURRENCE_ROWS) {
        let (Some(earlier), Some(later)) = (incident_ref(ctx, a), incident_ref(ctx, b)) else {
            continue;
        };
        let days = (ctx.incidents[b].at - ctx.incidents[a].at).num_days();
        recurrences.push(Recurrence {
            kind,
            name: name.to_string(),
            earlier,
            later,
            days,
        });
    }
    section.set_columns([
        "Kind",
        "Name",
        "Earlier incident",
        "Later incident",
        "Days between",
    ]);
    section.numeric = vec![false, false, false, false, true];
    for r in &recurrences {
        section.rows.push(vec![
            r.kind.to_string(),
            r.name.clone(),
            format!("{} {}: {}", r.earlier.date, r.earlier.id, r.earlier.title),
            format!("{} {}: {}", r.later.date, r.later.id, r.later.title),
            r.days.to_string(),
        ]);
        let name_link = (r.kind == "service")
            .then(|| format!("{}services/{}/index.html", ctx.root, slug(&r.name)));
        section.links.push(vec![
            None,
            name_link,
            Some(r.earlier.url.clone()),
            Some(r.later.url.clone()),
            None,
        ]);
    }
    section.summary = Some(plural(pairs.len(), "recurrence", "recurrences"));
    section.note = join_notes([
        (pairs.len() > MAX_RECURRENCE_ROWS).then(|| {
            format!(
                "The table lists the newest {MAX_RECURRENCE_ROWS} of {}.",
                pairs.len()
            )
        }),
        ctx.quarter_note(),
    ]);
    let bars: Vec<svg::Bar> = window
        .periods()
        .zip(&per_quarter)
        .map(|(quarter, &n)| {
            let label = quarter_label(quarter);
            svg::Bar {
                tooltip: format!(
                    "{label}: {}",
                    plural(
                        usize::try_from(n).unwrap_or(usize::MAX),
                        "recurrence",
                        "recurrences"
                    )
                ),
                label,
                value: Some(n as f64),
                text: if n == 0 { String::new() } else { n.to_string() },
            }
        })
        .collect();
    let axis = svg::count_axis(per_quarter.iter().copied().max().unwrap_or(0));
    let id = section.chart_id();
    let desc = format!(
        "Bars: recurrences per quarter of the later incident, {} to {}. The table lists each \
         recurrence.",
        quarter_label(window.start),
        quarter_label(window.end)
    );
    section.svg = svg::bars(&svg::Bars {
        chart: Chart {
            id: &id,
            title: &section.title,
            desc: &desc,
        },
        bars: &bars,
        axis: &axis,
        class: "bar bar-recurring",
        x_label: "Quarter",
        y_label: "Recurrences",
    });
    (section, recurrences)
}

/// On-time, late and overdue items of one period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    on_time: u64,
    late: u64,
    overdue: u64,
}

impl Tally {
    fn add(&mut self, class: Closure) {
        match class {
            Closure::OnTime => self.on_time += 1,
            Closure::Late => self.late += 1,
            Closure::Overdue => self.overdue += 1,
            _ => {}
        }
    }

    fn counted(&self) -> u64 {
        self.on_time + self.late + self.overdue
    }

    fn row(&self, label: String) -> Vec<String> {
        vec![
            label,
            self.on_time.to_string(),
            self.late.to_string(),
            self.overdue.to_string(),
            percent(self.on_time, self.counted()),
        ]
    }
}

fn closure(incidents: &[Incident], today: NaiveDate) -> Section {
    let mut section = Section::new(
        "action-item-closure",
        "Action items closed on time",
        "Action items with a due date, per quarter of the due date: closed on or before the due \
         date is on time; closed after it is late; still open after it is overdue (not on time). \
         Open items not yet due and wontfix items are not counted.",
    );
    let mut by_quarter: BTreeMap<i64, Tally> = BTreeMap::new();
    let mut overall = Tally::default();
    let mut unknown = 0usize;
    for item in incidents.iter().flat_map(|i| &i.items) {
        let class = classify(item, today);
        if class == Closure::ClosedDateUnknown {
            unknown += 1;
        }
        if let (true, Some(due)) = (class.counted(), item.due) {
            by_quarter.entry(quarter_index(due)).or_default().add(class);
            overall.add(class);
        }
    }
    let Some(window) = Window::over(by_quarter.keys().copied(), MAX_QUARTERS) else {
        let text = if incidents.is_empty() {
            "No incidents yet."
        } else {
            "No data yet: no action item with a due date has been closed or become overdue."
        };
        return section.into_empty(text);
    };
    section.set_columns(["Quarter due", "On time", "Late", "Overdue", "On-time rate"]);
    let mut bars = Vec::with_capacity(window.len());
    for quarter in window.periods() {
        let tally = by_quarter.get(&quarter).copied().unwrap_or_default();
        let label = quarter_label(quarter);
        let n = tally.counted();
        bars.push(svg::Bar {
            tooltip: if n == 0 {
                format!("{label}: no items due")
            } else {
                format!(
                    "{label}: {} of {n} on time ({}), {} late, {} overdue",
                    tally.on_time,
                    percent(tally.on_time, n),
                    tally.late,
                    tally.overdue
                )
            },
            value: ratio(tally.on_time, n),
            text: if n == 0 {
                String::new()
            } else {
                percent_whole(tally.on_time, n)
            },
            label: label.clone(),
        });
        section.push_row(tally.row(label));
    }
    section.push_row(overall.row("All".to_string()));
    section.summary = Some(format!(
        "Overall {} on time ({} of {})",
        percent(overall.on_time, overall.counted()),
        overall.on_time,
        overall.counted()
    ));
    section.note = join_notes([
        window
            .note(quarter_label, "quarters")
            .map(|note| note + " The All row counts every quarter."),
        (unknown > 0).then(|| {
            format!(
                "{} without a closing date {} not counted.",
                plural(unknown, "done item", "done items"),
                if unknown == 1 { "is" } else { "are" }
            )
        }),
    ]);
    let id = section.chart_id();
    let desc = format!(
        "Bars: percentage of action items closed on time per quarter of the due date, {} to {}. \
         The table lists the counts.",
        quarter_label(window.start),
        quarter_label(window.end)
    );
    let axis = svg::percent_axis();
    section.svg = svg::bars(&svg::Bars {
        chart: Chart {
            id: &id,
            title: &section.title,
            desc: &desc,
        },
        bars: &bars,
        axis: &axis,
        class: "bar bar-closure",
        x_label: "Quarter due",
        y_label: "Closed on time",
    });
    section
}

fn publish(ctx: &Ctx) -> Section {
    let mut section = Section::new(
        "time-to-publish",
        "Time from resolution to sign-off",
        "Median and 90th percentile (nearest rank) per quarter of the incident's start, from \
         resolution to the commit that signed the postmortem off.",
    );
    let Some(window) = ctx.quarters else {
        return section.into_empty("No incidents yet.");
    };
    let mut samples = vec![Sample::default(); window.len()];
    let mut skipped = 0;
    for (incident, date) in ctx.each() {
        if let Some(p) = window.pos(quarter_index(date)) {
            samples[p].push(incident.time_to_publish, &mut skipped);
        }
    }
    if samples.iter().all(|s| s.0.is_empty()) {
        return section.into_empty(
            "No data yet: no incident in this period has both a resolution time and a sign-off.",
        );
    }
    samples.iter_mut().for_each(Sample::sort);
    section.set_columns(["Quarter", "Median", "p90", "n"]);
    for (quarter, sample) in window.periods().zip(&samples) {
        section.push_row(vec![
            quarter_label(quarter),
            duration_text(sample.median()),
            duration_text(sample.p90()),
            sample.0.len().to_string(),
        ]);
    }
    section.note = join_notes([ctx.quarter_note(), skipped_note(skipped)]);
    let refs: Vec<&Sample> = samples.iter().collect();
    let panel = stats_panel("Time to publish", "time to publish", &window, &refs);
    let id = section.chart_id();
    let desc = format!(
        "Line chart from {} to {}: the median as a solid line with circles, the 90th percentile \
         as a dashed line with squares. The table lists the same numbers.",
        quarter_label(window.start),
        quarter_label(window.end)
    );
    section.svg = svg::small_multiples(
        &Chart {
            id: &id,
            title: &section.title,
            desc: &desc,
        },
        &[panel],
        1,
    );
    section
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn incident<'a>(id: &'a str, start: &str) -> Incident<'a> {
        Incident {
            id,
            title: "Title",
            url: format!("postmortems/{id}/index.html"),
            severity: "SEV2",
            at: at(start),
            services: Vec::new(),
            tags: Vec::new(),
            factor_categories: Vec::new(),
            time_to_detect: None,
            time_to_declare: None,
            time_to_mitigate: None,
            time_to_resolve: None,
            declared_within_limit: None,
            time_to_publish: None,
            items: Vec::new(),
        }
    }

    fn sevs() -> Vec<String> {
        ["SEV1", "SEV2", "SEV3"].map(String::from).to_vec()
    }

    fn cats() -> Vec<String> {
        ["process", "tooling"].map(String::from).to_vec()
    }

    fn run(incidents: &[Incident]) -> Trends {
        compute(incidents, &sevs(), &cats(), day("2026-06-15"), "../")
    }

    fn column(section: &Section, name: &str) -> Vec<String> {
        let k = section.columns.iter().position(|c| c == name).unwrap();
        section.rows.iter().map(|r| r[k].clone()).collect()
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 50), Some(5));
        assert_eq!(percentile(&ten, 90), Some(9));
        assert_eq!(percentile(&ten, 100), Some(10));
        assert_eq!(percentile(&ten, 0), Some(1));
        let eleven: Vec<i64> = (1..=11).collect();
        assert_eq!(percentile(&eleven, 50), Some(6));
        assert_eq!(percentile(&eleven, 90), Some(10));
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[1, 2], 50), Some(1));
        assert_eq!(percentile::<i64>(&[], 50), None);
    }

    #[test]
    fn slugs_are_folder_safe() {
        assert_eq!(slug("Billing API"), "billing-api");
        assert_eq!(slug("  edge/rate--limit! "), "edge-rate-limit");
        assert_eq!(slug("Zahlung-Über"), "zahlung-über");
        assert_eq!(slug(r#"<script>"&"#), "script");
        assert_eq!(slug("!!"), "x2121");
        assert_eq!(slug(""), "x");
    }

    #[test]
    fn months_are_continuous_with_gaps() {
        let incidents = [
            incident("a", "2026-01-10T10:00:00+00:00"),
            incident("b", "2026-04-02T10:00:00+00:00"),
            incident("c", "2026-04-20T10:00:00+00:00"),
        ];
        let trends = run(&incidents);
        let s = &trends.per_month;
        assert!(!s.empty);
        assert_eq!(
            column(s, "Month"),
            ["2026-01", "2026-02", "2026-03", "2026-04"]
        );
        assert_eq!(column(s, "Total"), ["1", "0", "0", "2"]);
        assert_eq!(column(s, "SEV2"), ["1", "0", "0", "2"]);
        assert_eq!(s.columns, ["Month", "SEV1", "SEV2", "SEV3", "Total"]);
        assert!(s.note.is_none());
        assert!(s.svg.contains("<title>2026-04: SEV2 ×2</title>"));
        assert!(s.svg.contains(r#"class="sev sev-2""#));
        assert!(
            s.svg.contains(">SEV1</text>"),
            "legend names every severity"
        );
    }

    #[test]
    fn months_are_capped_at_36_with_a_note() {
        let mut incidents = vec![
            incident("old", "2020-01-10T10:00:00+00:00"),
            incident("new", "2026-08-10T10:00:00+00:00"),
        ];
        incidents[0].severity = "SEV9";
        let s = run(&incidents).per_month;
        assert_eq!(s.rows.len(), MAX_MONTHS);
        assert_eq!(s.rows[0][0], "2023-09");
        assert_eq!(s.rows[35][0], "2026-08");
        let note = s.note.unwrap();
        assert!(note.contains("2020-01 to 2023-08"), "{note}");
        assert_eq!(
            s.columns,
            ["Month", "SEV1", "SEV2", "SEV3", "SEV9", "Total"]
        );
    }

    #[test]
    fn quarters_use_the_local_date_across_year_boundaries() {
        let mut late_new_york = incident("ny", "2025-12-31T23:30:00-05:00"); // 2026-01-01 UTC
        let mut early_berlin = incident("be", "2026-01-01T00:30:00+02:00"); // 2025-12-31 UTC
        late_new_york.time_to_detect = Some(TimeDelta::minutes(10));
        early_berlin.time_to_detect = Some(TimeDelta::minutes(30));
        let trends = run(&[late_new_york, early_berlin]);
        let s = &trends.response_times;
        assert_eq!(column(s, "Quarter"), ["2025 Q4", "2026 Q1"]);
        assert_eq!(column(s, "Detect median"), ["10m", "30m"]);
        assert_eq!(column(s, "Detect n"), ["1", "1"]);
        assert_eq!(column(&trends.per_month, "Month"), ["2025-12", "2026-01"]);
    }

    #[test]
    fn quarter_labels_and_indices() {
        assert_eq!(quarter_label(quarter_index(day("2026-03-31"))), "2026 Q1");
        assert_eq!(quarter_label(quarter_index(day("2026-04-01"))), "2026 Q2");
        assert_eq!(
            quarter_label(quarter_index(day("2025-12-31")) + 1),
            "2026 Q1"
        );
        assert_eq!(month_label(month_index(day("2025-12-31")) + 1), "2026-01");
    }

    #[test]
    fn durations_have_median_p90_and_counts() {
        let ids: Vec<String> = (1..=10).map(|i| format!("i{i}")).collect();
        let incidents: Vec<Incident> = ids
            .iter()
            .enumerate()
            .map(|(k, id)| {
                let mut i = incident(id, "2026-02-01T10:00:00+00:00");
                i.time_to_resolve = Some(TimeDelta::minutes(k as i64 + 1) * 60);
                i.time_to_publish = Some(TimeDelta::days(2) + TimeDelta::hours(3));
                i
            })
            .collect();
        let trends = run(&incidents);
        let s = &trends.response_times;
        assert_eq!(column(s, "Resolve median"), ["5h"]);
        assert_eq!(column(s, "Resolve p90"), ["9h"]);
        assert_eq!(column(s, "Resolve n"), ["10"]);
        assert_eq!(column(s, "Detect median"), ["—"]);
        assert_eq!(column(s, "Detect n"), ["0"]);
        assert!(s.svg.contains("2026 Q1: time to resolve median 5h (n=10)"));
        assert!(s.svg.contains("series-p90"));
        assert_eq!(column(&trends.publish, "Median"), ["2d 3h"]);
        assert_eq!(column(&trends.publish, "p90"), ["2d 3h"]);
    }

    #[test]
    fn negative_durations_are_left_out_and_noted() {
        let mut i = incident("a", "2026-02-01T10:00:00+00:00");
        i.time_to_detect = Some(TimeDelta::minutes(-5));
        i.time_to_resolve = Some(TimeDelta::minutes(65));
        let s = run(&[i]).response_times;
        assert_eq!(column(&s, "Detect n"), ["0"]);
        assert_eq!(column(&s, "Resolve median"), ["1h 5m"]);
        assert!(s.note.unwrap().contains("1 negative duration"));
    }

    #[test]
    fn declared_share_per_quarter() {
        let mut incidents = vec![
            incident("a", "2026-01-05T10:00:00+00:00"),
            incident("b", "2026-02-05T10:00:00+00:00"),
            incident("c", "2026-03-05T10:00:00+00:00"),
            incident("d", "2026-07-05T10:00:00+00:00"),
        ];
        incidents[0].declared_within_limit = Some(true);
        incidents[1].declared_within_limit = Some(true);
        incidents[2].declared_within_limit = Some(false);
        let s = run(&incidents).declared;
        assert_eq!(column(&s, "Quarter"), ["2026 Q1", "2026 Q2", "2026 Q3"]);
        assert_eq!(column(&s, "Share"), ["66.7%", "—", "—"]);
        assert_eq!(s.summary.as_deref(), Some("Overall 66.7% (2 of 3)"));
        assert!(s.svg.contains("2 of 3 declared within the limit (66.7%)"));
    }

    #[test]
    fn factor_categories_include_unknown_ones_and_count_incidents() {
        let mut a = incident("a", "2026-01-05T10:00:00+00:00");
        a.factor_categories = vec!["tooling", "tooling", "alerting"];
        let s = run(&[a]).factors;
        assert_eq!(s.columns, ["Quarter", "process", "tooling", "alerting"]);
        assert_eq!(s.rows, [["2026 Q1", "0", "1", "1"]]);
        assert!(s.svg.contains("class=\"cat cat-3\""));
    }

    #[test]
    fn top_services_rank_by_count_then_name_and_link() {
        let mut incidents = Vec::new();
        let names = ["b", "a", "c", "a", "b"];
        let ids: Vec<String> = (0..names.len()).map(|i| format!("i{i}")).collect();
        for (k, id) in ids.iter().enumerate() {
            let mut i = incident(id, "2026-01-05T10:00:00+00:00");
            i.services = vec![names[k], names[k]];
            i.tags = vec!["Data Loss"];
            incidents.push(i);
        }
        let trends = run(&incidents);
        let s = &trends.top_services;
        assert_eq!(s.rows, [["a", "2"], ["b", "2"], ["c", "1"]]);
        assert_eq!(s.links[0][0].as_deref(), Some("../services/a/index.html"));
        assert!(s.svg.contains(r#"<a href="../services/a/index.html">"#));
        assert_eq!(
            trends.top_tags.links[0][0].as_deref(),
            Some("../tags/data-loss/index.html")
        );
    }

    #[test]
    fn top_lists_stop_at_ten() {
        let names: Vec<String> = (0..15).map(|k| format!("svc{k:02}")).collect();
        let mut i = incident("a", "2026-01-05T10:00:00+00:00");
        i.services = names.iter().map(String::as_str).collect();
        let s = run(&[i]).top_services;
        assert_eq!(s.rows.len(), TOP);
        assert_eq!(
            s.note.as_deref(),
            Some("Showing the top 10 of 15 services.")
        );
    }

    #[test]
    fn recurrence_within_90_days_only() {
        let mut a = incident("a", "2026-01-01T10:00:00+00:00");
        let mut b = incident("b", "2026-03-31T10:00:00+00:00"); // 89 days after a
        let mut c = incident("c", "2026-06-30T10:00:00+00:00"); // 91 days after b
        let mut d = incident("d", "2026-09-28T10:00:00+00:00"); // 90 days after c
        for i in [&mut a, &mut b, &mut c, &mut d] {
            i.services = vec!["api"];
        }
        a.factor_categories = vec!["tooling"];
        c.factor_categories = vec!["tooling"]; // not consecutive with b: 180 days after a
        let trends = run(&[c.clone(), a.clone(), d.clone(), b.clone()]);
        let got: Vec<(&str, &str, &str, &str, i64)> = trends
            .recurrences
            .iter()
            .map(|r| {
                (
                    r.kind,
                    r.name.as_str(),
                    r.earlier.id.as_str(),
                    r.later.id.as_str(),
                    r.days,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("service", "api", "c", "d", 90),
                ("service", "api", "a", "b", 89)
            ]
        );
        let s = &trends.recurring;
        assert_eq!(s.rows.len(), 2);
        assert_eq!(s.rows[1][2], "2026-01-01 a: Title");
        assert_eq!(
            s.links[1][2].as_deref(),
            Some("../postmortems/a/index.html")
        );
        assert_eq!(s.links[1][1].as_deref(), Some("../services/api/index.html"));
        assert_eq!(s.summary.as_deref(), Some("2 recurrences"));

        // One minute over 90 days is not recurring.
        let mut e = incident("e", "2026-01-01T10:00:00+00:00");
        let mut f = incident("f", "2026-04-01T10:01:00+00:00");
        e.services = vec!["db"];
        f.services = vec!["db"];
        assert!(run(&[e, f]).recurrences.is_empty());
    }

    #[test]
    fn closure_classification_boundaries() {
        let today = day("2026-06-15");
        let item = |due: &str, closed: Option<&str>, done: bool, wontfix: bool| ItemFacts {
            due: Some(day(due)),
            closed_at: closed.map(day),
            done,
            wontfix,
        };
        let on_due_date = item("2026-03-01", Some("2026-03-01"), true, false);
        assert_eq!(classify(&on_due_date, today), Closure::OnTime);
        let day_late = item("2026-03-01", Some("2026-03-02"), true, false);
        assert_eq!(classify(&day_late, today), Closure::Late);
        let due_today = item("2026-06-15", None, false, false);
        assert_eq!(classify(&due_today, today), Closure::NotYetDue);
        let due_yesterday = item("2026-06-14", None, false, false);
        assert_eq!(classify(&due_yesterday, today), Closure::Overdue);
        let wontfix = item("2026-01-01", None, false, true);
        assert_eq!(classify(&wontfix, today), Closure::Excluded);
        let no_close_date = item("2026-01-01", None, true, false);
        assert_eq!(classify(&no_close_date, today), Closure::ClosedDateUnknown);
        let undated = ItemFacts {
            due: None,
            ..due_today
        };
        assert_eq!(classify(&undated, today), Closure::Excluded);

        let mut i = incident("a", "2026-01-05T10:00:00+00:00");
        i.items = vec![
            on_due_date,
            day_late,
            due_today,
            due_yesterday,
            wontfix,
            no_close_date,
        ];
        let s = run(&[i]).closure;
        assert_eq!(
            s.rows,
            [
                ["2026 Q1", "1", "1", "0", "50.0%"],
                ["2026 Q2", "0", "0", "1", "0.0%"],
                ["All", "1", "1", "1", "33.3%"],
            ]
        );
        assert_eq!(s.summary.as_deref(), Some("Overall 33.3% on time (1 of 3)"));
        assert!(s
            .note
            .unwrap()
            .contains("1 done item without a closing date is not counted"));
    }

    #[test]
    fn empty_input_gives_empty_sections() {
        let trends = run(&[]);
        assert!(trends.empty);
        for s in trends.sections() {
            assert!(s.empty, "{}", s.id);
            assert!(!s.empty_text.is_empty());
            assert!(s.rows.is_empty());
            assert!(s.svg.contains("No data yet"), "{}", s.id);
        }
        assert!(trends.recurrences.is_empty());
    }

    #[test]
    fn one_incident_gives_one_bar_and_equal_percentiles() {
        let mut i = incident("only", "2026-05-05T10:00:00+02:00");
        i.services = vec!["api"];
        i.time_to_detect = Some(TimeDelta::minutes(48));
        i.declared_within_limit = Some(true);
        let trends = run(&[i]);
        assert_eq!(trends.per_month.rows, [["2026-05", "0", "1", "0", "1"]]);
        assert_eq!(column(&trends.response_times, "Detect median"), ["48m"]);
        assert_eq!(column(&trends.response_times, "Detect p90"), ["48m"]);
        assert_eq!(trends.per_month.svg.matches("<g class=\"seg\">").count(), 1);
        assert!(!trends.declared.empty);
        assert!(trends.factors.empty);
        assert!(trends.recurring.empty);
        assert!(trends.closure.empty);
        assert!(trends.publish.empty);
        assert!(!trends.top_services.empty);
    }

    #[test]
    fn hostile_names_are_escaped_in_svg() {
        let hostile = r#"<script>"&"#;
        let mut a = incident("a", "2026-01-05T10:00:00+00:00");
        let mut b = incident("b", "2026-01-06T10:00:00+00:00");
        for i in [&mut a, &mut b] {
            i.services = vec![hostile];
            i.tags = vec![hostile];
            i.factor_categories = vec![hostile];
            i.severity = hostile;
            i.title = hostile;
        }
        let trends = run(&[a, b]);
        for s in trends.sections() {
            assert!(!s.svg.contains("<script"), "{}", s.id);
            assert!(!s.svg.contains("style="), "{}", s.id);
        }
        assert!(trends
            .top_services
            .svg
            .contains("&lt;script&gt;&quot;&amp;"));
        assert!(trends
            .per_month
            .svg
            .contains("&lt;script&gt;&quot;&amp; ×2"));
        // Table cells stay plain text: the template escapes them.
        assert_eq!(trends.top_services.rows[0][0], hostile);
        assert_eq!(
            trends.top_services.links[0][0].as_deref(),
            Some("../services/script/index.html")
        );
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|k| format!("inc-{k:05}")).collect()
    }

    fn sample(ids: &[String]) -> Vec<Incident<'_>> {
        const SERVICES: [&str; 7] = ["api", "billing", "dispatch", "edge", "db", "search", "auth"];
        const CATS: [&str; 3] = ["process", "tooling", "capacity"];
        const SEVS: [&str; 3] = ["SEV1", "SEV2", "SEV3"];
        let start = at("2024-01-01T00:00:00+01:00");
        ids.iter()
            .enumerate()
            .map(|(k, id)| {
                let k64 = k as i64;
                let mut i = incident(id, "2024-01-01T00:00:00+00:00");
                i.at = start + TimeDelta::hours(k64 * 7919 % (24 * 900));
                i.severity = SEVS[k % 3];
                i.services = vec![SERVICES[k % 7], SERVICES[k * 3 % 7]];
                i.tags = vec![SERVICES[k % 5]];
                i.factor_categories = vec![CATS[k % 3]];
                i.time_to_detect = Some(TimeDelta::minutes(k64 % 97));
                i.time_to_resolve = Some(TimeDelta::minutes(k64 * 13 % 1000));
                i.declared_within_limit = Some(k % 4 != 0);
                i.time_to_publish = (k % 2 == 0).then(|| TimeDelta::hours(k64 % 300));
                i.items = vec![ItemFacts {
                    due: Some(day("2024-03-01") + TimeDelta::days(k64 % 800)),
                    closed_at: Some(day("2024-03-01") + TimeDelta::days(k64 * 7 % 820)),
                    done: k % 3 != 0,
                    wontfix: k % 11 == 0,
                }];
                i
            })
            .collect()
    }

    #[test]
    fn output_is_deterministic() {
        let ids = ids(500);
        let incidents = sample(&ids);
        let first = serde_json::to_string(&run(&incidents)).unwrap();
        let mut reversed = incidents.clone();
        reversed.reverse();
        let second = serde_json::to_string(&run(&incidents)).unwrap();
        assert_eq!(first, second);
        // Input order does not matter either, except through ties already broken by id.
        let third = serde_json::to_string(&run(&reversed)).unwrap();
        assert_eq!(first, third);
    }

    #[test]
    fn fifty_thousand_incidents() {
        let ids = ids(50_000);
        let incidents = sample(&ids);
        let trends = run(&incidents);
        assert_eq!(trends.incident_count, 50_000);
        assert!(trends.recurring.rows.len() <= MAX_RECURRENCE_ROWS);
        assert!(trends.sections().iter().all(|s| !s.empty));
    }
}
