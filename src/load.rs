//! Load: every content file → a typed [`Postmortem`] plus the findings reading it produced.
//! Files are independent, so they are read in parallel.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::config::{Config, FieldKind};
use crate::content::{self, ContentPath, SourceFile};
use crate::diagnostic::{Diagnostic, Level};
use crate::model::{
    ActionItem, CustomValue, Factor, FrontMatter, ItemStatus, Link, Postmortem, Status,
    TimelineEntry, Waiver, Why,
};
use crate::schema::{Entries, Reader};
use crate::tree::{Node, Pos, Spanned};
use crate::validate::FileRules;

/// Everything that was loaded from the content folder.
#[derive(Debug, Default)]
pub struct Loaded {
    pub postmortems: Vec<Postmortem>,
    /// Files that could not be read at all, and other load findings.
    pub diagnostics: Vec<Diagnostic>,
    /// Every content file found, readable or not (root-relative).
    pub files: Vec<String>,
}

/// Every postmortem with its parsed front-matter, unchecked (for commands that edit or
/// digest files).
pub fn load_all(config: &Config) -> anyhow::Result<Loaded> {
    load_with(config, None)
}

/// Every postmortem, each checked by the rules of its own file as it is loaded and then
/// compacted ([`Postmortem::compact`]): the findings are in `diagnostics`, and the parsed
/// trees of thousands of files are never all in memory at once. The rules across files
/// are left to `validate::validate_across`.
pub fn load_checked(config: &Config, rules: &FileRules) -> anyhow::Result<Loaded> {
    load_with(config, Some(rules))
}

fn load_with(config: &Config, rules: Option<&FileRules>) -> anyhow::Result<Loaded> {
    let found = content::discover(&config.root, &config.content_dir())?;
    let results: Vec<(Option<Postmortem>, Vec<Diagnostic>)> = found
        .files
        .par_iter()
        .map(|path| load_one(config, path, rules))
        .collect();
    let mut loaded = Loaded {
        files: found.files.iter().map(|f| f.rel.clone()).collect(),
        ..Loaded::default()
    };
    for (postmortem, diagnostics) in results {
        loaded.postmortems.extend(postmortem);
        loaded.diagnostics.extend(diagnostics);
    }
    for (path, why) in found.skipped_links {
        loaded.diagnostics.push(skipped_link(&path, &why));
    }
    config.apply_overrides(&mut loaded.diagnostics);
    Ok(loaded)
}

/// The warning for a symbolic link that discovery refused to follow.
pub fn skipped_link(path: &ContentPath, why: &str) -> Diagnostic {
    Diagnostic::new(
        "symlink-outside-repo",
        Level::Warning,
        &path.rel,
        None,
        format!("symbolic link not followed: it {why}"),
    )
    .help("copy the file into the repository, or remove the link")
}

/// One file: its postmortem (unless it could not be read at all) and its findings; with
/// `rules`, also the findings of its own rules, and the postmortem compacted.
pub fn load_one(
    config: &Config,
    path: &ContentPath,
    rules: Option<&FileRules>,
) -> (Option<Postmortem>, Vec<Diagnostic>) {
    match content::load(path) {
        Ok(source) => {
            let (mut postmortem, mut diagnostics) = read_postmortem(config, source);
            if let Some(rules) = rules {
                diagnostics.extend(rules.check(&postmortem));
                postmortem.compact();
            }
            (Some(postmortem), diagnostics)
        }
        Err(problem) => {
            let d = Diagnostic::new(
                "front-matter-invalid",
                Level::Error,
                &path.rel,
                problem.pos,
                problem.message,
            )
            .help(problem.help);
            (None, vec![d])
        }
    }
}

const TOP_KEYS: &[&str] = crate::config::BUILTIN_FIELDS;
const TIMELINE_KEYS: &[&str] = &["at", "event", "who"];
const WHY_KEYS: &[&str] = &["why", "because"];
const FACTOR_KEYS: &[&str] = &["category", "description"];
const ITEM_KEYS: &[&str] = &[
    "id",
    "title",
    "owner",
    "due",
    "status",
    "closed_at",
    "ticket",
    "reason",
];
const LINK_KEYS: &[&str] = &["title", "url"];
const WAIVER_KEYS: &[&str] = &["rule", "reason", "item"];

/// Typed reading of one file's front-matter. Every type problem is reported; the
/// postmortem keeps whatever could be read, so the rules still see the rest.
pub fn read_postmortem(config: &Config, source: SourceFile) -> (Postmortem, Vec<Diagnostic>) {
    let SourceFile {
        path,
        front_matter,
        body,
        body_line,
        blob_id,
        ..
    } = source;
    let mut r = Reader::new(&path.rel, "field-type", "field-unknown");
    let empty: &Entries = &[];
    let top = if front_matter.is_null() {
        empty
    } else {
        r.map(&front_matter, "the front-matter").unwrap_or(empty)
    };
    let known: Vec<&str> = TOP_KEYS
        .iter()
        .copied()
        .chain(config.fields.keys().map(String::as_str))
        .collect();
    r.unknown_keys(top, "in the front-matter", &known);
    let get = |key: &str| top.iter().find(|(k, _)| k.value == key).map(|(_, v)| v);

    let text = |r: &mut Reader, key: &str| get(key).and_then(|n| r.string(n, key));
    let time = |r: &mut Reader, key: &str| get(key).and_then(|n| r.timestamp(n, key));
    let list = |r: &mut Reader, key: &str| {
        get(key)
            .and_then(|n| r.strings(n, key, false))
            .map(|l| l.value)
            .unwrap_or_default()
    };

    let (id, id_from_stem) = match text(&mut r, "id") {
        Some(id) => (id, false),
        None => (Spanned::new(path.stem().to_owned(), Pos::START), true),
    };
    let status = text(&mut r, "status").and_then(|s| match Status::parse(&s.value) {
        Some(status) => Some(Spanned::new(status, s.pos)),
        None => {
            let help = crate::tree::did_you_mean(&s.value, Status::names()).map_or_else(
                || "use draft, review, published or closed".to_owned(),
                |c| format!("did you mean `{c}`? (draft, review, published or closed)"),
            );
            r.report(
                "status-invalid",
                Level::Error,
                s.pos,
                format!("status `{}` is not a workflow status", s.value),
                help,
            );
            None
        }
    });

    let mut postmortem = Postmortem {
        file: path.rel.clone(),
        id,
        id_from_stem,
        title: text(&mut r, "title"),
        status,
        severity: get("severity").and_then(|n| severity(&mut r, n, config)),
        owner: text(&mut r, "owner"),
        tech_lead: text(&mut r, "tech_lead"),
        responders: get("responders").and_then(|n| r.strings(n, "responders", false)),
        services: list(&mut r, "services"),
        tags: list(&mut r, "tags"),
        started_at: time(&mut r, "started_at"),
        detected_at: time(&mut r, "detected_at"),
        declared_at: time(&mut r, "declared_at"),
        mitigated_at: time(&mut r, "mitigated_at"),
        resolved_at: time(&mut r, "resolved_at"),
        summary: text(&mut r, "summary"),
        timeline: None,
        whys: None,
        root_cause: text(&mut r, "root_cause"),
        factors: None,
        action_items: None,
        related: list(&mut r, "related"),
        links: Vec::new(),
        waivers: Vec::new(),
        custom: BTreeMap::new(),
        front_matter: FrontMatter::Tree(Node::new(crate::tree::Value::Null, Pos::START)),
        digest: String::new(),
        blob_id,
        body,
        body_line,
    };

    postmortem.timeline = get("timeline").and_then(|n| {
        records(&mut r, n, "timeline", TIMELINE_KEYS, |r, pos, e| {
            TimelineEntry {
                pos,
                given: given_keys(e),
                at: field(e, "at").and_then(|n| r.timestamp(n, "timeline.at")),
                event: field(e, "event").and_then(|n| r.string(n, "timeline.event")),
                who: field(e, "who")
                    .and_then(|n| r.strings(n, "timeline.who", true))
                    .map(|l| l.value)
                    .unwrap_or_default(),
            }
        })
    });
    postmortem.whys = get("whys").and_then(|n| {
        records(&mut r, n, "whys", WHY_KEYS, |r, pos, e| Why {
            pos,
            given: given_keys(e),
            why: field(e, "why").and_then(|n| r.string(n, "why")),
            because: field(e, "because").and_then(|n| r.string(n, "because")),
        })
    });
    postmortem.factors = get("factors").and_then(|n| {
        records(&mut r, n, "factors", FACTOR_KEYS, |r, pos, e| Factor {
            pos,
            given: given_keys(e),
            category: field(e, "category").and_then(|n| r.string(n, "factor category")),
            description: field(e, "description").and_then(|n| r.string(n, "factor description")),
        })
    });
    postmortem.action_items = get("action_items").and_then(|n| {
        records(&mut r, n, "action_items", ITEM_KEYS, |r, pos, e| {
            ActionItem {
                pos,
                given: given_keys(e),
                id: field(e, "id").and_then(|n| r.string(n, "action item id")),
                title: field(e, "title").and_then(|n| r.string(n, "action item title")),
                owner: field(e, "owner").and_then(|n| r.string(n, "action item owner")),
                due: field(e, "due").and_then(|n| r.date(n, "due")),
                status: field(e, "status")
                    .and_then(|n| r.string(n, "action item status"))
                    .and_then(|s| match ItemStatus::parse(&s.value) {
                        Some(status) => Some(Spanned::new(status, s.pos)),
                        None => {
                            r.report(
                                "status-invalid",
                                Level::Error,
                                s.pos,
                                format!(
                                    "action item status `{}` is not open, done or wontfix",
                                    s.value
                                ),
                                "use `open`, `done` or `wontfix`",
                            );
                            None
                        }
                    }),
                closed_at: field(e, "closed_at").and_then(|n| r.date(n, "closed_at")),
                ticket: field(e, "ticket").and_then(|n| r.string(n, "ticket")),
                reason: field(e, "reason").and_then(|n| r.string(n, "reason")),
            }
        })
    });
    postmortem.links = get("links")
        .and_then(|n| {
            records(&mut r, n, "links", LINK_KEYS, |r, pos, e| Link {
                pos,
                given: given_keys(e),
                title: field(e, "title").and_then(|n| r.string(n, "link title")),
                url: field(e, "url").and_then(|n| r.string(n, "link url")),
            })
        })
        .map(|l| l.value)
        .unwrap_or_default();
    postmortem.waivers = get("waivers")
        .and_then(|n| {
            records(&mut r, n, "waivers", WAIVER_KEYS, |r, pos, e| Waiver {
                pos,
                given: given_keys(e),
                rule: field(e, "rule").and_then(|n| r.string(n, "waiver rule")),
                reason: field(e, "reason").and_then(|n| r.string(n, "waiver reason")),
                item: field(e, "item").and_then(|n| r.string(n, "waiver item")),
            })
        })
        .map(|l| l.value)
        .unwrap_or_default();
    for (name, spec) in &config.fields {
        if let Some(node) = get(name) {
            if let Some(value) = custom_value(&mut r, node, name, spec.kind) {
                postmortem
                    .custom
                    .insert(name.clone(), Spanned::new(value, node.pos));
            }
        }
    }
    postmortem.digest = crate::digest::content_digest(&front_matter, &postmortem.body);
    postmortem.front_matter = FrontMatter::Tree(front_matter);
    let mut diagnostics = r.found;
    for d in &mut diagnostics {
        d.postmortem = Some(postmortem.id.value.clone());
    }
    (postmortem, diagnostics)
}

/// Keys of an entry that carry a value (not null, not blank, not an empty list).
pub fn given_keys(entries: &Entries) -> Vec<String> {
    entries
        .iter()
        .filter(|(_, v)| has_value(v))
        .map(|(k, _)| k.value.clone())
        .collect()
}

pub fn has_value(node: &Node) -> bool {
    match &node.value {
        crate::tree::Value::Null => false,
        crate::tree::Value::Str(s) => !s.trim().is_empty(),
        crate::tree::Value::Seq(items) => !items.is_empty(),
        crate::tree::Value::Map(entries) => !entries.is_empty(),
        _ => true,
    }
}

fn field<'a>(entries: &'a Entries, key: &str) -> Option<&'a Node> {
    entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| v)
}

/// Reads a list of mappings (timeline entries, whys, …), checking each entry's keys.
fn records<T>(
    r: &mut Reader,
    node: &Node,
    what: &str,
    keys: &[&str],
    mut read: impl FnMut(&mut Reader, Pos, &Entries) -> T,
) -> Option<Spanned<Vec<T>>> {
    let items = r.list(node, what)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(entries) = r.map(item, &format!("{what} entry")) {
            r.unknown_keys(entries, &format!("in a `{what}` entry"), keys);
            out.push(read(r, item.pos, entries));
        }
    }
    Some(Spanned::new(out, node.pos))
}

/// Severity gets a type error of its own: `severity: 1` is a common slip for `SEV1`.
fn severity(r: &mut Reader, node: &Node, config: &Config) -> Option<Spanned<String>> {
    if let Some(text) = node
        .scalar_text()
        .filter(|_| !matches!(node.value, crate::tree::Value::Str(_)))
    {
        let guess = config
            .workflow
            .severities
            .iter()
            .find(|s| s.ends_with(&text))
            .map_or_else(
                || format!("use one of: {}", config.workflow.severities.join(", ")),
                |s| format!("did you mean `severity: {s}`?"),
            );
        r.report(
            "field-type",
            Level::Error,
            node.pos,
            format!(
                "`severity` must be one of the configured severities, found the number `{text}`"
            ),
            guess,
        );
        return None;
    }
    r.string(node, "severity")
}

fn custom_value(r: &mut Reader, node: &Node, name: &str, kind: FieldKind) -> Option<CustomValue> {
    Some(match kind {
        FieldKind::String | FieldKind::Text | FieldKind::Url => {
            CustomValue::Text(r.string(node, name)?.value)
        }
        FieldKind::Number => CustomValue::Number(r.number(node, name)?),
        FieldKind::Bool => CustomValue::Bool(r.bool(node, name)?),
        FieldKind::Date => CustomValue::Date(r.date(node, name)?.value),
        FieldKind::DateTime => CustomValue::DateTime(r.timestamp(node, name)?.value),
        FieldKind::List => CustomValue::List(
            r.strings(node, name, false)?
                .value
                .into_iter()
                .map(|s| s.value)
                .collect(),
        ),
    })
}
