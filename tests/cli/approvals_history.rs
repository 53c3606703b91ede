//! Which commits count: trailer strictness, which postmortem a record names, reachability
//! from HEAD, shallow and missing history, and trust roots read from a protected ref.

use std::fs;
use std::path::Path;

use super::signed_off_repo;
use crate::git_harness::{
    alice, bob, check_in, check_json_in, fixture, mallory, postmortem_with, replace_once, GitRepo,
    Report, Who, CONFIG, PM_FILE, PM_ID, POSTMORTEM,
};

/// Bob has reviewed, the postmortem was published by hand, and alice commits `message`
/// (built from the exact current digest): the report of `check`.
fn signoff_with_message(message: impl Fn(&str) -> String) -> (GitRepo, Report) {
    let repo = GitRepo::new();
    repo.review(&bob(), PM_ID);
    repo.publish_by_hand(PM_FILE);
    let digest = repo.digest(PM_ID);
    repo.commit_message(&alice(), &message(&digest));
    let report = repo.check_json(&[]);
    (repo, report)
}

/// The trailer paragraph is not a record: alice's sign-off (and so her review) is missing.
fn assert_not_a_record(report: &Report) {
    assert_eq!(report.code(), 1, "{report}");
    let missing = report.expect("signoff-missing", PM_ID);
    assert!(
        missing
            .message
            .contains("without a sign-off of its current content by the tech lead (alice)"),
        "{report}"
    );
    assert!(
        report
            .expect("review-missing", PM_ID)
            .message
            .ends_with("from: alice"),
        "{report}"
    );
}

#[test]
fn a_final_trailer_paragraph_is_a_record() {
    // The control for the malformed messages below: same author, same digest.
    let (_, report) = signoff_with_message(|digest| {
        format!("Sign off {PM_ID}\n\nLooks good to me.\n\nPostmortem-Signoff: {PM_ID} {digest}\n")
    });
    report.assert_clean(true);
}

#[test]
fn a_trailer_in_the_middle_of_the_body_is_not_a_record() {
    let (_, report) = signoff_with_message(|digest| {
        format!("Sign off {PM_ID}\n\nPostmortem-Signoff: {PM_ID} {digest}\n\nMore prose after the trailer.\n")
    });
    assert_not_a_record(&report);
}

#[test]
fn a_trailer_after_a_dashes_line_is_not_a_record() {
    let (repo, report) = signoff_with_message(|digest| {
        format!("Sign off {PM_ID}\n\n---\n\nPostmortem-Signoff: {PM_ID} {digest}\n")
    });
    assert!(repo.raw_message("HEAD").contains("\n---\n"));
    assert_not_a_record(&report);
}

#[test]
fn a_folded_trailer_is_not_a_record() {
    let (_, report) = signoff_with_message(|digest| {
        format!("Sign off {PM_ID}\n\nPostmortem-Signoff: {PM_ID}\n {digest}\n")
    });
    assert_not_a_record(&report);
}

#[test]
fn a_message_with_crlf_line_endings_is_not_a_record() {
    let (repo, report) = signoff_with_message(|digest| {
        format!("Sign off {PM_ID}\r\n\r\nPostmortem-Signoff: {PM_ID} {digest}\r\n")
    });
    assert!(
        repo.raw_message("HEAD").contains("\r\n"),
        "git dropped the carriage returns, so this test proves nothing"
    );
    assert_not_a_record(&report);
}

#[test]
fn a_signoff_of_one_postmortem_does_not_count_for_another() {
    // B is a byte-for-byte copy of A under another file name: same digest, other id.
    const B_ID: &str = "2026-01-13-search-stale-again";
    let b_file = format!("content/{B_ID}.md");
    let repo = GitRepo::with(CONFIG, &[(PM_FILE, POSTMORTEM), (&b_file, POSTMORTEM)]);
    assert_eq!(repo.digest(PM_ID), repo.digest(B_ID));
    repo.review(&bob(), PM_ID);
    repo.review(&bob(), B_ID);
    repo.approve(&alice(), PM_ID);
    repo.publish_by_hand(&b_file);

    let report = repo.check_json(&[]);
    assert_eq!(report.rules_for(PM_ID), Vec::<String>::new(), "{report}");
    report.expect("signoff-missing", B_ID);
    assert_eq!(
        report.rules_for(B_ID),
        vec!["review-missing", "signoff-missing"],
        "{report}"
    );
}

#[test]
fn renaming_the_file_keeps_its_approvals() {
    // With an explicit id, the file name is not part of the postmortem's identity.
    let text = postmortem_with("\nstatus: review\n", "\nid: search-stale\nstatus: review\n");
    let repo = GitRepo::with(CONFIG, &[(PM_FILE, &text)]);
    repo.review(&bob(), "search-stale");
    let signoff = repo.approve(&alice(), "search-stale");
    repo.git(&["mv", PM_FILE, "content/2026-01-12-index-rebuild-stalled.md"]);
    repo.commit_all("Rename");
    repo.check_json(&[]).assert_clean(true);

    // Found under its old name, the signed-off version still tells what changed since.
    repo.edit(
        "content/2026-01-12-index-rebuild-stalled.md",
        "For about three hours",
        "For about four hours",
    );
    repo.commit_all("Edit after the rename");
    let report = repo.check_json(&[]);
    assert_eq!(
        report.expect("signoff-stale", "search-stale").message,
        format!(
            "the sign-off by alice in commit {} approved different content; changed since: summary",
            &signoff[..10]
        ),
        "{report}"
    );
}

#[test]
fn renaming_a_file_whose_id_is_its_name_keeps_its_approvals() {
    let repo = signed_off_repo();
    let renamed = "2026-01-12-index-rebuild-stalled";
    repo.git(&["mv", PM_FILE, &format!("content/{renamed}.md")]);
    repo.commit_all("Rename");
    repo.check_json(&[]).assert_clean(true);

    // Not for a copy: the old id still exists, so its records are its own.
    let repo = signed_off_repo();
    repo.write(&format!("content/{renamed}.md"), repo.read(PM_FILE));
    repo.commit_all("Copy");
    let report = repo.check_json(&[]);
    assert_eq!(report.rules_for(PM_ID), Vec::<String>::new(), "{report}");
    report.expect("signoff-missing", renamed);
}

#[test]
fn a_signoff_on_a_branch_not_merged_into_head_does_not_count() {
    let repo = GitRepo::new();
    repo.review(&bob(), PM_ID);
    repo.git(&["checkout", "--quiet", "-b", "side"]);
    repo.approve(&alice(), PM_ID);
    repo.git(&["checkout", "--quiet", "main"]);
    repo.publish_by_hand(PM_FILE);

    let report = repo.check_json(&[]);
    assert_eq!(
        report.rules_for(PM_ID),
        vec!["review-missing", "signoff-missing"],
        "{report}"
    );

    // Control: once merged, the same commit counts.
    repo.git(&["merge", "--quiet", "--no-edit", "side"]);
    repo.check_json(&[]).assert_clean(true);
}

#[test]
fn a_shallow_clone_cannot_judge_published_postmortems() {
    let repo = signed_off_repo();
    let url = format!("file://{}", repo.path().display());
    let top = repo.path().parent().expect("parent").to_path_buf();

    let shallow = repo.sibling("shallow");
    let out = repo.git_in(
        &top,
        &fixture(),
        &[
            "clone",
            "--quiet",
            "--depth",
            "1",
            &url,
            shallow.to_str().expect("UTF-8"),
        ],
    );
    out.assert_code(0);
    let out = check_in(&repo, &shallow, &[]);
    out.assert_code(2)
        .assert_stderr_has("history-shallow")
        .assert_stderr_has("fetch-depth");
    assert_eq!(out.stdout, "", "no partial report");

    // Control: a full clone of the same repository passes.
    let full = repo.sibling("full");
    let out = repo.git_in(
        &top,
        &fixture(),
        &["clone", "--quiet", &url, full.to_str().expect("UTF-8")],
    );
    out.assert_code(0);
    check_json_in(&repo, &full, &[]).assert_clean(true);
}

/// Copies `debrief.toml` and `content/` of `from` into the fresh folder `to`.
fn copy_without_git(from: &Path, to: &Path) {
    fs::create_dir_all(to.join("content")).expect("create content/");
    fs::copy(from.join("debrief.toml"), to.join("debrief.toml")).expect("copy debrief.toml");
    for entry in fs::read_dir(from.join("content")).expect("list content/") {
        let path = entry.expect("entry").path();
        fs::copy(
            &path,
            to.join("content").join(path.file_name().expect("name")),
        )
        .expect("copy a postmortem");
    }
}

#[test]
fn outside_a_git_repository_published_postmortems_cannot_be_verified() {
    let repo = signed_off_repo();
    let plain = repo.sibling("plain");
    copy_without_git(&repo.path(), &plain);
    // A draft with a finding of its own, to show drafts are checked as usual.
    let draft = postmortem_with("status: review", "status: draft");
    let draft = replace_once(
        &draft,
        "\nseverity: SEV3\n",
        "\nseverity: SEV3\ncolour: blue\n",
    );
    fs::write(plain.join("content/2026-02-01-draft.md"), draft).expect("write the draft");

    let probe = repo.git_in(&plain, &fixture(), &["rev-parse", "--git-dir"]);
    assert_ne!(
        probe.code, 0,
        "the temp dir is inside a git repository:\n{probe}"
    );

    let report = check_json_in(&repo, &plain, &[]);
    assert_eq!(report.code(), 1, "{report}");
    let missing = report.expect("signoff-missing", PM_ID);
    assert_eq!(
        missing.message,
        format!("`{PM_ID}` is published but its sign-off cannot be verified: not a git repository"),
        "{report}"
    );
    assert_eq!(report.rules_for(PM_ID), vec!["signoff-missing"], "{report}");
    assert_eq!(
        report.rules_for("2026-02-01-draft"),
        vec!["field-unknown"],
        "{report}"
    );
    report.assert_no("trust-working-tree");
}

/// `[people.mallory]` with the tech-lead role instead of engineer.
fn mallory_promoted(config: &str) -> String {
    replace_once(
        config,
        "[people.mallory]\nname = \"Mallory Mask\"\nemails = [\"mallory@example.com\"]\nroles = [\"engineer\"]",
        "[people.mallory]\nname = \"Mallory Mask\"\nemails = [\"mallory@example.com\"]\nroles = [\"tech-lead\"]",
    )
}

#[test]
fn a_pull_request_cannot_make_its_author_a_tech_lead_past_the_trust_ref() {
    let repo = GitRepo::new();
    repo.git(&["checkout", "--quiet", "-b", "pr"]);
    repo.write("debrief.toml", mallory_promoted(CONFIG));
    repo.edit(PM_FILE, "tech_lead: alice", "tech_lead: mallory");
    repo.commit_all("Make mallory the tech lead");
    repo.review(&bob(), PM_ID);
    repo.review(&alice(), PM_ID);
    repo.approve(&mallory(), PM_ID);

    // Trusting the pull request's own files, it passes (with the warning saying so).
    let report = repo.check_json(&[]);
    report.assert_clean(true);
    assert_eq!(report.findings()[0].level, "warning");

    // Trusting the base branch, mallory is no tech lead.
    let report = repo.check_json(&["--trust-ref", "main"]);
    assert_eq!(report.code(), 1, "{report}");
    assert_eq!(
        report.expect("signoff-not-tech-lead", PM_ID).message,
        "`mallory` is not a tech lead in the trusted [people] of `main`",
        "{report}"
    );
    report.assert_no("trust-working-tree");

    // And `approve` itself refuses when given the trust ref.
    let out = repo.debrief_as(&mallory(), &["approve", PM_ID, "--trust-ref", "main"]);
    out.assert_code(2)
        .assert_stderr_has("(mallory) do not have the tech-lead role in the trusted [people]");
}

#[test]
fn a_trust_ref_that_does_not_exist_is_an_error_not_a_fallback() {
    let repo = signed_off_repo();
    let out = repo.check(&["--trust-ref", "origin/main"]);
    out.assert_code(2)
        .assert_stderr_has("`origin/main`")
        .assert_stderr_has("git fetch origin main");
    assert_eq!(out.stdout, "");
}

#[test]
fn before_the_first_commit_history_is_unavailable() {
    let repo = GitRepo::empty();
    repo.write("debrief.toml", CONFIG);
    repo.write(
        PM_FILE,
        postmortem_with("status: review", "status: published"),
    );
    let report = repo.check_json(&[]);
    assert_eq!(
        report.expect("signoff-missing", PM_ID).message,
        format!("`{PM_ID}` is published but its sign-off cannot be verified: the git repository has no commits yet"),
        "{report}"
    );
}

#[test]
fn a_trust_ref_in_the_config_is_used_without_the_flag() {
    let config = format!("{CONFIG}\n[approvals]\ntrust_ref = \"main\"\n");
    let repo = GitRepo::with(&config, &[(PM_FILE, POSTMORTEM)]);
    repo.git(&["checkout", "--quiet", "-b", "pr"]);
    repo.write("debrief.toml", mallory_promoted(&config));
    repo.edit(PM_FILE, "tech_lead: alice", "tech_lead: mallory");
    repo.commit_all("Make mallory the tech lead");
    repo.review(&bob(), PM_ID);
    repo.review(&alice(), PM_ID);
    // `approve` refuses, so mallory writes the sign-off by hand.
    repo.debrief_as(&mallory(), &["approve", PM_ID])
        .assert_code(2)
        .assert_stderr_has("(mallory) do not have the tech-lead role in the trusted [people]");
    repo.publish_by_hand(PM_FILE);
    let digest = repo.digest(PM_ID);
    repo.commit_message(
        &mallory(),
        &format!("Sign off\n\nPostmortem-Signoff: {PM_ID} {digest}\n"),
    );
    let report = repo.check_json(&[]);
    assert_eq!(
        report.expect("signoff-not-tech-lead", PM_ID).message,
        "`mallory` is not a tech lead in the trusted [people] of `main`",
        "{report}"
    );
    report.assert_no("trust-working-tree");
}

#[test]
fn a_pull_request_cannot_switch_the_approval_rules_off_past_the_trust_ref() {
    // docs/rules.md says `[rules]` is always read from the working tree; but then the
    // trust ref protects nothing: the PR below publishes with no review and no sign-off.
    let repo = GitRepo::new();
    repo.git(&["checkout", "--quiet", "-b", "pr"]);
    repo.write(
        "debrief.toml",
        format!("{CONFIG}\n[rules]\nreview-missing = \"allow\"\nsignoff-missing = \"allow\"\n"),
    );
    repo.publish_by_hand(PM_FILE);
    let report = repo.check_json(&["--trust-ref", "main", "--deny-warnings"]);
    assert_ne!(report.code(), 0, "published without approvals:\n{report}");
}

#[test]
fn an_id_the_trailer_parser_rejects_is_never_approved() {
    // With `id-invalid` allowed, `check` accepts the file, but a trailer naming this id
    // would never be a record: review and approve must refuse instead of committing one.
    let config = format!("{CONFIG}\n[rules]\nid-invalid = \"allow\"\n");
    let repo = GitRepo::with(&config, &[("content/2026-01-12_Search.md", POSTMORTEM)]);
    let start = repo.head();
    for (who, command) in [(bob(), "review"), (alice(), "approve")] {
        repo.debrief_as(&who, &[command, "2026-01-12_Search"])
            .assert_code(2)
            .assert_stderr_has("is not a valid postmortem id");
    }
    assert_eq!(repo.head(), start);
    assert_eq!(repo.read("content/2026-01-12_Search.md"), POSTMORTEM);
}

#[test]
fn approve_records_the_identity_it_checked() {
    let repo = GitRepo::new();
    repo.review(&bob(), PM_ID);
    // user.email is alice's, but the environment names bob as the author.
    let mixed = Who {
        author_email: Some("bob@example.com".into()),
        ..alice()
    };
    let out = repo.debrief_as(&mixed, &["approve", PM_ID]);
    // Either refuse (exit 2), or record a sign-off that counts for alice.
    if out.code == 0 {
        repo.check_json(&[]).assert_clean(true);
    } else {
        out.assert_code(2);
    }
}
