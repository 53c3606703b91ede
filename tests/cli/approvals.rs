//! Workflow steps 6 and 7 end to end: `debrief review`/`approve` write commits, and
//! `debrief check` judges the trailers it finds in real git history.
//!
//! Each test sets up the smallest history that makes one protection matter, and where it
//! helps, a control that differs only in the thing protected against, so the test fails
//! if the protection is removed.

#[path = "approvals_cache.rs"]
mod cache;
#[path = "approvals_history.rs"]
mod history;
#[path = "approvals_signed.rs"]
mod signed;

use serde_json::Value;

use crate::git_harness::{
    alice, bob, carol, fixture, GitRepo, Output, CONFIG, PM_FILE, PM_ID, POSTMORTEM,
};

/// The trailer line a `--no-commit` run printed.
fn printed_trailer(out: &Output) -> String {
    out.stdout
        .lines()
        .rfind(|l| l.starts_with("Postmortem-"))
        .unwrap_or_else(|| panic!("no trailer printed\n{out}"))
        .to_owned()
}

/// Bob reviews, alice approves: the fixture postmortem is published and signed off.
pub fn signed_off_repo() -> GitRepo {
    let repo = GitRepo::new();
    repo.review(&bob(), PM_ID);
    repo.approve(&alice(), PM_ID);
    repo
}

/// The record list of the one postmortem `id` in `debrief approvals --format json`.
fn standing<'a>(approvals: &'a Value, id: &str) -> &'a Value {
    approvals["postmortems"]
        .as_array()
        .expect("postmortems")
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("{id} not listed: {approvals:#}"))
}

#[test]
fn review_and_approve_publish_with_one_changed_line_and_two_trailer_commits() {
    let repo = GitRepo::new();
    let start = repo.head();
    let before = repo.read(PM_FILE);
    let digest = repo.digest(PM_ID);

    let review = repo.debrief_as(&bob(), &["review", PM_ID]);
    review
        .assert_code(0)
        .assert_stdout_has(&format!("Postmortem-Review: {PM_ID} {digest}"));
    assert_eq!(
        repo.read(PM_FILE),
        before,
        "a review does not touch the file"
    );
    let review_commit = repo.head();

    let approve = repo.debrief_as(&alice(), &["approve", PM_ID]);
    approve
        .assert_code(0)
        .assert_stdout_has("set status: published in content/2026-01-12-search-stale.md")
        .assert_stdout_has(&format!("Postmortem-Signoff: {PM_ID} {digest}"));
    let signoff_commit = repo.head();

    // Exactly the `status:` line changed, every other byte is as the author wrote it.
    let after = repo.read(PM_FILE);
    assert_eq!(
        after,
        before.replacen("\nstatus: review\n", "\nstatus: published\n", 1)
    );
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(b, a)| b != a)
        .collect();
    assert_eq!(changed, vec![("status: review", "status: published")]);
    assert_eq!(
        before.len() + "published".len() - "review".len(),
        after.len()
    );
    assert_eq!(repo.digest(PM_ID), digest, "status is not reviewed content");

    // Two commits, by the right people, with exactly the trailer paragraph.
    let log = repo.git(&["log", "--format=%ae%n%B%x00", &format!("{start}..HEAD")]);
    let commits: Vec<&str> = log
        .split('\0')
        .map(|c| c.trim_start_matches('\n'))
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        commits,
        vec![
            format!("alice@example.com\nSign off postmortem {PM_ID}\n\nPostmortem-Signoff: {PM_ID} {digest}\n"),
            format!("bob@example.com\nReview postmortem {PM_ID}\n\nPostmortem-Review: {PM_ID} {digest}\n"),
        ]
    );
    // The review commit is empty; the sign-off commit holds the status change and nothing else.
    let files = |rev: &str| repo.git(&["show", "--format=", "--name-only", rev]);
    assert_eq!(files(&review_commit), "");
    assert_eq!(files(&signoff_commit), format!("{PM_FILE}\n"));
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "",
        "nothing left over"
    );

    // check: nothing about reviews or sign-off; only the note that trust came from the
    // working tree, which a trust ref removes.
    repo.check_json(&[]).assert_clean(true);
    repo.check_json(&["--trust-ref", "main"])
        .assert_clean(false);

    let approvals = repo.approvals_json();
    assert_eq!(approvals["history"], "available");
    let pm = standing(&approvals, PM_ID);
    assert_eq!(pm["status"], "published");
    assert_eq!(pm["digest"], digest.as_str());
    assert_eq!(pm["signed_off"], true);
    assert_eq!(pm["reviewed_by"], serde_json::json!(["bob", "alice"]));
    assert_eq!(pm["awaiting_review"], serde_json::json!([]));
    let records: Vec<(String, String, String, String)> = pm["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("?").to_owned();
            (s("kind"), s("person"), s("commit"), s("digest"))
        })
        .collect();
    assert_eq!(
        records,
        vec![
            (
                "signoff".into(),
                "alice".into(),
                signoff_commit,
                "current".into()
            ),
            (
                "review".into(),
                "bob".into(),
                review_commit,
                "current".into()
            ),
        ]
    );
}

#[test]
fn no_commit_prints_the_trailer_and_commits_nothing() {
    let repo = GitRepo::new();
    let start = repo.head();
    let before = repo.read(PM_FILE);
    let digest = repo.digest(PM_ID);

    let review = repo.debrief_as(&bob(), &["review", PM_ID, "--no-commit"]);
    review.assert_code(0);
    let review_trailer = printed_trailer(&review);
    assert_eq!(
        review_trailer,
        format!("Postmortem-Review: {PM_ID} {digest}")
    );
    assert_eq!(repo.head(), start, "--no-commit made a commit");
    assert_eq!(repo.read(PM_FILE), before);

    let approve = repo.debrief_as(&alice(), &["approve", PM_ID, "--no-commit"]);
    approve.assert_code(0);
    let signoff_trailer = printed_trailer(&approve);
    assert_eq!(
        signoff_trailer,
        format!("Postmortem-Signoff: {PM_ID} {digest}")
    );
    assert_eq!(repo.head(), start, "--no-commit made a commit");
    // It still sets the status (and says so), for the user to commit with the trailer.
    approve.assert_stdout_has("set status: published");
    assert_eq!(
        repo.read(PM_FILE),
        before.replacen("status: review", "status: published", 1)
    );

    // The printed trailers, as the last paragraph of the users' own commits, are records.
    repo.commit_message(&bob(), &format!("My review\n\n{review_trailer}\n"));
    repo.git(&["add", PM_FILE]);
    repo.commit_message(
        &alice(),
        &format!("Publish the search postmortem\n\nLooks good.\n\n{signoff_trailer}\n"),
    );
    repo.check_json(&[]).assert_clean(true);
}

#[test]
fn review_by_someone_not_among_the_responders_is_refused() {
    let repo = GitRepo::new();
    let start = repo.head();
    let out = repo.debrief_as(&carol(), &["review", PM_ID]);
    out.assert_code(2)
        .assert_stderr_has("(carol) are not among the responders");
    assert_eq!(repo.head(), start);
}

#[test]
fn approve_by_someone_other_than_the_tech_lead_is_refused() {
    let repo = GitRepo::new();
    let start = repo.head();
    let before = repo.read(PM_FILE);
    let out = repo.debrief_as(&bob(), &["approve", PM_ID]);
    out.assert_code(2)
        .assert_stderr_has("only the tech lead (alice) can sign off");
    assert_eq!(repo.head(), start);
    assert_eq!(repo.read(PM_FILE), before, "the status must not change");
}

#[test]
fn approve_by_an_email_outside_people_is_refused() {
    let repo = GitRepo::new();
    let start = repo.head();
    let out = repo.debrief_as(&fixture(), &["approve", PM_ID]);
    out.assert_code(2)
        .assert_stderr_has("<fixture@example.com> belongs to nobody in the trusted [people]");
    assert_eq!(repo.head(), start);
}

#[test]
fn approve_on_a_draft_is_refused() {
    let draft = POSTMORTEM.replacen("status: review", "status: draft", 1);
    let repo = GitRepo::with(CONFIG, &[(PM_FILE, &draft)]);
    let start = repo.head();
    let out = repo.debrief_as(&alice(), &["approve", PM_ID]);
    out.assert_code(2).assert_stderr_has("is a draft");
    assert_eq!(repo.head(), start);
    assert_eq!(repo.read(PM_FILE), draft);
}

#[test]
fn approve_with_uncommitted_edits_is_refused_and_leaves_the_file_alone() {
    let repo = GitRepo::new();
    let start = repo.head();
    repo.edit(PM_FILE, "For about three hours", "For about four hours");
    let edited = repo.read(PM_FILE);
    let out = repo.debrief_as(&alice(), &["approve", PM_ID]);
    out.assert_code(2)
        .assert_stderr_has("has uncommitted changes");
    assert_eq!(repo.head(), start);
    assert_eq!(repo.read(PM_FILE), edited, "the file was touched");
}

#[test]
fn approve_with_an_unknown_id_suggests_the_nearest() {
    let repo = GitRepo::new();
    let out = repo.debrief_as(&alice(), &["approve", "2026-01-12-search-stail"]);
    out.assert_code(2)
        .assert_stderr_has("no postmortem with id or file `2026-01-12-search-stail`")
        .assert_stderr_has("did you mean `2026-01-12-search-stale`?");
}

#[test]
fn editing_reviewed_content_makes_the_signoff_and_reviews_stale() {
    let repo = signed_off_repo();
    let signoff_commit = repo.head();
    repo.edit(PM_FILE, "For about three hours", "For about four hours");
    repo.commit_all("Fix the duration");

    let report = repo.check_json(&[]);
    assert_eq!(report.code(), 1, "{report}");
    let stale = report.expect("signoff-stale", PM_ID);
    assert_eq!(
        stale.message,
        format!(
            "the sign-off by alice in commit {} approved different content; changed since: summary",
            &signoff_commit[..10]
        ),
        "{report}"
    );
    let reviews = report.expect("review-missing", PM_ID);
    assert!(reviews.message.contains("bob, alice"), "{report}");
    report.assert_no("signoff-missing");

    let approvals = repo.approvals_json();
    let pm = standing(&approvals, PM_ID);
    assert_eq!(pm["signed_off"], false);
    let digests: Vec<&Value> = pm["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| &r["digest"])
        .collect();
    assert_eq!(digests, vec!["stale", "stale"]);

    // Reviewing and signing off the new content again makes it valid.
    repo.review(&bob(), PM_ID);
    repo.approve(&alice(), PM_ID);
    repo.check_json(&[]).assert_clean(true);
}

#[test]
fn closing_action_items_and_changing_status_keep_the_signoff() {
    let repo = signed_off_repo();
    let digest = repo.digest(PM_ID);
    repo.edit(
        PM_FILE,
        "    due: 2027-02-09\n    status: open\n",
        "    due: 2027-02-09\n    status: done\n    closed_at: 2026-12-01\n    ticket: https://tracker.example.com/OPS-7\n",
    );
    repo.commit_all("Close AI-2");
    assert_eq!(repo.digest(PM_ID), digest);
    repo.check_json(&[]).assert_clean(true);

    repo.edit(PM_FILE, "status: published", "status: closed");
    repo.commit_all("Close the postmortem");
    assert_eq!(repo.digest(PM_ID), digest);
    repo.check_json(&[]).assert_clean(true);

    // Control: an action item's title is reviewed content.
    repo.edit(
        PM_FILE,
        "Give rebuild locks a 30-minute expiry",
        "Give rebuild locks a 10-minute expiry",
    );
    repo.commit_all("Retitle AI-2");
    let report = repo.check_json(&[]);
    assert!(
        report
            .expect("signoff-stale", PM_ID)
            .message
            .ends_with("changed since: action_items"),
        "{report}"
    );
}
