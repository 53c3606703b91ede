//! `debrief actions close` in a temp git repository: only the item's lines change, one
//! commit with an `Action-Closed` trailer, the sign-off stays valid, and every refusal leaves
//! the file and history as they were.

use serde_json::Value;

use crate::git_harness::{
    alice, bob, carol, fixture, replace_once, GitRepo, Output, Who, CONFIG, PM_FILE, PM_ID,
    POSTMORTEM, TODAY,
};

/// The `action_items` of [`POSTMORTEM`], rewritten with what these tests need:
/// a comment between items and one inside AI-2, odd spacing (`owner:     bob`,
/// `- id:   AI-3`), AI-3 with a ticket to replace, AI-4 in flow style, and a comment after
/// the list. AI-1 is closed within the closure tolerance of the fixture commit (2026-03-01).
const ITEMS: &str = r#"action_items:
  - id: AI-1
    title: Alert when the live index is older than 6 hours
    owner:     bob
    due: 2026-03-09
    status: done
    closed_at: 2026-02-28
  # AI-2 waits for the storage team's release.
  - id: AI-2
    title: Give rebuild locks a 30-minute expiry
    # agreed with alice in the review
    owner: alice
    due: 2027-02-09
    status: open
  - id:   AI-3
    title: "Page on index age: warn at 3h"
    owner: carol
    due: 2027-03-01
    ticket: https://tracker.example.com/OLD-1
    status: open
  - {id: AI-4, title: Document the lock expiry, owner: carol, due: 2027-03-01, status: open}
# Closed items keep their closed_at.
---
"#;

/// The fixture postmortem with [`ITEMS`] and a trailing comment with odd spacing on
/// `severity`.
fn postmortem() -> String {
    let text = replace_once(
        POSTMORTEM,
        "severity: SEV3\n",
        "severity:   SEV3    # was SEV2 until the review\n",
    );
    let start = text.find("action_items:\n").expect("action_items");
    let end = start + text[start..].find("---\n").expect("closing ---") + 4;
    format!("{}{ITEMS}{}", &text[..start], &text[end..])
}

/// The fixture, reviewed by bob and signed off by alice: published, clean.
fn signed_off() -> GitRepo {
    let repo = GitRepo::with(CONFIG, &[(PM_FILE, &postmortem())]);
    repo.review(&bob(), PM_ID);
    repo.approve(&alice(), PM_ID);
    repo.check_json(&[]).assert_clean(true);
    repo
}

fn target(item: &str) -> String {
    format!("{PM_ID}/{item}")
}

/// `debrief actions close PM/ITEM ARGS…` as `who`.
fn close(repo: &GitRepo, who: &Who, item: &str, args: &[&str]) -> Output {
    let target = target(item);
    let mut all = vec!["actions", "close", target.as_str()];
    all.extend_from_slice(args);
    repo.debrief_as(who, &all)
}

/// The `-`/`+` lines of `git diff HEAD~1 -- PM_FILE`, without the file headers.
fn last_diff(repo: &GitRepo) -> Vec<String> {
    repo.git(&["diff", "HEAD~1", "--", PM_FILE])
        .lines()
        .filter(|l| {
            (l.starts_with('-') || l.starts_with('+'))
                && !l.starts_with("---")
                && !l.starts_with("+++")
        })
        .map(str::to_owned)
        .collect()
}

/// Every item of `debrief actions --status all --format json`.
fn items_json(repo: &GitRepo) -> Vec<Value> {
    let out = repo.debrief(&[
        "actions", "--today", TODAY, "--status", "all", "--format", "json",
    ]);
    out.assert_code(0);
    let json: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON: {e}\n{out}"));
    json["items"].as_array().expect("items").clone()
}

fn item_json(repo: &GitRepo, id: &str) -> Value {
    items_json(repo)
        .into_iter()
        .find(|i| i["postmortem"] == PM_ID && i["id"] == id)
        .unwrap_or_else(|| panic!("{id} not listed"))
}

#[test]
fn close_edits_only_the_items_lines_and_commits_with_a_trailer() {
    let repo = signed_off();
    let before = repo.read(PM_FILE);
    let digest = repo.digest(PM_ID);
    let start = repo.head();

    let out = close(&repo, &alice(), "AI-2", &["--date", "2026-03-02"]);
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        format!("closed {PM_ID}/AI-2 (done) and committed it\n")
    );

    // The file: status changed and closed_at added; comments and odd spacing untouched.
    let after = repo.read(PM_FILE);
    assert_eq!(
        after,
        replace_once(
            &before,
            "    due: 2027-02-09\n    status: open\n",
            "    due: 2027-02-09\n    status: done\n    closed_at: 2026-03-02\n"
        )
    );
    assert!(after.contains("  # AI-2 waits for the storage team's release.\n"));
    assert!(after.contains("    # agreed with alice in the review\n"));
    assert!(after.contains("severity:   SEV3    # was SEV2 until the review\n"));
    assert!(after.contains("    owner:     bob\n"));
    assert!(after.contains("\n# Closed items keep their closed_at.\n---\n"));
    assert_eq!(
        last_diff(&repo),
        [
            "-    status: open",
            "+    status: done",
            "+    closed_at: 2026-03-02"
        ]
    );

    // One commit, by the person who ran it, touching only the postmortem.
    assert_eq!(repo.git(&["rev-parse", "HEAD~1"]).trim(), start);
    assert_eq!(
        repo.raw_message("HEAD"),
        format!("Close action item {PM_ID}/AI-2\n\nAction-Closed: {PM_ID}/AI-2\n")
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%an <%ae>"]).trim(),
        "Alice Lead <alice@example.com>"
    );
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"])
            .trim(),
        PM_FILE
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");

    // Tracking fields are outside the digest: the sign-off still holds and check passes.
    assert_eq!(repo.digest(PM_ID), digest);
    let report = repo.check_json(&[]);
    report.assert_no("signoff-stale");
    report.assert_no("action-item-closed-unverified");
    report.assert_clean(true);

    // The closure reads back, recorded by the trailer commit.
    let item = item_json(&repo, "AI-2");
    assert_eq!(item["status"], "done");
    assert_eq!(item["closed_at"], "2026-03-02");
    assert_eq!(item["closure_commit"], repo.head()[..10]);
}

#[test]
fn close_commits_only_the_postmortem_even_with_other_changes_staged() {
    let repo = signed_off();
    repo.write("notes.txt", "staged, not part of the closure\n");
    repo.git(&["add", "notes.txt"]);
    close(&repo, &carol(), "AI-2", &["--date", "2026-03-01"]).assert_code(0);
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"])
            .trim(),
        PM_FILE
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "A  notes.txt\n");
}

#[test]
fn ticket_is_added_or_replaced_in_place() {
    let repo = signed_off();
    let before = repo.read(PM_FILE);
    close(
        &repo,
        &alice(),
        "AI-2",
        &[
            "--date",
            "2026-03-02",
            "--ticket",
            "https://tracker.example.com/NEW-2",
        ],
    )
    .assert_code(0);
    let once = replace_once(
        &before,
        "    due: 2027-02-09\n    status: open\n",
        "    due: 2027-02-09\n    status: done\n    closed_at: 2026-03-02\n    ticket: https://tracker.example.com/NEW-2\n",
    );
    assert_eq!(repo.read(PM_FILE), once);

    close(
        &repo,
        &carol(),
        "AI-3",
        &[
            "--date",
            "2026-03-02",
            "--ticket",
            "https://tracker.example.com/NEW-3",
        ],
    )
    .assert_code(0);
    assert_eq!(
        repo.read(PM_FILE),
        replace_once(
            &once,
            "    ticket: https://tracker.example.com/OLD-1\n    status: open\n",
            "    ticket: https://tracker.example.com/NEW-3\n    status: done\n    closed_at: 2026-03-02\n"
        )
    );
    assert_eq!(
        last_diff(&repo),
        [
            "-    ticket: https://tracker.example.com/OLD-1",
            "-    status: open",
            "+    ticket: https://tracker.example.com/NEW-3",
            "+    status: done",
            "+    closed_at: 2026-03-02"
        ]
    );
    assert_eq!(
        item_json(&repo, "AI-3")["ticket"],
        "https://tracker.example.com/NEW-3"
    );
    repo.check_json(&[]).assert_clean(true);
}

#[test]
fn wontfix_sets_the_status_and_a_quoted_reason_that_reads_back_exactly() {
    let repo = signed_off();
    let before = repo.read(PM_FILE);
    let out = close(
        &repo,
        &alice(),
        "AI-2",
        &["--date", "2026-03-02", "--wontfix", "reason: with colon"],
    );
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        format!("closed {PM_ID}/AI-2 (wontfix) and committed it\n")
    );
    assert_eq!(
        repo.read(PM_FILE),
        replace_once(
            &before,
            "    due: 2027-02-09\n    status: open\n",
            "    due: 2027-02-09\n    status: wontfix\n    closed_at: 2026-03-02\n    reason: \"reason: with colon\"\n"
        )
    );
    assert_eq!(
        repo.raw_message("HEAD"),
        format!("Close action item {PM_ID}/AI-2\n\nAction-Closed: {PM_ID}/AI-2\n")
    );
    let item = item_json(&repo, "AI-2");
    assert_eq!(item["status"], "wontfix");
    assert_eq!(item["reason"], "reason: with colon");
    repo.check_json(&[]).assert_clean(true);

    // Quotes, a backslash, `#`, a leading dash and non-ASCII survive the round trip.
    let tricky = "- it's \"too\" costly: #1 \\ risk — für jetzt";
    let arg = format!("--wontfix={tricky}");
    close(&repo, &carol(), "AI-3", &["--date", "2026-03-02", &arg]).assert_code(0);
    assert_eq!(item_json(&repo, "AI-3")["reason"], tricky);
    repo.check_json(&[]).assert_clean(true);
}

#[test]
fn no_commit_edits_the_file_and_prints_the_trailer() {
    let repo = signed_off();
    let before = repo.read(PM_FILE);
    let start = repo.head();
    let out = close(
        &repo,
        &alice(),
        "AI-2",
        &["--date", "2026-03-02", "--no-commit"],
    );
    out.assert_code(0);
    out.assert_stdout_has(&format!("Action-Closed: {PM_ID}/AI-2"));
    assert_eq!(repo.head(), start, "nothing committed");
    assert_eq!(
        repo.read(PM_FILE),
        replace_once(
            &before,
            "    due: 2027-02-09\n    status: open\n",
            "    due: 2027-02-09\n    status: done\n    closed_at: 2026-03-02\n"
        )
    );
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        format!(" M {PM_FILE}\n")
    );

    // Committed by hand with the printed trailer, the closure is recorded by that commit.
    repo.git(&["add", PM_FILE]);
    let commit = repo.commit_message(
        &alice(),
        &format!("Close AI-2 by hand\n\nAction-Closed: {PM_ID}/AI-2\n"),
    );
    assert_eq!(item_json(&repo, "AI-2")["closure_commit"], commit[..10]);
    repo.check_json(&[]).assert_clean(true);
}

// --- refusals --------------------------------------------------------------------------

/// Runs a close that must be refused: exit 2, `needle` on stderr, nothing on stdout, and
/// the file, the index and history exactly as before.
fn assert_refused(repo: &GitRepo, args: &[&str], needle: &str) -> Output {
    let file = repo.read(PM_FILE);
    let head = repo.head();
    let status = repo.git(&["status", "--porcelain"]);
    let mut all = vec!["actions", "close"];
    all.extend_from_slice(args);
    let out = repo.debrief_as(&alice(), &all);
    out.assert_code(2);
    out.assert_stderr_has(needle);
    assert_eq!(out.stdout, "", "{out}");
    assert_eq!(repo.read(PM_FILE), file, "the file was changed\n{out}");
    assert_eq!(repo.head(), head, "something was committed\n{out}");
    assert_eq!(repo.git(&["status", "--porcelain"]), status, "{out}");
    out
}

#[test]
fn unknown_postmortem_and_item_are_refused_with_did_you_mean() {
    let repo = signed_off();
    let out = assert_refused(
        &repo,
        &["2026-01-12-search-stal/AI-2", "--date", "2026-03-02"],
        "no postmortem with id `2026-01-12-search-stal`",
    );
    out.assert_stderr_has(&format!("did you mean `{PM_ID}`?"));

    let out = assert_refused(
        &repo,
        &[&target("AI2"), "--date", "2026-03-02"],
        &format!("`{PM_ID}` has no action item `AI2`"),
    );
    out.assert_stderr_has("did you mean `AI-2`?");

    let out = assert_refused(
        &repo,
        &[&target("XYZ-99"), "--date", "2026-03-02"],
        "has no action item `XYZ-99`",
    );
    out.assert_stderr_has("its items are AI-1, AI-2, AI-3, AI-4");
}

#[test]
fn an_item_that_is_already_closed_is_refused() {
    let repo = signed_off();
    assert_refused(
        &repo,
        &[&target("AI-1"), "--date", "2026-03-02"],
        &format!("{PM_ID}/AI-1 is already done"),
    );
    close(
        &repo,
        &alice(),
        "AI-2",
        &["--date", "2026-03-02", "--wontfix", "obsolete"],
    )
    .assert_code(0);
    assert_refused(
        &repo,
        &[&target("AI-2"), "--date", "2026-03-02"],
        &format!("{PM_ID}/AI-2 is already wontfix"),
    );
}

#[test]
fn a_ticket_that_is_not_an_http_url_is_refused() {
    let repo = signed_off();
    for bad in [
        "tracker.example.com/OPS-1",
        "ftp://tracker.example.com/1",
        "javascript:alert(1)",
        "",
    ] {
        assert_refused(
            &repo,
            &[&target("AI-2"), "--date", "2026-03-02", "--ticket", bad],
            "is not an http(s) URL",
        );
    }
}

#[test]
fn an_empty_wontfix_reason_is_refused() {
    let repo = signed_off();
    for empty in ["", "   "] {
        assert_refused(
            &repo,
            &[&target("AI-2"), "--date", "2026-03-02", "--wontfix", empty],
            "--wontfix needs a reason",
        );
    }
}

#[test]
fn a_file_with_uncommitted_changes_is_refused() {
    let repo = signed_off();
    repo.edit(PM_FILE, "## Lessons\n", "## Lessons learned\n");
    assert_refused(
        &repo,
        &[&target("AI-2"), "--date", "2026-03-02"],
        "has uncommitted changes",
    );
    // Staged but not committed is uncommitted too.
    repo.git(&["add", PM_FILE]);
    assert_refused(
        &repo,
        &[&target("AI-2"), "--date", "2026-03-02"],
        "has uncommitted changes",
    );
}

#[test]
fn a_date_in_the_future_is_refused() {
    let repo = signed_off();
    assert_refused(
        &repo,
        &[&target("AI-2"), "--date", "2999-01-01"],
        "--date 2999-01-01 is in the future",
    );
    let out = repo.debrief_as(
        &alice(),
        &["actions", "close", &target("AI-2"), "--date", "yesterday"],
    );
    out.assert_code(2);
}

#[test]
fn a_target_without_a_slash_is_refused() {
    let repo = signed_off();
    assert_refused(
        &repo,
        &[PM_ID, "--date", "2026-03-02"],
        &format!("`{PM_ID}` is not POSTMORTEM-ID/ITEM-ID"),
    );
}

#[test]
fn a_flow_style_item_is_refused() {
    let repo = signed_off();
    assert_refused(
        &repo,
        &[&target("AI-4"), "--date", "2026-03-02"],
        "flow style",
    );
}

#[test]
fn outside_git_close_needs_no_commit() {
    let repo = crate::harness::Repo::new();
    let text = replace_once(&postmortem(), "status: review\n", "status: published\n");
    repo.write(PM_FILE, &text);
    let out = repo.run(&["actions", "close", &target("AI-2"), "--date", "2026-03-02"]);
    out.assert_code(2);
    assert!(out.stderr.contains("is not in a git repository"), "{out}");
    assert!(out.stderr.contains("--no-commit"), "{out}");
    assert_eq!(repo.read(PM_FILE), text);

    let out = repo.run(&[
        "actions",
        "close",
        &target("AI-2"),
        "--date",
        "2026-03-02",
        "--no-commit",
    ]);
    out.assert_code(0);
    assert_eq!(
        repo.read(PM_FILE),
        replace_once(
            &text,
            "    due: 2027-02-09\n    status: open\n",
            "    due: 2027-02-09\n    status: done\n    closed_at: 2026-03-02\n"
        )
    );
}

/// Other layouts a person writes: a list at column 0, CRLF line ends, an item without a
/// `status` key (open by default), the item's last key a folded block.
#[test]
fn close_keeps_other_layouts_intact() {
    let repo = crate::harness::Repo::new();
    let base = replace_once(&postmortem(), "status: review\n", "status: published\n");
    let start = base.find("action_items:\n").expect("action_items");
    let end = start + base[start..].find("---\n").expect("---");
    let column0 = format!(
        "{}{}{}",
        &base[..start],
        "action_items:
- id: AI-1
  title: Alert when the live index is older than 6 hours
  owner: bob
  due: 2026-03-09
  status: done
  closed_at: 2026-02-28
- id: AI-2
  owner: alice
  due: 2027-02-09
  title: >
    Give rebuild locks
    a 30-minute expiry
# after the list
",
        &base[end..]
    );
    for (name, text) in [
        ("lf", column0.clone()),
        ("crlf", column0.replace('\n', "\r\n")),
    ] {
        let nl = if name == "crlf" { "\r\n" } else { "\n" };
        repo.write(PM_FILE, &text);
        let out = repo.run(&[
            "actions",
            "close",
            &target("AI-2"),
            "--date",
            "2026-03-02",
            "--no-commit",
        ]);
        out.assert_code(0);
        let expected = replace_once(
            &text,
            &format!("    a 30-minute expiry{nl}# after the list{nl}"),
            &format!(
                "    a 30-minute expiry{nl}  status: done{nl}  closed_at: 2026-03-02{nl}# after the list{nl}"
            ),
        );
        assert_eq!(repo.read(PM_FILE), expected, "{name}\n{out}");
    }
}

/// A person who is not in `[people]` may close items too; the commit is theirs.
#[test]
fn the_commit_author_is_whoever_runs_the_command() {
    let repo = signed_off();
    close(&repo, &fixture(), "AI-2", &["--date", "2026-03-02"]).assert_code(0);
    assert_eq!(
        repo.git(&["log", "-1", "--format=%an <%ae>"]).trim(),
        "Fixture Setup <fixture@example.com>"
    );
}
