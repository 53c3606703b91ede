//! Renders findings for people (human), scripts (json), GitHub Actions (github) and
//! code-scanning tools (sarif).

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::diagnostic::{Counts, Diagnostic, Level};
use crate::rules::{self, LevelPolicy};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
}

/// What a report covers, for summaries.
pub struct Summary {
    pub checked: usize,
    pub counts: Counts,
}

pub fn render(
    format: Format,
    diagnostics: &[Diagnostic],
    summary: &Summary,
    color: bool,
) -> String {
    match format {
        Format::Human => human(diagnostics, summary, color),
        Format::Json => json_report(diagnostics, summary),
        Format::Github => github(diagnostics, summary),
        Format::Sarif => sarif(diagnostics),
    }
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

fn level_color(level: Level) -> &'static str {
    match level {
        Level::Error => "1;31",
        Level::Warning => "1;33",
        Level::Note => "1;36",
    }
}

fn location(d: &Diagnostic) -> String {
    match d.pos {
        Some(pos) => format!("{}:{}:{}", d.file, pos.line, pos.col),
        None => d.file.clone(),
    }
}

/// `file:line:col: level[rule]: message` + `  = help: …`, like compilers print.
pub fn human(diagnostics: &[Diagnostic], summary: &Summary, color: bool) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let _ = writeln!(
            out,
            "{}: {}: {}",
            paint(color, "1", &location(d)),
            paint(
                color,
                level_color(d.level),
                &format!("{}[{}]", d.level, d.rule)
            ),
            d.message
        );
        if let Some(help) = &d.help {
            let _ = writeln!(out, "  {} {help}", paint(color, "1;34", "= help:"));
        }
    }
    let _ = writeln!(out, "{}", summary_line(summary));
    out
}

pub fn summary_line(summary: &Summary) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let Counts {
        errors,
        warnings,
        notes,
    } = summary.counts;
    let mut parts = vec![plural(errors, "error"), plural(warnings, "warning")];
    if notes > 0 {
        parts.push(plural(notes, "note"));
    }
    format!(
        "checked {}: {}",
        plural(summary.checked, "postmortem"),
        parts.join(", ")
    )
}

fn json_report(diagnostics: &[Diagnostic], summary: &Summary) -> String {
    let items: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            json!({
                "postmortem": d.postmortem,
                "file": d.file,
                "line": d.line(),
                "column": d.column(),
                "rule": d.rule,
                "level": d.level,
                "message": d.message,
                "help": d.help,
            })
        })
        .collect();
    let report = json!({
        "version": 1,
        "checked": summary.checked,
        "errors": summary.counts.errors,
        "warnings": summary.counts.warnings,
        "notes": summary.counts.notes,
        "diagnostics": items,
    });
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

/// GitHub workflow-command escaping: data and property values differ.
fn gh_escape(text: &str, property: bool) -> String {
    let mut out = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

fn github(diagnostics: &[Diagnostic], summary: &Summary) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let command = match d.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "notice",
        };
        let mut props = vec![format!("file={}", gh_escape(&d.file, true))];
        if let Some(pos) = d.pos {
            props.push(format!("line={}", pos.line));
            props.push(format!("col={}", pos.col));
        }
        props.push(format!("title={}", gh_escape(d.rule, true)));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let _ = writeln!(
            out,
            "::{command} {}::{}",
            props.join(","),
            gh_escape(&message, false)
        );
    }
    let _ = writeln!(out, "{}", summary_line(summary));
    out
}

/// The Markdown appended to `$GITHUB_STEP_SUMMARY`.
pub fn github_step_summary(diagnostics: &[Diagnostic], summary: &Summary) -> String {
    let mut out = String::from("## debrief check\n\n");
    let _ = writeln!(out, "{}\n", summary_line(summary));
    if diagnostics.is_empty() {
        out.push_str("No findings.\n");
        return out;
    }
    out.push_str("| level | location | rule | message |\n|---|---|---|---|\n");
    for d in diagnostics {
        let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let _ = writeln!(
            out,
            "| {} | `{}` | `{}` | {} |",
            d.level,
            location(d),
            d.rule,
            cell(&d.message)
        );
    }
    out
}

fn sarif_level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    }
}

fn sarif(diagnostics: &[Diagnostic]) -> String {
    let rule_entries: Vec<Value> = rules::RULES
        .iter()
        .map(|r| {
            let level = match r.default {
                LevelPolicy::Warning | LevelPolicy::ErrorWhenClosed => "warning",
                LevelPolicy::Error | LevelPolicy::ErrorFromReview => "error",
            };
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.summary },
                "defaultConfiguration": { "level": level },
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let mut region = serde_json::Map::new();
            if let Some(pos) = d.pos {
                region.insert("startLine".into(), json!(pos.line));
                region.insert("startColumn".into(), json!(pos.col));
            }
            let mut location =
                json!({ "physicalLocation": { "artifactLocation": { "uri": d.file } } });
            if !region.is_empty() {
                location["physicalLocation"]["region"] = Value::Object(region);
            }
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str(" (help: ");
                text.push_str(help);
                text.push(')');
            }
            let mut result = json!({
                "ruleId": d.rule,
                "level": sarif_level(d.level),
                "message": { "text": text },
                "locations": [location],
            });
            if let Some(index) = rules::RULES.iter().position(|r| r.id == d.rule) {
                result["ruleIndex"] = json!(index);
            }
            result
        })
        .collect();
    let report = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "debrief",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rule_entries,
            }},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_escapes_properties_and_data() {
        assert_eq!(gh_escape("a:b,c%", true), "a%3Ab%2Cc%25");
        assert_eq!(gh_escape("line1\nline2: x", false), "line1%0Aline2: x");
    }
}
