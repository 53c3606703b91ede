//! Files that cannot be read as postmortems: each gets one error naming the file and the
//! line, and every other file in the repository is still checked.

use std::io::Write;
use std::time::Instant;

use crate::harness::*;

const BAD: &str = "content/bad.md";
const OTHER: &str = "content/other.md";

/// A repository with `content/bad.md` = `bad` and a witness next to it.
fn check_bad(bad: impl AsRef<[u8]>) -> Report {
    let repo = Repo::new();
    repo.write(BAD, bad);
    repo.write(OTHER, witness());
    let report = repo.check_json(&[]);
    assert_witness(&report, OTHER);
    assert_eq!(report.checked, 2, "{report}");
    report
}

/// Asserts the bad file has exactly one finding, of `rule` at `line`, and returns it.
fn only_finding<'r>(report: &'r Report, rule: &str, line: u32) -> &'r Diag {
    let d = report.expect(rule, "error", BAD, line);
    assert_eq!(report.rules_in(BAD), [rule], "{report}");
    d
}

#[test]
fn invalid_yaml_is_reported_at_its_line() {
    let pm = Pm::published().replace("\nowner: bob\n", "\nowner: bob: carol\n");
    let report = check_bad(&pm);
    let d = only_finding(
        &report,
        "front-matter-invalid",
        pm.line_of("owner: bob: carol"),
    );
    assert!(d.message.starts_with("invalid YAML:"), "{d}");
}

#[test]
fn a_file_without_front_matter_is_reported() {
    let report = check_bad("# Checkout outage\n\nWe had an outage.\n");
    let d = only_finding(&report, "front-matter-invalid", 1);
    assert!(d.message.contains("no front-matter"), "{d}");
}

#[test]
fn unterminated_front_matter_is_reported() {
    let report = check_bad("---\ntitle: Checkout outage\nstatus: draft\n\n# Body\n");
    let d = only_finding(&report, "front-matter-invalid", 1);
    assert!(d.message.contains("never closed"), "{d}");
}

#[test]
fn an_empty_file_is_reported() {
    let report = check_bad("");
    let d = only_finding(&report, "front-matter-invalid", 1);
    assert_eq!(d.message, "the file is empty");
}

#[test]
fn a_file_of_blank_lines_is_empty_too() {
    let report = check_bad("\n  \n\n");
    only_finding(&report, "front-matter-invalid", 1);
}

#[test]
fn non_utf8_bytes_are_reported_at_their_line_and_column() {
    let text = Pm::published().replace(
        "title: Checkout returned 503s for 40 minutes",
        "title: Caf\u{1}",
    );
    let bytes = text.text().replace('\u{1}', "\u{0}").into_bytes();
    // Latin-1 é (0xE9) where UTF-8 was expected, on line 2.
    let bytes: Vec<u8> = bytes
        .into_iter()
        .map(|b| if b == 0 { 0xE9 } else { b })
        .collect();
    let report = check_bad(bytes);
    let d = only_finding(&report, "front-matter-invalid", 2);
    assert_eq!(d.column, Some(11));
    assert_eq!(d.message, "the file is not valid UTF-8");
}

#[test]
fn a_byte_order_mark_and_crlf_line_endings_are_accepted() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(Pm::published().text().replace('\n', "\r\n").into_bytes());
    let repo = Repo::new();
    repo.write(BAD, bytes);
    repo.check_json(&[]).assert_clean();
}

#[test]
fn crlf_files_keep_their_line_numbers() {
    let pm = witness();
    let repo = Repo::new();
    repo.write(OTHER, pm.text().replace('\n', "\r\n"));
    let report = repo.check_json(&[]);
    assert_witness(&report, OTHER);
}

#[test]
fn a_number_for_severity_is_a_type_error() {
    let pm = Pm::published().replace("severity: SEV2", "severity: 1");
    let report = check_bad(&pm);
    let d = report.expect("field-type", "error", BAD, 4);
    assert_eq!(d.column, Some(11));
    assert_eq!(d.help.as_deref(), Some("did you mean `severity: SEV1`?"));
}

#[test]
fn a_due_date_in_words_is_a_type_error() {
    let pm = Pm::published().replace("due: 2026-12-18", "due: next week");
    let report = check_bad(&pm);
    let d = report.expect("field-type", "error", BAD, pm.line_of("due: next week"));
    assert_eq!(
        d.message,
        "`due` must be a date (YYYY-MM-DD), found a string `next week`"
    );
}

#[test]
fn a_timestamp_without_an_offset_is_a_type_error() {
    let pm = Pm::published().replace(
        "detected_at: 2026-11-02T09:05:00+01:00",
        "detected_at: 2026-03-01T10:00:00",
    );
    let report = check_bad(&pm);
    let d = report.expect("field-type", "error", BAD, pm.line_of("detected_at:"));
    assert!(d.message.contains("has no UTC offset"), "{d}");
    assert!(d.help.as_deref().unwrap_or("").contains("+01:00"), "{d}");
}

#[test]
fn a_wrongly_typed_value_is_not_also_reported_as_missing() {
    let pm = Pm::published()
        .replace("severity: SEV2", "severity: 1")
        .replace("due: 2026-12-18", "due: next week");
    let report = check_bad(&pm);
    assert_eq!(
        report.rules_in(BAD),
        ["field-type", "field-type"],
        "{report}"
    );
}

#[test]
fn a_duplicate_key_is_reported_at_the_second_one() {
    let pm = Pm::published().insert_after("tags: [database, capacity]", "owner: carol");
    let report = check_bad(&pm);
    let d = only_finding(
        &report,
        "front-matter-invalid",
        pm.line_exact("owner: carol"),
    );
    assert_eq!(d.message, "duplicate key `owner` (first given at line 5)");
}

#[test]
fn an_unknown_key_is_reported_and_the_rest_still_checked() {
    let pm = Pm::published().insert_after("tags: [database, capacity]", "team: payments");
    let report = check_bad(&pm);
    let d = report.expect("field-unknown", "error", BAD, pm.line_of("team:"));
    assert_eq!(d.message, "unknown key `team` in the front-matter");
    assert_eq!(report.rules_in(BAD), ["field-unknown"]);
}

#[test]
fn front_matter_that_is_a_list_is_invalid_and_not_followed_by_missing_fields() {
    let report = check_bad("---\n- title\n- status\n---\n");
    let d = report.expect("front-matter-invalid", "error", BAD, 2);
    assert!(d.message.contains("not a mapping"), "{d}");
    report.assert_no("field-missing");
}

// --- hostile files: rejected, and the run finishes ---------------------------------------

fn timed(what: &str, bad: impl AsRef<[u8]>) -> Report {
    let start = Instant::now();
    let report = check_bad(bad);
    println!("{what}: checked in {:?}", start.elapsed());
    report
}

#[test]
fn a_yaml_alias_bomb_is_rejected() {
    let mut text = String::from(
        "---\ntitle: Billion laughs\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    text.push_str("---\n");
    let report = timed("alias bomb", &text);
    let d = report.of("front-matter-invalid");
    assert_eq!(d.len(), 1, "{report}");
    assert_eq!(d[0].file, BAD);
    assert!(d[0].message.contains("expands to more than"), "{}", d[0]);
    assert!(d[0].line.is_some());
}

#[test]
fn ten_thousand_nested_flow_lists_are_rejected() {
    let text = format!(
        "---\ntitle: Deep\nnest: {}{}\n---\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let report = timed("flow nesting", &text);
    only_finding(&report, "front-matter-invalid", 3);
}

#[test]
fn ten_thousand_nested_block_lists_are_rejected() {
    // `- - - x` nests block sequences without growing indentation.
    let text = format!("---\ntitle: Deep\nnest:\n  {}x\n---\n", "- ".repeat(10_000));
    let report = timed("block nesting", &text);
    let d = only_finding(&report, "front-matter-invalid", 4);
    assert!(d.message.contains("nested more than"), "{d}");
}

#[test]
fn deeply_nested_block_mappings_are_rejected() {
    let mut text = String::from("---\ntitle: Deep\nnest:\n");
    for depth in 1..200 {
        text.push_str(&format!("{}k{depth}:\n", "  ".repeat(depth)));
    }
    text.push_str("---\n");
    let report = timed("block mappings", &text);
    let d = &report.of("front-matter-invalid")[0];
    assert!(d.message.contains("nested more than"), "{d}");
    assert_eq!(report.rules_in(BAD), ["front-matter-invalid"]);
}

#[test]
fn a_50_mb_file_is_rejected_for_its_size() {
    let repo = Repo::new();
    repo.write(OTHER, witness());
    let path = repo.path().join(BAD);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    file.write_all(Pm::published().text().as_bytes()).unwrap();
    let line = [b'x'; 99];
    for _ in 0..500_000 {
        file.write_all(&line).unwrap();
        file.write_all(b"\n").unwrap();
    }
    file.flush().unwrap();
    drop(file);
    assert!(std::fs::metadata(&path).unwrap().len() >= 50_000_000);
    let start = Instant::now();
    let report = repo.check_json(&[]);
    println!("50 MB file: checked in {:?}", start.elapsed());
    let d = report.of("front-matter-invalid");
    assert_eq!(d.len(), 1, "{report}");
    assert_eq!(d[0].file, BAD);
    assert!(d[0].message.contains("limited to 2 MiB"), "{}", d[0]);
    assert_witness(&report, OTHER);
}
