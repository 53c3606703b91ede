//! The one strict parser for approval trailers.
//!
//! A commit message records approvals only in its final paragraph, and only when that
//! paragraph is made of nothing but `Key: value` lines. Deliberately stricter than git:
//! a message with a `---` line anywhere, a carriage return, or a folded (indented
//! continuation) line records nothing, because tools disagree on how to read those
//! (`git interpret-trailers` and `git log %(trailers)` treat `---` differently) and an
//! approval must mean the same thing to every reader.

use crate::config::is_handle;

pub const REVIEW_KEY: &str = "Postmortem-Review";
pub const SIGNOFF_KEY: &str = "Postmortem-Signoff";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Review,
    Signoff,
}

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::Review => REVIEW_KEY,
            Kind::Signoff => SIGNOFF_KEY,
        }
    }
}

/// One `Postmortem-Review:`/`Postmortem-Signoff:` trailer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trailer {
    pub kind: Kind,
    pub postmortem: String,
    /// `sha256:<64 lowercase hex>`
    pub digest: String,
}

/// Bump when [`may_hold_records`] changes: cached history scans were filtered by it.
pub const FILTER_VERSION: u32 = 1;

/// Cheap pre-filter for the history walk: could this message hold a record at all? On
/// the raw bytes, one pass for both keys: most of 100k messages are looked at only here.
/// (The keys are ASCII, so this answers as a search of the decoded text would.)
pub fn may_hold_records(message: &[u8]) -> bool {
    static KEYS: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::new(["Postmortem-", "Action-Closed:"]).ok()
        });
    match &*KEYS {
        Some(keys) => keys.is_match(message),
        None => {
            let has = |key: &[u8]| message.windows(key.len()).any(|w| w == key);
            has(b"Postmortem-") || has(b"Action-Closed:")
        }
    }
}

/// The approval trailers of a commit message (empty when it holds none, or is not a
/// well-formed record).
pub fn parse(message: &str) -> Vec<Trailer> {
    trailer_block(message)
        .into_iter()
        .filter_map(|(key, value)| {
            let kind = match key {
                REVIEW_KEY => Kind::Review,
                SIGNOFF_KEY => Kind::Signoff,
                _ => return None,
            };
            let (postmortem, digest) = value.split_once(' ')?;
            let hex = digest.strip_prefix("sha256:")?;
            let well_formed = is_handle(postmortem)
                && hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            well_formed.then(|| Trailer {
                kind,
                postmortem: postmortem.to_owned(),
                digest: digest.to_owned(),
            })
        })
        .collect()
}

pub const CLOSED_KEY: &str = "Action-Closed";

/// `Action-Closed: <postmortem-id>/<item-id>` records, by the same strict rules.
pub fn parse_closures(message: &str) -> Vec<(String, String)> {
    trailer_block(message)
        .into_iter()
        .filter(|(key, _)| *key == CLOSED_KEY)
        .filter_map(|(_, value)| {
            let (postmortem, item) = value.split_once('/')?;
            let ok =
                is_handle(postmortem) && !item.is_empty() && !item.contains(char::is_whitespace);
            ok.then(|| (postmortem.to_owned(), item.to_owned()))
        })
        .collect()
}

/// The `Key: value` pairs of the final paragraph, or nothing when the message is not a
/// well-formed record (see the module comment).
fn trailer_block(message: &str) -> Vec<(&str, &str)> {
    if message.contains('\r') || message.lines().any(|l| l.trim_end() == "---") {
        return Vec::new();
    }
    let paragraphs: Vec<Vec<&str>> = message
        .split('\n')
        .collect::<Vec<_>>()
        .split(|line| line.trim().is_empty())
        .filter(|p| !p.is_empty())
        .map(<[&str]>::to_vec)
        .collect();
    // The first paragraph is the subject; trailers need a paragraph of their own after it.
    let Some(last) = paragraphs.last().filter(|_| paragraphs.len() >= 2) else {
        return Vec::new();
    };
    let mut fields = Vec::new();
    for line in last {
        match trailer_line(line) {
            Some(field) => fields.push(field),
            None => return Vec::new(),
        }
    }
    fields
}

/// `Key: value` with a token key, exactly one space, and no leading whitespace.
fn trailer_line(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(": ")?;
    let key_ok = key.starts_with(|c: char| c.is_ascii_alphanumeric())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let value = value.trim_end();
    (key_ok && !value.is_empty() && !value.starts_with(' ')).then_some((key, value))
}

/// The trailer line for a record.
pub fn format(kind: Kind, postmortem: &str, digest: &str) -> String {
    format!("{}: {postmortem} {digest}", kind.key())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn the_prefilter_finds_either_key_in_raw_bytes() {
        assert!(may_hold_records(b"Fix\n\nPostmortem-Review: a sha256:00\n"));
        assert!(may_hold_records(
            b"\xff\xfe not UTF-8\n\nAction-Closed: a AI-1"
        ));
        assert!(!may_hold_records(b"Postmortem review notes, Action closed"));
        assert!(!may_hold_records(b""));
    }

    fn signoff(id: &str) -> String {
        format!("{SIGNOFF_KEY}: {id} {DIGEST}")
    }

    #[test]
    fn a_final_trailer_paragraph_is_a_record() {
        let message = format!(
            "Sign off postmortem x\n\nSome words.\n\n{}\nSigned-off-by: A <a@x>\n",
            signoff("x")
        );
        assert_eq!(
            parse(&message),
            vec![Trailer {
                kind: Kind::Signoff,
                postmortem: "x".into(),
                digest: DIGEST.into()
            }]
        );
    }

    #[test]
    fn trailer_text_in_the_middle_of_the_body_is_not_a_record() {
        let message = format!("Subject\n\n{}\n\nMore prose after it.\n", signoff("x"));
        assert!(parse(&message).is_empty());
    }

    #[test]
    fn a_dashes_line_anywhere_voids_the_message() {
        let before = format!("Subject\n\n---\n\n{}\n", signoff("x"));
        let after = format!("Subject\n\n{}\n---\n", signoff("x"));
        assert!(parse(&before).is_empty());
        assert!(parse(&after).is_empty());
    }

    #[test]
    fn folded_values_and_carriage_returns_are_not_records() {
        let folded = format!("Subject\n\n{SIGNOFF_KEY}: x\n  {DIGEST}\n");
        let crlf = format!("Subject\r\n\r\n{}\r\n", signoff("x"));
        assert!(parse(&folded).is_empty());
        assert!(parse(&crlf).is_empty());
    }

    #[test]
    fn a_subject_alone_or_a_mixed_paragraph_is_not_a_record() {
        assert!(parse(&signoff("x")).is_empty());
        let mixed = format!("Subject\n\n{}\nthis line is prose\n", signoff("x"));
        assert!(parse(&mixed).is_empty());
    }

    #[test]
    fn closures_are_read_from_the_trailer_paragraph_only() {
        assert_eq!(
            parse_closures("Close\n\nAction-Closed: pm-1/AI-2\n"),
            vec![("pm-1".to_owned(), "AI-2".to_owned())]
        );
        assert!(parse_closures("Close\n\nAction-Closed: pm-1/AI-2\n\nprose\n").is_empty());
        assert!(parse_closures("Close\n\nAction-Closed: pm-1\n").is_empty());
    }

    #[test]
    fn malformed_values_are_ignored() {
        let message = format!("S\n\n{SIGNOFF_KEY}: x sha256:abc\n{REVIEW_KEY}: Bad_Id {DIGEST}\n");
        assert!(parse(&message).is_empty());
    }
}
