//! Hostile postmortems: nothing they contain may run in a reader's browser (test 3).

use super::*;

const SCRIPT: &str = "<script>alert(1)</script>";
/// The base URL of the builds with absolute links.
const BASE_URL: &str = "https://pm.example.com/";
const IMG: &str = "\"><img src=x onerror=alert(1)>";

/// A published postmortem whose body carries raw HTML attacks and whose every string in
/// the front-matter carries one of [`SCRIPT`] or [`IMG`]; links and tickets are
/// `javascript:` URLs.
fn hostile() -> String {
    // Single-quoted YAML: the payloads contain `"` and `>` but no `'`.
    let s = format!("'{SCRIPT}'");
    let i = format!("'{IMG}'");
    format!(
        r#"---
title: 'Checkout {SCRIPT} down'
status: published
severity: SEV2
owner: bob
tech_lead: alice
responders: [bob, alice]
services: [{s}, {i}]
tags: [{s}, {i}]
started_at: 2026-11-02T09:00:00+01:00
detected_at: 2026-11-02T09:05:00+01:00
declared_at: 2026-11-02T09:15:00+01:00
mitigated_at: 2026-11-02T09:45:00+01:00
resolved_at: 2026-11-02T10:30:00+01:00
summary: {i}
customer_impact: {s}
dashboard: 'javascript:alert(1)'
timeline:
  - at: 2026-11-02T09:05:00+01:00
    event: {s}
    who: [{i}, bob]
  - at: 2026-11-02T09:15:00+01:00
    event: {i}
    who: {s}
whys:
  - why: {s}
    because: {i}
  - why: {i}
    because: {s}
  - why: {s}
    because: {i}
  - why: {i}
    because: {s}
  - why: {s}
    because: {i}
root_cause: {s}
factors:
  - category: monitoring
    description: {s}
  - category: process
    description: {i}
action_items:
  - id: AI-1
    title: {s}
    owner: carol
    due: 2026-12-18
    status: open
    ticket: 'javascript:alert(1)'
  - id: AI-2
    title: {i}
    owner: bob
    due: 2026-11-20
    status: wontfix
    closed_at: 2026-11-18
    reason: {s}
links:
  - title: {s}
    url: 'javascript:alert(1)'
  - title: {i}
    url: https://grafana.example.com/d/checkout
waivers:
  - rule: declare-late
    reason: {i}
---

## What {SCRIPT} happened

<script>alert(1)</script>

<img src=x onerror=alert(1)>

[x](javascript:alert(1)) and <a href="javascript:alert(2)">y</a>

<iframe src="https://evil.example.com/"></iframe>

<svg onload=alert(1)><circle r="1"/></svg>

<a href="JaVaScRiPt:alert(3)">z</a> <a href="  javascript:alert(4)">w</a>

<p onclick="alert(5)" style="background:url(javascript:alert(6))">styled</p>

<object data="x"></object><embed src="x"><form action="x"><input formaction="javascript:alert(7)"></form>

<math><mi xlink:href="javascript:alert(8)">m</mi></math>
"#
    )
}

fn hostile_repo() -> Repo {
    let repo = Repo::new();
    let config = standard_config().replace(
        "[rules]\n",
        "[fields.customer_impact]\ntype = \"text\"\nlabel = 'Customer impact'\n\n\
         [fields.dashboard]\ntype = \"url\"\nlabel = \"Dashboard\"\n\n\
         [rules]\nurl-invalid = \"allow\"\n",
    );
    repo.config(&config);
    repo.write("content/2026-11-02-hostile.md", hostile());
    // A second, ordinary postmortem on the same service, so charts and related lists
    // have something to connect.
    repo.write(
        "content/2026-10-01-plain.md",
        Pm::published()
            .replace("2026-11-02T09:00:00+01:00", "2026-10-01T09:00:00+01:00")
            .replace(
                "services: [checkout-api, orders-db]",
                &format!("services: [{}]", format_args!("'{SCRIPT}'")),
            ),
    );
    repo
}

/// Every generated file that a browser or feed reader parses as markup, as text.
fn markup_files(repo: &Repo) -> Vec<(String, String)> {
    tree(&repo.path().join("public"))
        .into_iter()
        .filter(|(path, _)| {
            path.ends_with(".html") || path.ends_with(".xml") || path.ends_with(".svg")
        })
        .map(|(path, bytes)| (path, String::from_utf8_lossy(&bytes).into_owned()))
        .collect()
}

/// Elements that run code or load other documents; none belongs on a generated page.
const FORBIDDEN: &[&str] = &[
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "base",
    "link-import",
    "portal",
    "foreignobject",
    "animate",
    "set",
    "handler",
    "listener",
];

/// Everything a page may do to run code: returns one line per problem.
fn active_content(path: &str, html: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let lower = html.to_lowercase();
    // Text is always escaped, so these can only be markup.
    for literal in ["<iframe", "<img src=x", "<svg onload", "<object", "<embed"] {
        if lower.contains(literal) {
            problems.push(format!("{path}: contains {literal:?}"));
        }
    }
    for tag in tags(html) {
        let name = tag.name.as_str();
        if FORBIDDEN.contains(&name) {
            problems.push(format!("{path}: <{name}> element"));
        }
        if name == "script" {
            // Only the theme's own script, by a relative or base-URL path.
            let own = tag.attrs.len() == 2
                && tag.attr("defer") == Some("")
                && tag.attr("src").is_some_and(|src| {
                    let base = src.strip_suffix("static/site.js").unwrap_or("x");
                    base == "/"
                        || base == BASE_URL
                        || base.split('/').all(|p| p.is_empty() || p == "..")
                });
            if !own {
                problems.push(format!("{path}: script {:?}", tag.attrs));
            }
        }
        if name == "meta"
            && tag
                .attr("http-equiv")
                .is_some_and(|h| h.eq_ignore_ascii_case("refresh"))
        {
            problems.push(format!("{path}: meta refresh"));
        }
        for (attr, value) in &tag.attrs {
            if attr.starts_with("on") {
                problems.push(format!("{path}: <{name} {attr}=…> event handler"));
            }
            let squeezed: String = value
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect::<String>()
                .to_lowercase();
            for scheme in ["javascript:", "vbscript:", "data:text/html"] {
                if squeezed.contains(scheme) {
                    problems.push(format!("{path}: <{name} {attr}={value:?}>"));
                }
            }
            if attr == "style" && (squeezed.contains("url(") || squeezed.contains("expression(")) {
                problems.push(format!("{path}: <{name} style={value:?}>"));
            }
            if matches!(attr.as_str(), "srcdoc" | "formaction" | "action") {
                problems.push(format!("{path}: <{name} {attr}=…>"));
            }
        }
    }
    problems
}

#[test]
fn the_active_content_check_catches_what_it_must() {
    // The scanner must be able to fail, or a clean result proves nothing.
    let bad = [
        "<script>alert(1)</script>",
        "<script src=\"https://evil.example.com/x.js\" defer></script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<a href=\"JavaScript:alert(1)\">x</a>",
        "<a href=\" java&#x09;script:alert(1)\">x</a>",
        "<a href='javascript&colon;x' onclick='x'>",
        "<iframe src=\"https://x\"></iframe>",
        "<p style=\"background:url(x)\">",
        "<meta http-equiv=\"refresh\" content=\"0;url=https://x\">",
        "<form action=\"x\"><button formaction=\"x\">",
    ];
    for html in bad {
        assert!(
            !active_content("t.html", html).is_empty(),
            "not caught: {html}"
        );
    }
    let good = "<script src=\"../../static/site.js\" defer></script><p>&lt;script&gt; onerror=alert(1) javascript:x</p><a href=\"https://x\" title=\"a\">y</a>";
    assert_eq!(active_content("t.html", good), Vec::<String>::new());
}

#[test]
fn the_hostile_fixture_is_published_and_the_url_rule_fires() {
    let repo = hostile_repo();
    let report = repo.check_json(&[]);
    assert_eq!(report.errors, 0, "{report}");
    let config = repo.read("debrief.toml");
    repo.config(&replace_all(&config, "url-invalid = \"allow\"\n", ""));
    let strict = repo.check_json(&[]);
    // The ticket, the link and the custom URL field.
    assert_eq!(strict.of("url-invalid").len(), 3, "{strict}");
    repo.config(&config);
    let out = build_ok(&repo, &[]);
    assert!(out.stdout.contains("built 2 postmortem(s)"), "{out}");
    assert!(repo.exists("public/postmortems/2026-11-02-hostile/index.html"));
}

#[test]
fn no_script_handler_or_javascript_url_reaches_any_page() {
    let repo = hostile_repo();
    build_ok(&repo, &[]);
    let files = markup_files(&repo);
    assert!(files.len() > 10, "{} files", files.len());
    let problems: Vec<String> = files
        .iter()
        .flat_map(|(path, text)| active_content(path, text))
        .collect();
    assert!(
        problems.is_empty(),
        "active content:\n{}",
        problems.join("\n")
    );
    // With --drafts and a base URL (absolute links on 404.html) too.
    build_ok(&repo, &["--drafts", "--base-url", BASE_URL]);
    let problems: Vec<String> = markup_files(&repo)
        .iter()
        .flat_map(|(path, text)| active_content(path, text))
        .collect();
    assert!(
        problems.is_empty(),
        "active content:\n{}",
        problems.join("\n")
    );
}

#[test]
fn hostile_text_is_shown_escaped() {
    let repo = hostile_repo();
    build_ok(&repo, &[]);
    let html = page(&repo, "postmortems/2026-11-02-hostile/index.html");
    let escaped_script = "&lt;script&gt;alert(1)&lt;/script&gt;";
    assert!(
        html.contains(&format!(">Checkout {escaped_script} down</h1>")),
        "{html}"
    );
    assert!(
        html.contains(&format!("<title>Checkout {escaped_script} down ")),
        "{html}"
    );
    // Every hostile string is on the page as the text it is.
    let text_of = |id: &str| visible_text(section(&html, id));
    for (id, expected) in [
        ("summary-h", IMG),
        ("summary-h", SCRIPT),
        ("timeline-h", SCRIPT),
        ("timeline-h", IMG),
        ("whys-h", SCRIPT),
        ("whys-h", IMG),
        ("factors-h", SCRIPT),
        ("factors-h", IMG),
        ("items-h", SCRIPT),
        ("items-h", IMG),
        ("links-h", IMG),
        ("waivers-h", IMG),
    ] {
        let text = text_of(id);
        assert!(
            text.contains(expected),
            "{id} should show {expected:?}: {text}"
        );
    }
    let page_text = visible_text(&html);
    assert!(
        page_text.contains(&format!("Root cause {SCRIPT}")),
        "{page_text}"
    );
    assert!(
        page_text.contains(&format!("Customer impact {SCRIPT}")),
        "{page_text}"
    );
    assert!(
        page_text.contains(&format!("Checkout {SCRIPT} down")),
        "{page_text}"
    );
    // The one link with a safe URL keeps its (escaped) title; the javascript: link is gone.
    let page_links = links(&html);
    assert!(
        page_links.contains(&(
            "https://grafana.example.com/d/checkout".to_owned(),
            IMG.to_owned()
        )),
        "{page_links:?}"
    );
    assert!(
        !page_links.iter().any(|(_, t)| t == SCRIPT),
        "{page_links:?}"
    );
    // Service and tag chips link to pages under safe folder names.
    let index = page(&repo, "index.html");
    assert!(
        has(
            &links(&index),
            "services/script-alert-1-script/index.html",
            SCRIPT
        ),
        "{:?}",
        links(&index)
    );
    assert!(repo.exists("public/services/script-alert-1-script/index.html"));
    assert!(repo.exists("public/services/img-src-x-onerror-alert-1/index.html"));
    assert!(repo.exists("public/tags/script-alert-1-script/index.html"));
    assert!(repo.exists("public/tags/img-src-x-onerror-alert-1/index.html"));
    let service = page(&repo, "services/script-alert-1-script/index.html");
    assert!(
        visible_text(&service).contains(&format!("Service: {SCRIPT}")),
        "{service}"
    );
    let feed = page(&repo, "feed.xml");
    assert!(
        feed.contains(&format!("<title>Checkout {escaped_script} down</title>")),
        "{feed}"
    );
}

fn has(links: &[(String, String)], href: &str, text: &str) -> bool {
    links.iter().any(|(h, t)| h == href && t.contains(text))
}

#[test]
fn trend_charts_escape_service_and_tag_names() {
    let repo = hostile_repo();
    build_ok(&repo, &[]);
    let html = page(&repo, "trends/index.html");
    assert!(html.contains("<svg"), "the trends page has charts\n{html}");
    let problems = active_content("trends/index.html", &html);
    assert!(
        problems.is_empty(),
        "active content:\n{}",
        problems.join("\n")
    );
    // The names are in the charts, escaped, and link to their pages.
    let svgs: Vec<&str> = html
        .split("<svg")
        .skip(1)
        .map(|s| s.split("</svg>").next().unwrap_or(""))
        .collect();
    assert!(
        svgs.iter()
            .any(|s| s.contains("&lt;script&gt;alert(1)&lt;/script&gt;")),
        "{html}"
    );
    assert!(
        svgs.iter()
            .any(|s| s.contains("href=\"../services/script-alert-1-script/index.html\"")),
        "{html}"
    );
}

#[test]
fn data_exports_carry_text_verbatim_but_no_javascript_urls() {
    let repo = hostile_repo();
    build_ok(&repo, &[]);
    // CSV and iCalendar are plain text: the titles are data, but the unsafe ticket URL
    // must not become a link in a tracker or calendar.
    for file in ["action-items.csv", "action-items.ics"] {
        let text = page(&repo, file).to_lowercase();
        assert!(!text.contains("javascript:"), "{file}:\n{text}");
    }
    let csv = page(&repo, "action-items.csv");
    assert!(
        csv.contains(&format!(
            "2026-11-02-hostile,AI-1,{SCRIPT},carol,2026-12-18,open,,,"
        )),
        "{csv}"
    );
    // JSON stays valid whatever the strings hold.
    let json: serde_json::Value =
        serde_json::from_str(&page(&repo, "postmortems.json")).expect("postmortems.json parses");
    let hostile = json["postmortems"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["id"] == "2026-11-02-hostile")
        .expect("the hostile postmortem");
    assert_eq!(
        hostile["front_matter"]["title"],
        format!("Checkout {SCRIPT} down")
    );
    let js = page(&repo, "static/search-index.js");
    let data = js
        .strip_prefix("window.DEBRIEF_SEARCH = ")
        .and_then(|s| s.strip_suffix(";\n"))
        .expect("the search index script");
    let _: serde_json::Value = serde_json::from_str(data).expect("the index is JSON");
}
