//! Every rule in the catalogue, firing (rule, level, file, line) and not firing.
//! Each test starts from the clean baseline [`Pm::published`] and changes one thing.

use crate::harness::*;

const A: &str = "content/a.md";

/// Checks one postmortem as `content/a.md` with the standard config.
fn check(pm: &Pm) -> Report {
    check_with(&standard_config(), pm)
}

fn check_with(config: &str, pm: &Pm) -> Report {
    let repo = Repo::new();
    repo.config(config);
    repo.write(A, pm);
    repo.check_json(&[])
}

/// The rule ids this module (and the modules it names) covers, checked against the
/// catalogue so a new rule cannot be added without a test.
const COVERED: &[&str] = &[
    "front-matter-invalid", // bad_input
    "field-unknown",
    "field-type", // bad_input, custom fields below
    "field-missing",
    "id-invalid",
    "id-duplicate",
    "status-invalid",
    "severity-invalid",
    "person-unknown",
    "tech-lead-role",
    "owner-not-responder",
    "timestamps-order",
    "declare-late",
    "timeline-missing",
    "timeline-order",
    "timeline-who-missing",
    "whys-too-few",
    "whys-empty",
    "root-cause-missing",
    "factors-missing",
    "factor-category-unknown",
    "action-items-missing",
    "action-item-owner-missing",
    "action-item-due-missing",
    "action-item-id-duplicate",
    "action-item-overdue",
    "action-item-closed-late",
    "action-item-closed-unverified", // actions_closures
    "action-item-not-closed",
    "related-unknown",
    "url-invalid",
    "blameful-language",
    "waiver-invalid",
    "symlink-outside-repo",
];

#[test]
fn every_rule_in_the_catalogue_has_a_test() {
    let catalogue = catalogue_without_approvals();
    assert_eq!(
        catalogue, COVERED,
        "src/rules.rs and the tests disagree: add tests for new rules"
    );
}

// --- the baseline -------------------------------------------------------------------

#[test]
fn a_complete_published_postmortem_has_no_findings() {
    let repo = Repo::new();
    repo.write(A, Pm::published());
    repo.check_json(&[]).assert_clean();
    let out = repo.check(&[]);
    out.assert_code(0);
    assert_eq!(out.stdout, "checked 1 postmortem: 0 errors, 0 warnings\n");
    assert_eq!(out.stderr, "");
}

#[test]
fn the_baseline_is_clean_as_a_draft_and_in_review_too() {
    for status in ["draft", "review", "published"] {
        let report = check(&Pm::with_status(status));
        assert!(report.diagnostics.is_empty(), "at {status}:\n{report}");
    }
}

// --- field-unknown / field-missing ----------------------------------------------------

#[test]
fn a_misspelt_key_is_unknown_with_a_did_you_mean() {
    let pm = Pm::published().insert_after("status: published", "titel: Checkout outage");
    let report = check(&pm);
    let d = report.expect("field-unknown", "error", A, pm.line_of("titel:"));
    assert_eq!(d.column, Some(1));
    assert_eq!(d.message, "unknown key `titel` in the front-matter");
    assert_eq!(d.help.as_deref(), Some("did you mean `title`?"));
}

#[test]
fn an_unknown_key_inside_an_action_item_is_reported() {
    let pm = Pm::published().insert_after("    owner: carol", "    assignee: carol");
    let report = check(&pm);
    let d = report.expect("field-unknown", "error", A, pm.line_of("assignee:"));
    assert!(d.message.contains("`assignee`"), "{d}");
}

#[test]
fn a_missing_field_is_a_warning_in_a_draft() {
    let pm = Pm::with_status("draft").remove_line("tech_lead: alice");
    let report = check(&pm);
    let d = report.expect("field-missing", "warning", A, 1);
    assert_eq!(
        d.message,
        "`tech_lead` is missing (required from status `review`)"
    );
    assert_eq!(report.rules(), ["field-missing"]);
}

#[test]
fn a_missing_field_is_an_error_from_review_on() {
    for status in ["review", "published", "closed"] {
        let pm = Pm::with_status(status).remove_line("tech_lead: alice");
        let report = check(&pm);
        report.expect("field-missing", "error", A, 1);
    }
}

#[test]
fn an_empty_field_counts_as_missing_at_its_line() {
    let pm = Pm::published().replace("tech_lead: alice", "tech_lead:");
    let report = check(&pm);
    report.expect("field-missing", "error", A, pm.line_of("tech_lead:"));
}

#[test]
fn fields_required_from_draft_are_errors_even_in_a_draft() {
    let pm = Pm::with_status("draft").remove_line("owner: bob");
    let report = check(&pm);
    let d = report.expect("field-missing", "error", A, 1);
    assert_eq!(d.message, "`owner` is missing (always required)");
}

// --- identity ------------------------------------------------------------------------

#[test]
fn an_id_that_is_not_lowercase_and_dashes_is_invalid() {
    let pm = Pm::published().insert_after("status: published", "id: Checkout_Outage");
    let report = check(&pm);
    report.expect("id-invalid", "error", A, pm.line_of("id: Checkout_Outage"));
}

#[test]
fn a_file_name_that_is_not_a_valid_id_is_invalid() {
    let repo = Repo::new();
    repo.write("content/Checkout Outage.md", Pm::published());
    let report = repo.check_json(&[]);
    let d = report.expect("id-invalid", "error", "content/Checkout Outage.md", 1);
    assert!(d.help.as_deref().unwrap_or("").contains("file name"), "{d}");
}

#[test]
fn a_shared_id_is_reported_in_both_files() {
    let repo = Repo::new();
    let pm = Pm::published().insert_after("status: published", "id: checkout-outage");
    repo.write("content/a.md", &pm);
    repo.write("content/b.md", &pm);
    let report = repo.check_json(&[]);
    let line = pm.line_of("id: checkout-outage");
    let a = report.expect("id-duplicate", "error", "content/a.md", line);
    let b = report.expect("id-duplicate", "error", "content/b.md", line);
    assert!(a.message.contains("content/b.md"), "{a}");
    assert!(b.message.contains("content/a.md"), "{b}");
}

#[test]
fn different_ids_are_not_duplicates() {
    let repo = Repo::new();
    repo.write("content/a.md", Pm::published());
    repo.write("content/b.md", Pm::published());
    repo.check_json(&[]).assert_clean();
}

// --- status and severity ---------------------------------------------------------------

#[test]
fn a_misspelt_status_is_invalid_with_a_did_you_mean() {
    let pm = Pm::published().replace("status: published", "status: publised");
    let report = check(&pm);
    let d = report.expect("status-invalid", "error", A, 3);
    assert_eq!(d.column, Some(9));
    assert!(
        d.help
            .as_deref()
            .unwrap_or("")
            .contains("did you mean `published`?"),
        "{d}"
    );
}

#[test]
fn an_invalid_status_is_not_also_reported_as_missing() {
    let pm = Pm::published().replace("status: published", "status: publised");
    let report = check(&pm);
    report.expect("status-invalid", "error", A, 3);
    report.assert_no("field-missing");
}

#[test]
fn an_unknown_action_item_status_is_invalid() {
    let pm = Pm::published().replace("    status: open", "    status: finished");
    let report = check(&pm);
    let d = report.expect("status-invalid", "error", A, pm.line_of("status: finished"));
    assert!(d.message.contains("`finished`"), "{d}");
}

#[test]
fn a_severity_that_is_not_configured_is_invalid() {
    let pm = Pm::published().replace("severity: SEV2", "severity: SEV9");
    let report = check(&pm);
    let d = report.expect("severity-invalid", "error", A, 4);
    assert!(
        d.help.as_deref().unwrap_or("").starts_with("did you mean"),
        "{d}"
    );
    assert_eq!(report.rules(), ["severity-invalid"]);
}

// --- people --------------------------------------------------------------------------

#[test]
fn an_unknown_responder_is_reported_with_a_did_you_mean() {
    let pm = Pm::published().replace(
        "responders: [bob, alice, carol]",
        "responders: [bob, alice, carl]",
    );
    let report = check(&pm);
    let d = report.expect("person-unknown", "error", A, pm.line_of("responders:"));
    assert_eq!(d.column, Some(26));
    assert_eq!(d.message, "responder `carl` is not in [people]");
    assert!(
        d.help
            .as_deref()
            .unwrap_or("")
            .starts_with("did you mean `carol`?"),
        "{d}"
    );
}

#[test]
fn an_unknown_action_item_owner_is_reported() {
    let pm = Pm::published().replace("    owner: carol", "    owner: dave");
    let report = check(&pm);
    report.expect("person-unknown", "error", A, pm.line_of("owner: dave"));
}

#[test]
fn a_tech_lead_without_the_role_is_reported() {
    let pm = Pm::published().replace("tech_lead: alice", "tech_lead: carol");
    let report = check(&pm);
    report.expect("tech-lead-role", "error", A, 6);
    assert_eq!(report.rules(), ["tech-lead-role"]);
}

#[test]
fn an_owner_missing_from_the_responders_is_a_warning() {
    let repo = Repo::new();
    let pm = Pm::published().replace(
        "responders: [bob, alice, carol]",
        "responders: [alice, carol]",
    );
    repo.write(A, &pm);
    let report = repo.check_json(&[]);
    let d = report.expect("owner-not-responder", "warning", A, 7);
    assert_eq!(d.message, "owner `bob` is not among the responders");
    repo.check(&[]).assert_code(0);
}

// --- timestamps and declaration ---------------------------------------------------------

#[test]
fn timestamps_out_of_order_are_reported_at_the_later_field() {
    let pm = Pm::published().replace(
        "resolved_at: 2026-11-02T10:30:00+01:00",
        "resolved_at: 2026-11-02T09:40:00+01:00",
    );
    let report = check(&pm);
    let d = report.expect("timestamps-order", "error", A, pm.line_of("resolved_at:"));
    assert!(
        d.message.starts_with("`resolved_at`") && d.message.contains("`mitigated_at`"),
        "{d}"
    );
}

#[test]
fn timestamps_are_compared_in_utc_across_offsets() {
    // 08:45Z is 09:45+01:00: in order, although the wall-clock reads earlier.
    let pm = Pm::published().replace(
        "mitigated_at: 2026-11-02T09:45:00+01:00",
        "mitigated_at: 2026-11-02T08:45:00Z",
    );
    check(&pm).assert_clean();
}

fn declared_20_minutes_after_detection(severity: &str) -> Pm {
    Pm::published()
        .replace("severity: SEV2", &format!("severity: {severity}"))
        .replace(
            "declared_at: 2026-11-02T09:15:00+01:00",
            "declared_at: 2026-11-02T09:25:00+01:00",
        )
}

#[test]
fn a_sev1_declared_after_its_15_minute_override_is_late() {
    let pm = declared_20_minutes_after_detection("SEV1");
    let report = check(&pm);
    let d = report.expect("declare-late", "error", A, pm.line_of("declared_at:"));
    assert_eq!(
        d.message,
        "owner and severity declared 20m after detection; the limit for SEV1 is 15m"
    );
}

#[test]
fn the_same_delay_is_within_the_default_limit_for_a_sev2() {
    check(&declared_20_minutes_after_detection("SEV2")).assert_clean();
}

#[test]
fn a_late_declaration_is_a_warning_in_a_draft() {
    let pm =
        declared_20_minutes_after_detection("SEV1").replace("status: published", "status: draft");
    let report = check(&pm);
    report.expect("declare-late", "warning", A, pm.line_of("declared_at:"));
}

#[test]
fn a_waiver_turns_a_late_declaration_into_a_note_and_the_run_passes() {
    let repo = Repo::new();
    let pm = declared_20_minutes_after_detection("SEV1").insert_after(
        "    closed_at: 2026-11-18",
        "waivers:\n  - rule: declare-late\n    reason: \"The pager provider was down.\"",
    );
    repo.write(A, &pm);
    let report = repo.check_json(&[]);
    let d = report.expect("declare-late", "note", A, pm.line_of("declared_at:"));
    assert!(
        d.message
            .ends_with("— waived: The pager provider was down."),
        "{d}"
    );
    assert_eq!((report.errors, report.warnings, report.notes), (0, 0, 1));
    let out = repo.check(&[]);
    out.assert_code(0);
    out.assert_has("declare-late", "note", A, pm.line_of("declared_at:"));
    assert_eq!(
        out.summary(),
        "checked 1 postmortem: 0 errors, 0 warnings, 1 note"
    );
}

#[test]
fn a_waiver_without_a_reason_is_invalid_and_waives_nothing() {
    let pm = declared_20_minutes_after_detection("SEV1").insert_after(
        "    closed_at: 2026-11-18",
        "waivers:\n  - rule: declare-late",
    );
    let report = check(&pm);
    report.expect("declare-late", "error", A, pm.line_of("declared_at:"));
    report.expect(
        "waiver-invalid",
        "error",
        A,
        pm.line_of("- rule: declare-late"),
    );
}

// --- timeline ------------------------------------------------------------------------

#[test]
fn an_empty_timeline_is_reported() {
    let pm = Pm::published().set_block("timeline", "timeline: []");
    let report = check(&pm);
    report.expect("timeline-missing", "error", A, pm.line_of("timeline:"));
    assert_eq!(report.rules(), ["timeline-missing"]);
}

#[test]
fn an_empty_timeline_is_only_a_warning_in_a_draft() {
    let pm = Pm::with_status("draft").set_block("timeline", "timeline: []");
    let report = check(&pm);
    report.expect("timeline-missing", "warning", A, pm.line_of("timeline:"));
}

#[test]
fn a_timeline_entry_earlier_than_the_one_before_is_out_of_order() {
    let pm = Pm::published().replace(
        "  - at: 2026-11-02T09:45:00+01:00",
        "  - at: 2026-11-02T09:10:00+01:00",
    );
    let report = check(&pm);
    report.expect(
        "timeline-order",
        "error",
        A,
        pm.line_of("at: 2026-11-02T09:10"),
    );
    assert_eq!(report.rules(), ["timeline-order"]);
}

#[test]
fn a_timeline_entry_without_who_is_reported_at_the_entry() {
    let pm = Pm::published().remove_line("    who: carol");
    let report = check(&pm);
    report.expect(
        "timeline-who-missing",
        "error",
        A,
        pm.line_of("- at: 2026-11-02T10:30"),
    );
}

// --- whys and factors ----------------------------------------------------------------

#[test]
fn fewer_whys_than_configured_are_reported() {
    let pm = Pm::published().set_block(
        "whys",
        "whys:\n  - why: Why did checkout fail?\n    because: The pool was exhausted.",
    );
    let report = check(&pm);
    let d = report.expect("whys-too-few", "error", A, pm.line_of("whys:"));
    assert_eq!(d.message, "1 whys given, at least 5 required");
}

#[test]
fn min_whys_comes_from_the_config() {
    let config = standard_config().replace("min_whys = 5", "min_whys = 6");
    let pm = Pm::published();
    let d = check_with(&config, &pm)
        .expect("whys-too-few", "error", A, pm.line_of("whys:"))
        .clone();
    assert_eq!(d.message, "5 whys given, at least 6 required");
}

#[test]
fn a_why_without_its_answer_is_empty() {
    let pm = Pm::published().remove_line("    because: It has no owner in the service catalogue.");
    let report = check(&pm);
    let d = report.expect(
        "whys-empty",
        "error",
        A,
        pm.line_of("why: Why does that repository have no review?"),
    );
    assert_eq!(d.message, "this why has no `because`");
}

#[test]
fn an_empty_root_cause_is_missing() {
    let pm = Pm::published().set_block("root_cause", "root_cause: \"\"");
    let report = check(&pm);
    report.expect("root-cause-missing", "error", A, pm.line_of("root_cause:"));
    assert_eq!(report.rules(), ["root-cause-missing"]);
}

#[test]
fn no_contributing_factors_is_reported() {
    let pm = Pm::published().set_block("factors", "factors: []");
    let report = check(&pm);
    report.expect("factors-missing", "error", A, pm.line_of("factors:"));
}

#[test]
fn an_unknown_factor_category_gets_a_did_you_mean() {
    let pm = Pm::published().replace("category: monitoring", "category: monitorng");
    let report = check(&pm);
    let d = report.expect(
        "factor-category-unknown",
        "error",
        A,
        pm.line_of("category: monitorng"),
    );
    assert_eq!(d.column, Some(15));
    assert_eq!(d.help.as_deref(), Some("did you mean `monitoring`?"));
}

// --- action items ----------------------------------------------------------------------

#[test]
fn no_action_items_is_reported() {
    let pm = Pm::published().set_block("action_items", "action_items: []");
    let report = check(&pm);
    report.expect(
        "action-items-missing",
        "error",
        A,
        pm.line_of("action_items:"),
    );
    assert_eq!(report.rules(), ["action-items-missing"]);
}

#[test]
fn an_action_item_without_an_owner_is_reported_at_the_item() {
    let pm = Pm::published().remove_line("    owner: carol");
    let report = check(&pm);
    report.expect(
        "action-item-owner-missing",
        "error",
        A,
        pm.line_of("- id: AI-1"),
    );
}

#[test]
fn an_action_item_without_a_due_date_is_reported_at_the_item() {
    let pm = Pm::published().remove_line("    due: 2026-12-18");
    let report = check(&pm);
    report.expect(
        "action-item-due-missing",
        "error",
        A,
        pm.line_of("- id: AI-1"),
    );
    assert_eq!(report.rules(), ["action-item-due-missing"]);
}

#[test]
fn two_action_items_with_one_id_are_duplicates() {
    let pm = Pm::published().replace("- id: AI-2", "- id: AI-1");
    let report = check(&pm);
    let lines: Vec<&str> = pm.text().lines().collect();
    let second = lines.iter().rposition(|l| *l == "  - id: AI-1").unwrap() + 1;
    let first = lines.iter().position(|l| *l == "  - id: AI-1").unwrap() + 1;
    let d = report.expect(
        "action-item-id-duplicate",
        "error",
        A,
        u32::try_from(second).unwrap(),
    );
    assert!(
        d.message.ends_with(&format!("(first at line {first})")),
        "{d}"
    );
}

fn due(day: &str) -> Pm {
    Pm::published().replace("due: 2026-12-18", &format!("due: {day}"))
}

#[test]
fn an_item_due_today_is_not_overdue() {
    check(&due("2026-12-04")).assert_clean();
}

#[test]
fn an_item_due_yesterday_is_overdue() {
    let pm = due("2026-12-03");
    let report = check(&pm);
    let d = report.expect(
        "action-item-overdue",
        "warning",
        A,
        pm.line_of("due: 2026-12-03"),
    );
    assert_eq!(
        d.message,
        "action item AI-1 is 1 day(s) overdue (due 2026-12-03)"
    );
}

#[test]
fn overdue_item_is_a_warning_until_the_postmortem_is_closed() {
    for (status, level) in [
        ("draft", "warning"),
        ("review", "warning"),
        ("published", "warning"),
        ("closed", "error"),
    ] {
        let pm = due("2026-12-03").replace("status: published", &format!("status: {status}"));
        let report = check(&pm);
        report.expect(
            "action-item-overdue",
            level,
            A,
            pm.line_of("due: 2026-12-03"),
        );
    }
}

#[test]
fn the_overdue_check_uses_the_today_flag_not_the_clock() {
    let repo = Repo::new();
    repo.write(A, due("2026-12-03"));
    let out = repo.run(&["check", "--today", "2026-12-03", "--format", "json"]);
    out.json().assert_clean();
    let out = repo.run(&["check", "--today", "2027-01-02", "--format", "json"]);
    let report = out.json();
    let d = &report.of("action-item-overdue")[0];
    assert!(d.message.contains("is 30 day(s) overdue"), "{d}");
}

#[test]
fn a_waiver_naming_one_item_turns_its_overdue_finding_into_a_note() {
    let pm = due("2026-12-03").insert_after(
        "    closed_at: 2026-11-18",
        "waivers:\n  - rule: action-item-overdue\n    item: AI-1\n    reason: Waiting for the vendor.",
    );
    let report = check(&pm);
    report.expect(
        "action-item-overdue",
        "note",
        A,
        pm.line_of("due: 2026-12-03"),
    );
    assert_eq!(report.rules(), ["action-item-overdue"]);
}

#[test]
fn an_item_closed_after_its_due_date_is_closed_late() {
    let pm = Pm::published().replace("closed_at: 2026-11-18", "closed_at: 2026-11-25");
    let report = check(&pm);
    let d = report.expect(
        "action-item-closed-late",
        "warning",
        A,
        pm.line_of("closed_at: 2026-11-25"),
    );
    assert_eq!(
        d.message,
        "action item AI-2 was closed 5 day(s) after its due date"
    );
}

#[test]
fn a_closed_postmortem_with_an_open_item_is_not_closed() {
    let pm = Pm::with_status("closed");
    let report = check(&pm);
    report.expect(
        "action-item-not-closed",
        "error",
        A,
        pm.line_of("    status: open"),
    );
    assert_eq!(report.rules(), ["action-item-not-closed"]);
}

#[test]
fn a_closed_postmortem_whose_items_are_all_closed_is_clean() {
    let pm = Pm::with_status("closed").replace(
        "    status: open\n",
        "    status: wontfix\n    reason: Superseded by the pool rewrite.\n    closed_at: 2026-11-30\n",
    );
    check(&pm).assert_clean();
}

#[test]
fn a_done_item_without_closed_at_is_an_error_only_once_closed() {
    let published = Pm::published().remove_line("    closed_at: 2026-11-18");
    let line = published.line_of("    status: done");
    check(&published).expect("field-missing", "warning", A, line);
    let closed = Pm::with_status("closed")
        .remove_line("    closed_at: 2026-11-18")
        .replace(
            "    status: open",
            "    status: wontfix\n    reason: Superseded.\n    closed_at: 2026-11-30",
        );
    let line = closed.line_of("    status: done");
    check(&closed).expect("action-item-not-closed", "error", A, line);
}

// --- cross-file, links, wording ----------------------------------------------------------

#[test]
fn a_related_id_that_does_not_exist_gets_a_did_you_mean() {
    let repo = Repo::new();
    repo.write("content/2026-10-01-db-failover.md", Pm::published());
    let pm = Pm::published().insert_after(
        "tags: [database, capacity]",
        "related: [2026-10-01-db-failver]",
    );
    repo.write(A, &pm);
    let report = repo.check_json(&[]);
    let d = report.expect("related-unknown", "error", A, pm.line_of("related:"));
    assert_eq!(
        d.message,
        "related postmortem `2026-10-01-db-failver` does not exist"
    );
    assert_eq!(
        d.help.as_deref(),
        Some("did you mean `2026-10-01-db-failover`?")
    );
}

#[test]
fn a_related_id_that_exists_is_fine() {
    let repo = Repo::new();
    repo.write("content/2026-10-01-db-failover.md", Pm::published());
    let pm = Pm::published().insert_after(
        "tags: [database, capacity]",
        "related: [2026-10-01-db-failover]",
    );
    repo.write(A, &pm);
    repo.check_json(&[]).assert_clean();
}

#[test]
fn a_postmortem_related_to_itself_is_reported() {
    let pm = Pm::published().insert_after("tags: [database, capacity]", "related: [a]");
    let report = check(&pm);
    let d = report.expect("related-unknown", "error", A, pm.line_of("related:"));
    assert_eq!(d.message, "`related` lists this postmortem itself");
}

#[test]
fn a_link_that_is_not_http_is_invalid() {
    let pm = Pm::published().replace(
        "url: https://grafana.example.com/d/checkout",
        "url: grafana.example.com/d/checkout",
    );
    let report = check(&pm);
    report.expect("url-invalid", "error", A, pm.line_of("url: grafana"));
}

#[test]
fn a_javascript_ticket_url_is_invalid() {
    let pm = Pm::published().replace(
        "ticket: https://tracker.example.com/OPS-101",
        "ticket: \"javascript:alert(1)\"",
    );
    let report = check(&pm);
    let d = report.expect("url-invalid", "error", A, pm.line_of("ticket:"));
    assert!(d.message.contains("javascript:alert(1)"), "{d}");
}

fn with_body_line(text: &str) -> Pm {
    Pm::published().body(&format!("{text}\n"))
}

#[test]
fn blameful_wording_in_the_body_is_a_warning() {
    let repo = Repo::new();
    let pm = with_body_line("It was human error, plain and simple.");
    repo.write(A, &pm);
    let report = repo.check_json(&[]);
    let d = report.expect("blameful-language", "warning", A, pm.line_of("human error"));
    assert_eq!(d.column, Some(8));
    assert_eq!(d.message, "blameful wording: \"human error\"");
    repo.check(&[]).assert_code(0);
}

#[test]
fn blameful_wording_in_a_field_is_reported_at_the_value() {
    let pm = Pm::published().replace(
        "event: The report job is paused and errors stop",
        "event: Bob was careless and paused the wrong job",
    );
    let report = check(&pm);
    let d = report.expect("blameful-language", "warning", A, pm.line_of("careless"));
    assert_eq!(d.column, Some(12));
}

#[test]
fn blameful_words_in_a_fenced_code_block_are_not_reported() {
    let pm =
        with_body_line("```text\nERROR: blame fault careless human error\n```\n\n~~~\nsloppy\n~~~");
    check(&pm).assert_clean();
}

#[test]
fn blameless_and_default_do_not_match_blame_and_fault() {
    let pm = with_body_line("A blameless review found the default timeout too long.");
    check(&pm).assert_clean();
}

#[test]
fn a_turkish_dotted_capital_i_does_not_make_default_blameful() {
    let pm = with_body_line("İlker kept the default timeout.");
    check(&pm).assert_clean();
}

#[test]
fn blameful_language_can_be_allowed() {
    let config = config_with_rules("blameful-language = \"allow\"");
    let pm = with_body_line("It was human error.");
    check_with(&config, &pm).assert_clean();
}

#[test]
fn blameful_language_can_be_raised_to_an_error() {
    let repo = Repo::new();
    repo.config(&config_with_rules("blameful-language = \"error\""));
    let pm = with_body_line("It was human error.");
    repo.write(A, &pm);
    let report = repo.check_json(&[]);
    report.expect("blameful-language", "error", A, pm.line_of("human error"));
    repo.check(&[]).assert_code(1);
}

#[test]
fn a_rule_override_can_raise_a_warning_rule_to_an_error() {
    let config = config_with_rules("owner-not-responder = \"error\"");
    let pm = Pm::published().replace(
        "responders: [bob, alice, carol]",
        "responders: [alice, carol]",
    );
    check_with(&config, &pm).expect("owner-not-responder", "error", A, 7);
}

#[test]
fn a_rule_override_applies_to_unknown_keys_too() {
    let config = config_with_rules("field-unknown = \"allow\"");
    let pm = Pm::published().insert_after("status: published", "team: payments");
    check_with(&config, &pm).assert_no("field-unknown");
}

// --- waivers ----------------------------------------------------------------------------

#[test]
fn a_waiver_of_a_rule_that_cannot_be_waived_is_invalid() {
    let pm = Pm::published().insert_after(
        "    closed_at: 2026-11-18",
        "waivers:\n  - rule: whys-too-few\n    reason: We ran out of time.",
    );
    let report = check(&pm);
    let d = report.expect(
        "waiver-invalid",
        "error",
        A,
        pm.line_of("rule: whys-too-few"),
    );
    assert_eq!(
        d.message,
        "`whys-too-few` cannot be waived; only timing rules can"
    );
}

#[test]
fn a_waiver_of_an_unknown_rule_gets_a_did_you_mean() {
    let pm = Pm::published().insert_after(
        "    closed_at: 2026-11-18",
        "waivers:\n  - rule: declare-lat\n    reason: Typo.",
    );
    let report = check(&pm);
    let d = report.expect(
        "waiver-invalid",
        "error",
        A,
        pm.line_of("rule: declare-lat"),
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `declare-late`?"));
}

#[test]
fn a_waiver_for_an_item_that_does_not_exist_is_invalid() {
    let pm = Pm::published().insert_after(
        "    closed_at: 2026-11-18",
        "waivers:\n  - rule: action-item-overdue\n    item: AI-9\n    reason: Vendor.",
    );
    let report = check(&pm);
    report.expect("waiver-invalid", "error", A, pm.line_of("item: AI-9"));
}

// --- symlinks ----------------------------------------------------------------------------

#[test]
#[cfg(unix)]
fn a_symlink_to_a_file_outside_the_repository_is_a_warning_and_not_followed() {
    let repo = Repo::new();
    repo.write(A, Pm::published());
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("secret.md");
    // Would produce several findings if it were read.
    std::fs::write(
        &target,
        due("2026-01-01").body("It was human error.\n").text(),
    )
    .unwrap();
    std::os::unix::fs::symlink(&target, repo.path().join("content/link.md")).unwrap();
    let report = repo.check_json(&[]);
    let d = &report.diagnostics;
    assert_eq!(d.len(), 1, "{report}");
    assert_eq!(
        (
            d[0].rule.as_str(),
            d[0].level.as_str(),
            d[0].file.as_str(),
            d[0].line
        ),
        ("symlink-outside-repo", "warning", "content/link.md", None)
    );
    assert_eq!(report.checked, 1);
    repo.check(&[]).assert_code(0);
}

#[test]
#[cfg(unix)]
fn a_symlink_inside_the_repository_is_followed() {
    let repo = Repo::new();
    repo.write("drafts/b.md", due("2026-12-03"));
    std::os::unix::fs::symlink(
        repo.path().join("drafts/b.md"),
        repo.path().join("content/b.md"),
    )
    .unwrap();
    let report = repo.check_json(&[]);
    assert_witness(&report, "content/b.md");
    report.assert_no("symlink-outside-repo");
}

// --- custom fields -----------------------------------------------------------------------

fn config_with_fields() -> String {
    format!(
        "{}\n[fields.customer_impact]\ntype = \"text\"\nlabel = \"Customer impact\"\nrequired_from = \"review\"\n\n[fields.cost]\ntype = \"number\"\n\n[fields.runbook]\ntype = \"url\"\n",
        standard_config()
    )
}

fn with_impact(pm: Pm) -> Pm {
    pm.insert_after(
        "tags: [database, capacity]",
        "customer_impact: 12% of checkouts failed.",
    )
}

#[test]
fn declared_custom_fields_are_accepted() {
    let pm = with_impact(Pm::published()).insert_after(
        "tags: [database, capacity]",
        "cost: 1250.5\nrunbook: https://wiki.example.com/runbooks/checkout",
    );
    check_with(&config_with_fields(), &pm).assert_clean();
}

#[test]
fn a_custom_field_is_type_checked() {
    let pm = with_impact(Pm::published()).insert_after("tags: [database, capacity]", "cost: lots");
    let report = check_with(&config_with_fields(), &pm);
    let d = report.expect("field-type", "error", A, pm.line_of("cost: lots"));
    assert_eq!(d.message, "`cost` must be a number, found a string `lots`");
}

#[test]
fn a_custom_url_field_must_be_http() {
    let pm = with_impact(Pm::published())
        .insert_after("tags: [database, capacity]", "runbook: wiki/checkout");
    let report = check_with(&config_with_fields(), &pm);
    report.expect("url-invalid", "error", A, pm.line_of("runbook:"));
}

#[test]
fn a_custom_field_is_required_from_its_status() {
    let config = config_with_fields();
    let draft = check_with(&config, &Pm::with_status("draft"));
    let d = draft.expect("field-missing", "warning", A, 1);
    assert_eq!(
        d.message,
        "`customer_impact` is missing (required from status `review`)"
    );
    check_with(&config, &Pm::with_status("review")).expect("field-missing", "error", A, 1);
    check_with(&config, &with_impact(Pm::with_status("review"))).assert_clean();
}

#[test]
fn a_custom_field_is_unknown_without_its_declaration() {
    let pm = with_impact(Pm::published());
    let report = check(&pm);
    report.expect("field-unknown", "error", A, pm.line_of("customer_impact:"));
}

// --- approvals --------------------------------------------------------------------------

#[test]
fn outside_git_a_published_postmortem_cannot_prove_its_sign_off() {
    // Why the standard config allows the approval rules: these fixtures have no history.
    let config = standard_config().replace(&approval_rules_off(), "");
    let report = check_with(&config, &Pm::published());
    let d = report.expect("signoff-missing", "error", A, 3);
    assert!(d.message.contains("not a git repository"), "{d}");
    check_with(&config, &Pm::with_status("review")).assert_clean();
}

// --- follow-up findings ------------------------------------------------------------------

#[test]
fn a_waiver_of_declare_late_cannot_name_an_action_item() {
    let pm = Pm::published().insert_after(
        "    closed_at: 2026-11-18",
        "waivers:\n  - rule: declare-late\n    reason: Pager outage.\n    item: AI-1",
    );
    let report = check(&pm);
    let d = report.expect("waiver-invalid", "error", A, pm.line_of("    item: AI-1"));
    assert!(d.message.contains("cannot name an action item"), "{d}");
}

#[test]
fn an_unreadable_timeline_is_a_type_error_not_also_missing() {
    let pm = Pm::published().set_block("timeline", "timeline: soon");
    let report = check(&pm);
    report.expect("field-type", "error", A, pm.line_of("timeline: soon"));
    report.assert_no("timeline-missing");
}

#[test]
fn dates_must_be_zero_padded() {
    let pm = Pm::published().replace("due: 2026-12-18", "due: 2026-12-8");
    let report = check(&pm);
    report.expect("field-type", "error", A, pm.line_of("due: 2026-12-8"));
}

#[test]
fn url_schemes_are_case_insensitive() {
    let pm = Pm::published().replace("url: https://", "url: HTTPS://");
    check(&pm).assert_no("url-invalid");
}
