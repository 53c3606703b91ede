//! One generated postmortem: its facts (who, when, what) and its file text.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};

use super::pools::{self, Scenario};
use super::rng::Rng;
use super::roster::Roster;

/// The day the corpus is "as of" (also what `scripts/bench` passes as `--today`).
pub const TODAY: NaiveDate = match NaiveDate::from_ymd_opt(2026, 12, 4) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Draft,
    Review,
    Published,
    Closed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Review => "review",
            Status::Published => "published",
            Status::Closed => "closed",
        }
    }

    /// Published and closed postmortems need reviews and a sign-off in history.
    pub fn approved(self) -> bool {
        self >= Status::Published
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ItemStatus {
    Open,
    Done,
    Wontfix,
}

pub struct Item {
    pub id: String,
    pub status: ItemStatus,
    pub closed_at: Option<NaiveDate>,
}

/// A generated postmortem. Only what the history and the Hugo site need is kept as
/// fields; everything else lives in `text`.
pub struct Postmortem {
    pub id: String,
    pub status: Status,
    pub owner: usize,
    pub tech_lead: usize,
    pub responders: Vec<usize>,
    /// When the incident was resolved (UTC): reviews and sign-off come after it.
    pub resolved: NaiveDateTime,
    pub items: Vec<Item>,
    /// The whole file.
    pub text: String,
}

/// Times are kept in UTC and written with the offset the incident happened in.
#[derive(Clone, Copy)]
struct Clock {
    offset_min: i64,
}

impl Clock {
    fn stamp(self, t: NaiveDateTime) -> String {
        let local = t + TimeDelta::minutes(self.offset_min);
        let base = local.format("%Y-%m-%dT%H:%M:%S").to_string();
        match self.offset_min {
            0 => format!("{base}Z"),
            m => format!("{base}+{:02}:{:02}", m / 60, m % 60),
        }
    }

    fn hhmm(self, t: NaiveDateTime) -> String {
        (t + TimeDelta::minutes(self.offset_min))
            .format("%H:%M")
            .to_string()
    }
}

/// Values substituted into the templates of [`pools`].
struct Vars {
    pairs: Vec<(&'static str, String)>,
}

impl Vars {
    fn fill(&self, template: &str) -> String {
        let mut out = template.to_owned();
        for (key, value) in &self.pairs {
            if out.contains(key) {
                out = out.replace(key, value);
            }
        }
        out
    }
}

/// Everything about earlier postmortems that a later one may refer to.
#[derive(Default)]
pub struct Earlier {
    ids: HashSet<String>,
    by_service: HashMap<&'static str, Vec<String>>,
    all: Vec<String>,
}

fn q(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A folded block scalar (`key: >`), wrapped like a person would.
fn folded(out: &mut String, key: &str, text: &str) {
    let _ = writeln!(out, "{key}: >");
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + word.len() + 1 > 76 {
            let _ = writeln!(out, "  {line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "  {line}");
    }
}

fn wrap_paragraph(out: &mut String, text: &str) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + word.len() + 1 > 78 {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push_str("\n\n");
}

/// Berlin-ish offsets: summer time from April to October, some teams write UTC.
fn clock_for(rng: &mut Rng, t: NaiveDateTime) -> Clock {
    if rng.chance(0.2) {
        return Clock { offset_min: 0 };
    }
    let summer = (4..=10).contains(&t.month());
    Clock {
        offset_min: if summer { 120 } else { 60 },
    }
}

fn status_for(rng: &mut Rng, resolved: NaiveDateTime) -> Status {
    let age = (TODAY - resolved.date()).num_days();
    let weights: [u32; 4] = if age < 21 {
        [50, 50, 0, 0]
    } else if age < 90 {
        [15, 25, 55, 5]
    } else if age < 365 {
        [3, 5, 62, 30]
    } else {
        [2, 3, 40, 55]
    };
    [
        Status::Draft,
        Status::Review,
        Status::Published,
        Status::Closed,
    ][rng.weighted(&weights)]
}

fn who_text(roster: &Roster, who: &[Who]) -> String {
    let names: Vec<&str> = who
        .iter()
        .map(|w| match w {
            Who::Person(i) => roster.people[*i].handle.as_str(),
            Who::Actor(a) => a,
        })
        .collect();
    if names.len() == 1 {
        names[0].to_owned()
    } else {
        format!("[{}]", names.join(", "))
    }
}

enum Who {
    Person(usize),
    Actor(&'static str),
}

/// Generates postmortem number `index`, incident starting at `started` (UTC).
pub fn generate(
    rng: &mut Rng,
    roster: &Roster,
    started: NaiveDateTime,
    used_ids: &mut HashSet<String>,
    earlier: &mut Earlier,
) -> Postmortem {
    let scenario: &Scenario = rng.pick_ref(pools::SCENARIOS);
    let svc = pools::SERVICES[rng.skewed(pools::SERVICES.len())];
    let mut dep = rng.pick(pools::SERVICES);
    if dep == svc {
        let at = pools::SERVICES.iter().position(|s| *s == svc).unwrap_or(0);
        dep = pools::SERVICES[(at + 1 + rng.below(5)) % pools::SERVICES.len()];
    }
    let vars = Vars {
        pairs: vec![
            ("{svc}", svc.to_owned()),
            ("{dep}", dep.to_owned()),
            (
                "{n}",
                rng.pick(&[12, 40, 120, 350, 900, 4100, 18000, 60000])
                    .to_string(),
            ),
            ("{pct}", rng.range(2, 45).to_string()),
            ("{ver}", rng.range(1200, 9800).to_string()),
            ("{min}", rng.range(5, 90).to_string()),
            ("{courier}", (rng.pick(pools::COURIERS)).to_owned()),
            ("{region}", (rng.pick(pools::REGIONS)).to_owned()),
        ],
    };
    let severity = rng.weighted(&[5, 20, 45, 30]);
    let title = vars.fill(rng.pick(scenario.titles));

    // Timestamps: started ≤ detected ≤ declared ≤ mitigated ≤ resolved.
    let clock = clock_for(rng, started);
    let detected = started + TimeDelta::minutes(1 + (rng.unit().powi(2) * 240.0) as i64);
    let limit = if severity == 0 { 15 } else { 30 };
    let late = rng.chance(0.04);
    let declared = detected
        + TimeDelta::minutes(if late {
            rng.range(limit + 5, limit + 75)
        } else {
            rng.range(1, limit - 1)
        });
    let mitigated = declared + TimeDelta::minutes(rng.range(8, 300));
    let resolved = mitigated + TimeDelta::minutes(rng.range(0, 600));
    let status = status_for(rng, resolved);

    let date = clock.stamp(started)[..10].to_owned();
    let mut id = format!("{date}-{svc}-{}", scenario.slug);
    let mut n = 2;
    while used_ids.contains(&id) {
        id = format!("{date}-{svc}-{}-{n}", scenario.slug);
        n += 1;
    }
    used_ids.insert(id.clone());

    // People: the owner is a responder; the tech lead often is.
    let owner = rng.below(roster.people.len());
    let tech_lead = rng.pick(&roster.tech_leads);
    let mut responders = vec![owner];
    if tech_lead != owner && rng.chance(0.6) {
        responders.push(tech_lead);
    }
    let team = rng.range(2, 6) as usize;
    while responders.len() < team {
        let p = rng.below(roster.people.len());
        if !responders.contains(&p) {
            responders.push(p);
        }
    }
    let draft = status == Status::Draft;
    let handle = |i: usize| roster.people[i].handle.as_str();

    let services = {
        let mut s = vec![svc];
        if rng.chance(0.6) && dep != svc {
            s.push(dep);
        }
        if rng.chance(0.15) {
            let extra = pools::SERVICES[rng.skewed(pools::SERVICES.len())];
            if !s.contains(&extra) {
                s.push(extra);
            }
        }
        s
    };
    let tags = {
        let mut t: Vec<&str> = Vec::new();
        let own = rng.range(1, 3) as usize;
        for i in rng.distinct_skewed(scenario.tags.len(), own) {
            t.push(scenario.tags[i]);
        }
        let more = rng.range(1, 3) as usize;
        for i in rng.distinct_skewed(pools::TAGS.len(), more) {
            if !t.contains(&pools::TAGS[i]) {
                t.push(pools::TAGS[i]);
            }
        }
        t
    };

    let mut fm = String::with_capacity(8192);
    fm.push_str("---\n");
    let _ = writeln!(fm, "title: {}", q(&title));
    let _ = writeln!(fm, "status: {}", status.name());
    let _ = writeln!(fm, "severity: SEV{}", severity + 1);
    let _ = writeln!(fm, "owner: {}", handle(owner));
    let complete = !draft || rng.chance(0.5);
    if complete || rng.chance(0.5) {
        let _ = writeln!(fm, "tech_lead: {}", handle(tech_lead));
        let names: Vec<&str> = responders.iter().map(|&r| handle(r)).collect();
        let _ = writeln!(fm, "responders: [{}]", names.join(", "));
    }
    let _ = writeln!(fm, "services: [{}]", services.join(", "));
    let _ = writeln!(fm, "tags: [{}]", tags.join(", "));
    let _ = writeln!(fm, "started_at: {}", clock.stamp(started));
    let _ = writeln!(fm, "detected_at: {}", clock.stamp(detected));
    let _ = writeln!(fm, "declared_at: {}", clock.stamp(declared));
    if complete || rng.chance(0.5) {
        let _ = writeln!(fm, "mitigated_at: {}", clock.stamp(mitigated));
        let _ = writeln!(fm, "resolved_at: {}", clock.stamp(resolved));
    }
    let duration = (mitigated - started).num_minutes();
    let summary = format!(
        "{} {} For {} minutes {} was degraded. {}",
        vars.fill(scenario.trigger),
        vars.fill(scenario.symptom),
        duration,
        svc,
        vars.fill(scenario.mitigation)
    );
    folded(&mut fm, "summary", &summary);
    if complete {
        let impact = format!(
            "Between {} and {} about {}% of {} requests failed or were slow, and {} couriers were affected. {} No data was lost.",
            clock.hhmm(started),
            clock.hhmm(mitigated),
            rng.range(2, 60),
            svc,
            rng.range(1, 60),
            vars.fill(rng.pick(pools::SENTENCES)),
        );
        folded(&mut fm, "customer_impact", &impact);
    }

    // Timeline: five anchors plus investigation steps, in time order.
    let entries = rng.range(5, 20) as usize;
    let mut timeline: Vec<(NaiveDateTime, String, Vec<Who>)> = Vec::new();
    let someone = |rng: &mut Rng| Who::Person(rng.pick(&responders));
    timeline.push((
        started,
        vars.fill(scenario.trigger),
        vec![Who::Actor(if rng.chance(0.5) {
            "Deploy pipeline"
        } else {
            "Synthetic checks"
        })],
    ));
    timeline.push((
        detected,
        format!("Alert fires for {svc}; {} acknowledges.", handle(owner)),
        vec![Who::Actor("PagerDuty"), Who::Person(owner)],
    ));
    timeline.push((
        declared,
        format!(
            "SEV{} declared; {} takes the tech-lead role.",
            severity + 1,
            handle(tech_lead)
        ),
        vec![Who::Person(owner), Who::Person(tech_lead)],
    ));
    timeline.push((
        mitigated,
        vars.fill(scenario.mitigation),
        vec![someone(rng)],
    ));
    timeline.push((
        resolved,
        "Metrics back to normal for an hour; incident resolved.".to_owned(),
        vec![someone(rng)],
    ));
    // Investigation steps keep the pool's order (it reads like an incident), at sorted
    // times between detection and mitigation.
    let span = (mitigated - detected).num_minutes().max(1);
    let mut steps: Vec<usize> = (0..pools::STEPS.len()).collect();
    rng.shuffle(&mut steps);
    steps.truncate(entries - 5);
    steps.sort_unstable();
    let mut offsets: Vec<i64> = steps.iter().map(|_| rng.range(0, span)).collect();
    offsets.sort_unstable();
    for (&step, &offset) in steps.iter().zip(&offsets) {
        let text = vars.fill(pools::STEPS[step]);
        let mut who = vec![someone(rng)];
        if rng.chance(0.2) {
            who.insert(0, Who::Actor(rng.pick(pools::ACTORS)));
        }
        timeline.push((detected + TimeDelta::minutes(offset), text, who));
    }
    timeline.sort_by_key(|(t, _, _)| *t);
    let _ = writeln!(fm, "timeline:");
    for (at, event, who) in &timeline {
        let _ = writeln!(fm, "  - at: {}", clock.stamp(*at));
        let _ = writeln!(fm, "    event: {}", q(event));
        let _ = writeln!(fm, "    who: {}", who_text(roster, who));
    }

    if complete || rng.chance(0.5) {
        let n = (rng.range(5, 7) as usize).min(scenario.whys.len());
        let n = if complete {
            n
        } else {
            n.min(rng.range(1, 4) as usize)
        };
        let _ = writeln!(fm, "whys:");
        for (why, because) in &scenario.whys[..n] {
            let _ = writeln!(fm, "  - why: {}", q(&vars.fill(why)));
            let _ = writeln!(fm, "    because: {}", q(&vars.fill(because)));
        }
    }
    if complete {
        folded(&mut fm, "root_cause", &vars.fill(scenario.root_cause));
        let k = (rng.range(1, 4) as usize).min(scenario.factors.len());
        let _ = writeln!(fm, "factors:");
        let mut picks: Vec<usize> = (0..scenario.factors.len()).collect();
        rng.shuffle(&mut picks);
        for &i in &picks[..k] {
            let (category, description) = scenario.factors[i];
            let _ = writeln!(fm, "  - category: {category}");
            let _ = writeln!(fm, "    description: {}", q(&vars.fill(description)));
        }
    }

    // Action items.
    let count = (rng.range(2, 6) as usize).min(scenario.actions.len());
    let mut picks: Vec<usize> = (0..scenario.actions.len()).collect();
    rng.shuffle(&mut picks);
    let mut items = Vec::new();
    let mut waivers: Vec<String> = Vec::new();
    if late {
        waivers.push(format!(
            "  - rule: declare-late\n    reason: {}\n",
            q("The pager escalation went to a phone that was out of coverage; the secondary declared once reached.")
        ));
    }
    let resolved_day = resolved.date();
    let _ = writeln!(fm, "action_items:");
    for (k, &a) in picks[..count].iter().enumerate() {
        let item_id = format!("AI-{}", k + 1);
        let owner_i = if rng.chance(0.8) {
            rng.pick(&responders)
        } else {
            rng.below(roster.people.len())
        };
        let due = resolved_day + TimeDelta::days(rng.range(7, 100));
        let roll = rng.unit();
        let item_status = match status {
            Status::Closed => {
                if roll < 0.85 {
                    ItemStatus::Done
                } else {
                    ItemStatus::Wontfix
                }
            }
            Status::Published => {
                let age = (TODAY - due).num_days();
                let open = if age > 365 { 0.12 } else { 0.4 };
                if roll < open {
                    ItemStatus::Open
                } else if roll < open + 0.08 {
                    ItemStatus::Wontfix
                } else {
                    ItemStatus::Done
                }
            }
            _ => {
                if roll < 0.85 {
                    ItemStatus::Open
                } else {
                    ItemStatus::Done
                }
            }
        };
        let latest = TODAY - TimeDelta::days(1);
        let closed_at = match item_status {
            ItemStatus::Open => None,
            ItemStatus::Done => {
                let late_by = if rng.chance(0.15) {
                    rng.range(1, 30)
                } else {
                    -rng.range(0, 25)
                };
                let day = (due + TimeDelta::days(late_by))
                    .max(resolved_day + TimeDelta::days(1))
                    .min(latest);
                Some(day)
            }
            ItemStatus::Wontfix => {
                Some((resolved_day + TimeDelta::days(rng.range(3, 40))).min(latest))
            }
        };
        let _ = writeln!(fm, "  - id: {item_id}");
        let _ = writeln!(fm, "    title: {}", q(&vars.fill(scenario.actions[a])));
        let _ = writeln!(fm, "    owner: {}", handle(owner_i));
        if complete || rng.chance(0.5) {
            let _ = writeln!(fm, "    due: {due}");
        }
        match item_status {
            ItemStatus::Open => {
                if rng.chance(0.5) {
                    let _ = writeln!(fm, "    status: open");
                }
            }
            ItemStatus::Done => {
                let _ = writeln!(fm, "    status: done");
            }
            ItemStatus::Wontfix => {
                let _ = writeln!(fm, "    status: wontfix");
            }
        }
        if let Some(day) = closed_at {
            let _ = writeln!(fm, "    closed_at: {day}");
            if item_status == ItemStatus::Done && day > due && rng.chance(0.5) {
                waivers.push(format!(
                    "  - rule: action-item-closed-late\n    item: {item_id}\n    reason: {}\n",
                    q("Waited for the release freeze of the peak season to end.")
                ));
            }
        }
        if rng.chance(0.7) {
            let _ = writeln!(
                fm,
                "    ticket: https://tracker.hopline.example/OPS-{}",
                rng.range(100, 9999)
            );
        }
        if item_status == ItemStatus::Wontfix {
            let _ = writeln!(
                fm,
                "    reason: {}",
                q("Superseded by the platform migration planned for next quarter; the risk is accepted until then.")
            );
        }
        items.push(Item {
            id: item_id,
            status: item_status,
            closed_at,
        });
    }

    // Related incidents: earlier ones about the same service, or any earlier one.
    if rng.chance(0.12) && !earlier.all.is_empty() {
        let mut related: Vec<String> = Vec::new();
        for _ in 0..rng.range(1, 2) {
            let pool = earlier
                .by_service
                .get(svc)
                .filter(|v| !v.is_empty())
                .unwrap_or(&earlier.all);
            let start = pool.len().saturating_sub(40);
            let pick = &pool[start + rng.below(pool.len() - start)];
            if !related.contains(pick) && earlier.ids.contains(pick) {
                related.push(pick.clone());
            }
        }
        let _ = writeln!(fm, "related: [{}]", related.join(", "));
    }
    let _ = writeln!(fm, "links:");
    let _ = writeln!(
        fm,
        "  - title: {}\n    url: https://grafana.hopline.example/d/{svc}-overview",
        q(&format!("Grafana — {svc} overview"))
    );
    if rng.chance(0.6) {
        let _ = writeln!(
            fm,
            "  - title: \"Status page entry\"\n    url: https://status.hopline.example/incidents/{date}"
        );
    }
    if rng.chance(0.3) {
        let _ = writeln!(
            fm,
            "  - title: \"Incident channel archive\"\n    url: https://chat.hopline.example/archives/inc-{}",
            rng.range(1000, 99999)
        );
    }
    if !waivers.is_empty() {
        fm.push_str("waivers:\n");
        for w in &waivers {
            fm.push_str(w);
        }
    }
    fm.push_str("---\n");

    let body = narrative(
        rng, &vars, clock, started, mitigated, &fm, scenario, earlier, svc,
    );
    let mut text = fm;
    text.push('\n');
    text.push_str(&body);

    earlier.ids.insert(id.clone());
    earlier.all.push(id.clone());
    earlier.by_service.entry(svc).or_default().push(id.clone());

    Postmortem {
        id,
        status,
        owner,
        tech_lead,
        responders,
        resolved,
        items,
        text,
    }
}

/// The Markdown body: sections with prose, a table, lists and code, grown to a target
/// size so the whole file lands between 4 and 8 KB.
#[allow(clippy::too_many_arguments)]
fn narrative(
    rng: &mut Rng,
    vars: &Vars,
    clock: Clock,
    started: NaiveDateTime,
    mitigated: NaiveDateTime,
    fm: &str,
    scenario: &Scenario,
    earlier: &Earlier,
    svc: &str,
) -> String {
    let target = rng.range(4300, 7900) as usize;
    let mut b = String::with_capacity(4096);
    let paragraph = |rng: &mut Rng, b: &mut String| {
        let n = rng.range(3, 5);
        let text: Vec<String> = (0..n)
            .map(|_| vars.fill(rng.pick(pools::SENTENCES)))
            .collect();
        wrap_paragraph(b, &text.join(" "));
    };
    b.push_str("## What happened\n\n");
    paragraph(rng, &mut b);
    let (lang, code) = pools::CODE[rng.pick(scenario.code)];
    let _ = write!(b, "```{lang}\n{code}\n```\n\n");
    paragraph(rng, &mut b);

    b.push_str("## Impact\n\n");
    b.push_str("| Time | Error rate | p99 latency |\n|---|---|---|\n");
    let span = (mitigated - started).num_minutes().max(5);
    let rows = rng.range(3, 6);
    for r in 0..rows {
        let t = started + TimeDelta::minutes(span * r / (rows - 1).max(1));
        let _ = writeln!(
            b,
            "| {} | {:.1}% | {} ms |",
            clock.hhmm(t),
            rng.unit() * 30.0,
            rng.range(80, 9000)
        );
    }
    b.push('\n');

    let list = |rng: &mut Rng, b: &mut String, heading: &str, pool: &[&str]| {
        let _ = write!(b, "## {heading}\n\n");
        for _ in 0..rng.range(2, 4) {
            let _ = writeln!(b, "- {}", vars.fill(rng.pick(pool)));
        }
        b.push('\n');
    };
    list(rng, &mut b, "What went well", pools::WENT_WELL);
    list(rng, &mut b, "What went poorly", pools::WENT_POORLY);
    if rng.chance(0.4) {
        b.push_str("## Where we got lucky\n\n");
        wrap_paragraph(&mut b, rng.pick(pools::LUCKY));
    }
    let mut details = false;
    while fm.len() + b.len() + 400 < target {
        if !details {
            b.push_str("## Details\n\n");
            details = true;
        }
        if rng.chance(0.3) {
            let _ = write!(
                b,
                "### {}\n\n",
                vars.fill(rng.pick(&[
                    "Investigation",
                    "Mitigation",
                    "Recovery of {dep}",
                    "Why {svc} was affected",
                    "Follow-up"
                ]))
            );
        }
        paragraph(rng, &mut b);
    }
    b.push_str("## Lessons\n\n");
    wrap_paragraph(&mut b, rng.pick(pools::LESSONS));
    if rng.chance(0.2) {
        if let Some(prev) = earlier.by_service.get(svc).and_then(|v| v.last()) {
            wrap_paragraph(
                &mut b,
                &format!("**Follow-up note:** the same pattern appeared before; see `{prev}`."),
            );
        }
    }
    while b.ends_with("\n\n") {
        b.pop();
    }
    b
}
