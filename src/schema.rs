//! Typed reading of a [`Node`] tree that reports every mismatch instead of stopping at the
//! first, the way a linter should. Shared by `debrief.toml` and the front-matter.

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::diagnostic::{Diagnostic, Level};
use crate::tree::{did_you_mean, Node, Pos, Spanned, Value};

pub type Entries = [(Spanned<String>, Node)];

/// Collects findings while reading one file.
pub struct Reader<'f> {
    pub file: &'f str,
    type_rule: &'static str,
    unknown_rule: &'static str,
    pub found: Vec<Diagnostic>,
}

impl<'f> Reader<'f> {
    /// `type_rule` and `unknown_rule` are the rule ids used for wrong types and unknown keys.
    pub fn new(file: &'f str, type_rule: &'static str, unknown_rule: &'static str) -> Self {
        Reader {
            file,
            type_rule,
            unknown_rule,
            found: Vec::new(),
        }
    }

    pub fn report(
        &mut self,
        rule: &'static str,
        level: Level,
        pos: Pos,
        message: String,
        help: impl Into<String>,
    ) {
        self.found
            .push(Diagnostic::new(rule, level, self.file, Some(pos), message).help(help));
    }

    fn type_error(&mut self, node: &Node, what: &str, expected: &str, example: &str) {
        let found = match node.scalar_text() {
            Some(text) => format!("{} `{}`", node.kind(), shorten(&text)),
            None => node.kind().to_string(),
        };
        self.report(
            self.type_rule,
            Level::Error,
            node.pos,
            format!("`{what}` must be {expected}, found {found}"),
            format!("write it like `{example}`"),
        );
    }

    /// Reports keys not in `known`, with the closest known key as a hint.
    pub fn unknown_keys(&mut self, entries: &Entries, context: &str, known: &[&str]) {
        for (key, _) in entries {
            if known.contains(&key.value.as_str()) {
                continue;
            }
            let help = match did_you_mean(&key.value, known.iter().copied()) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!("known keys {context}: {}", known.join(", ")),
            };
            self.report(
                self.unknown_rule,
                Level::Error,
                key.pos,
                format!("unknown key `{}` {context}", key.value),
                help,
            );
        }
    }

    pub fn map<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n Entries> {
        match &node.value {
            Value::Map(entries) => Some(entries),
            Value::Null => None,
            _ => {
                self.type_error(node, what, "a mapping of keys to values", "key: value");
                None
            }
        }
    }

    pub fn list<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            Value::Null => None,
            _ => {
                self.type_error(node, what, "a list", &format!("{what}: [a, b]"));
                None
            }
        }
    }

    /// A string. Empty or null values count as absent (`None`), so "missing" rules decide.
    pub fn string(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        match &node.value {
            Value::Str(s) if s.trim().is_empty() => None,
            Value::Str(s) => Some(Spanned::new(s.clone(), node.pos)),
            Value::Null => None,
            _ => {
                let example = match node.scalar_text() {
                    Some(text) => format!("{what}: \"{text}\""),
                    None => format!("{what}: some text"),
                };
                self.type_error(node, what, "a string", &example);
                None
            }
        }
    }

    /// A list of strings; with `single_ok` a lone string is read as a list of one.
    pub fn strings(
        &mut self,
        node: &Node,
        what: &str,
        single_ok: bool,
    ) -> Option<Spanned<Vec<Spanned<String>>>> {
        if single_ok && matches!(node.value, Value::Str(_)) {
            return self
                .string(node, what)
                .map(|s| Spanned::new(vec![s], node.pos));
        }
        let items = self.list(node, what)?;
        let values = items
            .iter()
            .filter_map(|item| self.string(item, &format!("{what} entry")))
            .collect();
        Some(Spanned::new(values, node.pos))
    }

    pub fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            Value::Null => None,
            _ => {
                self.type_error(node, what, "true or false", &format!("{what}: true"));
                None
            }
        }
    }

    pub fn int(&mut self, node: &Node, what: &str) -> Option<i64> {
        match node.value {
            Value::Int(i) => Some(i),
            Value::Null => None,
            _ => {
                self.type_error(node, what, "a whole number", &format!("{what}: 5"));
                None
            }
        }
    }

    pub fn number(&mut self, node: &Node, what: &str) -> Option<f64> {
        match node.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) if f.is_finite() => Some(f),
            Value::Null => None,
            _ => {
                self.type_error(node, what, "a number", &format!("{what}: 42"));
                None
            }
        }
    }

    /// An RFC 3339 timestamp that carries its UTC offset.
    pub fn timestamp(&mut self, node: &Node, what: &str) -> Option<Spanned<DateTime<FixedOffset>>> {
        let example = format!("{what}: 2026-03-14T09:12:00+01:00");
        let text = match &node.value {
            Value::Null => return None,
            Value::Str(s) => s.trim(),
            _ => {
                self.type_error(node, what, "an RFC 3339 timestamp with offset", &example);
                return None;
            }
        };
        if text.is_empty() {
            return None;
        }
        match DateTime::parse_from_rfc3339(text) {
            Ok(t) => Some(Spanned::new(t, node.pos)),
            Err(_) => {
                let has_no_offset =
                    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").is_ok()
                        || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").is_ok()
                        || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").is_ok();
                if has_no_offset {
                    self.report(
                        self.type_rule,
                        Level::Error,
                        node.pos,
                        format!("`{what}` timestamp `{text}` has no UTC offset, so the moment is ambiguous"),
                        format!("append `Z` for UTC or the local offset, e.g. `{text}+01:00`"),
                    );
                } else {
                    self.type_error(node, what, "an RFC 3339 timestamp with offset", &example);
                }
                None
            }
        }
    }

    /// A calendar date `YYYY-MM-DD`.
    pub fn date(&mut self, node: &Node, what: &str) -> Option<Spanned<NaiveDate>> {
        let example = format!("{what}: 2026-03-01");
        match &node.value {
            Value::Null => None,
            Value::Str(s) if s.trim().is_empty() => None,
            Value::Str(s) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .ok()
                .filter(|_| is_iso_date(s.trim()))
            {
                Some(d) => Some(Spanned::new(d, node.pos)),
                None => {
                    self.type_error(node, what, "a date (YYYY-MM-DD)", &example);
                    None
                }
            },
            _ => {
                self.type_error(node, what, "a date (YYYY-MM-DD)", &example);
                None
            }
        }
    }
}

/// Exactly `YYYY-MM-DD` with zero padding (chrono alone also takes `2026-1-5`).
fn is_iso_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
}

/// True when `url` is an absolute http(s) URL with a host and no spaces. Anything else
/// (`javascript:`, `file:`, relative paths) is refused wherever debrief emits links.
pub fn is_http_url(url: &str) -> bool {
    let scheme_end = url.find("://").unwrap_or(0);
    let scheme = url[..scheme_end].to_ascii_lowercase();
    let rest = (scheme == "https" || scheme == "http").then(|| &url[scheme_end + 3..]);
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty()
                && !url.chars().any(|c| {
                    c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>'
                })
        }
        None => false,
    }
}

/// Keeps quoted user text short in messages.
pub fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    let single_line = text.lines().next().unwrap_or("");
    if single_line.chars().count() > MAX || single_line.len() < text.trim_end().len() {
        let cut: String = single_line.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        single_line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls_only() {
        assert!(is_http_url("https://grafana.example/d/x?a=1"));
        assert!(is_http_url("http://host"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("ftp://x"));
        assert!(!is_http_url("https://a b"));
        assert!(!is_http_url("/relative"));
    }

    #[test]
    fn timestamp_without_offset_gets_its_own_message() {
        let mut reader = Reader::new("f.md", "field-type", "field-unknown");
        let node = Node::new(Value::Str("2026-03-01T10:00:00".into()), Pos::START);
        assert!(reader.timestamp(&node, "detected_at").is_none());
        assert!(reader.found[0].message.contains("no UTC offset"));
        let help = reader.found[0].help.clone().unwrap_or_default();
        assert!(help.contains("+01:00"), "{help}");
    }

    #[test]
    fn wrong_types_name_what_was_found() {
        let mut reader = Reader::new("f.md", "field-type", "field-unknown");
        let node = Node::new(Value::Str("next week".into()), Pos::START);
        assert!(reader.date(&node, "due").is_none());
        assert_eq!(
            reader.found[0].message,
            "`due` must be a date (YYYY-MM-DD), found a string `next week`"
        );
    }
}
