//! `debrief build`: the pages it writes, their links, escaping of hostile content,
//! determinism, the atomic swap, refused output folders, snapshots, page content,
//! theme overrides and the empty repository.

#[path = "site_content.rs"]
mod site_content;
#[path = "site_safety.rs"]
mod site_safety;
#[path = "site_theme.rs"]
mod site_theme;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::harness::*;

/// File names of the four postmortems of [`four_postmortems`], without `.md`.
pub const CHECKOUT: &str = "2026-11-02-checkout-503s";
pub const SEARCH: &str = "2025-06-10-search-index-stale";
pub const DNS: &str = "2024-03-15-dns-outage";
pub const DRAFT: &str = "2026-11-20-queue-backlog";

/// The draft's title: it must never leak into a build without `--drafts`.
pub const DRAFT_TITLE: &str = "Queue backlog grew for six hours";

/// The standard config with `[site]` pointing at Berlin time and a repository URL.
pub fn site_config() -> String {
    standard_config().replace(
        "timezone = \"UTC\"\n",
        "timezone = \"Europe/Berlin\"\nrepo_url = \"https://github.com/acme/pm\"\n",
    )
}

/// Replaces every occurrence of `from` (at least one) in `text`.
pub fn replace_all(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` is not in the fixture");
    text.replace(from, to)
}

/// The newest postmortem: SEV2, checkout-api/orders-db, owner bob. Its AI-1 is one day
/// overdue, a timeline entry sits 12 minutes after the start, `detected_at` is written in
/// UTC, it lists [`SEARCH`] and the draft as related, and it has a second monitoring
/// factor and a footnote.
pub fn checkout_pm() -> Pm {
    witness()
        .replace(
            "detected_at: 2026-11-02T09:05:00+01:00",
            "detected_at: 2026-11-02T08:05:00Z",
        )
        .replace(
            "  - at: 2026-11-02T09:15:00+01:00\n    event: Bob declares",
            "  - at: 2026-11-02T09:12:00+01:00\n    event: Bob declares",
        )
        .insert_after(
            "    description: No alert on connection-pool saturation.",
            "  - category: monitoring\n    description: Pool metrics were sampled only every five minutes.",
        )
        .insert_after(
            "    url: https://grafana.example.com/d/checkout",
            &format!("related: [{SEARCH}, {DRAFT}]"),
        )
        .body("See the pool graph.[^pool]\n\n[^pool]: Captured at 09:20.\n")
}

/// A postmortem from another year, with other severity, services, tags and owner.
pub fn other_pm(
    date: &str,
    title: &str,
    severity: &str,
    owner: &str,
    service: &str,
    tag: &str,
) -> String {
    let text = replace_all(Pm::published().text(), "2026-11-02", date);
    let text = replace_all(
        &text,
        "title: Checkout returned 503s for 40 minutes",
        &format!("title: {title}"),
    );
    let text = replace_all(&text, "severity: SEV2", &format!("severity: {severity}"));
    let text = replace_all(
        &text,
        "owner: bob\ntech_lead",
        &format!("owner: {owner}\ntech_lead"),
    );
    let text = replace_all(
        &text,
        "services: [checkout-api, orders-db]",
        &format!("services: [{service}]"),
    );
    replace_all(
        &text,
        "tags: [database, capacity]",
        &format!("tags: [{tag}]"),
    )
}

/// Three published postmortems (2026, 2025, 2024) and one draft, with [`site_config`].
pub fn four_postmortems() -> Repo {
    let repo = Repo::new();
    repo.config(&site_config());
    repo.write(&format!("content/{CHECKOUT}.md"), checkout_pm());
    repo.write(
        &format!("content/{SEARCH}.md"),
        other_pm(
            "2025-06-10",
            "Search served a stale index",
            "SEV1",
            "alice",
            "search-api",
            "indexing",
        ),
    );
    let dns = other_pm(
        "2024-03-15",
        "DNS resolution failed in eu-west",
        "SEV3",
        "carol",
        "dns",
        "network",
    );
    repo.write(
        &format!("content/{DNS}.md"),
        replace_all(&dns, "due: 2026-12-18", "due: 2027-03-01"),
    );
    let draft = other_pm(
        "2026-11-20",
        DRAFT_TITLE,
        "SEV4",
        "bob",
        "queue-worker",
        "draft-only",
    );
    repo.write(
        &format!("content/{DRAFT}.md"),
        replace_all(&draft, "status: published", "status: draft"),
    );
    repo
}

/// `debrief build --today 2026-12-04 EXTRA…` in the repository root.
pub fn build(repo: &Repo, extra: &[&str]) -> Output {
    let mut args = vec!["build", "--today", TODAY];
    args.extend_from_slice(extra);
    repo.run(&args)
}

/// Builds into `public/`, asserting success.
pub fn build_ok(repo: &Repo, extra: &[&str]) -> Output {
    let out = build(repo, extra);
    out.assert_code(0);
    out
}

/// Every file below `dir`, by `/`-separated relative path, with its bytes.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let entries =
            fs::read_dir(&folder).unwrap_or_else(|e| panic!("list {}: {e}", folder.display()));
        for entry in entries {
            let path = entry.expect("read a folder entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("below dir");
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                files.insert(rel.join("/"), fs::read(&path).expect("read a file"));
            }
        }
    }
    files
}

/// The text of a built file (`public/` + `rel`).
pub fn page(repo: &Repo, rel: &str) -> String {
    repo.read(&format!("public/{rel}"))
}

/// Byte offset of the one occurrence of `needle` in `text`.
pub fn position(text: &str, needle: &str) -> usize {
    let count = text.matches(needle).count();
    assert_eq!(count, 1, "`{needle}` occurs {count} times in:\n{text}");
    text.find(needle).expect("counted above")
}

/// One tag of a page: `<a href="x">` is `{ name: "a", attrs: [("href", "x")] }`, and a
/// closing tag `</a>` has the name `/a`. Attribute values are entity-decoded.
#[derive(Clone, Debug)]
pub struct Tag {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    /// Byte range of the tag in the page.
    pub start: usize,
    pub end: usize,
}

impl Tag {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every tag of `html`, the way a browser tokenises it (well enough for generated pages):
/// comments and `<!doctype>` are skipped, `<script>` and `<style>` contents are raw text,
/// and a `<` not followed by a letter or `/` is text.
pub fn tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(offset) = html[i..].find('<') {
        let start = i + offset;
        let rest = &html[start..];
        if rest.starts_with("<!--") {
            i = rest.find("-->").map_or(html.len(), |e| start + e + 3);
            continue;
        }
        let next = bytes.get(start + 1).copied().unwrap_or(b' ');
        if next == b'!' || next == b'?' {
            i = rest.find('>').map_or(html.len(), |e| start + e + 1);
            continue;
        }
        let closing = next == b'/';
        let name_start = start + 1 + usize::from(closing);
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            i = start + 1;
            continue;
        }
        let mut j = name_start;
        while j < bytes.len() && !bytes[j].is_ascii_whitespace() && !matches!(bytes[j], b'>' | b'/')
        {
            j += 1;
        }
        let name = html[name_start..j].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while j < bytes.len() && (bytes[j].is_ascii_whitespace() || bytes[j] == b'/') {
                j += 1;
            }
            if j >= bytes.len() || bytes[j] == b'>' {
                break;
            }
            let attr_start = j;
            while j < bytes.len()
                && !bytes[j].is_ascii_whitespace()
                && !matches!(bytes[j], b'=' | b'>' | b'/')
            {
                j += 1;
            }
            if j == attr_start {
                // A stray `=`: skip it like a browser would.
                j += 1;
                continue;
            }
            let attr = html[attr_start..j].to_ascii_lowercase();
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            let mut value = String::new();
            if bytes.get(j) == Some(&b'=') {
                j += 1;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                match bytes.get(j) {
                    Some(&quote) if quote == b'"' || quote == b'\'' => {
                        let close = html[j + 1..]
                            .find(char::from(quote))
                            .map_or(html.len(), |e| j + 1 + e);
                        value = decode_entities(&html[j + 1..close]);
                        j = (close + 1).min(html.len());
                    }
                    _ => {
                        let value_start = j;
                        while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>'
                        {
                            j += 1;
                        }
                        value = decode_entities(&html[value_start..j]);
                    }
                }
            }
            attrs.push((attr, value));
        }
        let end = (j + 1).min(html.len());
        let raw_text = !closing && (name == "script" || name == "style");
        out.push(Tag {
            name: if closing {
                format!("/{name}")
            } else {
                name.clone()
            },
            attrs,
            start,
            end,
        });
        i = end;
        if raw_text {
            let close = format!("</{name}");
            i = html[end..]
                .to_ascii_lowercase()
                .find(&close)
                .map_or(html.len(), |e| end + e);
        }
    }
    out
}

/// The values of every `name="…"` attribute in `html`.
pub fn attributes(html: &str, name: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .flat_map(|t| t.attrs)
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v)
        .collect()
}

/// The text a reader sees: tags become spaces, entities are decoded, runs of white space
/// become one space.
pub fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut at = 0;
    for tag in tags(html) {
        text.push_str(&html[at..tag.start]);
        text.push(' ');
        at = tag.end;
    }
    text.push_str(&html[at.min(html.len())..]);
    decode_entities(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each `<name …>` with the visible text up to its closing tag (elements of the same name
/// are not expected to nest).
pub fn elements(html: &str, name: &str) -> Vec<(Tag, String)> {
    let close = format!("</{name}");
    tags(html)
        .into_iter()
        .filter(|t| t.name == name)
        .map(|t| {
            let inner_end = html[t.end..].find(&close).map_or(html.len(), |e| t.end + e);
            let text = visible_text(&html[t.end..inner_end]);
            (t, text)
        })
        .collect()
}

/// `(href, text)` of every link in `html`.
pub fn links(html: &str) -> Vec<(String, String)> {
    elements(html, "a")
        .into_iter()
        .filter_map(|(t, text)| Some((t.attr("href")?.to_owned(), text)))
        .collect()
}

/// The part of a page from the element with `id` to the end of its `<section>`.
pub fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let from = position(html, &format!(" id=\"{id}\""));
    let to = html[from..]
        .find("</section>")
        .map_or(html.len(), |e| from + e);
    &html[from..to]
}

/// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;` and numeric references.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(semi) = rest.bytes().take(12).position(|b| b == b';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .map_or_else(
                    || entity.strip_prefix('#').and_then(|d| d.parse::<u32>().ok()),
                    |h| u32::from_str_radix(h, 16).ok(),
                )
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("percent-encoded UTF-8")
}

/// Resolves a relative `link` found on the page at `from` (both relative to the site root);
/// `None` when it climbs above the root.
pub fn resolve(from: &str, link: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for part in link.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    let mut path = parts.join("/");
    if link.ends_with('/') || link.is_empty() {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str("index.html");
    }
    Some(path)
}

/// Every `id` that occurs more than once on a page: a fragment link to it is ambiguous.
pub fn duplicate_ids(site: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut found = Vec::new();
    for (path, bytes) in site.iter().filter(|(p, _)| p.ends_with(".html")) {
        let mut seen = BTreeSet::new();
        for id in attributes(&String::from_utf8_lossy(bytes), "id") {
            if !seen.insert(id.clone()) {
                found.push(format!("{path}: id=\"{id}\" occurs more than once"));
            }
        }
    }
    found
}

/// Every broken link of a built site: relative `href`/`src` targets that are not files of
/// the site, and `#fragment`s without a matching `id` on their target page.
pub fn broken_links(site: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let ids: BTreeMap<&str, BTreeSet<String>> = site
        .iter()
        .filter(|(path, _)| path.ends_with(".html"))
        .map(|(path, bytes)| {
            let html = String::from_utf8_lossy(bytes);
            (path.as_str(), attributes(&html, "id").into_iter().collect())
        })
        .collect();
    let mut broken = Vec::new();
    for (path, bytes) in site.iter().filter(|(p, _)| p.ends_with(".html")) {
        let html = String::from_utf8_lossy(bytes);
        let links = attributes(&html, "href")
            .into_iter()
            .chain(attributes(&html, "src"));
        for link in links {
            let lower = link.to_ascii_lowercase();
            if lower.starts_with("http://")
                || lower.starts_with("https://")
                || lower.starts_with("mailto:")
            {
                continue;
            }
            let scheme = link
                .split_once(':')
                .map(|(s, _)| s)
                .filter(|s| !s.contains(['/', '?', '#']));
            if link.starts_with("//") || scheme.is_some() {
                broken.push(format!("{path}: unexpected link {link:?}"));
                continue;
            }
            let (target, fragment) = match link.split_once('#') {
                Some((target, fragment)) => (target, Some(fragment)),
                None => (link.as_str(), None),
            };
            let target = target.split('?').next().unwrap_or("");
            let file = if target.is_empty() {
                Some(path.clone())
            } else if let Some(absolute) = target.strip_prefix('/') {
                // Root-relative (a base URL of `/`): from the site root.
                resolve("", &percent_decode(absolute))
            } else {
                resolve(path, &percent_decode(target))
            };
            let Some(file) = file else {
                broken.push(format!("{path}: {link:?} leaves the site"));
                continue;
            };
            if !site.contains_key(&file) {
                broken.push(format!("{path}: {link:?} → {file} does not exist"));
                continue;
            }
            if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
                let fragment = percent_decode(fragment);
                if let Some(ids) = ids.get(file.as_str()) {
                    if !ids.contains(&fragment) {
                        broken.push(format!(
                            "{path}: {link:?} has no id=\"{fragment}\" in {file}"
                        ));
                    }
                }
            }
        }
    }
    broken
}

/// Sibling entries of `public/` left by a build (`.public.tmp-*`, `.public.old-*`).
pub fn leftovers(repo: &Repo) -> Vec<PathBuf> {
    fs::read_dir(repo.path())
        .expect("list the repository")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".public."))
        })
        .collect()
}

// --- 1. pages exist ----------------------------------------------------------------------

/// Pages every build has, whatever the content.
const FIXED_PAGES: &[&str] = &[
    "index.html",
    "actions/index.html",
    "trends/index.html",
    "services/index.html",
    "tags/index.html",
    "people/index.html",
    "404.html",
    "feed.xml",
    "postmortems.json",
    "action-items.csv",
    "action-items.ics",
    "static/style.css",
    "static/site.js",
    "static/search-index.js",
];

fn assert_files(repo: &Repo, paths: &[String], present: bool) {
    for path in paths {
        assert_eq!(
            repo.exists(&format!("public/{path}")),
            present,
            "public/{path} should {}exist; built: {:?}",
            if present { "" } else { "not " },
            tree(&repo.path().join("public")).keys().collect::<Vec<_>>()
        );
    }
}

#[test]
fn build_writes_every_page_of_the_published_postmortems() {
    let repo = four_postmortems();
    let out = build_ok(&repo, &[]);
    assert!(out.stdout.contains("built 3 postmortem(s)"), "{out}");
    let mut expected: Vec<String> = FIXED_PAGES.iter().map(|p| (*p).to_owned()).collect();
    for id in [CHECKOUT, SEARCH, DNS] {
        expected.push(format!("postmortems/{id}/index.html"));
    }
    for page in [
        "services/checkout-api/index.html",
        "services/orders-db/index.html",
        "services/search-api/index.html",
        "services/dns/index.html",
        "tags/database/index.html",
        "tags/capacity/index.html",
        "tags/indexing/index.html",
        "tags/network/index.html",
        "severity/sev1/index.html",
        "severity/sev2/index.html",
        "severity/sev3/index.html",
        "years/2026/index.html",
        "years/2025/index.html",
        "years/2024/index.html",
        "people/alice/index.html",
        "people/bob/index.html",
        "people/carol/index.html",
    ] {
        expected.push(page.to_owned());
    }
    assert_files(&repo, &expected, true);
    assert!(repo.exists("public/.debrief-site"), "the marker is written");

    // Nothing of the draft: no page, no taxonomy page of its own, not its title anywhere.
    let draft_only = [
        format!("postmortems/{DRAFT}/index.html"),
        "services/queue-worker/index.html".to_owned(),
        "tags/draft-only/index.html".to_owned(),
        "severity/sev4/index.html".to_owned(),
    ];
    assert_files(&repo, &draft_only, false);
    for (path, bytes) in tree(&repo.path().join("public")) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(DRAFT_TITLE),
            "the draft's title leaked into {path}"
        );
    }
}

#[test]
fn build_with_drafts_adds_the_draft_with_a_banner() {
    let repo = four_postmortems();
    let out = build_ok(&repo, &["--drafts"]);
    assert!(out.stdout.contains("built 4 postmortem(s)"), "{out}");
    assert_files(
        &repo,
        &[
            format!("postmortems/{DRAFT}/index.html"),
            "services/queue-worker/index.html".to_owned(),
            "tags/draft-only/index.html".to_owned(),
            "severity/sev4/index.html".to_owned(),
        ],
        true,
    );
    let draft = page(&repo, &format!("postmortems/{DRAFT}/index.html"));
    assert!(draft.contains("banner-draft"), "{draft}");
    assert!(
        draft.contains("<strong>Draft:</strong> this postmortem is not published"),
        "{draft}"
    );
    let published = page(&repo, &format!("postmortems/{CHECKOUT}/index.html"));
    assert!(!published.contains("banner-draft"), "{published}");
}

#[test]
fn services_that_share_a_slug_are_all_listed_on_their_page() {
    let repo = Repo::new();
    repo.write(
        "content/a.md",
        Pm::published().replace(
            "services: [checkout-api, orders-db]",
            "services: [Checkout API]",
        ),
    );
    repo.write(
        "content/b.md",
        Pm::published()
            .replace(
                "services: [checkout-api, orders-db]",
                "services: [checkout-api]",
            )
            .replace(
                "title: Checkout returned 503s for 40 minutes",
                "title: Checkout again",
            ),
    );
    build_ok(&repo, &[]);
    // Every service link on the services index leads to a page listing that service's
    // postmortem: a and b both reachable, whichever way the names are merged.
    let services = page(&repo, "services/index.html");
    let mut listed = BTreeSet::new();
    for (href, name) in links(&services) {
        if !href.starts_with("../services/") || href == "../services/index.html" {
            continue;
        }
        let target = resolve("services/index.html", &href).expect("inside the site");
        let ids = tags(&page(&repo, &target))
            .into_iter()
            .filter(|t| t.name == "tr")
            .filter_map(|t| t.attr("data-id").map(str::to_owned))
            .collect::<Vec<_>>();
        let expected = if name == "Checkout API" { "a" } else { "b" };
        assert!(
            ids.iter().any(|id| id == expected),
            "the page of service {name:?} ({target}) does not list {expected}: {ids:?}"
        );
        listed.extend(ids);
    }
    assert!(listed.contains("a") && listed.contains("b"), "{listed:?}");
}

// --- 2. links ------------------------------------------------------------------------------

#[test]
fn link_checker_finds_a_broken_link_and_a_missing_anchor() {
    // The checker itself must be able to fail, or a green link test proves nothing.
    let mut site = BTreeMap::new();
    site.insert(
        "a/index.html".to_owned(),
        br##"<a href="../b.html">ok</a> <a href="../c.html">gone</a> <a class="x" href="#top">top</a> <a href="../b.html#here">there</a> <img src="../../up.png"> <a data-href="nowhere">x</a>"##.to_vec(),
    );
    site.insert("b.html".to_owned(), br#"<p id="here">b</p>"#.to_vec());
    let broken = broken_links(&site);
    assert_eq!(broken.len(), 3, "{broken:#?}");
    assert!(broken[0].contains("c.html"), "{broken:#?}");
    assert!(broken[1].contains("#top"), "{broken:#?}");
    assert!(broken[2].contains("leaves the site"), "{broken:#?}");
}

#[test]
fn every_relative_link_and_anchor_of_the_site_resolves() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let site = tree(&repo.path().join("public"));
    let html_pages = site.keys().filter(|p| p.ends_with(".html")).count();
    assert!(html_pages > 20, "only {html_pages} pages");
    let broken = broken_links(&site);
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    let duplicates = duplicate_ids(&site);
    assert!(duplicates.is_empty(), "{}", duplicates.join("\n"));
}

#[test]
fn every_relative_link_resolves_with_drafts_too() {
    let repo = four_postmortems();
    build_ok(&repo, &["--drafts"]);
    let broken = broken_links(&tree(&repo.path().join("public")));
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

// --- 4. determinism ------------------------------------------------------------------------

#[test]
fn two_builds_are_byte_identical() {
    let repo = four_postmortems();
    build_ok(&repo, &["--output", "one"]);
    // A different time zone and locale of the machine must not matter either.
    let out = repo.run_env(
        &["build", "--today", TODAY, "--output", "two"],
        &[
            ("TZ", Some("America/New_York")),
            ("LANG", Some("de_DE.UTF-8")),
        ],
    );
    out.assert_code(0);
    let one = tree(&repo.path().join("one"));
    let two = tree(&repo.path().join("two"));
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        two.keys().collect::<Vec<_>>(),
        "file lists differ"
    );
    for (path, bytes) in &one {
        assert!(bytes == &two[path], "{path} differs between builds");
    }
}

// --- 5. atomicity --------------------------------------------------------------------------

fn assert_refused_and_kept(repo: &Repo, before: &BTreeMap<String, Vec<u8>>, file: &str) {
    let out = build(repo, &[]);
    out.assert_code(1);
    assert!(
        out.stderr.contains(file),
        "stderr should name {file}\n{out}"
    );
    assert!(out.stderr.contains("not building"), "{out}");
    assert!(!out.stdout.contains("built"), "{out}");
    let after = tree(&repo.path().join("public"));
    assert!(
        before == &after,
        "the previous site changed after a refused build"
    );
    assert!(
        leftovers(repo).is_empty(),
        "left behind: {:?}",
        leftovers(repo)
    );
}

#[test]
fn a_postmortem_with_an_error_leaves_the_previous_site_as_it_was() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    assert!(
        leftovers(&repo).is_empty(),
        "left behind: {:?}",
        leftovers(&repo)
    );
    let before = tree(&repo.path().join("public"));
    let file = format!("content/{SEARCH}.md");
    let text = repo.read(&file);
    repo.write(
        &file,
        replace_all(&text, "severity: SEV1", "severity: SEV9"),
    );
    assert_refused_and_kept(&repo, &before, &file);
}

#[test]
fn a_published_postmortem_that_does_not_parse_leaves_the_previous_site_as_it_was() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let before = tree(&repo.path().join("public"));
    let file = format!("content/{DNS}.md");
    let text = repo.read(&file);
    repo.write(
        &file,
        replace_all(&text, "tags: [network]", "tags: [network"),
    );
    assert_refused_and_kept(&repo, &before, &file);
}

#[test]
fn an_error_in_a_draft_does_not_block_the_build() {
    let repo = four_postmortems();
    let file = format!("content/{DRAFT}.md");
    let text = repo.read(&file);
    repo.write(
        &file,
        replace_all(&text, "severity: SEV4", "severity: SEV9"),
    );
    let out = build_ok(&repo, &[]);
    assert!(
        out.stderr.contains(&file),
        "the finding is still reported\n{out}"
    );
    // With --drafts the draft would be published: then it blocks.
    build(&repo, &["--drafts"]).assert_code(1);
}

#[test]
fn a_rebuild_replaces_the_previous_site_and_drops_stale_pages() {
    let repo = four_postmortems();
    build_ok(&repo, &["--drafts"]);
    assert!(repo.exists(&format!("public/postmortems/{DRAFT}/index.html")));
    build_ok(&repo, &[]);
    assert!(!repo.exists(&format!("public/postmortems/{DRAFT}/index.html")));
    assert!(
        leftovers(&repo).is_empty(),
        "left behind: {:?}",
        leftovers(&repo)
    );
}

// --- 6. refusals ---------------------------------------------------------------------------

#[test]
fn an_existing_folder_without_the_marker_is_not_replaced() {
    let repo = four_postmortems();
    repo.write("mine/notes.txt", "my own notes\n");
    let before = repo.snapshot();
    let out = build(&repo, &["--output", "mine"]);
    out.assert_code(2);
    assert!(out.stderr.contains("was not written by debrief"), "{out}");
    assert_eq!(repo.snapshot(), before, "a refused build changed files");
}

#[test]
fn an_empty_folder_and_a_folder_with_the_marker_are_replaced() {
    let repo = four_postmortems();
    fs::create_dir_all(repo.path().join("empty")).expect("create a folder");
    build_ok(&repo, &["--output", "empty"]);
    assert!(repo.exists("empty/index.html"));
    repo.write("old-site/.debrief-site", "marker\n");
    repo.write("old-site/stale.html", "old\n");
    build_ok(&repo, &["--output", "old-site"]);
    assert!(repo.exists("old-site/index.html"));
    assert!(!repo.exists("old-site/stale.html"));
}

#[test]
fn the_content_folder_and_the_repository_are_refused_as_output() {
    let repo = four_postmortems();
    let before = repo.snapshot();
    for output in ["content", ".", "content/site", "..", "content/"] {
        let out = build(&repo, &["--output", output]);
        out.assert_code(2);
        assert!(out.stderr.contains("refusing"), "--output {output}\n{out}");
        assert_eq!(repo.snapshot(), before, "--output {output} changed files");
    }
}

#[test]
fn the_repository_is_refused_as_output_from_a_sub_folder_too() {
    let repo = four_postmortems();
    let before = repo.snapshot();
    let out = repo.run_in("content", &["build", "--today", TODAY, "--output", ".."]);
    out.assert_code(2);
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn a_file_is_refused_as_output() {
    let repo = four_postmortems();
    repo.write("site.html", "mine\n");
    let before = repo.snapshot();
    let out = build(&repo, &["--output", "site.html"]);
    out.assert_code(2);
    assert!(out.stderr.contains("is not a folder"), "{out}");
    assert_eq!(repo.snapshot(), before);
}

#[test]
fn the_content_folder_is_refused_through_a_dotdot_path_too() {
    let repo = four_postmortems();
    let before = repo.snapshot();
    let out = build(&repo, &["--output", "missing/../content/site"]);
    assert!(
        !repo.exists("content/site"),
        "the site was written into the content folder\n{out}"
    );
    out.assert_code(2);
    assert_eq!(repo.snapshot(), before);
}

// --- 10. empty repository ------------------------------------------------------------------

#[test]
fn a_repository_without_published_postmortems_builds_an_empty_site() {
    let repo = Repo::new();
    let draft = replace_all(Pm::published().text(), "status: published", "status: draft");
    repo.write("content/a-draft.md", draft);
    let out = build_ok(&repo, &[]);
    assert!(out.stdout.contains("built 0 postmortem(s)"), "{out}");
    assert_files(
        &repo,
        &FIXED_PAGES
            .iter()
            .map(|p| (*p).to_owned())
            .collect::<Vec<_>>(),
        true,
    );
    let index = page(&repo, "index.html");
    assert!(index.contains("0 postmortems"), "{index}");
    assert!(index.contains("No postmortems here yet."), "{index}");
    let trends = page(&repo, "trends/index.html");
    assert!(trends.contains("<h1>Trends</h1>"), "{trends}");
    assert!(trends.contains("</html>"), "{trends}");
    let json: serde_json::Value =
        serde_json::from_str(&page(&repo, "postmortems.json")).expect("postmortems.json parses");
    assert_eq!(json["postmortems"], serde_json::json!([]));
    assert_eq!(
        page(&repo, "action-items.csv"),
        "postmortem,id,title,owner,due,status,closed_at,ticket,overdue_days\r\n"
    );
    assert_eq!(page(&repo, "feed.xml").matches("<entry>").count(), 0);
    let broken = broken_links(&tree(&repo.path().join("public")));
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn a_repository_with_no_postmortems_at_all_builds_too() {
    let repo = Repo::new();
    build_ok(&repo, &[]);
    assert!(repo.exists("public/trends/index.html"));
    assert!(page(&repo, "index.html").contains("No postmortems here yet."));
}

// --- rebuilding into an existing output -------------------------------------------------

/// Modification times of every file of the output, to see which were rewritten.
fn mtimes(dir: &Path) -> BTreeMap<String, std::time::SystemTime> {
    tree(dir)
        .into_keys()
        .map(|rel| {
            let time = std::fs::metadata(dir.join(&rel))
                .and_then(|m| m.modified())
                .unwrap();
            (rel, time)
        })
        .collect()
}

#[test]
fn a_rebuild_writes_only_the_pages_that_changed_and_removes_stale_ones() {
    let repo = four_postmortems();
    build_ok(&repo, &[]);
    let public = repo.path().join("public");
    let before = mtimes(&public);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = build_ok(&repo, &[]);
    assert!(out.stdout.contains("0 file(s) written"), "{out}");
    assert_eq!(
        mtimes(&public),
        before,
        "an unchanged rebuild touches nothing"
    );

    // Retitle one postmortem: its page and the pages listing it change, not the others.
    let text = repo.read(&format!("content/{SEARCH}.md"));
    repo.write(
        &format!("content/{SEARCH}.md"),
        text.replace("Search served a stale index", "Search served an old index"),
    );
    std::fs::write(public.join("stray.html"), "left over").unwrap();
    let out = build_ok(&repo, &[]);
    assert!(out.stdout.contains("1 removed"), "{out}");
    assert!(!public.join("stray.html").exists());
    let after = mtimes(&public);
    let rewritten: Vec<&String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        rewritten.contains(&&format!("postmortems/{SEARCH}/index.html")),
        "{rewritten:?}"
    );
    assert!(
        rewritten.contains(&&"index.html".to_owned()),
        "{rewritten:?}"
    );
    // Pages that do not show the title stay as they were.
    for untouched in [
        "tags/network/index.html",
        "static/style.css",
        "trends/index.html",
        "404.html",
    ] {
        assert!(
            !rewritten.contains(&&untouched.to_owned()),
            "{untouched}: {rewritten:?}"
        );
    }
    assert!(
        rewritten.len() < after.len() / 2,
        "most files untouched: {rewritten:?}"
    );
    // The result is the same as a fresh build.
    build_ok(&repo, &["--output", "fresh"]);
    assert_eq!(tree(&public), tree(&repo.path().join("fresh")));
}
