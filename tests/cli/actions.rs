//! `debrief actions`: every format, the filters and `--today` boundaries on a plain folder;
//! closing through the command and back-dated closures in git repositories (submodules).

#[path = "actions_close.rs"]
mod close;
#[path = "actions_closures.rs"]
mod closures;

use serde_json::Value;

use crate::harness::*;

pub const CHECKOUT: &str = "2026-11-02-checkout";
pub const DNS: &str = "2026-10-01-dns";

/// The long title of `DNS/AI-1`: non-ASCII, a comma, longer than any terminal column.
const LONG_TITLE: &str =
    "Überwachung der DNS-Auflösung für alle Regionen einrichten, mit Failover-Tests und Runbook";

/// The checkout postmortem (SEV2; services checkout-api, orders-db). As of [`TODAY`]:
/// AI-1 open, 14 days left, with a ticket; AI-2 done on time; AI-3 open, due today (a title
/// with quotes and a comma); AI-4 open, 1 day overdue (a title a spreadsheet would run as a
/// formula); AI-5 done 5 days late.
fn checkout() -> Pm {
    Pm::published().set_block(
        "action_items",
        r#"action_items:
  - id: AI-1
    title: Alert on connection-pool saturation
    owner: carol
    due: 2026-12-18
    status: open
    ticket: https://tracker.example.com/OPS-101
  - id: AI-2
    title: Move reporting jobs to the read replica
    owner: bob
    due: 2026-11-20
    status: done
    closed_at: 2026-11-18
  - id: AI-3
    title: Fix "retry" storms, again
    owner: alice
    due: 2026-12-04
    status: open
  - id: AI-4
    title: "=1+2 totals in the capacity sheet"
    owner: bob
    due: 2026-12-03
    status: open
  - id: AI-5
    title: Add per-client pool limits
    owner: carol
    due: 2026-11-10
    status: done
    closed_at: 2026-11-15"#,
    )
}

/// The DNS postmortem (SEV1; service dns). As of [`TODAY`]: AI-1 open, 30 days overdue,
/// [`LONG_TITLE`]; AI-2 wontfix with a reason; AI-3 open without a due date; AI-4 open,
/// due in 15 days.
fn dns() -> Pm {
    Pm::published()
        .replace(
            "title: Checkout returned 503s for 40 minutes",
            "title: DNS lookups failed in two regions",
        )
        .replace("severity: SEV2", "severity: SEV1")
        .replace("services: [checkout-api, orders-db]", "services: [dns]")
        .set_block(
            "action_items",
            &format!(
                r#"action_items:
  - id: AI-1
    title: {LONG_TITLE}
    owner: carol
    due: 2026-11-04
    status: open
  - id: AI-2
    title: Replace the resolver fleet
    owner: bob
    due: 2026-11-25
    status: wontfix
    closed_at: 2026-11-01
    reason: "costs: too high"
  - id: AI-3
    title: Write the DNS runbook
    owner: alice
    status: open
  - id: AI-4
    title: Lower the resolver TTLs
    owner: bob
    due: 2026-12-19
    status: open"#
            ),
        )
}

/// Both postmortems in a plain folder (no git).
fn two_postmortems() -> Repo {
    let repo = Repo::new();
    repo.write(&format!("content/{CHECKOUT}.md"), checkout());
    repo.write(&format!("content/{DNS}.md"), dns());
    repo
}

/// `debrief actions --today 2026-12-04 ARGS…` with `COLUMNS` pinned wide.
fn actions(repo: &Repo, args: &[&str]) -> Output {
    actions_cols(repo, args, "200")
}

/// `debrief actions --today 2026-12-04 ARGS…` with `COLUMNS=cols`.
fn actions_cols(repo: &Repo, args: &[&str], cols: &str) -> Output {
    let mut all = vec!["actions", "--today", TODAY];
    all.extend_from_slice(args);
    repo.run_env(&all, &[("COLUMNS", Some(cols))])
}

/// `--format json`, parsed; asserts exit 0 and nothing on stderr.
fn actions_json(repo: &Repo, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = actions(repo, &all);
    out.assert_code(0);
    assert_eq!(out.stderr, "", "{out}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON: {e}\n{out}"))
}

/// The listed items as `postmortem/id`, in order.
fn listed(repo: &Repo, args: &[&str]) -> Vec<String> {
    let json = actions_json(repo, args);
    json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| format!("{}/{}", str_of(&i["postmortem"]), str_of(&i["id"])))
        .collect()
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// `CHECKOUT/AI-n` and `DNS/AI-n`.
fn c(item: &str) -> String {
    format!("{CHECKOUT}/{item}")
}
fn d(item: &str) -> String {
    format!("{DNS}/{item}")
}

/// The open items in the order the issue asks for: overdue (most first), then by due date,
/// undated last.
fn open_in_order() -> Vec<String> {
    vec![
        d("AI-1"),
        c("AI-4"),
        c("AI-3"),
        c("AI-1"),
        d("AI-4"),
        d("AI-3"),
    ]
}

/// Asserts every line of `text` has at most `max` characters.
fn assert_width(text: &str, max: usize) {
    for line in text.lines() {
        assert!(
            line.chars().count() <= max,
            "line of {} chars is wider than {max}:\n{line}\n\n{text}",
            line.chars().count()
        );
    }
}

// --- table -----------------------------------------------------------------------------

#[test]
fn table_lists_open_items_overdue_first_then_by_due_date() {
    let out = actions_cols(&two_postmortems(), &[], "80");
    out.assert_code(0);
    assert_eq!(out.stderr, "");
    assert_eq!(
        out.stdout,
        "\
OWNER  DUE         STATE        ITEM                      TITLE
carol  2026-11-04  30d overdue  2026-10-01-dns/AI-1       Überwachung der DNS-A…
bob    2026-12-03  1d overdue   2026-11-02-checkout/AI-4  =1+2 totals in the ca…
alice  2026-12-04  due today    2026-11-02-checkout/AI-3  Fix \"retry\" storms, a…
carol  2026-12-18  14d left     2026-11-02-checkout/AI-1  Alert on connection-p…
bob    2026-12-19  15d left     2026-10-01-dns/AI-4       Lower the resolver TT…
alice  -           no due date  2026-10-01-dns/AI-3       Write the DNS runbook
"
    );
    assert_width(&out.stdout, 80);
}

#[test]
fn table_of_all_items_shows_closure_dates_lateness_and_wontfix() {
    let out = actions(&two_postmortems(), &["--status", "all"]);
    out.assert_code(0);
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    let expected: Vec<Vec<&str>> = vec![
        vec!["OWNER", "DUE", "STATE", "ITEM", "TITLE"],
        vec![
            "carol",
            "2026-11-04",
            "30d overdue",
            "2026-10-01-dns/AI-1",
            LONG_TITLE,
        ],
        vec![
            "bob",
            "2026-12-03",
            "1d overdue",
            "2026-11-02-checkout/AI-4",
            "=1+2 totals in the capacity sheet",
        ],
        vec![
            "carol",
            "2026-11-10",
            "done 2026-11-15 (5d late)",
            "2026-11-02-checkout/AI-5",
            "Add per-client pool limits",
        ],
        vec![
            "bob",
            "2026-11-20",
            "done 2026-11-18",
            "2026-11-02-checkout/AI-2",
            "Move reporting jobs to the read replica",
        ],
        vec![
            "bob",
            "2026-11-25",
            "wontfix 2026-11-01",
            "2026-10-01-dns/AI-2",
            "Replace the resolver fleet",
        ],
        vec![
            "alice",
            "2026-12-04",
            "due today",
            "2026-11-02-checkout/AI-3",
            "Fix \"retry\" storms, again",
        ],
        vec![
            "carol",
            "2026-12-18",
            "14d left",
            "2026-11-02-checkout/AI-1",
            "Alert on connection-pool saturation",
        ],
        vec![
            "bob",
            "2026-12-19",
            "15d left",
            "2026-10-01-dns/AI-4",
            "Lower the resolver TTLs",
        ],
        vec![
            "alice",
            "-",
            "no due date",
            "2026-10-01-dns/AI-3",
            "Write the DNS runbook",
        ],
    ];
    assert_eq!(rows, expected, "{out}");
}

#[test]
fn table_cuts_long_titles_with_an_ellipsis_to_fit_the_terminal() {
    let repo = two_postmortems();
    for cols in [80usize, 95, 120, 140] {
        let out = actions_cols(&repo, &[], &cols.to_string());
        out.assert_code(0);
        assert_width(&out.stdout, cols);
        let long = out
            .stdout
            .lines()
            .find(|l| l.contains("2026-10-01-dns/AI-1"))
            .expect("the overdue DNS item is listed");
        // The fixed columns take 58 characters; the title gets the rest, the cut marked.
        let title_width = cols - 58;
        assert_eq!(long.chars().count(), cols, "{out}");
        let shown: String = LONG_TITLE.chars().take(title_width - 1).collect();
        assert!(long.ends_with(&format!("{shown}…")), "{out}");
        // Titles that fit are whole.
        assert!(out.stdout.contains("  Write the DNS runbook\n"), "{out}");
    }
    // Wide enough for everything: nothing is cut.
    let out = actions_cols(&repo, &[], "200");
    assert!(!out.stdout.contains('…'), "{out}");
    assert!(out.stdout.contains(LONG_TITLE), "{out}");
}

#[test]
fn table_says_so_when_nothing_matches() {
    let out = actions(&two_postmortems(), &["--status", "done", "--overdue"]);
    out.assert_code(0);
    assert_eq!(out.stdout, "no action items match\n");
}

/// The README's "the table fits a terminal": at `COLUMNS=60`, when the fixed columns
/// (owner, due, state, item) leave the title its minimum, no line is wider than 60.
#[test]
fn table_fits_a_60_column_terminal_when_the_fixed_columns_fit() {
    let repo = Repo::new();
    let pm = Pm::published().set_block(
        "action_items",
        r#"action_items:
  - id: AI-1
    title: Alert on connection-pool saturation before checkout starts to fail
    owner: carol
    due: 2026-12-01
    status: open
  - id: AI-2
    title: Move reporting jobs to the read replica and cap their connections
    owner: bob
    due: 2026-12-04
    status: open
  - id: AI-3
    title: Short one
    owner: alice
    due: 2026-12-09
    status: open"#,
    );
    repo.write("content/db.md", pm);
    let out = actions_cols(&repo, &[], "60");
    out.assert_code(0);
    assert_width(&out.stdout, 60);
    assert_eq!(
        out.stdout,
        "\
OWNER  DUE         STATE       ITEM     TITLE
carol  2026-12-01  3d overdue  db/AI-1  Alert on connection…
bob    2026-12-04  due today   db/AI-2  Move reporting jobs…
alice  2026-12-09  5d left     db/AI-3  Short one
"
    );
}

// --- json ------------------------------------------------------------------------------

#[test]
fn json_has_version_today_and_the_fields_of_every_item() {
    let json = actions_json(&two_postmortems(), &["--status", "all"]);
    assert_eq!(json["version"], 1);
    assert_eq!(json["today"], TODAY);
    let keys: Vec<&str> = json
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["items", "today", "version"]);
    let items = json["items"].as_array().expect("items");
    assert_eq!(items.len(), 9);
    let fields = [
        "closed_at",
        "closed_late_days",
        "closure_commit",
        "due",
        "id",
        "overdue_days",
        "owner",
        "postmortem",
        "postmortem_title",
        "reason",
        "status",
        "ticket",
        "title",
    ];
    for item in items {
        let mut keys: Vec<&str> = item
            .as_object()
            .expect("an item object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, fields, "{item:#}");
        // Outside git no commit recorded any closure.
        assert_eq!(item["closure_commit"], Value::Null, "{item:#}");
    }
    let find = |pm: &str, id: &str| -> &Value {
        items
            .iter()
            .find(|i| i["postmortem"] == pm && i["id"] == id)
            .unwrap_or_else(|| panic!("{pm}/{id} missing"))
    };
    assert_eq!(
        *find(DNS, "AI-1"),
        serde_json::json!({
            "postmortem": DNS,
            "postmortem_title": "DNS lookups failed in two regions",
            "id": "AI-1",
            "title": LONG_TITLE,
            "owner": "carol",
            "due": "2026-11-04",
            "status": "open",
            "closed_at": null,
            "ticket": null,
            "reason": null,
            "overdue_days": 30,
            "closed_late_days": null,
            "closure_commit": null,
        })
    );
    assert_eq!(find(CHECKOUT, "AI-4")["overdue_days"], 1);
    assert_eq!(find(CHECKOUT, "AI-3")["overdue_days"], Value::Null);
    assert_eq!(
        find(CHECKOUT, "AI-1")["ticket"],
        "https://tracker.example.com/OPS-101"
    );
    let late = find(CHECKOUT, "AI-5");
    assert_eq!(late["status"], "done");
    assert_eq!(late["closed_at"], "2026-11-15");
    assert_eq!(late["closed_late_days"], 5);
    assert_eq!(find(CHECKOUT, "AI-2")["closed_late_days"], Value::Null);
    let wontfix = find(DNS, "AI-2");
    assert_eq!(wontfix["status"], "wontfix");
    assert_eq!(wontfix["reason"], "costs: too high");
    assert_eq!(wontfix["closed_at"], "2026-11-01");
    assert_eq!(find(DNS, "AI-3")["due"], Value::Null);
}

#[test]
fn json_lists_in_the_same_order_as_the_table() {
    assert_eq!(listed(&two_postmortems(), &[]), open_in_order());
    assert_eq!(
        listed(&two_postmortems(), &["--status", "all"]),
        [
            d("AI-1"),
            c("AI-4"),
            c("AI-5"),
            c("AI-2"),
            d("AI-2"),
            c("AI-3"),
            c("AI-1"),
            d("AI-4"),
            d("AI-3"),
        ]
    );
}

// --- csv -------------------------------------------------------------------------------

#[test]
fn csv_has_the_fixed_header_crlf_quoting_and_defused_formulas() {
    let out = actions(&two_postmortems(), &["--format", "csv", "--status", "all"]);
    out.assert_code(0);
    assert_eq!(out.stderr, "");
    assert!(
        out.stdout
            .starts_with("postmortem,id,title,owner,due,status,closed_at,ticket,overdue_days\r\n"),
        "{out}"
    );
    assert!(out.stdout.ends_with("\r\n"), "{out}");
    assert_eq!(
        out.stdout.matches('\n').count(),
        out.stdout.matches("\r\n").count(),
        "every line ends in CRLF\n{out}"
    );
    let expected = [
        "postmortem,id,title,owner,due,status,closed_at,ticket,overdue_days",
        &format!("{DNS},AI-1,\"{LONG_TITLE}\",carol,2026-11-04,open,,,30"),
        &format!("{CHECKOUT},AI-4,'=1+2 totals in the capacity sheet,bob,2026-12-03,open,,,1"),
        &format!("{CHECKOUT},AI-5,Add per-client pool limits,carol,2026-11-10,done,2026-11-15,,"),
        &format!("{CHECKOUT},AI-2,Move reporting jobs to the read replica,bob,2026-11-20,done,2026-11-18,,"),
        &format!("{DNS},AI-2,Replace the resolver fleet,bob,2026-11-25,wontfix,2026-11-01,,"),
        &format!("{CHECKOUT},AI-3,\"Fix \"\"retry\"\" storms, again\",alice,2026-12-04,open,,,"),
        &format!("{CHECKOUT},AI-1,Alert on connection-pool saturation,carol,2026-12-18,open,,https://tracker.example.com/OPS-101,"),
        &format!("{DNS},AI-4,Lower the resolver TTLs,bob,2026-12-19,open,,,"),
        &format!("{DNS},AI-3,Write the DNS runbook,alice,,open,,,"),
    ];
    let lines: Vec<&str> = out.stdout.split_terminator("\r\n").collect();
    assert_eq!(lines, expected);
}

#[test]
fn csv_quotes_a_formula_title_that_also_needs_quoting() {
    let repo = Repo::new();
    repo.write(
        "content/a.md",
        Pm::published().replace(
            "title: Alert on connection-pool saturation",
            "title: '@SUM(A1, \"x\")'",
        ),
    );
    let out = actions(&repo, &["--format", "csv"]);
    out.assert_code(0);
    assert!(
        out.stdout
            .contains(",AI-1,\"'@SUM(A1, \"\"x\"\")\",carol,2026-12-18,open,,"),
        "{out}"
    );
}

// --- ics -------------------------------------------------------------------------------

/// The content lines of an iCalendar text, unfolded (RFC 5545 3.1).
fn unfold(ics: &str) -> Vec<String> {
    ics.replace("\r\n ", "")
        .split_terminator("\r\n")
        .map(str::to_owned)
        .collect()
}

#[test]
fn ics_has_one_event_per_open_item_with_a_due_date() {
    let repo = two_postmortems();
    for status in ["open", "all"] {
        let out = actions(&repo, &["--format", "ics", "--status", status]);
        out.assert_code(0);
        assert_eq!(out.stderr, "");
        let lines = unfold(&out.stdout);
        assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
        assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
        let uids: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("UID:"))
            .collect();
        assert_eq!(
            uids,
            [
                format!("{DNS}/AI-1@debrief"),
                format!("{CHECKOUT}/AI-4@debrief"),
                format!("{CHECKOUT}/AI-3@debrief"),
                format!("{CHECKOUT}/AI-1@debrief"),
                format!("{DNS}/AI-4@debrief"),
            ],
            "--status {status}: open items with a due date only\n{out}"
        );
        assert_eq!(
            lines.iter().filter(|l| *l == "BEGIN:VEVENT").count(),
            5,
            "{out}"
        );
        let starts: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("DTSTART;VALUE=DATE:"))
            .collect();
        assert_eq!(
            starts,
            ["20261104", "20261203", "20261204", "20261218", "20261219"]
        );
        // The long title survives folding and escaping whole.
        assert!(
            lines.contains(&format!("SUMMARY:AI-1: {}", LONG_TITLE.replace(',', "\\,"))),
            "{out}"
        );
        assert!(lines.contains(&"URL:https://tracker.example.com/OPS-101".to_owned()));
    }
}

#[test]
fn ics_uses_crlf_and_folds_lines_at_75_octets() {
    let out = actions(&two_postmortems(), &["--format", "ics"]);
    let text = &out.stdout;
    assert!(text.ends_with("END:VCALENDAR\r\n"), "{out}");
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "every line ends in CRLF\n{out}"
    );
    for line in text.split_terminator("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    // The long, non-ASCII title needed folding: the test above is not vacuous.
    assert!(text.contains("\r\n "), "{out}");
}

#[test]
fn ics_uids_are_stable_across_runs_and_days() {
    let repo = two_postmortems();
    let first = actions(&repo, &["--format", "ics"]);
    let again = actions(&repo, &["--format", "ics"]);
    assert_eq!(first.stdout, again.stdout, "same input and day, same bytes");
    let uids = |out: &Output| -> Vec<String> {
        unfold(&out.stdout)
            .into_iter()
            .filter(|l| l.starts_with("UID:"))
            .collect()
    };
    let later = repo.run(&["actions", "--today", "2026-12-10", "--format", "ics"]);
    later.assert_code(0);
    assert_eq!(uids(&first), uids(&later));
    assert_ne!(first.stdout, later.stdout, "DTSTAMP follows --today");
}

// --- markdown --------------------------------------------------------------------------

#[test]
fn markdown_is_a_table_with_overdue_states_in_bold() {
    let out = actions(&two_postmortems(), &["--format", "markdown"]);
    out.assert_code(0);
    assert_eq!(out.stderr, "");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "## Action items (2026-12-04)");
    assert_eq!(lines[2], "6 item(s), **2 overdue**.");
    assert_eq!(lines[4], "| Due | State | Owner | Item | Postmortem |");
    assert_eq!(lines[5], "|---|---|---|---|---|");
    let rows = &lines[6..];
    assert_eq!(rows.len(), 6, "{out}");
    assert_eq!(
        rows[0],
        format!("| 2026-11-04 | **30d overdue** | Carol Ops | AI-1 {LONG_TITLE} | DNS lookups failed in two regions |")
    );
    assert_eq!(
        rows[1],
        "| 2026-12-03 | **1d overdue** | Bob Builder | AI-4 =1+2 totals in the capacity sheet | Checkout returned 503s for 40 minutes |"
    );
    assert_eq!(
        rows[2],
        "| 2026-12-04 | due today | Alice Lead | AI-3 Fix \"retry\" storms, again | Checkout returned 503s for 40 minutes |"
    );
    assert_eq!(
        rows[3],
        "| 2026-12-18 | 14d left | Carol Ops | AI-1 [Alert on connection-pool saturation](https://tracker.example.com/OPS-101) | Checkout returned 503s for 40 minutes |"
    );
    assert_eq!(
        rows[5],
        "| — | no due date | Alice Lead | AI-3 Write the DNS runbook | DNS lookups failed in two regions |"
    );
    // Only overdue states are bold.
    assert_eq!(out.stdout.matches("overdue**").count(), 3, "{out}");
    assert!(!rows[2..].iter().any(|r| r.contains("**")), "{out}");
}

#[test]
fn markdown_escapes_pipes_in_titles() {
    let repo = Repo::new();
    repo.write(
        "content/a.md",
        Pm::published().replace(
            "title: Alert on connection-pool saturation",
            "title: Alert on pool | queue saturation",
        ),
    );
    let out = actions(&repo, &["--format", "markdown"]);
    out.assert_code(0);
    assert!(
        out.stdout.contains("[Alert on pool \\| queue saturation]("),
        "{out}"
    );
    for row in out.stdout.lines().filter(|l| l.starts_with("| 2026")) {
        assert_eq!(row.matches(" | ").count(), 4, "five cells: {row}");
    }
}

#[test]
fn markdown_with_nothing_to_report() {
    let out = actions(
        &two_postmortems(),
        &["--format", "markdown", "--owner", "alice", "--overdue"],
    );
    out.assert_code(0);
    assert_eq!(
        out.stdout,
        "## Action items (2026-12-04)\n\nNothing to report.\n"
    );
}

// --- filters ---------------------------------------------------------------------------

#[test]
fn status_filter_open_done_wontfix_all() {
    let repo = two_postmortems();
    assert_eq!(listed(&repo, &[]), open_in_order(), "open is the default");
    assert_eq!(listed(&repo, &["--status", "open"]), open_in_order());
    assert_eq!(listed(&repo, &["--status", "done"]), [c("AI-5"), c("AI-2")]);
    assert_eq!(listed(&repo, &["--status", "wontfix"]), [d("AI-2")]);
    assert_eq!(listed(&repo, &["--status", "all"]).len(), 9);
    let out = actions(&repo, &["--status", "closed"]);
    out.assert_code(2);
    assert_eq!(out.stdout, "");
}

#[test]
fn overdue_filter_lists_only_items_past_due_most_overdue_first() {
    let repo = two_postmortems();
    assert_eq!(listed(&repo, &["--overdue"]), [d("AI-1"), c("AI-4")]);
    assert_eq!(
        listed(&repo, &["--overdue", "--status", "all"]),
        [d("AI-1"), c("AI-4")],
        "closed items are never overdue"
    );
}

#[test]
fn due_within_includes_overdue_items_and_stops_at_the_window() {
    let repo = two_postmortems();
    let fourteen = [d("AI-1"), c("AI-4"), c("AI-3"), c("AI-1")];
    assert_eq!(listed(&repo, &["--due-within", "14d"]), fourteen);
    assert_eq!(listed(&repo, &["--due-within", "2w"]), fourteen);
    assert_eq!(
        listed(&repo, &["--due-within", "15d"]),
        [d("AI-1"), c("AI-4"), c("AI-3"), c("AI-1"), d("AI-4")]
    );
    assert_eq!(
        listed(&repo, &["--due-within", "0d"]),
        [d("AI-1"), c("AI-4"), c("AI-3")]
    );
    assert_eq!(
        listed(&repo, &["--due-within", "14d", "--status", "all"]),
        fourteen,
        "only open items are due"
    );
}

#[test]
fn a_bad_due_within_is_a_usage_error() {
    let repo = two_postmortems();
    for bad in ["soon", "14", "-3d", "", "14x"] {
        let arg = format!("--due-within={bad}");
        let out = actions(&repo, &[&arg]);
        out.assert_code(2);
        assert_eq!(out.stdout, "", "{out}");
        assert!(out.stderr.contains("is not a duration"), "{bad}: {out}");
    }
}

#[test]
fn owner_filter_and_an_unknown_owner_with_did_you_mean() {
    let repo = two_postmortems();
    assert_eq!(listed(&repo, &["--owner", "bob"]), [c("AI-4"), d("AI-4")]);
    assert_eq!(
        listed(&repo, &["--owner", "bob", "--status", "all"]),
        [c("AI-4"), c("AI-2"), d("AI-2"), d("AI-4")]
    );
    let out = actions(&repo, &["--owner", "carl"]);
    out.assert_code(2);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("--owner `carl` is not known"), "{out}");
    assert!(out.stderr.contains("did you mean `carol`?"), "{out}");
    // A handle is not a name.
    actions(&repo, &["--owner", "Carol Ops"]).assert_code(2);
}

#[test]
fn service_and_severity_filters() {
    let repo = two_postmortems();
    assert_eq!(
        listed(&repo, &["--service", "dns"]),
        [d("AI-1"), d("AI-4"), d("AI-3")]
    );
    assert_eq!(
        listed(&repo, &["--service", "orders-db"]),
        [c("AI-4"), c("AI-3"), c("AI-1")]
    );
    assert_eq!(
        listed(&repo, &["--severity", "SEV1"]),
        [d("AI-1"), d("AI-4"), d("AI-3")]
    );
    assert_eq!(
        listed(&repo, &["--severity", "SEV2", "--status", "done"]),
        [c("AI-5"), c("AI-2")]
    );
    assert!(listed(&repo, &["--severity", "SEV3"]).is_empty());
    let out = actions(&repo, &["--severity", "SEV9"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("--severity `SEV9` is not known"),
        "{out}"
    );
    let out = actions(&repo, &["--severity", "SEV 1"]);
    out.assert_code(2);
    assert!(out.stderr.contains("did you mean `SEV1`?"), "{out}");
}

#[test]
fn filters_combine() {
    let repo = two_postmortems();
    assert_eq!(
        listed(&repo, &["--owner", "carol", "--overdue"]),
        [d("AI-1")]
    );
    assert_eq!(
        listed(
            &repo,
            &[
                "--service",
                "checkout-api",
                "--owner",
                "bob",
                "--status",
                "all"
            ]
        ),
        [c("AI-4"), c("AI-2")]
    );
    assert_eq!(
        listed(&repo, &["--severity", "SEV2", "--due-within", "14d"]),
        [c("AI-4"), c("AI-3"), c("AI-1")]
    );
    assert_eq!(
        listed(
            &repo,
            &[
                "--service",
                "dns",
                "--due-within",
                "14d",
                "--owner",
                "carol"
            ]
        ),
        [d("AI-1")]
    );
    assert!(listed(
        &repo,
        &["--service", "dns", "--owner", "alice", "--overdue"]
    )
    .is_empty());
}

// --- --today boundaries and --fail-on-overdue -------------------------------------------

/// The STATE cell of one item in the table as of `today`.
fn state_on(repo: &Repo, today: &str, item: &str) -> String {
    let out = repo.run_env(
        &["actions", "--today", today, "--status", "all"],
        &[("COLUMNS", Some("200"))],
    );
    out.assert_code(0);
    let row = out
        .stdout
        .lines()
        .find(|l| l.contains(item))
        .unwrap_or_else(|| panic!("{item} not listed\n{out}"));
    row.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .nth(2)
        .expect("a state cell")
        .to_owned()
}

#[test]
fn due_today_is_not_overdue_and_due_yesterday_is_one_day_overdue() {
    let repo = two_postmortems();
    let ai3 = c("AI-3"); // due 2026-12-04
    assert_eq!(state_on(&repo, "2026-12-03", &ai3), "1d left");
    assert_eq!(state_on(&repo, "2026-12-04", &ai3), "due today");
    assert_eq!(state_on(&repo, "2026-12-05", &ai3), "1d overdue");
    let ai4 = c("AI-4"); // due 2026-12-03
    assert_eq!(state_on(&repo, "2026-12-03", &ai4), "due today");
    assert_eq!(state_on(&repo, "2026-12-04", &ai4), "1d overdue");
    assert_eq!(state_on(&repo, "2027-01-02", &ai4), "30d overdue");

    let overdue = |today: &str| -> Vec<String> {
        let out = repo.run(&["actions", "--today", today, "--overdue", "--format", "json"]);
        out.assert_code(0);
        let json: Value = serde_json::from_str(&out.stdout).expect("JSON");
        assert_eq!(json["today"], today);
        json["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                format!(
                    "{}/{}:{}",
                    str_of(&i["postmortem"]),
                    str_of(&i["id"]),
                    i["overdue_days"]
                )
            })
            .collect()
    };
    assert_eq!(overdue("2026-12-03"), [format!("{}:29", d("AI-1"))]);
    assert_eq!(
        overdue("2026-12-04"),
        [format!("{}:30", d("AI-1")), format!("{}:1", c("AI-4"))]
    );
    assert_eq!(
        overdue("2026-12-05"),
        [
            format!("{}:31", d("AI-1")),
            format!("{}:2", c("AI-4")),
            format!("{}:1", c("AI-3"))
        ]
    );
}

#[test]
fn fail_on_overdue_exits_1_only_when_a_listed_item_is_overdue() {
    let repo = two_postmortems();
    let run = |extra: &[&str]| -> Output {
        let mut args = vec!["--fail-on-overdue"];
        args.extend_from_slice(extra);
        actions(&repo, &args)
    };
    let out = run(&[]);
    out.assert_code(1);
    assert!(
        out.stdout.contains("30d overdue"),
        "the list is still printed\n{out}"
    );
    run(&["--format", "json"]).assert_code(1);
    run(&["--format", "csv"]).assert_code(1);
    run(&["--owner", "carol"]).assert_code(1);
    // Filters that leave out every overdue item.
    run(&["--owner", "alice"]).assert_code(0);
    run(&["--status", "done"]).assert_code(0);
    run(&["--service", "orders-db", "--owner", "carol"]).assert_code(0);
    // Without the flag overdue items do not fail the run.
    actions(&repo, &[]).assert_code(0);
    // Alice's AI-3 is due today: not overdue until tomorrow.
    let alice = |today: &str| {
        repo.run(&[
            "actions",
            "--today",
            today,
            "--owner",
            "alice",
            "--fail-on-overdue",
        ])
    };
    alice("2026-12-04").assert_code(0);
    alice("2026-12-05").assert_code(1);
}

#[test]
fn actions_lists_items_of_postmortems_with_findings_without_failing() {
    // DNS/AI-3 has no due date (an error for `check`); listing is not checking.
    let repo = two_postmortems();
    repo.check(&[]).assert_code(1);
    let out = actions(&repo, &[]);
    out.assert_code(0);
    assert_eq!(out.stderr, "");
}

// --- known bugs ------------------------------------------------------------------------

/// A literal block title (`title: |`) has a newline inside: the table must still print one
/// row per item (as markdown does, by replacing the newline with a space).
#[test]

fn table_keeps_a_multi_line_title_on_its_row() {
    let repo = Repo::new();
    repo.write(
        "content/a.md",
        Pm::published().replace(
            "    title: Alert on connection-pool saturation\n",
            "    title: |\n      Alert on connection-pool\n      saturation\n",
        ),
    );
    let out = actions(&repo, &[]);
    out.assert_code(0);
    assert_eq!(out.stdout.lines().count(), 2, "a header and one row\n{out}");
    assert!(
        out.stdout.contains("Alert on connection-pool saturation"),
        "{out}"
    );
}

/// A postmortem that cannot be read must not silently drop out of the list: its overdue
/// items would vanish from `--fail-on-overdue`, the scheduled gate of
/// `examples/github/action-items.yml`.
#[test]

fn a_postmortem_that_does_not_load_is_not_silently_left_out() {
    let repo = Repo::new();
    repo.write("content/good.md", Pm::published());
    repo.write(
        "content/broken.md",
        witness().replace("links:\n", "links: [\n"),
    );
    repo.check(&[]).assert_code(1);
    let out = actions(&repo, &["--overdue", "--fail-on-overdue"]);
    assert!(out.stderr.contains("content/broken.md"), "{out}");
    assert_ne!(out.code, 0, "{out}");
}
