//! The rule catalogue: every finding debrief can report, with its stable id.
//!
//! `docs/rules.md` documents each entry; a unit test keeps the two in step.

/// How a rule picks its level before `[rules]` overrides and waivers apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LevelPolicy {
    Error,
    Warning,
    /// Warning while `status: draft`, error from `review` on.
    ErrorFromReview,
    /// Warning, becomes an error once the postmortem is `closed`.
    ErrorWhenClosed,
}

#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub id: &'static str,
    /// Workflow step (1–8) the rule enforces, if any.
    pub step: Option<u8>,
    pub default: LevelPolicy,
    /// A `waivers` entry may turn it into a note.
    pub waivable: bool,
    pub summary: &'static str,
}

const fn rule(
    id: &'static str,
    step: Option<u8>,
    default: LevelPolicy,
    summary: &'static str,
) -> Rule {
    Rule {
        id,
        step,
        default,
        waivable: false,
        summary,
    }
}

const fn timing(id: &'static str, step: u8, default: LevelPolicy, summary: &'static str) -> Rule {
    Rule {
        id,
        step: Some(step),
        default,
        waivable: true,
        summary,
    }
}

use LevelPolicy::{Error, ErrorFromReview, ErrorWhenClosed, Warning};

pub const RULES: &[Rule] = &[
    rule("front-matter-invalid", None, Error, "The file has no readable YAML front-matter: empty, not UTF-8, unterminated, invalid YAML, duplicate keys, too large or too deeply nested."),
    rule("field-unknown", None, Error, "A key that the format does not define and `[fields]` does not declare."),
    rule("field-type", None, Error, "A value of the wrong type: a number where text is expected, a date that is not YYYY-MM-DD, a timestamp without offset."),
    rule("field-missing", None, ErrorFromReview, "A field required at the postmortem's status is absent or empty."),
    rule("id-invalid", None, Error, "The id (or the file name it defaults to) is not lowercase letters, digits and dashes."),
    rule("id-duplicate", None, Error, "Two postmortems share an id."),
    rule("status-invalid", None, Error, "`status` (or an action item's `status`) is not one of the allowed values."),
    rule("severity-invalid", Some(1), Error, "`severity` is not one of `workflow.severities`."),
    rule("person-unknown", Some(1), Error, "A handle (owner, tech lead, responder, action-item owner) that is not in `[people]`."),
    rule("tech-lead-role", Some(7), Error, "The `tech_lead` does not have the `tech-lead` role in `[people]`."),
    rule("owner-not-responder", Some(6), Warning, "The owner is not listed among the `responders`."),
    rule("timestamps-order", Some(2), Error, "Incident timestamps out of order: started ≤ detected ≤ declared ≤ mitigated ≤ resolved."),
    timing("declare-late", 1, ErrorFromReview, "Owner and severity were declared later after detection than the limit allows."),
    rule("timeline-missing", Some(2), ErrorFromReview, "No timeline entries."),
    rule("timeline-order", Some(2), ErrorFromReview, "Timeline entries are not in chronological order."),
    rule("timeline-who-missing", Some(2), ErrorFromReview, "A timeline entry does not say who was involved."),
    rule("whys-too-few", Some(3), ErrorFromReview, "Fewer whys than `workflow.min_whys`."),
    rule("whys-empty", Some(3), ErrorFromReview, "A why without its question or its answer."),
    rule("root-cause-missing", Some(3), ErrorFromReview, "No `root_cause`."),
    rule("factors-missing", Some(4), ErrorFromReview, "No contributing factors."),
    rule("factor-category-unknown", Some(4), Error, "A factor category that is not in `workflow.factor_categories`."),
    rule("action-items-missing", Some(5), ErrorFromReview, "No action items."),
    rule("action-item-owner-missing", Some(5), ErrorFromReview, "An action item without an owner."),
    rule("action-item-due-missing", Some(5), ErrorFromReview, "An action item without a due date."),
    rule("action-item-id-duplicate", Some(5), Error, "Two action items in one file share an id."),
    timing("action-item-overdue", 8, ErrorWhenClosed, "An open action item is past its due date."),
    timing("action-item-closed-late", 8, Warning, "An action item was closed after its due date."),
    timing("action-item-closed-unverified", 8, Warning, "An item's `closed_at` is earlier than the commit that recorded the closure by more than `workflow.closure_tolerance`: a back-dated closure."),
    rule("action-item-not-closed", Some(8), Error, "A `closed` postmortem still has open action items, or items without `closed_at` or a wontfix reason."),
    rule("related-unknown", None, Error, "`related` names a postmortem id that does not exist."),
    rule("url-invalid", None, Error, "A link, ticket or URL field that is not an absolute http(s) URL."),
    rule("blameful-language", None, Warning, "Wording from the blameful-language list in the body or a field."),
    rule("waiver-invalid", None, Error, "A waiver for a rule that cannot be waived, for an unknown rule, or without a reason."),
    rule("review-missing", Some(6), Error, "A published postmortem lacks reviews of its current content from its responders (or `[approvals] review_quorum` of them)."),
    rule("signoff-missing", Some(7), Error, "A published postmortem has no sign-off of its current content by its tech lead in git history."),
    rule("signoff-stale", Some(7), Error, "The tech lead signed off an earlier version; reviewed content changed since (names the commit and the fields)."),
    rule("signoff-not-tech-lead", Some(7), Error, "The sign-off is by someone other than the postmortem's tech lead, or the tech lead lacks the role in the trusted `[people]`."),
    rule("signoff-unsigned", Some(7), Error, "Signatures are required, and the sign-off commit's signature is missing, invalid, by an unknown key, for another namespace, or outside the key's validity."),
    rule("allowed-signers-invalid", Some(7), Warning, "A line of the trusted `.debrief/allowed_signers` cannot be used; its key is not trusted."),
    rule("trust-working-tree", Some(7), Warning, "No trust ref: `[people]`, `[approvals]` and allowed signers were read from the working tree, which a pull request can change."),
    rule("symlink-outside-repo", None, Warning, "A symbolic link under the content folder points outside the repository and was not followed."),
];

pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

pub fn ids() -> impl Iterator<Item = &'static str> {
    RULES.iter().map(|r| r.id)
}

#[cfg(test)]
mod tests {
    use super::RULES;

    #[test]
    fn every_rule_is_documented_in_docs_rules_md() {
        let docs = include_str!("../docs/rules.md");
        let headings: Vec<&str> = docs
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .map(str::trim)
            .collect();
        for rule in RULES {
            assert!(
                headings.contains(&rule.id),
                "docs/rules.md has no `## {}` section",
                rule.id
            );
        }
    }

    #[test]
    fn rule_ids_are_unique_kebab_case() {
        for (i, rule) in RULES.iter().enumerate() {
            assert!(
                rule.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                rule.id
            );
            assert!(
                RULES[..i].iter().all(|r| r.id != rule.id),
                "duplicate {}",
                rule.id
            );
        }
    }
}
