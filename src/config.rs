//! `debrief.toml`: types, defaults, and validation of the configuration itself.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::TimeDelta;
use chrono_tz::Tz;
use toml::de::{DeTable, DeValue};
use toml::Spanned as TomlSpanned;

use crate::diagnostic::{Diagnostic, Level};
use crate::model::{parse_duration, Status};
use crate::rules;
use crate::schema::{is_http_url, Entries, Reader};
use crate::tree::{did_you_mean, Node, Pos, Spanned, Value};

pub const FILE_NAME: &str = "debrief.toml";
const RULE: &str = "config";

#[derive(Clone, Debug)]
pub struct Config {
    /// The repository root: the folder holding `debrief.toml`.
    pub root: PathBuf,
    pub site: Site,
    pub workflow: Workflow,
    pub fields: BTreeMap<String, CustomField>,
    pub people: BTreeMap<String, Person>,
    pub rules: BTreeMap<String, RuleSetting>,
    pub approvals: ApprovalPolicy,
}

/// `[approvals]`: how reviews and sign-offs are recorded and trusted (docs/signoff.md).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApprovalPolicy {
    /// The revision whose `[people]`, `[approvals]` and allowed signers are trusted.
    pub trust_ref: Option<String>,
    /// Identity comes from a verified SSH signature instead of the author field.
    pub require_signature: bool,
    /// How many responders must review; `None` means all of them.
    pub review_quorum: Option<usize>,
    /// What `review`/`approve` write: trailers in a commit, or signed approval files.
    pub record: Record,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Record {
    #[default]
    Commit,
    File,
}

#[derive(Clone, Debug)]
pub struct Site {
    pub title: String,
    pub base_url: String,
    /// Content folder relative to the root.
    pub content: String,
    pub timezone: Tz,
    pub repo_url: Option<String>,
    pub theme: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Workflow {
    /// Most severe first.
    pub severities: Vec<String>,
    pub declare_within: TimeDelta,
    pub severity: BTreeMap<String, SeverityPolicy>,
    pub min_whys: usize,
    pub factor_categories: Vec<String>,
    pub blameful_words: Vec<String>,
    /// How much earlier than the commit recording it a `closed_at` may be.
    pub closure_tolerance: TimeDelta,
}

impl Workflow {
    /// The detection → declaration limit for a severity.
    pub fn declare_limit(&self, severity: Option<&str>) -> TimeDelta {
        severity
            .and_then(|s| self.severity.get(s))
            .and_then(|p| p.declare_within)
            .unwrap_or(self.declare_within)
    }
}

#[derive(Clone, Debug, Default)]
pub struct SeverityPolicy {
    pub declare_within: Option<TimeDelta>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    String,
    Text,
    Number,
    Bool,
    Date,
    DateTime,
    Url,
    List,
}

impl FieldKind {
    const NAMES: [&'static str; 8] = [
        "string", "text", "number", "bool", "date", "datetime", "url", "list",
    ];

    fn parse(text: &str) -> Option<FieldKind> {
        Some(match text {
            "string" => FieldKind::String,
            "text" => FieldKind::Text,
            "number" => FieldKind::Number,
            "bool" => FieldKind::Bool,
            "date" => FieldKind::Date,
            "datetime" => FieldKind::DateTime,
            "url" => FieldKind::Url,
            "list" => FieldKind::List,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct CustomField {
    pub kind: FieldKind,
    pub label: String,
    pub required_from: Option<Status>,
}

#[derive(Clone, Debug)]
pub struct Person {
    pub name: String,
    pub emails: Vec<String>,
    pub roles: Vec<String>,
}

impl Person {
    pub fn is_tech_lead(&self) -> bool {
        self.roles.iter().any(|r| r == "tech-lead")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleSetting {
    Error,
    Warn,
    Allow,
}

/// Every problem found in `debrief.toml`, reported together.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<Diagnostic>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} has {} problem(s)", FILE_NAME, self.0.len())
    }
}

impl std::error::Error for ConfigErrors {}

/// Built-in front-matter keys; custom fields may not reuse them.
pub const BUILTIN_FIELDS: &[&str] = &[
    "title",
    "id",
    "status",
    "severity",
    "owner",
    "tech_lead",
    "responders",
    "services",
    "tags",
    "started_at",
    "detected_at",
    "declared_at",
    "mitigated_at",
    "resolved_at",
    "summary",
    "timeline",
    "whys",
    "root_cause",
    "factors",
    "action_items",
    "related",
    "links",
    "waivers",
];

pub const DEFAULT_BLAMEFUL_WORDS: &[&str] = &[
    "careless",
    "carelessness",
    "should have known",
    "should have noticed",
    "human error",
    "fault",
    "negligent",
    "negligence",
    "incompetent",
    "stupid",
    "lazy",
    "sloppy",
    "blame",
    "blamed",
];

/// Walks up from `start` to the nearest folder with a `debrief.toml`, like git finds `.git`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(FILE_NAME).is_file())
        .map(Path::to_path_buf)
}

impl Config {
    /// Reads and validates `root/debrief.toml`. I/O problems are `Err`; problems in the
    /// file's content come back together as [`ConfigErrors`].
    pub fn load(root: &Path) -> anyhow::Result<Config> {
        let path = root.join(FILE_NAME);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Config::parse(root, &text).map_err(anyhow::Error::new)
    }

    pub fn parse(root: &Path, text: &str) -> Result<Config, ConfigErrors> {
        let node = match DeTable::parse(text) {
            Ok(table) => {
                let lines = LineIndex::new(text);
                let span = table.span();
                table_to_node(table.into_inner(), lines.pos(span.start), &lines)
            }
            Err(e) => {
                let pos = e.span().map(|s| LineIndex::new(text).pos(s.start));
                let message = e.message().trim().to_owned();
                return Err(ConfigErrors(vec![Diagnostic::new(
                    RULE,
                    Level::Error,
                    FILE_NAME,
                    pos,
                    format!("invalid TOML: {message}"),
                )
                .help("fix the TOML syntax at this position")]));
            }
        };
        let mut reader = Reader::new(FILE_NAME, RULE, RULE);
        let config = read_config(&mut reader, root, &node);
        if reader.found.is_empty() {
            Ok(config)
        } else {
            let mut found = reader.found;
            crate::diagnostic::sort(&mut found);
            Err(ConfigErrors(found))
        }
    }

    pub fn content_dir(&self) -> PathBuf {
        self.root.join(&self.site.content)
    }

    /// The level of a finding after `[rules]` overrides; `None` when the rule is allowed.
    /// Notes stay notes: a waived finding is information, whatever its rule's level.
    pub fn level_for(&self, rule: &str, level: Level) -> Option<Level> {
        match self.rules.get(rule) {
            Some(RuleSetting::Allow) => None,
            _ if level == Level::Note => Some(level),
            Some(RuleSetting::Warn) => Some(Level::Warning),
            Some(RuleSetting::Error) => Some(Level::Error),
            None => Some(level),
        }
    }

    /// Applies `[rules]` overrides to findings made outside the rule functions (loading).
    pub fn apply_overrides(&self, found: &mut Vec<Diagnostic>) {
        found.retain_mut(|d| match self.level_for(d.rule, d.level) {
            Some(level) => {
                d.level = level;
                true
            }
            None => false,
        });
    }
}

fn read_config(r: &mut Reader, root: &Path, node: &Node) -> Config {
    let empty: &Entries = &[];
    let top = r.map(node, "debrief.toml").unwrap_or(empty);
    r.unknown_keys(
        top,
        "at the top level of debrief.toml",
        &["site", "workflow", "fields", "people", "rules", "approvals"],
    );
    let section = |r: &mut Reader, name: &str| -> &[(Spanned<String>, Node)] {
        match top.iter().find(|(k, _)| k.value == name) {
            Some((_, v)) => r.map(v, name).unwrap_or(empty),
            None => empty,
        }
    };
    let sections =
        ["site", "workflow", "fields", "people", "rules", "approvals"].map(|name| section(r, name));
    let [site, workflow, fields, people, rules, approvals] = sections;
    let site = read_site(r, site);
    let workflow = read_workflow(r, workflow);
    let fields = read_fields(r, fields);
    let people = read_people(r, people);
    let rules = read_rules(r, rules);
    let approvals = read_approvals(r, approvals);
    Config {
        root: root.to_path_buf(),
        site,
        workflow,
        fields,
        people,
        rules,
        approvals,
    }
}

fn read_approvals(r: &mut Reader, table: &Entries) -> ApprovalPolicy {
    r.unknown_keys(
        table,
        "in [approvals]",
        &["trust_ref", "require_signature", "review_quorum", "record"],
    );
    let trust_ref = get(table, "trust_ref")
        .and_then(|n| r.string(n, "approvals.trust_ref"))
        .map(|s| s.value);
    let require_signature = get(table, "require_signature")
        .and_then(|n| r.bool(n, "approvals.require_signature"))
        .unwrap_or(false);
    let review_quorum =
        get(table, "review_quorum").and_then(|n| match r.int(n, "approvals.review_quorum") {
            Some(q) if q >= 1 => usize::try_from(q).ok(),
            Some(q) => {
                r.report(
                    RULE,
                    Level::Error,
                    n.pos,
                    format!("`approvals.review_quorum` is {q}"),
                    "use 1 or more, or remove it to require every responder",
                );
                None
            }
            None => None,
        });
    let record = match get(table, "record").and_then(|n| r.string(n, "approvals.record")) {
        None => Record::Commit,
        Some(s) if s.value == "commit" => Record::Commit,
        Some(s) if s.value == "file" => Record::File,
        Some(s) => {
            r.report(RULE, Level::Error, s.pos, format!("`approvals.record` `{}` is not a record kind", s.value), "use \"commit\" (trailers in approval commits) or \"file\" (signed files that survive squash merges)");
            Record::Commit
        }
    };
    ApprovalPolicy {
        trust_ref,
        require_signature,
        review_quorum,
        record,
    }
}

fn get<'a>(entries: &'a Entries, key: &str) -> Option<&'a Node> {
    entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| v)
}

fn read_site(r: &mut Reader, site: &Entries) -> Site {
    r.unknown_keys(
        site,
        "in [site]",
        &[
            "title", "base_url", "content", "timezone", "repo_url", "theme",
        ],
    );
    let mut text = |key: &str, default: &str| {
        get(site, key)
            .and_then(|n| r.string(n, &format!("site.{key}")))
            .map_or_else(|| default.to_owned(), |s| s.value)
    };
    let title = text("title", "Incident reviews");
    let base_url = text("base_url", "/");
    let content = text("content", "content");
    let timezone_name = text("timezone", "UTC");
    let theme = get(site, "theme")
        .and_then(|n| r.string(n, "site.theme"))
        .map(|s| s.value);
    let repo_url = get(site, "repo_url").and_then(|n| r.string(n, "site.repo_url"));
    if let Some(url) = &repo_url {
        if !is_http_url(&url.value) {
            r.report(
                RULE,
                Level::Error,
                url.pos,
                format!("`site.repo_url` `{}` is not an http(s) URL", url.value),
                "e.g. repo_url = \"https://github.com/acme/postmortems\"",
            );
        }
    }
    if Path::new(&content).is_absolute() || content.split(['/', '\\']).any(|part| part == "..") {
        let pos = get(site, "content").map_or(Pos::START, |n| n.pos);
        r.report(
            RULE,
            Level::Error,
            pos,
            format!("`site.content` `{content}` must be a folder inside the repository"),
            "use a relative path such as \"content\"",
        );
    }
    let timezone = match timezone_name.parse::<Tz>() {
        Ok(tz) => tz,
        Err(_) => {
            let pos = get(site, "timezone").map_or(Pos::START, |n| n.pos);
            r.report(
                RULE,
                Level::Error,
                pos,
                format!("unknown time zone `{timezone_name}`"),
                "use an IANA name such as \"UTC\", \"Europe/Berlin\" or \"America/New_York\"",
            );
            Tz::UTC
        }
    };
    Site {
        title,
        base_url,
        content,
        timezone,
        repo_url: repo_url.map(|s| s.value),
        theme,
    }
}

fn read_duration(r: &mut Reader, node: &Node, what: &str) -> Option<TimeDelta> {
    let text = r.string(node, what)?;
    match parse_duration(&text.value) {
        Some(d) if d > TimeDelta::zero() => Some(d),
        _ => {
            r.report(
                RULE,
                Level::Error,
                text.pos,
                format!("`{what}` `{}` is not a duration", text.value),
                "write a number with a unit: \"30m\", \"2h\", \"1h30m\", \"3d\"",
            );
            None
        }
    }
}

fn read_workflow(r: &mut Reader, wf: &Entries) -> Workflow {
    r.unknown_keys(
        wf,
        "in [workflow]",
        &[
            "severities",
            "declare_within",
            "severity",
            "min_whys",
            "factor_categories",
            "blameful_words",
            "closure_tolerance",
        ],
    );
    let list = |r: &mut Reader, key: &str| {
        get(wf, key)
            .and_then(|n| r.strings(n, &format!("workflow.{key}"), false))
            .map(|l| l.value.into_iter().map(|s| s.value).collect::<Vec<_>>())
    };
    let severities = list(r, "severities")
        .unwrap_or_else(|| ["SEV1", "SEV2", "SEV3", "SEV4"].map(String::from).to_vec());
    let factor_categories = list(r, "factor_categories").unwrap_or_else(|| {
        [
            "process",
            "tooling",
            "communication",
            "monitoring",
            "testing",
        ]
        .map(String::from)
        .to_vec()
    });
    let blameful_words = list(r, "blameful_words").unwrap_or_else(|| {
        DEFAULT_BLAMEFUL_WORDS
            .iter()
            .map(|w| (*w).to_owned())
            .collect()
    });
    for (key, values) in [
        ("severities", &severities),
        ("factor_categories", &factor_categories),
    ] {
        let pos = get(wf, key).map_or(Pos::START, |n| n.pos);
        if values.is_empty() {
            r.report(
                RULE,
                Level::Error,
                pos,
                format!("`workflow.{key}` is empty"),
                "list at least one value",
            );
        }
        for (i, v) in values.iter().enumerate() {
            if values[..i].contains(v) {
                r.report(
                    RULE,
                    Level::Error,
                    pos,
                    format!("`workflow.{key}` lists `{v}` twice"),
                    "remove the repeated entry",
                );
            }
        }
    }
    let declare_within = get(wf, "declare_within")
        .and_then(|n| read_duration(r, n, "workflow.declare_within"))
        .unwrap_or(TimeDelta::minutes(30));
    let min_whys = match get(wf, "min_whys") {
        Some(n) => match r.int(n, "workflow.min_whys") {
            Some(i) if (0..=50).contains(&i) => usize::try_from(i).unwrap_or(5),
            Some(i) => {
                r.report(
                    RULE,
                    Level::Error,
                    n.pos,
                    format!("`workflow.min_whys` is {i}"),
                    "use a number between 0 and 50",
                );
                5
            }
            None => 5,
        },
        None => 5,
    };
    let mut severity = BTreeMap::new();
    if let Some(node) = get(wf, "severity") {
        for (name, policy) in r.map(node, "workflow.severity").unwrap_or_default() {
            if !severities.contains(&name.value) {
                let hint = did_you_mean(&name.value, severities.iter().map(String::as_str))
                    .map_or_else(
                        || format!("severities are: {}", severities.join(", ")),
                        |s| format!("did you mean `{s}`?"),
                    );
                r.report(
                    RULE,
                    Level::Error,
                    name.pos,
                    format!(
                        "[workflow.severity.{}] is not one of workflow.severities",
                        name.value
                    ),
                    hint,
                );
            }
            let entries = r
                .map(policy, &format!("workflow.severity.{}", name.value))
                .unwrap_or_default();
            r.unknown_keys(
                entries,
                &format!("in [workflow.severity.{}]", name.value),
                &["declare_within"],
            );
            let declare_within = get(entries, "declare_within").and_then(|n| {
                read_duration(
                    r,
                    n,
                    &format!("workflow.severity.{}.declare_within", name.value),
                )
            });
            severity.insert(name.value.clone(), SeverityPolicy { declare_within });
        }
    }
    let closure_tolerance = get(wf, "closure_tolerance")
        .and_then(|n| read_duration(r, n, "workflow.closure_tolerance"))
        .unwrap_or(TimeDelta::days(3));
    Workflow {
        closure_tolerance,
        severities,
        declare_within,
        severity,
        min_whys,
        factor_categories,
        blameful_words,
    }
}

fn read_fields(r: &mut Reader, fields: &Entries) -> BTreeMap<String, CustomField> {
    let mut out = BTreeMap::new();
    for (name, spec) in fields {
        let what = format!("fields.{}", name.value);
        if BUILTIN_FIELDS.contains(&name.value.as_str()) {
            r.report(
                RULE,
                Level::Error,
                name.pos,
                format!("[{what}] redefines a built-in field"),
                "choose another name for the custom field",
            );
            continue;
        }
        if !is_field_name(&name.value) {
            r.report(
                RULE,
                Level::Error,
                name.pos,
                format!("[{what}]: field names are lowercase letters, digits and `_`"),
                "e.g. [fields.customer_impact]",
            );
            continue;
        }
        let entries = r.map(spec, &what).unwrap_or_default();
        r.unknown_keys(
            entries,
            &format!("in [{what}]"),
            &["type", "label", "required_from"],
        );
        let kind = match get(entries, "type").and_then(|n| r.string(n, &format!("{what}.type"))) {
            Some(t) => match FieldKind::parse(&t.value) {
                Some(k) => k,
                None => {
                    r.report(
                        RULE,
                        Level::Error,
                        t.pos,
                        format!("unknown field type `{}`", t.value),
                        format!("use one of: {}", FieldKind::NAMES.join(", ")),
                    );
                    FieldKind::String
                }
            },
            None => FieldKind::String,
        };
        let label = get(entries, "label")
            .and_then(|n| r.string(n, &format!("{what}.label")))
            .map_or_else(|| name.value.replace('_', " "), |s| s.value);
        let required_from = get(entries, "required_from")
            .and_then(|n| r.string(n, &format!("{what}.required_from")))
            .and_then(|s| match Status::parse(&s.value) {
                Some(status) => Some(status),
                None => {
                    r.report(
                        RULE,
                        Level::Error,
                        s.pos,
                        format!("`{what}.required_from` `{}` is not a status", s.value),
                        "use draft, review, published or closed",
                    );
                    None
                }
            });
        out.insert(
            name.value.clone(),
            CustomField {
                kind,
                label,
                required_from,
            },
        );
    }
    out
}

pub fn is_field_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

pub fn is_handle(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn read_people(r: &mut Reader, people: &Entries) -> BTreeMap<String, Person> {
    let mut out = BTreeMap::new();
    let mut email_owner: BTreeMap<String, (String, Pos)> = BTreeMap::new();
    for (handle, spec) in people {
        let what = format!("people.{}", handle.value);
        if !is_handle(&handle.value) {
            r.report(
                RULE,
                Level::Error,
                handle.pos,
                format!("[{what}]: a handle is lowercase letters, digits and `-`"),
                "e.g. [people.alice] or [people.j-doe]",
            );
        }
        let entries = r.map(spec, &what).unwrap_or_default();
        r.unknown_keys(
            entries,
            &format!("in [{what}]"),
            &["name", "emails", "roles"],
        );
        let name = get(entries, "name")
            .and_then(|n| r.string(n, &format!("{what}.name")))
            .map_or_else(|| handle.value.clone(), |s| s.value);
        let emails: Vec<Spanned<String>> = get(entries, "emails")
            .and_then(|n| r.strings(n, &format!("{what}.emails"), false))
            .map(|l| l.value)
            .unwrap_or_default();
        for email in &emails {
            let key = email.value.to_lowercase();
            if !key.contains('@') {
                r.report(
                    RULE,
                    Level::Error,
                    email.pos,
                    format!("`{}` is not an email address", email.value),
                    "write it as name@example.com",
                );
            }
            if let Some((other, _)) = email_owner.get(&key) {
                let other = other.clone();
                r.report(
                    RULE,
                    Level::Error,
                    email.pos,
                    format!(
                        "email `{}` belongs to both [people.{other}] and [{what}]",
                        email.value
                    ),
                    "an email identifies one person; remove it from one of them",
                );
            } else {
                email_owner.insert(key, (handle.value.clone(), email.pos));
            }
        }
        let roles = get(entries, "roles")
            .and_then(|n| r.strings(n, &format!("{what}.roles"), false))
            .map(|l| l.value.into_iter().map(|s| s.value).collect())
            .unwrap_or_default();
        out.insert(
            handle.value.clone(),
            Person {
                name,
                emails: emails.into_iter().map(|e| e.value).collect(),
                roles,
            },
        );
    }
    out
}

fn read_rules(r: &mut Reader, table: &Entries) -> BTreeMap<String, RuleSetting> {
    let mut out = BTreeMap::new();
    for (id, value) in table {
        if rules::find(&id.value).is_none() {
            let hint = did_you_mean(&id.value, rules::ids()).map_or_else(
                || "see docs/rules.md for the rule ids".to_owned(),
                |s| format!("did you mean `{s}`?"),
            );
            r.report(
                RULE,
                Level::Error,
                id.pos,
                format!("unknown rule `{}` in [rules]", id.value),
                hint,
            );
            continue;
        }
        let Some(setting) = r.string(value, &format!("rules.{}", id.value)) else {
            continue;
        };
        let parsed = match setting.value.as_str() {
            "error" => RuleSetting::Error,
            "warn" | "warning" => RuleSetting::Warn,
            "allow" | "off" => RuleSetting::Allow,
            other => {
                r.report(
                    RULE,
                    Level::Error,
                    setting.pos,
                    format!("`{other}` is not a rule level"),
                    "use \"error\", \"warn\" or \"allow\"",
                );
                continue;
            }
        };
        if id.value == "front-matter-invalid" && parsed != RuleSetting::Error {
            r.report(
                RULE,
                Level::Error,
                id.pos,
                "`front-matter-invalid` cannot be lowered: an unreadable file cannot be checked"
                    .into(),
                "fix or remove the file instead",
            );
            continue;
        }
        out.insert(id.value.clone(), parsed);
    }
    out
}

/// Byte offset → line and column, for TOML spans.
struct LineIndex {
    starts: Vec<usize>,
    text_len: usize,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            starts,
            text_len: text.len(),
        }
    }

    fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text_len);
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let col = offset - self.starts[line - 1] + 1;
        Pos::new(line, col)
    }
}

fn table_to_node(table: DeTable<'_>, pos: Pos, lines: &LineIndex) -> Node {
    let entries = table
        .into_iter()
        .map(|(key, value)| {
            let key_pos = lines.pos(key.span().start);
            (
                Spanned::new(key.into_inner().into_owned(), key_pos),
                value_to_node(value, lines),
            )
        })
        .collect();
    Node::new(Value::Map(entries), pos)
}

fn value_to_node(value: TomlSpanned<DeValue<'_>>, lines: &LineIndex) -> Node {
    let pos = lines.pos(value.span().start);
    let value = match value.into_inner() {
        DeValue::String(s) => Value::Str(s.into_owned()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Float(i.as_str().parse().unwrap_or(f64::NAN)),
        },
        DeValue::Float(f) => Value::Float(f.as_str().parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => Value::Bool(b),
        DeValue::Datetime(d) => Value::Str(d.to_string()),
        DeValue::Array(items) => Value::Seq(
            items
                .iter()
                .cloned()
                .map(|v| value_to_node(v, lines))
                .collect(),
        ),
        DeValue::Table(table) => return table_to_node(table, pos, lines),
    };
    Node::new(value, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<Diagnostic> {
        match Config::parse(Path::new("."), text) {
            Ok(_) => Vec::new(),
            Err(ConfigErrors(found)) => found,
        }
    }

    #[test]
    fn defaults_apply_to_an_empty_file() {
        let config = Config::parse(Path::new("."), "");
        let config = config.unwrap_or_else(|e| panic!("{:?}", e.0));
        assert_eq!(config.workflow.min_whys, 5);
        assert_eq!(config.workflow.declare_within, TimeDelta::minutes(30));
        assert_eq!(config.site.content, "content");
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let found = errors("[site]\ntimezone = \"Mars/Base\"\n\n[workflow]\ndeclare_within = \"soon\"\nmin_whyz = 3\n\n[rules]\nblamefull-language = \"warn\"\n");
        let lines: Vec<_> = found.iter().map(|d| d.line().unwrap_or(0)).collect();
        assert_eq!(lines, vec![2, 5, 6, 9], "{found:#?}");
        assert!(found[2].help.as_deref() == Some("did you mean `min_whys`?"));
        assert!(found[3].help.as_deref() == Some("did you mean `blameful-language`?"));
    }

    #[test]
    fn severity_overrides_apply() {
        let config = Config::parse(
            Path::new("."),
            "[workflow.severity.SEV1]\ndeclare_within = \"15m\"\n",
        );
        let config = config.unwrap_or_else(|e| panic!("{:?}", e.0));
        assert_eq!(
            config.workflow.declare_limit(Some("SEV1")),
            TimeDelta::minutes(15)
        );
        assert_eq!(
            config.workflow.declare_limit(Some("SEV2")),
            TimeDelta::minutes(30)
        );
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let found = errors("[site]\ntitle = \n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line(), Some(2));
    }
}
