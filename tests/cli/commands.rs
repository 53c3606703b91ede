//! Exit codes, PATH narrowing, read-only checks, and the `init` / `new` commands.

use crate::harness::*;

// --- exit codes ----------------------------------------------------------------------

#[test]
fn exit_0_when_clean() {
    let repo = Repo::new();
    repo.write("content/a.md", Pm::published());
    repo.check(&[]).assert_code(0);
}

#[test]
fn exit_0_with_warnings_only() {
    let repo = Repo::new();
    repo.write("content/a.md", witness());
    let out = repo.check(&[]);
    out.assert_code(0);
    assert_eq!(out.summary(), "checked 1 postmortem: 0 errors, 1 warning");
}

#[test]
fn exit_1_with_errors() {
    let repo = Repo::new();
    repo.write(
        "content/a.md",
        Pm::published().replace("severity: SEV2", "severity: SEV9"),
    );
    let out = repo.check(&[]);
    out.assert_code(1);
    assert_eq!(out.summary(), "checked 1 postmortem: 1 error, 0 warnings");
}

#[test]
fn exit_1_with_warnings_when_warnings_are_denied() {
    let repo = Repo::new();
    repo.write("content/a.md", witness());
    repo.check(&["--deny-warnings"]).assert_code(1);
}

#[test]
fn notes_do_not_fail_a_run_even_when_warnings_are_denied() {
    let repo = Repo::new();
    let pm = witness().insert_after(
        "    closed_at: 2026-11-18",
        "waivers:\n  - rule: action-item-overdue\n    reason: Vendor fix pending.",
    );
    repo.write("content/a.md", pm);
    let out = repo.check(&["--deny-warnings"]);
    out.assert_code(0);
    assert!(out.summary().ends_with("1 note"), "{out}");
}

#[test]
fn exit_2_without_debrief_toml_and_a_hint_to_run_init() {
    let repo = Repo::empty();
    repo.write("content/a.md", Pm::published());
    let out = repo.check(&[]);
    out.assert_code(2);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("no debrief.toml"), "{out}");
    assert!(out.stderr.contains("debrief init"), "{out}");
}

#[test]
fn exit_2_for_a_broken_config_with_every_problem_and_its_line() {
    let repo = Repo::new();
    repo.config(
        r#"[site]
timezone = "Mars/Olympus"

[workflow]
declare_within = "soon"
min_whyz = 3

[people.Alice]
emails = ["alice-at-example"]

[rules]
blamefull-language = "warn"
"#,
    );
    repo.write("content/a.md", Pm::published());
    let out = repo.check(&[]);
    out.assert_code(2);
    assert_eq!(out.stdout, "", "nothing is checked with a broken config");
    for (line, text) in [
        (2, "unknown time zone `Mars/Olympus`"),
        (5, "`workflow.declare_within` `soon` is not a duration"),
        (6, "unknown key `min_whyz` in [workflow]"),
        (8, "[people.Alice]: a handle is lowercase"),
        (9, "`alice-at-example` is not an email address"),
        (12, "unknown rule `blamefull-language` in [rules]"),
    ] {
        let found = out
            .stderr
            .lines()
            .any(|l| l.starts_with(&format!("debrief.toml:{line}:")) && l.contains(text));
        assert!(found, "no `debrief.toml:{line}: … {text}` in\n{out}");
    }
    assert!(out.stderr.contains("did you mean `min_whys`?"), "{out}");
    assert!(
        out.stderr.contains("did you mean `blameful-language`?"),
        "{out}"
    );
    assert!(
        out.stderr.contains("debrief.toml has 6 problem(s)"),
        "{out}"
    );
}

#[test]
fn exit_2_for_invalid_toml_syntax_at_its_line() {
    let repo = Repo::new();
    repo.config("[site]\ntitle = \n");
    let out = repo.check(&[]);
    out.assert_code(2);
    assert!(out.stderr.starts_with("debrief.toml:2:"), "{out}");
    assert!(out.stderr.contains("invalid TOML"), "{out}");
}

#[test]
fn exit_2_for_an_unknown_flag() {
    let repo = Repo::new();
    let out = repo.check(&["--frobnicate"]);
    out.assert_code(2);
    assert!(out.stderr.contains("--frobnicate"), "{out}");
}

#[test]
fn exit_2_for_a_today_that_is_not_a_date() {
    let repo = Repo::new();
    for bad in ["2026-13-01", "tomorrow", "04.12.2026"] {
        let out = repo.run(&["check", "--today", bad]);
        out.assert_code(2);
        assert!(out.stderr.contains("use YYYY-MM-DD"), "{out}");
    }
}

#[test]
fn exit_2_for_a_path_that_does_not_exist() {
    let repo = Repo::new();
    repo.write("content/a.md", Pm::published());
    let out = repo.check(&["content/nope.md"]);
    out.assert_code(2);
    assert!(out.stderr.contains("content/nope.md"), "{out}");
}

#[test]
fn exit_2_when_the_content_folder_is_missing() {
    let repo = Repo::empty();
    repo.config(&standard_config());
    let out = repo.check(&[]);
    out.assert_code(2);
    assert!(out.stderr.contains("content folder"), "{out}");
}

// --- PATH narrowing --------------------------------------------------------------------

fn two_with_findings() -> Repo {
    let repo = Repo::new();
    repo.write("content/2026-10-01-db-failover.md", witness());
    let a = witness().insert_after(
        "tags: [database, capacity]",
        "related: [2026-10-01-db-failover, 2026-10-01-nope]",
    );
    repo.write("content/a.md", a);
    repo
}

#[test]
fn a_path_narrows_the_report_but_related_ids_resolve_against_all_files() {
    let repo = two_with_findings();
    let report = repo.check_json(&["content/a.md"]);
    assert_eq!(report.checked, 1);
    assert!(
        report.diagnostics.iter().all(|d| d.file == "content/a.md"),
        "{report}"
    );
    // The existing id is found in the other file; only the unknown one is reported.
    let related = report.of("related-unknown");
    assert_eq!(related.len(), 1, "{report}");
    assert!(related[0].message.contains("2026-10-01-nope"), "{report}");
    let a = repo.read("content/a.md");
    report.expect(
        "action-item-overdue",
        "warning",
        "content/a.md",
        line_of(&a, "due: 2026-12-03"),
    );
    let out = repo.check(&["content/a.md"]);
    assert_eq!(out.summary(), "checked 1 postmortem: 1 error, 1 warning");
}

#[test]
fn a_folder_path_covers_the_files_inside_it() {
    let repo = two_with_findings();
    repo.write("content/2025/old.md", witness());
    let report = repo.check_json(&["content/2025"]);
    assert_eq!(report.checked, 1);
    assert_eq!(report.rules(), ["action-item-overdue"]);
    assert_witness(&report, "content/2025/old.md");
}

#[test]
fn several_paths_are_combined() {
    let repo = two_with_findings();
    repo.write("content/c.md", Pm::published());
    let report = repo.check_json(&["content/a.md", "content/c.md"]);
    assert_eq!(report.checked, 2);
    assert!(report.diagnostics.iter().all(|d| d.file == "content/a.md"));
}

#[test]
#[cfg(unix)]
fn narrowing_to_the_content_folder_keeps_symlink_warnings() {
    let repo = Repo::new();
    repo.write("content/a.md", Pm::published());
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("x.md"), Pm::published().text()).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("x.md"),
        repo.path().join("content/link.md"),
    )
    .unwrap();
    assert_eq!(repo.check_json(&[]).rules(), ["symlink-outside-repo"]);
    assert_eq!(
        repo.check_json(&["content"]).rules(),
        ["symlink-outside-repo"]
    );
}

// --- check never writes ------------------------------------------------------------------

#[test]
fn check_leaves_every_file_byte_identical() {
    let repo = two_with_findings();
    repo.write("content/bad.md", "---\ntitle: [unclosed\n---\n");
    repo.write(
        "content/crlf.md",
        Pm::published().text().replace('\n', "\r\n"),
    );
    let before = repo.snapshot();
    let summary = tempfile::tempdir().unwrap();
    let summary = summary.path().join("summary.md");
    for format in ["human", "json", "github", "sarif"] {
        repo.run_env(
            &["check", "--today", TODAY, "--format", format],
            &[("GITHUB_STEP_SUMMARY", Some(summary.to_str().unwrap()))],
        );
        repo.check(&["--deny-warnings", "content/a.md"]);
    }
    assert_eq!(repo.snapshot(), before, "check changed the repository");
}

// --- init ------------------------------------------------------------------------------

const INIT_FILES: [&str; 3] = [
    "debrief.toml",
    "content/2026-01-12-example-stale-search-index.md",
    ".github/workflows/postmortems.yml",
];

#[test]
fn init_in_an_empty_folder_creates_a_repository_that_passes_check() {
    let repo = Repo::empty();
    let out = repo.run(&["init"]);
    out.assert_code(0);
    for file in INIT_FILES {
        assert!(repo.exists(file), "{file} missing\n{out}");
        assert!(out.stdout.contains(file), "{file} not listed\n{out}");
    }
    let files: Vec<_> = repo.snapshot().into_keys().collect();
    assert_eq!(files.len(), 3, "{files:?}");
    let out = repo.check(&[]);
    out.assert_code(0);
    assert_eq!(out.stdout, "checked 1 postmortem: 0 errors, 0 warnings\n");
}

#[test]
fn init_twice_refuses_lists_the_existing_files_and_changes_nothing() {
    let repo = Repo::empty();
    repo.run(&["init"]).assert_code(0);
    repo.config("# my edits\n");
    let before = repo.snapshot();
    let out = repo.run(&["init"]);
    out.assert_code(2);
    for file in INIT_FILES {
        assert!(out.stderr.contains(file), "{file} not listed\n{out}");
    }
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn init_refuses_when_any_one_file_exists_and_writes_none() {
    let repo = Repo::empty();
    repo.write(".github/workflows/postmortems.yml", "name: mine\n");
    let before = repo.snapshot();
    let out = repo.run(&["init"]);
    out.assert_code(2);
    assert!(out.stderr.contains("postmortems.yml"), "{out}");
    assert!(!out.stderr.contains("debrief.toml"), "{out}");
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn init_takes_a_target_folder() {
    let repo = Repo::empty();
    let out = repo.run(&["init", "postmortems"]);
    out.assert_code(0);
    for file in INIT_FILES {
        assert!(
            repo.exists(&format!("postmortems/{file}")),
            "no postmortems/{file}\n{out}"
        );
    }
    repo.run_in("postmortems", &["check", "--today", TODAY])
        .assert_code(0);
}

// --- new -------------------------------------------------------------------------------

const NEW_FILE: &str = "content/2026-12-01-checkout-outage.md";

fn new_checkout_outage(repo: &Repo, extra: &[&str]) -> Output {
    let mut args = vec![
        "new",
        "Checkout outage",
        "--owner",
        "bob",
        "--date",
        "2026-12-01",
    ];
    args.extend_from_slice(extra);
    repo.run(&args)
}

#[test]
fn new_writes_a_draft_that_passes_check_with_warnings_only() {
    let repo = Repo::new();
    let out = new_checkout_outage(&repo, &[]);
    out.assert_code(0);
    assert_eq!(out.stdout, format!("created {NEW_FILE}\n"));
    let text = repo.read(NEW_FILE);
    assert!(
        text.starts_with("---\ntitle: \"Checkout outage\"\n"),
        "{text}"
    );
    assert!(text.contains("\nstatus: draft"), "{text}");
    assert!(text.contains("\nowner: bob"), "{text}");
    assert!(
        text.contains("\nseverity: SEV4"),
        "least severe by default\n{text}"
    );
    let report = repo.check_json(&[]);
    assert_eq!(report.errors, 0, "{report}");
    assert!(report.warnings > 0, "{report}");
    assert!(report.diagnostics.iter().all(|d| d.file == NEW_FILE));
    repo.check(&[]).assert_code(0);
}

#[test]
fn new_with_required_custom_fields_still_passes_with_warnings_only() {
    let repo = Repo::new();
    repo.config(&format!(
        "{}\n[fields.customer_impact]\ntype = \"text\"\nrequired_from = \"review\"\n\n[fields.tickets]\ntype = \"list\"\n",
        standard_config()
    ));
    new_checkout_outage(&repo, &[]).assert_code(0);
    let report = repo.check_json(&[]);
    assert_eq!(report.errors, 0, "{report}");
    assert!(report
        .diagnostics
        .iter()
        .any(|d| d.message.contains("`customer_impact` is missing")));
}

#[test]
fn new_refuses_to_overwrite_and_leaves_the_file_untouched() {
    let repo = Repo::new();
    new_checkout_outage(&repo, &[]).assert_code(0);
    repo.write(NEW_FILE, "---\ntitle: edited by hand\n---\n");
    let before = repo.snapshot();
    let out = new_checkout_outage(&repo, &[]);
    out.assert_code(2);
    assert!(out.stderr.contains("2026-12-01-checkout-outage"), "{out}");
    assert_eq!(repo.snapshot(), before);
    // The same file name with another id is refused too.
    let out = new_checkout_outage(&repo, &["--id", "other-id"]);
    out.assert_code(2);
    assert!(out.stderr.contains("already exists"), "{out}");
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn new_with_an_unknown_severity_exits_2_with_a_did_you_mean() {
    let repo = Repo::new();
    let out = new_checkout_outage(&repo, &["--severity", "SEV9"]);
    out.assert_code(2);
    assert!(out.stderr.contains("unknown severity `SEV9`"), "{out}");
    assert!(out.stderr.contains("did you mean"), "{out}");
    assert!(!repo.exists(NEW_FILE));
}

#[test]
fn new_with_a_known_severity_uses_it() {
    let repo = Repo::new();
    new_checkout_outage(&repo, &["--severity", "SEV1"]).assert_code(0);
    assert!(repo.read(NEW_FILE).contains("\nseverity: SEV1"));
}

#[test]
fn new_with_an_unknown_owner_exits_2() {
    let repo = Repo::new();
    let out = repo.run(&[
        "new",
        "Checkout outage",
        "--owner",
        "nobody",
        "--date",
        "2026-12-01",
    ]);
    out.assert_code(2);
    assert!(out.stderr.contains("`nobody` is not in [people]"), "{out}");
    assert!(!repo.exists(NEW_FILE));
}

#[test]
fn new_with_an_id_writes_it_into_the_front_matter() {
    let repo = Repo::new();
    new_checkout_outage(&repo, &["--id", "custom-id"]).assert_code(0);
    let text = repo.read(NEW_FILE);
    assert!(text.contains("\nid: custom-id\n"), "{text}");
    let report = repo.check_json(&[]);
    assert!(report
        .diagnostics
        .iter()
        .all(|d| d.postmortem.as_deref() == Some("custom-id")));
}

#[test]
fn new_refuses_an_id_that_is_already_used() {
    let repo = Repo::new();
    repo.write(
        "content/a.md",
        Pm::published().insert_after("status: published", "id: custom-id"),
    );
    let out = new_checkout_outage(&repo, &["--id", "custom-id"]);
    out.assert_code(2);
    assert!(out.stderr.contains("already used by content/a.md"), "{out}");
    assert!(!repo.exists(NEW_FILE));
}

#[test]
fn new_refuses_an_invalid_id() {
    let repo = Repo::new();
    let out = new_checkout_outage(&repo, &["--id", "Not Valid"]);
    out.assert_code(2);
    assert!(!repo.exists(NEW_FILE));
}

#[test]
fn new_creates_the_content_folder_when_it_is_missing() {
    let repo = Repo::empty();
    repo.config(&standard_config());
    new_checkout_outage(&repo, &[]).assert_code(0);
    assert!(repo.exists(NEW_FILE));
}

// --- where debrief runs ------------------------------------------------------------------

#[test]
fn dash_c_runs_as_if_started_in_that_folder() {
    let repo = Repo::new();
    repo.write("content/a.md", witness());
    let elsewhere = tempfile::tempdir().unwrap();
    let root = repo.path().to_str().unwrap();
    let out = run_in(
        elsewhere.path(),
        &["-C", root, "check", "--today", TODAY],
        &[],
    );
    out.assert_code(0);
    out.assert_has(
        "action-item-overdue",
        "warning",
        "content/a.md",
        witness_line(),
    );
    let out = run_in(
        elsewhere.path(),
        &[
            "-C",
            root,
            "new",
            "Checkout outage",
            "--owner",
            "bob",
            "--date",
            "2026-12-01",
        ],
        &[],
    );
    out.assert_code(0);
    assert!(repo.exists(NEW_FILE));
}

#[test]
fn dash_c_init_initialises_that_folder() {
    let elsewhere = tempfile::tempdir().unwrap();
    let fresh = elsewhere.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    let out = run_in(elsewhere.path(), &["-C", "fresh", "init"], &[]);
    out.assert_code(0);
    assert!(
        fresh.join("debrief.toml").is_file(),
        "no fresh/debrief.toml\n{out}"
    );
    assert!(!fresh.join("fresh").exists());
}

#[test]
fn check_from_a_subfolder_finds_debrief_toml_upwards() {
    let repo = Repo::new();
    repo.write("content/2025/a.md", witness());
    repo.write("content/b.md", witness());
    let out = repo.run_in("content/2025", &["check", "--today", TODAY]);
    out.assert_code(0);
    // Every file is checked; paths are shown relative to where debrief runs.
    assert_eq!(out.summary(), "checked 2 postmortems: 0 errors, 2 warnings");
    out.assert_has("action-item-overdue", "warning", "a.md", witness_line());
    let out = repo.run_in("content", &["check", "--today", TODAY, "2025"]);
    assert_eq!(out.summary(), "checked 1 postmortem: 0 errors, 1 warning");
    out.assert_has(
        "action-item-overdue",
        "warning",
        "2025/a.md",
        witness_line(),
    );
}
