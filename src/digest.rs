//! The content digest: what a review or sign-off approves.
//!
//! SHA-256 over a canonical form of what reviewers read: the front-matter as parsed, minus
//! the tracking fields that change after publication, as JSON with sorted keys and no
//! whitespace; then a newline; then the Markdown body with LF line endings. Renaming the
//! file, reformatting the YAML, changing `status` or closing action items keep the digest;
//! any edit of reviewed content changes it. `docs/signoff.md` is the specification.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Number, Value as Json};
use sha2::{Digest as _, Sha256};

use crate::tree::{Node, Value};

/// Top-level keys that track progress after review rather than state what happened.
pub const TRACKING_FIELDS: &[&str] = &["status"];
/// Action-item keys that track progress (closing an item must not unpublish a postmortem).
pub const TRACKING_ITEM_FIELDS: &[&str] = &["status", "closed_at", "ticket", "reason"];

/// `sha256:<64 hex>`.
pub fn content_digest(front_matter: &Node, body: &str) -> String {
    let mut json = Vec::with_capacity(4096);
    write_reviewed_fields(front_matter, &mut json);
    let mut hasher = Sha256::new();
    hasher.update(&json);
    hasher.update(b"\n");
    if body.contains('\r') {
        hasher.update(body.replace("\r\n", "\n").as_bytes());
    } else {
        hasher.update(body.as_bytes());
    }
    let hash = hasher.finalize();
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for byte in hash {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The exact bytes that are hashed.
pub fn canonical_form(front_matter: &Node, body: &str) -> String {
    let mut json = Vec::new();
    write_reviewed_fields(front_matter, &mut json);
    let mut text = String::from_utf8_lossy(&json).into_owned();
    text.push('\n');
    text.push_str(&body.replace("\r\n", "\n"));
    text
}

/// `serde_json::to_string(&reviewed_fields(front_matter))`, written straight from the
/// tree: every file is digested on every run, and building a JSON value first doubled the
/// cost of loading. A unit test holds the two to the same bytes.
fn write_reviewed_fields(front_matter: &Node, out: &mut Vec<u8>) {
    let Some(entries) = front_matter.as_map() else {
        out.extend_from_slice(b"{}");
        return;
    };
    write_object(
        entries
            .iter()
            .filter(|(k, _)| !TRACKING_FIELDS.contains(&k.value.as_str())),
        out,
        |key, value, out| match (key, &value.value) {
            ("action_items", Value::Seq(items)) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    match item.as_map() {
                        Some(fields) => write_object(
                            fields
                                .iter()
                                .filter(|(k, _)| !TRACKING_ITEM_FIELDS.contains(&k.value.as_str())),
                            out,
                            |_, v, out| write_json(v, out),
                        ),
                        None => write_json(item, out),
                    }
                }
                out.push(b']');
            }
            _ => write_json(value, out),
        },
    );
}

/// An object with keys sorted as serde_json's map sorts them (a later duplicate wins).
fn write_object<'a>(
    entries: impl Iterator<Item = &'a (crate::tree::Spanned<String>, Node)>,
    out: &mut Vec<u8>,
    mut value: impl FnMut(&str, &Node, &mut Vec<u8>),
) {
    let mut sorted: Vec<&(crate::tree::Spanned<String>, Node)> = entries.collect();
    // Stable sort, then keep the last of equal keys.
    sorted.sort_by(|a, b| a.0.value.cmp(&b.0.value));
    out.push(b'{');
    let mut first = true;
    for (i, (key, node)) in sorted.iter().map(|e| (&e.0, &e.1)).enumerate() {
        if sorted
            .get(i + 1)
            .is_some_and(|next| next.0.value == key.value)
        {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(&key.value, out);
        out.push(b':');
        value(&key.value, node, out);
    }
    out.push(b'}');
}

fn write_str(text: &str, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// [`to_json`] as text.
pub fn json_text(node: &Node) -> String {
    let mut out = Vec::with_capacity(4096);
    write_json(node, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// [`to_json`] as bytes.
fn write_json(node: &Node, out: &mut Vec<u8>) {
    match &node.value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(f) => match Number::from_f64(*f) {
            Some(n) => {
                let _ = serde_json::to_writer(&mut *out, &n);
            }
            None => write_str(&f.to_string(), out),
        },
        Value::Str(s) => write_str(s, out),
        Value::Seq(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(item, out);
            }
            out.push(b']');
        }
        Value::Map(entries) => write_object(entries.iter(), out, |_, v, out| write_json(v, out)),
    }
}

/// The front-matter minus tracking fields, as a JSON object with sorted keys, one entry per
/// top-level key. Also used to tell which fields changed since an approval.
pub fn reviewed_fields(front_matter: &Node) -> Json {
    let mut object = Map::new();
    if let Some(entries) = front_matter.as_map() {
        for (key, value) in entries {
            if TRACKING_FIELDS.contains(&key.value.as_str()) {
                continue;
            }
            let json = if key.value == "action_items" {
                without_item_tracking(value)
            } else {
                to_json(value)
            };
            object.insert(key.value.clone(), json);
        }
    }
    Json::Object(object)
}

fn without_item_tracking(items: &Node) -> Json {
    match &items.value {
        Value::Seq(list) => Json::Array(
            list.iter()
                .map(|item| match to_json(item) {
                    Json::Object(mut fields) => {
                        for key in TRACKING_ITEM_FIELDS {
                            fields.remove(*key);
                        }
                        Json::Object(fields)
                    }
                    other => other,
                })
                .collect(),
        ),
        _ => to_json(items),
    }
}

/// The tree as JSON (object keys sorted); used for the digest and for exports.
pub fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number((*i).into()),
        Value::Float(f) => {
            Number::from_f64(*f).map_or_else(|| Json::String(f.to_string()), Json::Number)
        }
        Value::Str(s) => Json::String(s.clone()),
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        // serde_json's map is a BTreeMap: keys come out sorted.
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (k.value.clone(), to_json(v)))
                .collect(),
        ),
    }
}

/// [`reviewed_fields`] of front-matter that is already JSON ([`to_json`]).
fn reviewed_fields_of_json(json: Json) -> Json {
    let Json::Object(mut object) = json else {
        return Json::Object(Map::new());
    };
    for key in TRACKING_FIELDS {
        object.remove(*key);
    }
    if let Some(Json::Array(items)) = object.get_mut("action_items") {
        for item in items {
            if let Json::Object(fields) = item {
                for key in TRACKING_ITEM_FIELDS {
                    fields.remove(*key);
                }
            }
        }
    }
    Json::Object(object)
}

/// Names of reviewed fields (and `body`) that differ between two versions; the newer one's
/// front-matter as JSON text ([`json_text`]).
pub fn changed_fields(old_fm: &Node, old_body: &str, new_fm: &str, new_body: &str) -> Vec<String> {
    let as_map = |json: Json| match json {
        Json::Object(map) => map.into_iter().collect::<BTreeMap<_, _>>(),
        _ => BTreeMap::new(),
    };
    let old = as_map(reviewed_fields(old_fm));
    let new = as_map(reviewed_fields_of_json(
        serde_json::from_str(new_fm).unwrap_or(Json::Null),
    ));
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut changed: Vec<String> = keys
        .into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect();
    if old_body.replace("\r\n", "\n") != new_body.replace("\r\n", "\n") {
        changed.push("body".into());
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::yaml;

    fn fm(text: &str) -> Node {
        yaml::parse(text, 1).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn canonical_form_sorts_keys_and_drops_tracking_fields() {
        let node = fm("title: T\nstatus: review\naction_items:\n  - id: AI-1\n    status: done\n    closed_at: 2026-01-02\n    due: 2026-01-01\n");
        assert_eq!(
            canonical_form(&node, "Body\r\n"),
            "{\"action_items\":[{\"due\":\"2026-01-01\",\"id\":\"AI-1\"}],\"title\":\"T\"}\nBody\n"
        );
    }

    #[test]
    fn formatting_and_tracking_do_not_change_the_digest_but_content_does() {
        let base = content_digest(&fm("title: T\nseverity: SEV2\nstatus: review\n"), "b\n");
        let reformatted = content_digest(
            &fm("severity: 'SEV2'\ntitle: \"T\"\nstatus: published\n"),
            "b\n",
        );
        let edited = content_digest(&fm("title: T2\nseverity: SEV2\nstatus: review\n"), "b\n");
        let body_edit = content_digest(&fm("title: T\nseverity: SEV2\nstatus: review\n"), "b!\n");
        assert_eq!(base, reformatted);
        assert_ne!(base, edited);
        assert_ne!(base, body_edit);
        assert_eq!(base.len(), "sha256:".len() + 64);
    }

    /// The direct writer and the JSON value it replaced give the same bytes.
    #[test]
    fn the_canonical_json_is_serde_jsons_serialisation_of_the_reviewed_fields() {
        let docs = [
            "title: T\nstatus: review\naction_items:\n  - id: AI-1\n    status: done\n    closed_at: 2026-01-02\n    due: 2026-01-01\n",
            "z: 1\na: -7\nm: {y: [1, 2.5, -0.0, 1e300, .inf, .nan, null, true, false], b: ~}\n",
            "\"é\": \"tab\\there \\\"quoted\\\" \\u0001 ünï 🚒\"\nB: x\na: y\n_: '<script>'\n",
            "action_items: [plain, [nested], {id: AI-2, ticket: T-1, reason: r, title: t}]\n",
            "action_items: {not: a list}\nstatus: closed\n",
            "timeline:\n  - at: 2026-01-01T10:00:00Z\n    who: [a, b]\n    event: |\n      multi\n      line\n",
            "- a list\n- at the top\n",
            "just a string\n",
            "n: 12345678901234\nf: 0.1\ng: 3.0\nh: 0x1F\n",
        ];
        for doc in docs {
            let node = fm(doc);
            let mut direct = Vec::new();
            write_reviewed_fields(&node, &mut direct);
            let expected = serde_json::to_string(&reviewed_fields(&node)).unwrap_or_default();
            assert_eq!(String::from_utf8_lossy(&direct), expected, "{doc}");
        }
    }

    #[test]
    fn changed_fields_names_what_changed() {
        let old = fm("title: T\nwhys: [a]\nstatus: review\n");
        let new = fm("title: T\nwhys: [a, b]\nstatus: published\naction_items: [{id: A, status: done, title: t}]\n");
        let old_items =
            fm("title: T\nwhys: [a]\naction_items: [{id: A, status: open, title: t}]\n");
        assert_eq!(
            changed_fields(&old, "x", &json_text(&new), "y"),
            vec!["action_items", "whys", "body"]
        );
        // Closing an item is tracking, not content.
        assert_eq!(
            changed_fields(&old_items, "x", &json_text(&new), "x"),
            vec!["whys"]
        );
        assert_eq!(
            json_text(&new),
            serde_json::to_string(&to_json(&new)).unwrap_or_default()
        );
    }
}
