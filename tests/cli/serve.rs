//! `debrief serve` against a temporary repository: pages over HTTP, an edit seen live with
//! a reload event, a broken file shown in the overlay status and cleared when fixed, and
//! requests that try to leave the site.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::harness::*;

const FILE: &str = "content/a.md";

/// A running `debrief serve`; killed when dropped so no test leaves a server behind.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(repo: &Repo, extra: &[&str]) -> Server {
    start_in(repo.path(), extra)
}

fn start_in(dir: &std::path::Path, extra: &[&str]) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_debrief"))
        .args(["serve", "--port", "0", "--today", TODAY])
        .args(extra)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start debrief serve");
    // Owned by `Server` from here on, so a failed assertion still stops the process.
    let mut server = Server { child, port: 0 };
    let stdout = server.child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("serve printed its address");
        if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
            server.port = rest
                .split('/')
                .next()
                .unwrap_or("")
                .parse()
                .expect("a port");
            return server;
        }
    }
}

/// A minimal HTTP/1.0 GET: (status, body). `path` goes on the wire exactly as given.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Opens the event stream and hands every line to the returned channel.
fn events(port: u16) -> mpsc::Receiver<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "GET /__debrief/events HTTP/1.1\r\nHost: localhost\r\n\r\n"
    )
    .expect("send");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for(rx: &mpsc::Receiver<String>, wanted: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if line.contains(wanted) {
            return true;
        }
    }
    false
}

/// Polls until `check` holds (the rebuild follows the file event by a few dozen ms).
fn eventually(mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn repo_with_draft() -> Repo {
    let repo = Repo::new();
    repo.write(FILE, Pm::with_status("draft"));
    repo
}

#[test]
fn serves_pages_with_drafts_and_the_live_script() {
    let repo = repo_with_draft();
    let server = start(&repo, &[]);
    let (status, index) = get(server.port, "/");
    assert_eq!(status, 200);
    assert!(
        index.contains("/__debrief/live.js"),
        "live reload script injected"
    );
    let (status, page) = get(server.port, "/postmortems/a/index.html");
    assert_eq!(status, 200);
    assert!(
        page.contains("is not published"),
        "a draft carries its banner"
    );
    let (status, _) = get(server.port, "/postmortems/a/");
    assert_eq!(status, 200, "a folder URL serves its index.html");
    let (status, script) = get(server.port, "/__debrief/live.js");
    assert_eq!(status, 200);
    assert!(script.contains("EventSource"));
    // `build` output never carries the live script.
    let out = repo.run(&["build", "--drafts", "--today", TODAY, "--output", "site"]);
    out.assert_code(0);
    assert!(!repo.read("site/index.html").contains("__debrief"));
}

#[test]
fn no_drafts_leaves_drafts_out() {
    let repo = repo_with_draft();
    let server = start(&repo, &["--no-drafts"]);
    assert_eq!(get(server.port, "/postmortems/a/index.html").0, 404);
}

#[test]
fn an_edit_shows_up_and_open_pages_are_told_which_pages_changed() {
    let repo = repo_with_draft();
    let server = start(&repo, &[]);
    let stream = events(server.port);
    assert!(wait_for(&stream, "retry:"), "event stream opened");
    let edited = Pm::with_status("draft").replace(
        "title: Checkout returned 503s for 40 minutes",
        "title: Basket returned 503s",
    );
    repo.write(FILE, edited.text());
    // Each reload event's data lists the changed pages; the lists come after the page.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut reloads = Vec::new();
    while let Ok(line) = stream.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if let Some(data) = line.strip_prefix("data: [") {
            reloads.push(data.to_owned());
            if data.contains("\"index.html\"") {
                break;
            }
        }
    }
    assert!(
        reloads
            .first()
            .is_some_and(|first| first.contains("\"postmortems/a/index.html\"")
                && !first.contains("\"index.html\"")),
        "the postmortem's own page is announced first, alone: {reloads:?}"
    );
    assert!(
        reloads.iter().any(|r| r.contains("\"index.html\"")),
        "then the lists that show it: {reloads:?}"
    );
    assert!(
        reloads.iter().all(|r| !r.contains("static/style.css")),
        "unchanged pages are not announced: {reloads:?}"
    );
    assert!(get(server.port, "/postmortems/a/index.html")
        .1
        .contains("Basket"));
}

#[test]
fn a_broken_file_shows_in_the_overlay_keeps_its_last_good_page_and_clears_when_fixed() {
    let repo = repo_with_draft();
    let server = start(&repo, &[]);
    let (_, before) = get(server.port, "/postmortems/a/index.html");
    repo.write(FILE, "---\ntitle: [unclosed\n---\n");
    assert!(eventually(|| get(server.port, "/__debrief/status.json")
        .1
        .contains("front-matter-invalid")));
    let (_, status) = get(server.port, "/__debrief/status.json");
    assert!(
        status.contains("content/a.md:3:1"),
        "the overlay names file and line: {status}"
    );
    let (code, during) = get(server.port, "/postmortems/a/index.html");
    assert_eq!(code, 200, "the server keeps running and serving");
    assert_eq!(during, before, "the last good page stays");
    repo.write(FILE, Pm::with_status("draft").text());
    assert!(eventually(|| !get(server.port, "/__debrief/status.json")
        .1
        .contains("front-matter-invalid")));
}

#[test]
fn requests_cannot_leave_the_site() {
    let repo = repo_with_draft();
    repo.write("secret.txt", "do not serve");
    let server = start(&repo, &[]);
    for path in [
        "/../secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e/%2e%2e/etc/passwd",
        "//etc/passwd",
        "/content/a.md",
        "/debrief.toml",
        "/..\\secret.txt",
    ] {
        let (status, body) = get(server.port, path);
        assert_eq!(status, 404, "{path}");
        assert!(
            !body.contains("do not serve") && !body.contains("root:"),
            "{path}"
        );
    }
}

#[test]
fn a_port_in_use_moves_to_the_next_free_one() {
    let repo = repo_with_draft();
    let first = start(&repo, &[]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_debrief"))
        .args(["serve", "--port", &first.port.to_string(), "--today", TODAY])
        .current_dir(repo.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a second server");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("read stderr");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.contains(&format!("port {} is in use", first.port)),
        "{line}"
    );
}

/// The pages an edit can reach: every kind of list, export and postmortem page.
const PAGES: &[&str] = &[
    "/",
    "/postmortems/a/",
    "/postmortems/b/",
    "/postmortems/c/",
    "/postmortems/d/",
    "/tags/database/",
    "/tags/capacity/",
    "/tags/queues/",
    "/services/checkout-api/",
    "/services/billing/",
    "/severity/sev2/",
    "/severity/sev1/",
    "/years/2026/",
    "/years/2025/",
    "/people/bob/",
    "/people/carol/",
    "/people/dave/",
    "/people/",
    "/tags/",
    "/actions/",
    "/trends/",
    "/feed.xml",
    "/postmortems.json",
    "/static/search-index.js",
    "/action-items.csv",
    "/action-items.ics",
];

fn site_of(port: u16) -> Vec<(u16, String)> {
    PAGES.iter().map(|p| get(port, p)).collect()
}

/// A draft with its own title and start day (same services and tags as the others, so
/// each suggests the others).
fn draft(title: &str, day: &str) -> Pm {
    Pm::with_status("draft")
        .replace(
            "title: Checkout returned 503s for 40 minutes",
            &format!("title: {title}"),
        )
        .replace(
            "started_at: 2026-11-02T09:00:00+01:00",
            &format!("started_at: {day}T09:00:00+01:00"),
        )
}

fn three_drafts() -> Repo {
    let repo = Repo::new();
    repo.write("content/a.md", draft("Alpha outage", "2026-11-02"));
    repo.write("content/b.md", draft("Beta outage", "2026-10-02"));
    repo.write("content/c.md", draft("Gamma outage", "2026-09-02"));
    repo
}

/// The findings the overlay has (without the site's version counter).
fn findings_of(port: u16) -> String {
    let (_, body) = get(port, "/__debrief/status.json");
    let status: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    status["diagnostics"].to_string()
}

/// Asserts that the edited `server` ends up serving exactly what a fresh `serve` with
/// the same `args` serves: pages and findings.
fn assert_converges(repo: &Repo, server: &Server, args: &[&str]) {
    let fresh = start(repo, args);
    let expected = (site_of(fresh.port), findings_of(fresh.port));
    let now = || (site_of(server.port), findings_of(server.port));
    if eventually(|| now() == expected) {
        return;
    }
    let (pages, findings) = now();
    let differing: Vec<&str> = PAGES
        .iter()
        .zip(pages.iter().zip(&expected.0))
        .filter(|(_, (a, b))| a != b)
        .map(|(p, _)| *p)
        .collect();
    assert!(differing.is_empty(), "pages differ: {differing:?}");
    assert_eq!(findings, expected.1, "the findings differ");
}

#[test]
fn after_edits_the_site_is_exactly_what_a_fresh_start_serves() {
    let repo = three_drafts();
    let server = start(&repo, &[]);
    let title_seen =
        |path: &str, text: &str| eventually(|| get(server.port, path).1.contains(text));

    // A prose edit: the card and every list showing it change, nothing else moves.
    repo.write("content/a.md", draft("Alpha outage, revised", "2026-11-02"));
    assert!(title_seen("/tags/database/", "Alpha outage, revised"));
    // New keys and a new time: suggestions and taxonomy pages move.
    repo.write(
        "content/b.md",
        draft("Beta outage", "2025-06-01")
            .replace("tags: [database, capacity]", "tags: [queues]")
            .replace("services: [checkout-api, orders-db]", "services: [billing]")
            .replace("severity: SEV2", "severity: SEV1"),
    );
    assert!(title_seen("/tags/queues/", "Beta outage"));
    for left in ["/tags/database/", "/severity/sev2/", "/years/2026/"] {
        assert!(
            eventually(|| !get(server.port, left).1.contains("Beta outage")),
            "{left} no longer lists the postmortem that left it"
        );
    }
    // A new owner for an action item, a new file, and a file that goes.
    repo.write(
        "content/c.md",
        draft("Gamma outage", "2026-09-02").replace("    owner: carol\n", "    owner: dave\n"),
    );
    repo.write("content/d.md", draft("Delta outage", "2026-08-02"));
    assert!(title_seen("/", "Delta outage"));
    std::fs::remove_file(repo.path().join("content/a.md")).expect("remove a.md");
    assert!(eventually(|| get(server.port, "/postmortems/a/").0 == 404));
    assert_converges(&repo, &server, &[]);
}

#[test]
fn edits_saved_together_and_related_lists_converge() {
    let repo = three_drafts();
    // `a` shares nothing with the others.
    let apart = |day: &str| {
        draft("Alpha outage", day)
            .replace("services: [checkout-api, orders-db]", "services: [web]")
            .replace("tags: [database, capacity]", "tags: [frontend]")
            .set_block(
                "factors",
                "factors:\n  - category: testing\n    description: No load test.",
            )
    };
    repo.write("content/a.md", apart("2026-11-02"));
    let server = start(&repo, &[]);
    // Saved in one go (as `git checkout` or "save all" would): one moves in time, one
    // leaves every key it shared with the third, whose suggestions change with it.
    repo.write("content/a.md", apart("2024-01-05"));
    repo.write(
        "content/b.md",
        draft("Beta outage", "2026-10-02")
            .replace("services: [checkout-api, orders-db]", "services: [billing]")
            .replace("tags: [database, capacity]", "tags: [queues]")
            .set_block(
                "factors",
                "factors:\n  - category: communication\n    description: No status page.",
            ),
    );
    assert!(eventually(|| get(server.port, "/postmortems/b/")
        .1
        .contains("services/billing/")));
    assert_converges(&repo, &server, &[]);
    // A related list, then a title it shows.
    repo.write(
        "content/c.md",
        draft("Gamma outage", "2026-09-02")
            .insert_after("tags: [database, capacity]", "related: [a]"),
    );
    repo.write(
        "content/a.md",
        apart("2024-01-05").replace("title: Alpha outage", "title: Alpha outage, renamed"),
    );
    assert!(eventually(|| get(server.port, "/postmortems/c/")
        .1
        .contains("Alpha outage, renamed")));
    assert_converges(&repo, &server, &[]);
}

#[test]
fn a_renamed_file_with_a_duplicate_id_is_named_in_the_other_files_finding() {
    let repo = three_drafts();
    let with_id = |pm: Pm| pm.insert_after("status: draft", "id: shared");
    repo.write("content/b.md", with_id(draft("Beta outage", "2026-10-02")));
    repo.write("content/c.md", with_id(draft("Gamma outage", "2026-09-02")));
    let server = start(&repo, &[]);
    assert!(findings_of(server.port).contains("content/c.md"));
    std::fs::rename(
        repo.path().join("content/c.md"),
        repo.path().join("content/e.md"),
    )
    .expect("rename c.md");
    assert!(eventually(
        || findings_of(server.port).contains("content/e.md")
    ));
    assert_converges(&repo, &server, &[]);
}

#[test]
fn publishing_and_unpublishing_without_drafts_converge() {
    let repo = three_drafts();
    let server = start(&repo, &["--no-drafts"]);
    repo.write(
        "content/a.md",
        draft("Alpha outage", "2026-11-02").replace("status: draft", "status: published"),
    );
    assert!(eventually(|| get(server.port, "/postmortems/a/").0 == 200));
    repo.write(
        "content/a.md",
        draft("Alpha outage", "2026-11-02")
            .replace("status: draft", "status: published")
            .replace("title: Alpha outage", "title: Alpha outage, published"),
    );
    repo.write(
        "content/b.md",
        draft("Beta outage", "2026-10-02").replace("status: draft", "status: published"),
    );
    assert!(eventually(|| get(server.port, "/postmortems/b/").0 == 200));
    repo.write("content/a.md", draft("Alpha outage", "2026-11-02"));
    assert!(eventually(|| get(server.port, "/postmortems/a/").0 == 404));
    assert_converges(&repo, &server, &["--no-drafts"]);
}

#[test]
fn a_broken_file_keeps_its_last_good_page_through_a_full_rebuild() {
    let repo = three_drafts();
    let server = start(&repo, &[]);
    repo.write("content/a.md", "---\ntitle: [unclosed\n---\n");
    assert!(eventually(
        || findings_of(server.port).contains("front-matter-invalid")
    ));
    // A config change rebuilds everything.
    repo.config(&format!("{}\n# a comment\n", standard_config()));
    repo.write("content/b.md", draft("Beta outage, again", "2026-10-02"));
    assert!(eventually(|| get(server.port, "/")
        .1
        .contains("Beta outage, again")));
    let (code, page) = get(server.port, "/postmortems/a/");
    assert_eq!(
        code, 200,
        "the broken file's last good version stays on the site"
    );
    assert!(page.contains(">Alpha outage</h1>"), "as it last parsed");
    assert!(get(server.port, "/").1.contains("Alpha outage"));
}

#[test]
fn the_terminal_shows_what_an_edit_changed_not_every_finding_again() {
    let repo = repo_with_draft();
    let mut child = Command::new(env!("CARGO_BIN_EXE_debrief"))
        .args(["serve", "--port", "0", "--today", TODAY])
        .current_dir(repo.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start debrief serve");
    let stderr = child.stderr.take().expect("stderr");
    let server = Server { child, port: 0 };
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let settle = |lines: &mpsc::Receiver<String>| -> Vec<String> {
        let mut seen = Vec::new();
        while let Ok(line) = lines.recv_timeout(Duration::from_millis(1500)) {
            seen.push(line);
        }
        seen
    };
    let before = settle(&lines);
    assert!(
        !before
            .iter()
            .any(|l| l.contains("action-item-owner-missing")),
        "the fixture starts without the finding: {before:?}"
    );

    repo.write(
        FILE,
        Pm::with_status("draft")
            .remove_line("    owner: carol")
            .text(),
    );
    let after_edit = settle(&lines);
    let new: Vec<&String> = after_edit.iter().filter(|l| l.contains("]: ")).collect();
    assert_eq!(
        new.len(),
        1,
        "only the new finding is printed: {after_edit:?}"
    );
    assert!(
        new[0].contains("action-item-owner-missing"),
        "{after_edit:?}"
    );

    repo.write(FILE, Pm::with_status("draft").text());
    let after_fix = settle(&lines);
    assert!(
        after_fix.iter().any(|l| l == "1 finding(s) resolved"),
        "the fix is acknowledged: {after_fix:?}"
    );
    assert!(
        !after_fix.iter().any(|l| l.contains("]: ")),
        "nothing else is printed again: {after_fix:?}"
    );
    drop(server);
}

#[test]
fn a_commit_shows_without_an_edit() {
    use crate::git_harness::{bob, GitRepo, PM_FILE, PM_ID};
    let repo = GitRepo::new();
    let server = start_in(&repo.path(), &[]);
    let page = format!("/postmortems/{PM_ID}/");
    let (_, before) = get(server.port, &page);
    let file = repo.read(PM_FILE);
    // A review is a commit with trailers; the postmortem's file does not change.
    repo.review(&bob(), PM_ID);
    assert_eq!(repo.read(PM_FILE), file, "the review left the file alone");
    assert!(
        eventually(|| get(server.port, &page).1 != before),
        "the page shows the review once HEAD moves"
    );
}

#[test]
fn a_broken_config_is_shown_and_the_site_recovers_when_it_is_fixed() {
    let repo = repo_with_draft();
    let server = start(&repo, &[]);
    repo.config(&format!("{}\n[site\n", standard_config()));
    assert!(
        eventually(|| get(server.port, "/__debrief/status.json")
            .1
            .contains("debrief.toml")),
        "the overlay names the broken file"
    );
    assert_eq!(
        get(server.port, "/postmortems/a/").0,
        200,
        "the site stays up"
    );
    // An edit while the config is broken does not hide the problem.
    repo.write(
        FILE,
        Pm::with_status("draft")
            .replace("title: Checkout returned", "title: Cart returned")
            .text(),
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        get(server.port, "/__debrief/status.json")
            .1
            .contains("debrief.toml"),
        "the config problem is still shown"
    );
    repo.config(&standard_config());
    let edited = Pm::with_status("draft").replace(
        "title: Checkout returned 503s for 40 minutes",
        "title: Basket returned 503s",
    );
    repo.write(FILE, edited.text());
    assert!(eventually(|| get(server.port, "/").1.contains("Basket")
        && get(server.port, "/postmortems/a/").1.contains("Basket")
        && !get(server.port, "/__debrief/status.json")
            .1
            .contains("debrief.toml")));
}

#[test]
fn polling_sees_an_edit_too() {
    let repo = repo_with_draft();
    let server = start(&repo, &["--poll"]);
    let edited = Pm::with_status("draft").replace(
        "title: Checkout returned 503s for 40 minutes",
        "title: Basket returned 503s",
    );
    repo.write(FILE, edited.text());
    assert!(eventually(|| get(server.port, "/postmortems/a/")
        .1
        .contains("Basket")
        && get(server.port, "/").1.contains("Basket")));
}
