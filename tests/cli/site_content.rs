//! What the built pages and exports say (tests 7 and 8 of the site suite).

use super::*;

fn checkout_page(repo: &Repo) -> String {
    page(repo, &format!("postmortems/{CHECKOUT}/index.html"))
}

/// The text between the one `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = position(text, start) + start.len();
    let len = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("no `{end}` after `{start}`"));
    &text[from..from + len]
}

// --- 7. snapshots --------------------------------------------------------------------------

/// A small but complete published postmortem: one of everything the page shows.
const SMALL: &str = r#"---
title: Login page timed out
status: published
severity: SEV3
owner: bob
tech_lead: alice
responders: [bob, alice]
services: [login]
tags: [timeouts]
started_at: 2026-11-10T14:00:00Z
detected_at: 2026-11-10T14:04:00Z
declared_at: 2026-11-10T14:10:00Z
mitigated_at: 2026-11-10T14:30:00Z
resolved_at: 2026-11-10T15:00:00Z
summary: Logins timed out for half an hour after a cache node restarted.
timeline:
  - at: 2026-11-10T14:04:00Z
    event: Login latency alert fires
    who: [PagerDuty, bob]
whys:
  - why: Why did logins time out?
    because: Every session lookup missed the cold cache.
root_cause: The cache had no warm-up after a restart.
factors:
  - category: process
    description: Restarts skipped the warm-up step.
action_items:
  - id: AI-1
    title: Warm the cache before taking traffic
    owner: alice
    due: 2026-11-30
    status: open
    ticket: https://tracker.example.com/OPS-7
  - id: AI-2
    title: Document the restart runbook
    owner: bob
    due: 2026-11-20
    status: done
    closed_at: 2026-11-19
links:
  - title: Login dashboard
    url: https://grafana.example.com/d/login
---

## What happened

A cache node restarted and came back empty.
"#;

fn small_repo() -> Repo {
    let repo = Repo::new();
    repo.config(&standard_config().replace("min_whys = 5", "min_whys = 1"));
    repo.write("content/2026-11-10-login-timeouts.md", SMALL);
    repo
}

#[test]
fn snapshot_of_a_postmortem_page() {
    let repo = small_repo();
    build_ok(&repo, &[]);
    let html = page(&repo, "postmortems/2026-11-10-login-timeouts/index.html");
    insta::assert_snapshot!("site_postmortem_page", html);
}

#[test]
fn snapshot_of_action_items_csv() {
    let repo = small_repo();
    build_ok(&repo, &[]);
    insta::assert_snapshot!("site_action_items_csv", page(&repo, "action-items.csv"));
}

// --- 8. content ----------------------------------------------------------------------------

/// The visible text of the item row `<tr id="<pm>-<item>">`.
fn item_row(html: &str, pm: &str, item: &str) -> String {
    let id = format!("{pm}-{item}");
    let rows: Vec<String> = elements(html, "tr")
        .into_iter()
        .filter(|(t, _)| t.attr("id") == Some(id.as_str()))
        .map(|(_, text)| text)
        .collect();
    assert_eq!(rows.len(), 1, "rows with id {id}: {rows:?}\n{html}");
    rows[0].clone()
}

fn has_link(html: &str, href: &str, text: &str) -> bool {
    links(html).iter().any(|(h, t)| h == href && t == text)
}

#[test]
fn postmortem_page_names_people_by_their_names_with_links() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let html = checkout_page(&repo);
    let facts = section(&html, "facts-h");
    let text = visible_text(facts);
    assert!(text.contains("Owner Bob Builder"), "{text}");
    assert!(text.contains("Technical lead Alice Lead"), "{text}");
    assert!(text.contains("Carol Ops"), "{text}");
    assert!(
        !text.contains("bob"),
        "handles are not shown as names: {text}"
    );
    assert!(
        has_link(facts, "../../people/bob/index.html", "Bob Builder"),
        "{facts}"
    );
    assert!(
        has_link(facts, "../../people/alice/index.html", "Alice Lead"),
        "{facts}"
    );
    assert!(
        has_link(facts, "../../people/carol/index.html", "Carol Ops"),
        "{facts}"
    );
    // In the timeline a free-text name stays text, a handle becomes its person.
    let timeline = section(&html, "timeline-h");
    assert!(visible_text(timeline).contains("PagerDuty"), "{timeline}");
    assert!(
        has_link(timeline, "../../people/bob/index.html", "Bob Builder"),
        "{timeline}"
    );
    assert!(
        !links(timeline).iter().any(|(_, t)| t == "PagerDuty"),
        "{timeline}"
    );
}

#[test]
fn times_are_shown_in_the_configured_time_zone() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let html = checkout_page(&repo);
    let facts = visible_text(section(&html, "facts-h"));
    assert!(facts.contains("Started 2026-11-02 09:00 CET"), "{facts}");
    // Written as 08:05Z, shown in Berlin time.
    assert!(facts.contains("Detected 2026-11-02 09:05 CET"), "{facts}");
    assert!(!facts.contains("UTC"), "{facts}");
    // The machine-readable time keeps the offset as written.
    let times: Vec<(String, String)> = elements(section(&html, "timeline-h"), "time")
        .into_iter()
        .map(|(t, text)| (t.attr("datetime").unwrap_or("").to_owned(), text))
        .collect();
    assert!(
        times.contains(&(
            "2026-11-02T09:12:00+01:00".to_owned(),
            "2026-11-02 09:12".to_owned()
        )),
        "{times:?}"
    );
    // A summer incident of the same repository is in CEST: 09:00+01:00 is 10:00 CEST.
    let search = page(&repo, &format!("postmortems/{SEARCH}/index.html"));
    let facts = visible_text(section(&search, "facts-h"));
    assert!(facts.contains("Started 2025-06-10 10:00 CEST"), "{facts}");
}

#[test]
fn time_zone_utc_shows_utc() {
    let repo = four_postmortems();
    repo.config(&standard_config());
    build_ok(&repo, &[]);
    let facts = visible_text(section(&checkout_page(&repo), "facts-h"));
    assert!(facts.contains("Detected 2026-11-02 08:05 UTC"), "{facts}");
}

#[test]
fn timeline_shows_time_relative_to_the_start() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let text = visible_text(section(&checkout_page(&repo), "timeline-h"));
    let relative: Vec<&str> = text.split(' ').filter(|w| w.starts_with("T+")).collect();
    assert_eq!(relative, ["T+5m", "T+12m", "T+45m", "T+1h"], "{text}");
    assert!(text.contains("T+12m"), "{text}");
    assert!(text.contains("T+1h 30m"), "{text}");
}

#[test]
fn root_cause_whys_and_factors_grouped_by_category() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let html = checkout_page(&repo);
    let text = visible_text(&html);
    assert!(
        text.contains("Root cause Batch jobs share the primary's connection pool with checkout"),
        "{text}"
    );
    let whys = visible_text(section(&html, "whys-h"));
    for why in [
        "Why did checkout return 503s?",
        "Why does that repository have no review?",
    ] {
        assert!(whys.contains(why), "{whys}");
    }
    // Configured order (process before monitoring); both monitoring factors in one group.
    let factors = section(&html, "factors-h");
    let headings: Vec<String> = elements(factors, "h3")
        .into_iter()
        .map(|(_, t)| t.split(' ').next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(headings, ["process", "monitoring"], "{factors}");
    let text = visible_text(factors);
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("`{needle}` is not in: {text}"))
    };
    assert!(
        at("process") < at("Batch job settings have no owner"),
        "{text}"
    );
    assert!(
        at("Batch job settings have no owner") < at("monitoring"),
        "{text}"
    );
    assert!(
        at("monitoring") < at("No alert on connection-pool saturation."),
        "{text}"
    );
    assert!(
        at("monitoring") < at("Pool metrics were sampled only every five minutes."),
        "{text}"
    );
}

#[test]
fn overdue_action_items_carry_a_badge() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let html = checkout_page(&repo);
    let overdue = item_row(&html, CHECKOUT, "AI-1");
    assert!(overdue.contains("overdue"), "{overdue}");
    assert!(overdue.contains("Carol Ops"), "{overdue}");
    let done = item_row(&html, CHECKOUT, "AI-2");
    assert!(!done.contains("overdue"), "{done}");
    // The open item due in exactly 14 days is not overdue yet.
    let search = page(&repo, &format!("postmortems/{SEARCH}/index.html"));
    let soon = item_row(&search, SEARCH, "AI-1");
    assert!(!soon.contains("overdue"), "{soon}");
}

#[test]
fn a_published_postmortem_without_sign_off_says_so() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let html = checkout_page(&repo);
    let banners: Vec<String> = elements(&html, "div")
        .into_iter()
        .chain(elements(&html, "p"))
        .filter(|(t, _)| {
            t.attr("class")
                .is_some_and(|c| c.split(' ').any(|c| c == "banner"))
        })
        .map(|(_, text)| text)
        .collect();
    assert!(
        banners.iter().any(|b| b.contains("Not signed off")),
        "{banners:?}\n{html}"
    );
    // Every row of the index marks it as well.
    let index = page(&repo, "index.html");
    let rows: Vec<String> = elements(&index, "tr")
        .into_iter()
        .filter(|(t, _)| t.attr("data-id").is_some())
        .map(|(_, text)| text.to_lowercase())
        .collect();
    assert_eq!(rows.len(), 3, "{index}");
    for row in rows {
        assert!(row.contains("not signed off"), "{row}");
    }
}

#[test]
fn edit_link_points_at_the_file_in_the_repository() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let html = checkout_page(&repo);
    let href = format!("https://github.com/acme/pm/edit/main/content/{CHECKOUT}.md");
    assert!(
        has_link(&html, &href, "Edit this file"),
        "{:?}",
        links(&html)
    );
    // Without repo_url there is no edit link.
    repo.config(&standard_config());
    build_ok(&repo, &[]);
    let html = checkout_page(&repo);
    assert!(!visible_text(&html).contains("Edit this file"), "{html}");
    assert!(!html.contains("github.com"), "{html}");
}

#[test]
fn related_incidents_list_the_explicit_ones() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let html = checkout_page(&repo);
    let related = section(&html, "related-h");
    assert!(
        has_link(
            related,
            &format!("../../postmortems/{SEARCH}/index.html"),
            "Search served a stale index"
        ),
        "{related}"
    );
    let text = visible_text(related);
    assert!(text.contains("listed as related"), "{text}");
    // The draft is named by its id, never linked or titled.
    assert!(text.contains(DRAFT), "{text}");
    assert!(text.contains("not published"), "{text}");
    assert!(
        !related.contains(&format!("postmortems/{DRAFT}/")),
        "{related}"
    );
    assert!(!text.contains(DRAFT_TITLE), "{text}");
}

/// The `data-id`s of the rows of a postmortem list, in page order.
fn listed_ids(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .filter(|t| t.name == "tr")
        .filter_map(|t| t.attr("data-id").map(str::to_owned))
        .collect()
}

#[test]
fn index_lists_postmortems_newest_first() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let index = page(&repo, "index.html");
    assert_eq!(listed_ids(&index), [CHECKOUT, SEARCH, DNS], "{index}");
    let text = visible_text(&index);
    assert!(text.contains("newest first"), "{text}");
    assert!(text.contains("1 overdue"), "{text}");
    build_ok(&repo, &["--drafts"]);
    let index = page(&repo, "index.html");
    assert_eq!(
        listed_ids(&index),
        [DRAFT, CHECKOUT, SEARCH, DNS],
        "{index}"
    );
}

#[test]
fn actions_page_lists_overdue_items_first() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let html = page(&repo, "actions/index.html");
    let rows: Vec<(usize, String)> = tags(&html)
        .into_iter()
        .filter(|t| t.name == "tr")
        .filter_map(|t| Some((t.start, t.attr("id")?.to_owned())))
        .collect();
    let ids: Vec<&str> = rows.iter().map(|(_, id)| id.as_str()).collect();
    // Every item of the three published postmortems, once, and none of the draft.
    assert_eq!(ids.len(), 6, "{ids:?}");
    assert_eq!(
        ids.first().copied(),
        Some(format!("{CHECKOUT}-AI-1").as_str()),
        "{ids:?}"
    );
    assert!(!ids.iter().any(|r| r.starts_with(DRAFT)), "{ids:?}");
    // Each open item sits under its heading: overdue, due soon, open.
    let at = |id: &str| position(&html, &format!(" id=\"{id}\""));
    let row = |id: String| {
        rows.iter()
            .find(|(_, r)| *r == id)
            .map(|(p, _)| *p)
            .expect("row")
    };
    assert!(at("overdue") < row(format!("{CHECKOUT}-AI-1")), "{html}");
    assert!(row(format!("{CHECKOUT}-AI-1")) < at("due-soon"), "{html}");
    assert!(at("due-soon") < row(format!("{SEARCH}-AI-1")), "{html}");
    assert!(row(format!("{SEARCH}-AI-1")) < at("open"), "{html}");
    assert!(at("open") < row(format!("{DNS}-AI-1")), "{html}");
    assert!(row(format!("{DNS}-AI-1")) < at("done"), "{html}");
    assert!(
        item_row(&html, CHECKOUT, "AI-1").contains("overdue"),
        "{html}"
    );
}

#[test]
fn action_items_csv_has_the_documented_columns_and_one_row_per_item() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let csv = page(&repo, "action-items.csv");
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "postmortem,id,title,owner,due,status,closed_at,ticket,overdue_days"
    );
    assert_eq!(lines.last(), Some(&""), "ends with CRLF");
    assert_eq!(lines.len(), 1 + 6 + 1, "{csv}");
    assert!(!csv.replace("\r\n", "").contains('\n'), "bare LF in {csv}");
    assert!(
        csv.contains(&format!(
            "{CHECKOUT},AI-1,Alert on connection-pool saturation,carol,2026-12-03,open,,https://tracker.example.com/OPS-101,1\r\n"
        )),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "{DNS},AI-2,Move reporting jobs to the read replica,bob,2026-11-20,done,2026-11-18,,\r\n"
        )),
        "{csv}"
    );
    assert!(!csv.contains(DRAFT), "{csv}");
}

#[test]
fn action_items_ics_has_one_event_per_open_item() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let ics = page(&repo, "action-items.ics");
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(ics.ends_with("END:VCALENDAR\r\n"), "{ics}");
    assert!(!ics.replace("\r\n", "").contains('\n'), "bare LF in {ics}");
    assert_eq!(ics.matches("BEGIN:VEVENT\r\n").count(), 3, "{ics}");
    assert_eq!(ics.matches("END:VEVENT\r\n").count(), 3, "{ics}");
    for (id, due) in [
        (CHECKOUT, "20261203"),
        (SEARCH, "20261218"),
        (DNS, "20270301"),
    ] {
        let uid = format!("UID:{id}/AI-1@debrief\r\n");
        let event = between(&ics, &uid, "END:VEVENT");
        assert!(
            event.contains(&format!("DTSTART;VALUE=DATE:{due}\r\n")),
            "{event}"
        );
    }
    assert!(
        !ics.contains("AI-2@debrief"),
        "done items are not events\n{ics}"
    );
}

#[test]
fn feed_has_one_entry_per_published_postmortem() {
    let repo = four_postmortems();
    build_ok(&repo, &["--drafts"]);
    let with_drafts = page(&repo, "feed.xml");
    build_ok(&repo, &[]);
    let feed = page(&repo, "feed.xml");
    assert!(feed.starts_with("<?xml"), "{feed}");
    assert!(
        feed.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">"),
        "{feed}"
    );
    assert!(feed.trim_end().ends_with("</feed>"), "{feed}");
    assert_eq!(feed.matches("<entry>").count(), 3, "{feed}");
    assert_eq!(feed.matches("</entry>").count(), 3, "{feed}");
    for id in [CHECKOUT, SEARCH, DNS] {
        assert!(
            feed.contains(&format!("<id>urn:debrief:postmortem:{id}</id>")),
            "{feed}"
        );
    }
    // Drafts are on the site with --drafts, but the feed announces published ones only.
    assert_eq!(with_drafts.matches("<entry>").count(), 3, "{with_drafts}");
}

#[test]
fn postmortems_json_is_versioned_and_lists_every_published_postmortem() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let json: serde_json::Value =
        serde_json::from_str(&page(&repo, "postmortems.json")).expect("postmortems.json parses");
    assert_eq!(json["version"], 1);
    assert_eq!(json["generated"], TODAY);
    let ids: Vec<&str> = json["postmortems"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["id"].as_str().expect("an id"))
        .collect();
    assert_eq!(ids, [CHECKOUT, SEARCH, DNS]);
    let first = &json["postmortems"][0];
    assert_eq!(first["url"], format!("postmortems/{CHECKOUT}/index.html"));
    assert_eq!(first["front_matter"]["severity"], "SEV2");
    assert_eq!(first["signed_off"], false);
}

#[test]
fn search_index_is_a_script_with_every_published_postmortem() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let js = page(&repo, "static/search-index.js");
    let data = js
        .strip_prefix("window.DEBRIEF_SEARCH = ")
        .and_then(|s| s.strip_suffix(";\n"))
        .unwrap_or_else(|| panic!("not the expected script: {js}"));
    let entries: serde_json::Value = serde_json::from_str(data).expect("the index is JSON");
    let ids: Vec<&str> = entries
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| e["id"].as_str().expect("an id"))
        .collect();
    assert_eq!(ids, [CHECKOUT, SEARCH, DNS]);
    assert!(entries[0]["w"]
        .as_str()
        .expect("words")
        .contains("saturation"));
}

#[test]
fn taxonomy_pages_list_their_postmortems() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let sev1 = page(&repo, "severity/sev1/index.html");
    assert!(sev1.contains(&format!("data-id=\"{SEARCH}\"")), "{sev1}");
    assert!(!sev1.contains(&format!("data-id=\"{CHECKOUT}\"")), "{sev1}");
    let year = page(&repo, "years/2024/index.html");
    assert!(year.contains(&format!("data-id=\"{DNS}\"")), "{year}");
    assert_eq!(year.matches("class=\"pm-row\"").count(), 1, "{year}");
    let service = page(&repo, "services/checkout-api/index.html");
    assert!(service.contains("Service: checkout-api"), "{service}");
    let carol = page(&repo, "people/carol/index.html");
    assert!(carol.contains("Carol Ops"), "{carol}");
    assert!(
        carol.contains(&format!("data-id=\"{DNS}\"")),
        "owned\n{carol}"
    );
    let services = page(&repo, "services/index.html");
    assert!(
        services.contains("<a href=\"../services/dns/index.html\">dns</a>"),
        "{services}"
    );
}

#[test]
fn a_base_url_makes_the_404_page_links_absolute() {
    let repo = four_postmortems();
    build_ok(&repo, &["--base-url", "https://pm.example.com/reviews/"]);
    let html = page(&repo, "404.html");
    assert!(
        html.contains("href=\"https://pm.example.com/reviews/static/style.css\""),
        "{html}"
    );
    let feed = page(&repo, "feed.xml");
    assert!(
        feed.contains(&format!(
            "href=\"https://pm.example.com/reviews/postmortems/{CHECKOUT}/index.html\""
        )),
        "{feed}"
    );
}

/// The board lists the 200 most recently closed items and points to the CSV for the rest,
/// which has every item.
#[test]
fn actions_page_lists_the_most_recent_closed_items_and_the_csv_has_all() {
    let mut items = String::from("action_items:\n");
    for i in 1..=205 {
        let closed =
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date") + chrono::Days::new(i);
        items.push_str(&format!(
            "  - id: AI-{i}\n    title: Item {i}\n    owner: bob\n    due: 2026-11-20\n    status: done\n    closed_at: {closed}\n"
        ));
    }
    let start = position(SMALL, "action_items:\n");
    let end = position(SMALL, "links:\n");
    let text = format!("{}{items}{}", &SMALL[..start], &SMALL[end..]);
    let repo = Repo::new();
    repo.config(&standard_config().replace("min_whys = 5", "min_whys = 1"));
    repo.write("content/2026-11-10-login-timeouts.md", &text);
    build_ok(&repo, &[]);
    let html = page(&repo, "actions/index.html");
    let done = section(&html, "done");
    let rows: Vec<String> = tags(done)
        .into_iter()
        .filter(|t| t.name == "tr")
        .filter_map(|t| Some(t.attr("id")?.to_owned()))
        .collect();
    assert_eq!(rows.len(), 200, "{rows:?}");
    assert_eq!(rows[0], "2026-11-10-login-timeouts-AI-205");
    assert_eq!(rows[199], "2026-11-10-login-timeouts-AI-6");
    let note = visible_text(done);
    assert!(note.contains("5 earlier ones"), "{note}");
    assert!(
        links(done)
            .iter()
            .any(|(href, _)| href == "../action-items.csv"),
        "{done}"
    );
    let csv = page(&repo, "action-items.csv");
    assert_eq!(csv.lines().count(), 1 + 205, "{csv}");
}
