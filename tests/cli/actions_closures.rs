//! Back-dated closures: `action-item-closed-unverified` compares an item's `closed_at` with
//! the commit that recorded the closure (its `Action-Closed` trailer, else the first commit
//! in which the file shows the item closed).
//!
//! Commits made through the harness are dated 2026-03-01 (10:00, 10:01, …);
//! [`commit_dated`] pins another committer date where a test needs one.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::git_harness::{
    bob, fixture, replace_once, Finding, GitRepo, Report, CONFIG, PM_FILE, PM_ID, POSTMORTEM, TODAY,
};
use crate::harness::approval_rules_off;

const RULE: &str = "action-item-closed-unverified";

/// [`CONFIG`] with the approval rules off: these tests are about closures only.
fn config() -> String {
    format!("{CONFIG}\n[rules]\n{}", approval_rules_off())
}

/// The fixture postmortem, published, AI-1 closed on time and within the tolerance of the
/// fixture commit (2026-03-01), AI-2 open.
fn published() -> String {
    let text = replace_once(POSTMORTEM, "status: review\n", "status: published\n");
    // The shared fixture already closes AI-1 on 2026-02-28, the day before its commit.
    replace_once(
        &text,
        "    due: 2026-03-09\n    status: done\n    closed_at: 2026-02-28\n",
        "    due: 2026-03-09\n    status: done\n    closed_at: 2026-02-28\n",
    )
}

const AI2_OPEN: &str = "    due: 2027-02-09\n    status: open\n";

fn ai2_closed(on: &str) -> String {
    format!("    due: 2027-02-09\n    status: done\n    closed_at: {on}\n")
}

/// A repository with [`published`] committed (clean), then AI-2 closed on `closed_on` and
/// committed without a trailer. Returns the repository and the closing commit.
fn closed_in_git(config: &str, closed_on: &str) -> (GitRepo, String) {
    let repo = GitRepo::with(config, &[(PM_FILE, &published())]);
    repo.check_json(&[]).assert_clean(false);
    repo.edit(PM_FILE, AI2_OPEN, &ai2_closed(closed_on));
    let commit = repo.commit_all("Update the search postmortem");
    (repo, commit)
}

/// The findings of [`RULE`].
fn unverified(report: &Report) -> Vec<Finding> {
    report
        .findings()
        .into_iter()
        .filter(|f| f.rule == RULE)
        .collect()
}

/// The one finding of [`RULE`], a warning.
fn the_warning(report: &Report) -> Finding {
    match unverified(report).as_slice() {
        [one] => {
            assert_eq!(one.level, "warning", "{report}");
            one.clone()
        }
        _ => panic!("expected one [{RULE}]\n{report}"),
    }
}

/// The 1-based line of the one line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    u64::from(crate::harness::line_of(text, needle))
}

/// `closure_commit` of AI-2 in `debrief actions --status all --format json`.
fn closure_commit(repo: &GitRepo, dir: &Path) -> Value {
    let out = repo.debrief_in(
        dir,
        &fixture(),
        &[
            "actions", "--today", TODAY, "--status", "all", "--format", "json",
        ],
    );
    out.assert_code(0);
    let json: Value = serde_json::from_str(&out.stdout).expect("JSON");
    json["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == "AI-2")
        .expect("AI-2 listed")["closure_commit"]
        .clone()
}

/// `git add -A` and a commit whose author and committer date is `date` (RFC 3339), in the
/// harness's isolated environment.
fn commit_dated(repo: &GitRepo, date: &str, subject: &str) -> String {
    repo.git(&["add", "-A"]);
    let home = repo.path().parent().expect("a parent").join("home");
    let out = Command::new("git")
        .args(["commit", "--quiet", "-m", subject])
        .current_dir(repo.path())
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_CONFIG_PARAMETERS")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_COUNT", "0")
        .env("GIT_AUTHOR_NAME", "Fixture Setup")
        .env("GIT_AUTHOR_EMAIL", "fixture@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_NAME", "Fixture Setup")
        .env("GIT_COMMITTER_EMAIL", "fixture@example.com")
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("run git commit");
    assert!(
        out.status.success(),
        "git commit failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    repo.head()
}

#[test]
fn a_closure_back_dated_by_10_days_warns_on_closed_at_naming_the_commit() {
    let (repo, commit) = closed_in_git(&config(), "2026-02-19");
    assert!(
        repo.git(&["log", "-1", "--format=%cI"])
            .starts_with("2026-03-01T"),
        "the harness pins commit dates"
    );
    let report = repo.check_json(&[]);
    assert_eq!(
        report.code(),
        0,
        "a warning does not fail the run\n{report}"
    );
    let warning = the_warning(&report);
    assert_eq!(warning.file, PM_FILE);
    assert_eq!(
        warning.line,
        Some(line_of(&repo.read(PM_FILE), "closed_at: 2026-02-19"))
    );
    assert_eq!(warning.postmortem.as_deref(), Some(PM_ID));
    assert_eq!(
        warning.message,
        format!(
            "action item AI-2 says it was closed on 2026-02-19, but the closure was recorded 10 day(s) later, in commit {} on 2026-03-01",
            &commit[..10]
        )
    );
    assert!(
        warning
            .help
            .contains(&format!("debrief actions close {PM_ID}/AI-2")),
        "{warning}"
    );
    // Human output points at the same place; --deny-warnings fails on it.
    let out = repo.check(&[]);
    out.assert_code(0);
    let line = warning.line.unwrap_or_default();
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with(&format!("{PM_FILE}:{line}:"))
                && l.contains(&format!("warning[{RULE}]"))),
        "{out}"
    );
    repo.check(&["--deny-warnings"]).assert_code(1);
    // The list shows the commit that recorded it.
    assert_eq!(closure_commit(&repo, &repo.path()), commit[..10]);
}

#[test]
fn a_gap_within_the_tolerance_is_not_reported() {
    // The default tolerance is 3 days: 2 and 3 days pass, 4 do not.
    for (closed_on, days) in [
        ("2026-03-01", None),
        ("2026-02-27", None),
        ("2026-02-26", None),
        ("2026-02-25", Some(4)),
        // Closed "after" the commit (a date typed ahead): nothing to verify against.
        ("2026-03-05", None),
    ] {
        let (repo, _) = closed_in_git(&config(), closed_on);
        let report = repo.check_json(&[]);
        match days {
            None => assert!(unverified(&report).is_empty(), "{closed_on}\n{report}"),
            Some(days) => assert!(
                the_warning(&report)
                    .message
                    .contains(&format!("recorded {days} day(s) later")),
                "{closed_on}\n{report}"
            ),
        }
    }
}

#[test]
fn workflow_closure_tolerance_sets_the_allowed_gap() {
    let with = |tolerance: &str| {
        replace_once(
            &config(),
            "min_whys = 5\n",
            &format!("min_whys = 5\nclosure_tolerance = \"{tolerance}\"\n"),
        )
    };
    let (repo, _) = closed_in_git(&with("14d"), "2026-02-19");
    repo.check_json(&[]).assert_clean(false);
    let (repo, _) = closed_in_git(&with("2w"), "2026-02-19");
    repo.check_json(&[]).assert_clean(false);
    let (repo, _) = closed_in_git(&with("9d"), "2026-02-19");
    the_warning(&repo.check_json(&[]));
    let (repo, _) = closed_in_git(&with("1d"), "2026-02-28");
    repo.check_json(&[]).assert_clean(false);
    let (repo, _) = closed_in_git(&with("1d"), "2026-02-27");
    the_warning(&repo.check_json(&[]));
}

#[test]
fn a_closure_recorded_with_the_trailer_uses_that_commit() {
    let (repo, edit) = closed_in_git(&config(), "2026-02-19");
    let trailer = repo.commit_message(
        &bob(),
        &format!("Record the closure\n\nAction-Closed: {PM_ID}/AI-2\n"),
    );
    assert_ne!(edit, trailer);
    let warning = the_warning(&repo.check_json(&[]));
    assert!(
        warning
            .message
            .ends_with(&format!("in commit {} on 2026-03-01", &trailer[..10])),
        "{warning}"
    );
    assert_eq!(closure_commit(&repo, &repo.path()), trailer[..10]);
}

#[test]
fn a_closure_committed_on_its_day_is_verified() {
    let repo = GitRepo::with(&config(), &[(PM_FILE, &published())]);
    repo.edit(PM_FILE, AI2_OPEN, &ai2_closed("2026-03-20"));
    let edit = commit_dated(&repo, "2026-03-20T09:00:00+00:00", "Close AI-2");
    repo.check_json(&[]).assert_clean(false);
    assert_eq!(closure_commit(&repo, &repo.path()), edit[..10]);
}

#[test]
fn a_pinned_committer_date_decides_the_gap() {
    let repo = GitRepo::with(&config(), &[(PM_FILE, &published())]);
    repo.edit(PM_FILE, AI2_OPEN, &ai2_closed("2026-03-01"));
    let commit = commit_dated(&repo, "2026-03-11T09:00:00+00:00", "Close AI-2 late");
    let warning = the_warning(&repo.check_json(&[]));
    assert_eq!(
        warning.message,
        format!(
            "action item AI-2 says it was closed on 2026-03-01, but the closure was recorded 10 day(s) later, in commit {} on 2026-03-11",
            &commit[..10]
        )
    );
}

#[test]
fn outside_git_there_is_nothing_to_verify_against() {
    let (git, _) = closed_in_git(&config(), "2026-02-19");
    the_warning(&git.check_json(&[]));
    // The same files in a plain folder.
    let plain = crate::harness::Repo::empty();
    plain.config(&git.read("debrief.toml"));
    plain.write(PM_FILE, git.read(PM_FILE));
    let report = plain.check_json(&[]);
    assert!(report.of(RULE).is_empty(), "{report}");
    report.assert_clean();
    let out = plain.run(&[
        "actions", "--today", TODAY, "--status", "done", "--format", "json",
    ]);
    out.assert_code(0);
    let json: Value = serde_json::from_str(&out.stdout).expect("JSON");
    for item in json["items"].as_array().expect("items") {
        assert_eq!(item["closure_commit"], Value::Null, "{item}");
    }
}

#[test]
fn closures_are_found_when_debrief_toml_is_in_a_subfolder_of_the_repository() {
    let repo = GitRepo::empty();
    repo.write("incidents/debrief.toml", config());
    repo.write(&format!("incidents/{PM_FILE}"), published());
    repo.commit_all("Add postmortems");
    let rel = format!("incidents/{PM_FILE}");
    repo.edit(&rel, AI2_OPEN, &ai2_closed("2026-02-19"));
    let commit = repo.commit_all("Close AI-2");
    let dir = repo.path().join("incidents");
    let report = crate::git_harness::check_json_in(&repo, &dir, &[]);
    let warning = the_warning(&report);
    assert!(warning.message.contains(&commit[..10]), "{warning}");
    assert_eq!(closure_commit(&repo, &dir), commit[..10]);
}

#[test]
fn a_closure_made_with_actions_close_is_recorded_by_its_commit() {
    let repo = GitRepo::with(&config(), &[(PM_FILE, &published())]);
    let out = repo.debrief_as(
        &bob(),
        &[
            "actions",
            "close",
            &format!("{PM_ID}/AI-2"),
            "--date",
            "2026-03-01",
        ],
    );
    out.assert_code(0);
    repo.check_json(&[]).assert_clean(false);
    assert_eq!(closure_commit(&repo, &repo.path()), repo.head()[..10]);
    // Back-dated through the command: caught the same way.
    let repo = GitRepo::with(&config(), &[(PM_FILE, &published())]);
    repo.debrief_as(
        &bob(),
        &[
            "actions",
            "close",
            &format!("{PM_ID}/AI-2"),
            "--date",
            "2026-02-01",
        ],
    )
    .assert_code(0);
    let warning = the_warning(&repo.check_json(&[]));
    assert!(
        warning.message.contains("recorded 28 day(s) later"),
        "{warning}"
    );
    assert!(warning.message.contains(&repo.head()[..10]), "{warning}");
}

/// Moving a postmortem file (same id) later must not make its old closures look back-dated:
/// the closure was recorded when it happened, under the old path.
#[test]

fn moving_the_file_later_does_not_make_a_closure_back_dated() {
    let repo = GitRepo::with(&config(), &[(PM_FILE, &published())]);
    repo.edit(PM_FILE, AI2_OPEN, &ai2_closed("2026-03-01"));
    let closing = repo.commit_all("Close AI-2");
    repo.check_json(&[]).assert_clean(false);
    let moved = format!("content/2026/{PM_ID}.md");
    std::fs::create_dir_all(repo.path().join("content/2026")).expect("mkdir");
    repo.git(&["mv", PM_FILE, &moved]);
    commit_dated(
        &repo,
        "2026-04-15T12:00:00+00:00",
        "File the postmortem under its year",
    );
    let report = repo.check_json(&[]);
    assert!(unverified(&report).is_empty(), "{report}");
    assert_eq!(closure_commit(&repo, &repo.path()), closing[..10]);
}

/// A later edit of the same file (here the summary) is not the closure: the first version
/// that shows the item closed is, even though it is no longer the file in the work tree.
#[test]
fn a_later_edit_of_the_file_does_not_move_the_closure() {
    let repo = GitRepo::with(&config(), &[(PM_FILE, &published())]);
    repo.edit(PM_FILE, AI2_OPEN, &ai2_closed("2026-03-01"));
    let closing = repo.commit_all("Close AI-2");
    let text = std::fs::read_to_string(repo.path().join(PM_FILE)).expect("read");
    let summary_line = text
        .lines()
        .find(|l| l.starts_with("summary:"))
        .expect("the fixture has a summary")
        .to_owned();
    repo.edit(
        PM_FILE,
        &summary_line,
        "summary: Search was down; rewritten for clarity.",
    );
    commit_dated(&repo, "2026-04-15T12:00:00+00:00", "Reword the summary");
    let report = repo.check_json(&[]);
    assert!(unverified(&report).is_empty(), "{report}");
    assert_eq!(closure_commit(&repo, &repo.path()), closing[..10]);
}

/// The file history behind closures is cached per HEAD in `.git/debrief`; the answers are
/// the same with and without the cache as history moves and is rewritten.
#[test]
fn cached_and_uncached_closure_answers_agree() {
    let args = [
        "actions", "--today", TODAY, "--status", "all", "--format", "json",
    ];
    let both = |repo: &GitRepo| {
        let cached = repo.debrief_env(&[], &args);
        let uncached = repo.debrief_env(&[("DEBRIEF_NO_CACHE", "1")], &args);
        cached.assert_code(0);
        assert_eq!(cached.stdout, uncached.stdout);
        cached.stdout
    };
    let (repo, closing) = closed_in_git(&config(), "2026-03-01");
    let first = both(&repo);
    assert!(first.contains(&closing[..10]), "{first}");
    assert!(repo
        .path()
        .join(".git/debrief/changes-cache.json")
        .is_file());
    assert_eq!(both(&repo), first);
    // Rewritten: the closing commit is replaced by another one.
    repo.git(&["reset", "--hard", "HEAD~1"]);
    repo.edit(PM_FILE, AI2_OPEN, &ai2_closed("2026-03-01"));
    let again = commit_dated(&repo, "2026-03-02T09:00:00+00:00", "Close AI-2 again");
    let rewritten = both(&repo);
    assert!(rewritten.contains(&again[..10]), "{rewritten}");
    assert!(!rewritten.contains(&closing[..10]), "{rewritten}");
}
