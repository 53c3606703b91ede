//! The four output formats of `check`: human, json, github (+ step summary) and sarif.

use serde_json::Value;

use crate::harness::*;

/// A small repository with one finding per level:
/// - `content/a.md`: the tech lead lacks the role (error), a waived late declaration (note);
/// - `content/b.md`: an overdue action item (warning).
fn three_findings() -> Repo {
    let repo = Repo::new();
    let a = Pm::published()
        .replace("tech_lead: alice", "tech_lead: carol")
        .replace("severity: SEV2", "severity: SEV1")
        .replace(
            "declared_at: 2026-11-02T09:15:00+01:00",
            "declared_at: 2026-11-02T09:25:00+01:00",
        )
        .insert_after(
            "    closed_at: 2026-11-18",
            "waivers:\n  - rule: declare-late\n    reason: \"The pager was down: 50% of pages lost, reason unknown\"",
        );
    repo.write("content/a.md", a);
    repo.write("content/b.md", witness());
    repo
}

// --- human ---------------------------------------------------------------------------

#[test]
fn human_output_snapshot() {
    let out = three_findings().check(&[]);
    out.assert_code(1);
    assert_eq!(out.stderr, "");
    insta::assert_snapshot!("human", out.stdout);
}

#[test]
fn human_output_is_file_line_col_level_rule_message_then_help() {
    let out = three_findings().check(&[]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "content/a.md:6:12: error[tech-lead-role]: `carol` is named tech lead but has no `tech-lead` role"
    );
    assert_eq!(
        lines[1],
        "  = help: pick a tech lead from [people], or add \"tech-lead\" to people.carol.roles"
    );
    out.assert_has("declare-late", "note", "content/a.md", 12);
    out.assert_has(
        "action-item-overdue",
        "warning",
        "content/b.md",
        witness_line(),
    );
    assert_eq!(
        out.summary(),
        "checked 2 postmortems: 1 error, 1 warning, 1 note"
    );
}

#[test]
fn human_output_of_a_clean_repository_is_the_summary_line() {
    let repo = Repo::new();
    repo.write("content/a.md", Pm::published());
    repo.write("content/b.md", Pm::published());
    let out = repo.check(&[]);
    assert_eq!(out.stdout, "checked 2 postmortems: 0 errors, 0 warnings\n");
}

#[test]
fn human_output_has_no_colour_codes_when_not_a_terminal() {
    let repo = three_findings();
    let args = ["check", "--today", TODAY];
    // Piped stdout: no colour, with or without NO_COLOR.
    for env in [[("NO_COLOR", Some("1"))], [("NO_COLOR", None)]] {
        let out = repo.run_env(&args, &env);
        assert!(out.stdout.contains("error[tech-lead-role]"), "{out}");
        assert!(!out.stdout.contains('\u{1b}'), "ANSI escape in\n{out}");
        assert!(!out.stderr.contains('\u{1b}'), "ANSI escape in\n{out}");
    }
}

// --- json ----------------------------------------------------------------------------

#[test]
fn json_report_has_version_counts_and_structured_diagnostics() {
    let repo = three_findings();
    let out = repo.run(&["check", "--today", TODAY, "--format", "json"]);
    out.assert_code(1);
    // Field names and types are checked by `Report`'s `deny_unknown_fields`.
    let report = out.json();
    assert_eq!(report.version, 1);
    assert_eq!(report.checked, 2);
    assert_eq!((report.errors, report.warnings, report.notes), (1, 1, 1));
    assert_eq!(report.diagnostics.len(), 3);
    let d = report.expect("tech-lead-role", "error", "content/a.md", 6);
    assert_eq!(d.column, Some(12));
    assert_eq!(d.postmortem.as_deref(), Some("a"));
    assert_eq!(
        d.message,
        "`carol` is named tech lead but has no `tech-lead` role"
    );
    assert!(d.help.is_some());
    let note = report.expect("declare-late", "note", "content/a.md", 12);
    assert!(note.message.contains("waived"), "{note}");
    report.expect(
        "action-item-overdue",
        "warning",
        "content/b.md",
        witness_line(),
    );
    // Nothing but the report on stdout.
    let raw: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(raw.is_object());
}

#[test]
fn json_diagnostics_without_a_position_have_null_line_and_column() {
    let repo = Repo::new();
    repo.write("content/bad.md", "---\ntitle: x\n");
    repo.write("content/big.md", vec![b'x'; 3 * 1024 * 1024]);
    let report = repo.check_json(&[]);
    let big = report
        .diagnostics
        .iter()
        .find(|d| d.file == "content/big.md")
        .unwrap();
    assert_eq!((big.line, big.column, &big.postmortem), (None, None, &None));
    report.expect("front-matter-invalid", "error", "content/bad.md", 1);
}

#[test]
fn json_report_of_a_clean_repository() {
    let repo = Repo::new();
    repo.write("content/a.md", Pm::published());
    let out = repo.run(&["check", "--today", TODAY, "--format", "json"]);
    out.assert_code(0);
    let raw: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        raw,
        serde_json::json!({
            "version": 1, "checked": 1, "errors": 0, "warnings": 0, "notes": 0,
            "diagnostics": []
        })
    );
}

// --- github --------------------------------------------------------------------------

#[test]
fn github_output_snapshot() {
    let out = three_findings().run(&["check", "--today", TODAY, "--format", "github"]);
    out.assert_code(1);
    insta::assert_snapshot!("github", out.stdout);
}

#[test]
fn github_output_has_one_workflow_command_per_finding() {
    let out = three_findings().run(&["check", "--today", TODAY, "--format", "github"]);
    let commands: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(commands.len(), 3, "{out}");
    assert!(commands[0].starts_with(
        "::error file=content/a.md,line=6,col=12,title=tech-lead-role::`carol` is named tech lead"
    ));
    assert!(
        commands[0].contains("%0Ahelp: pick a tech lead"),
        "{}",
        commands[0]
    );
    assert!(commands[1].starts_with(
        "::notice file=content/a.md,line=12,col=14,title=declare-late::owner and severity declared"
    ));
    // `%` in data is escaped; `:` and `,` are only escaped in properties.
    assert!(
        commands[1].contains("The pager was down: 50%25 of pages lost, reason unknown"),
        "{}",
        commands[1]
    );
    let line = witness_line();
    assert!(commands[2].starts_with(&format!(
        "::warning file=content/b.md,line={line},col=10,title=action-item-overdue::"
    )));
}

#[test]
fn github_properties_escape_commas_and_colons_in_file_names() {
    let repo = Repo::new();
    repo.write("content/a,b.md", witness());
    let out = repo.run(&["check", "--today", TODAY, "--format", "github"]);
    assert!(
        out.stdout.contains("::warning file=content/a%2Cb.md,line="),
        "{out}"
    );
}

#[test]
fn github_step_summary_is_appended_as_markdown() {
    let repo = three_findings();
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "# Earlier step\n").unwrap();
    let path = summary.to_str().unwrap();
    let out = repo.run_env(
        &["check", "--today", TODAY, "--format", "github"],
        &[("GITHUB_STEP_SUMMARY", Some(path))],
    );
    out.assert_code(1);
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("# Earlier step\n## debrief check\n"),
        "{text}"
    );
    assert!(
        text.contains("checked 2 postmortems: 1 error, 1 warning, 1 note"),
        "{text}"
    );
    assert!(
        text.contains("| level | location | rule | message |"),
        "{text}"
    );
    assert!(
        text.contains("| error | `content/a.md:6:12` | `tech-lead-role` |"),
        "{text}"
    );
    assert!(text.contains("| note | `content/a.md:12:14` | `declare-late` |"));
    assert!(text.contains(&format!(
        "| warning | `content/b.md:{}:10` | `action-item-overdue` |",
        witness_line()
    )));
}

#[test]
fn github_step_summary_of_a_clean_run_says_no_findings() {
    let repo = Repo::new();
    repo.write("content/a.md", Pm::published());
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let out = repo.run_env(
        &["check", "--today", TODAY, "--format", "github"],
        &[("GITHUB_STEP_SUMMARY", Some(summary.to_str().unwrap()))],
    );
    out.assert_code(0);
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.contains("No findings."), "{text}");
}

#[test]
fn the_step_summary_is_written_only_for_the_github_format() {
    let repo = three_findings();
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    for format in ["human", "json", "sarif"] {
        repo.run_env(
            &["check", "--today", TODAY, "--format", format],
            &[("GITHUB_STEP_SUMMARY", Some(summary.to_str().unwrap()))],
        );
    }
    assert!(!summary.exists());
}

// --- sarif ---------------------------------------------------------------------------

fn sarif(repo: &Repo) -> Value {
    let out = repo.run(&["check", "--today", TODAY, "--format", "sarif"]);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON: {e}\n{out}"))
}

#[test]
fn sarif_declares_every_rule_of_the_catalogue() {
    let doc = sarif(&three_findings());
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "debrief");
    let ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let catalogue: Vec<&str> = debrief::rules::ids().collect();
    assert_eq!(ids, catalogue);
    for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
        assert!(rule["shortDescription"]["text"].is_string(), "{rule}");
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["error", "warning"].contains(&level), "{rule}");
    }
}

#[test]
fn sarif_results_carry_rule_level_and_location() {
    let doc = sarif(&three_findings());
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let summary: Vec<(&str, &str, &str, u64)> = results
        .iter()
        .map(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap(),
                r["level"].as_str().unwrap(),
                location["artifactLocation"]["uri"].as_str().unwrap(),
                location["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("tech-lead-role", "error", "content/a.md", 6),
            ("declare-late", "note", "content/a.md", 12),
            (
                "action-item-overdue",
                "warning",
                "content/b.md",
                u64::from(witness_line())
            ),
        ]
    );
    for r in results {
        let index = usize::try_from(r["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(r["message"]["text"].is_string());
    }
}

#[test]
fn sarif_of_a_clean_repository_has_no_results() {
    let repo = Repo::new();
    repo.write("content/a.md", Pm::published());
    let doc = sarif(&repo);
    assert_eq!(doc["runs"][0]["results"], serde_json::json!([]));
}

/// GitHub resolves annotation paths from the repository root, not from where debrief ran;
/// people still get paths relative to their own folder.
#[test]
fn github_paths_are_relative_to_the_git_root_wherever_debrief_runs() {
    let repo = Repo::empty();
    repo.write("postmortems/debrief.toml", standard_config());
    repo.write(
        "postmortems/content/a.md",
        Pm::published().replace("severity: SEV2", "severity: SEV9"),
    );
    let init = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(repo.path())
        .status()
        .unwrap();
    assert!(init.success());
    let github = repo.run_in(
        "postmortems/content",
        &["check", "--format", "github", "--today", TODAY],
    );
    assert!(
        github.stdout.contains("file=postmortems/content/a.md,"),
        "{github}"
    );
    let human = repo.run_in("postmortems/content", &["check", "--today", TODAY]);
    assert!(human.stdout.starts_with("a.md:"), "{human}");
}
