//! YAML front-matter → [`Node`] tree, with positions and hard limits.
//!
//! We drive saphyr's event parser ourselves instead of using a serde loader so that every
//! key and value keeps its line and column, duplicate keys are caught with both lines, and
//! hostile input is bounded: nesting depth and the total number of nodes (which is what an
//! alias bomb inflates) are capped, so a crafted file fails in milliseconds instead of
//! exhausting memory.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use crate::tree::{Node, Pos, Spanned, Value};

/// Deeper nesting than this is not a postmortem; it is an attack or an accident.
pub const MAX_DEPTH: usize = 64;
/// Upper bound on nodes, counting every alias expansion.
pub const MAX_NODES: usize = 200_000;

#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
    pub help: Option<String>,
}

enum Frame {
    Seq {
        items: Vec<Node>,
        pos: Pos,
        anchor: usize,
    },
    Map {
        entries: Vec<(Spanned<String>, Node)>,
        pos: Pos,
        anchor: usize,
        key: Option<Spanned<String>>,
    },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    root: Option<Node>,
    line_offset: usize,
}

/// Parses one YAML document. `line_offset` is the number of file lines before the YAML text,
/// so positions refer to the file, not the block. An empty document yields a `Null` node.
pub fn parse(text: &str, line_offset: usize) -> Result<Node, YamlError> {
    let mut builder = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        root: None,
        line_offset,
    };
    let mut documents = 0;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| YamlError {
            pos: builder.pos_of(e.marker().line(), e.marker().col()),
            message: format!("invalid YAML: {}", e.info()),
            help: Some("check the indentation and quoting around this position".into()),
        })?;
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError {
                        pos: builder.pos(span),
                        message: "the front-matter holds more than one YAML document".into(),
                        help: Some("keep a single mapping between the `---` lines".into()),
                    });
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let is_str_tag = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = if style == ScalarStyle::Plain && !is_str_tag {
                    resolve_plain(&text)
                } else {
                    Value::Str(text.into_owned())
                };
                let pos = builder.pos(span);
                builder.finish(Node::new(value, pos), anchor, 1)?;
            }
            Event::SequenceStart(anchor, _) => {
                builder.open(span)?;
                let pos = builder.pos(span);
                builder.stack.push(Frame::Seq {
                    items: Vec::new(),
                    pos,
                    anchor,
                });
            }
            Event::MappingStart(anchor, _) => {
                builder.open(span)?;
                let pos = builder.pos(span);
                builder.stack.push(Frame::Map {
                    entries: Vec::new(),
                    pos,
                    anchor,
                    key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close()?,
            Event::Alias(id) => {
                let pos = builder.pos(span);
                let Some((node, size)) = builder.anchors.get(&id).cloned() else {
                    return Err(YamlError {
                        pos,
                        message: "alias refers to an unknown anchor".into(),
                        help: None,
                    });
                };
                builder.finish(node, 0, size)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    Ok(builder
        .root
        .unwrap_or_else(|| Node::new(Value::Null, Pos::new(line_offset + 1, 1))))
}

impl Builder {
    fn pos_of(&self, line: usize, col: usize) -> Pos {
        Pos::new(line + self.line_offset, col + 1)
    }

    fn pos(&self, span: Span) -> Pos {
        self.pos_of(span.start.line(), span.start.col())
    }

    fn open(&mut self, span: Span) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                pos: self.pos(span),
                message: format!("the front-matter is nested more than {MAX_DEPTH} levels deep"),
                help: Some(
                    "postmortem fields nest at most a few levels; flatten this value".into(),
                ),
            });
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), YamlError> {
        let node = match self.stack.pop() {
            Some(Frame::Seq { items, pos, anchor }) => (Node::new(Value::Seq(items), pos), anchor),
            Some(Frame::Map {
                entries,
                pos,
                anchor,
                ..
            }) => (Node::new(Value::Map(entries), pos), anchor),
            None => return Ok(()),
        };
        self.finish(node.0, node.1, 1)
    }

    /// Adds a completed node to its parent. `size` is how many nodes it stands for, so an
    /// alias of a large anchor costs what its expansion costs.
    fn finish(&mut self, node: Node, anchor: usize, size: usize) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(size);
        if self.nodes > MAX_NODES {
            return Err(YamlError {
                pos: node.pos,
                message: format!(
                    "the front-matter expands to more than {MAX_NODES} values (aliases included)"
                ),
                help: Some("remove the anchors and aliases (`&name`, `*name`)".into()),
            });
        }
        if anchor != 0 {
            let total = subtree_size(&node);
            self.anchors.insert(anchor, (node.clone(), total));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    let Some(text) = node
                        .scalar_text()
                        .or_else(|| node.is_null().then(String::new))
                    else {
                        return Err(YamlError {
                            pos: node.pos,
                            message: "a key must be a plain name, not a list or mapping".into(),
                            help: None,
                        });
                    };
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.value == text) {
                        return Err(YamlError {
                            pos: node.pos,
                            message: format!(
                                "duplicate key `{text}` (first given at line {})",
                                first.pos.line
                            ),
                            help: Some("remove one of the two, or merge them".into()),
                        });
                    }
                    *key = Some(Spanned::new(text, node.pos));
                }
                Some(k) => entries.push((k, node)),
            },
        }
        Ok(())
    }
}

fn subtree_size(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(subtree_size).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(_, v)| 1 + subtree_size(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

/// YAML 1.2 core schema resolution of a plain scalar. Dates stay strings: the typed layer
/// parses them, so `due: next week` becomes a precise type error rather than a string.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Int(i);
        }
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Int(i);
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Int(i);
        }
    }
    if looks_like_float(digits) {
        if let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(text.to_owned())
}

fn looks_like_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = {
        let mut parts = mantissa.splitn(2, '.');
        let int = parts.next().unwrap_or("");
        let frac = parts.next();
        int.bytes().all(|b| b.is_ascii_digit())
            && frac.is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit()))
            && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()))
            && (frac.is_some() || exponent.is_some())
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Node {
        match parse(text, 1) {
            Ok(node) => node,
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }

    #[test]
    fn positions_are_file_lines_and_one_based_columns() {
        let node = parse_ok("title: x\nwhys:\n  - why: a\n");
        let map = node.as_map().unwrap_or_default();
        assert_eq!(map[0].0.pos, Pos { line: 2, col: 1 });
        assert_eq!(map[1].0.pos, Pos { line: 3, col: 1 });
        let whys = &map[1].1;
        let Value::Seq(items) = &whys.value else {
            panic!("not a list")
        };
        assert_eq!(items[0].pos, Pos { line: 4, col: 5 });
    }

    #[test]
    fn plain_scalars_resolve_by_core_schema_and_quoted_stay_strings() {
        let node = parse_ok("a: 1\nb: '1'\nc: true\nd: ~\ne: 2024-03-01\nf: 1.5\ng: yes\n");
        let kinds: Vec<_> = node
            .as_map()
            .unwrap_or_default()
            .iter()
            .map(|(_, v)| v.value.clone())
            .collect();
        assert_eq!(
            kinds,
            vec![
                Value::Int(1),
                Value::Str("1".into()),
                Value::Bool(true),
                Value::Null,
                Value::Str("2024-03-01".into()),
                Value::Float(1.5),
                Value::Str("yes".into()),
            ]
        );
    }

    #[test]
    fn duplicate_keys_name_both_lines() {
        let err = parse("a: 1\nb: 2\na: 3\n", 1).err();
        let err = err.unwrap_or_else(|| panic!("duplicate accepted"));
        assert_eq!(err.pos.line, 4);
        assert!(
            err.message.contains("first given at line 2"),
            "{}",
            err.message
        );
    }

    #[test]
    fn alias_bomb_is_rejected_quickly() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let start = std::time::Instant::now();
        let err = parse(&text, 0).err();
        assert!(err.is_some_and(|e| e.message.contains("expands to more than")));
        assert!(start.elapsed().as_secs() < 1);
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let text = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(&text, 0).is_err());
        let mut block = String::new();
        for depth in 0..10_000 {
            block.push_str(&" ".repeat(depth));
            block.push_str("- \n");
        }
        assert!(parse(&block, 0).is_err());
    }

    #[test]
    fn syntax_error_has_a_position() {
        let err = parse("title: x\nsummary: [unclosed\n", 1).err();
        assert!(err.is_some_and(|e| e.pos.line >= 3));
    }
}
