//! The built site in a real browser: a small fixture repository is built with the real
//! `debrief` binary, and its pages are opened from disk (`file://`) in headless Chromium with
//! JavaScript on and off. The tests check what a reader gets: the content, search and the
//! severity filter, the no-JavaScript fallback, and a console without errors (script errors
//! and Content-Security-Policy violations are console messages, logged to stderr).
//!
//! With JavaScript on, `--dump-dom` prints the DOM after the scripts ran. With JavaScript off
//! it prints nothing (it reads the DOM with a script), so those runs drive the browser over
//! the DevTools protocol on a pipe instead and also ask it which elements were laid out.
//!
//! Without Chromium on `PATH` every test prints "skipping: no chromium" and passes, unless
//! `DEBRIEF_REQUIRE_BROWSER` is set (CI sets it), which turns the skip into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../cli/harness.rs"]
mod harness;

use std::env;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;

use harness::{Pm, Repo, TODAY};

/// Browser executables tried in order, on `PATH`.
const BROWSERS: &[&str] = &["chromium", "chromium-browser", "google-chrome"];

/// Longest a single browser run may take before it is killed and the test fails.
const TIMEOUT: Duration = Duration::from_secs(30);

const CHECKOUT: &str = "2026-11-02-checkout-503s";
const SEARCH: &str = "2026-10-14-search-stale";
const STATUS: &str = "2026-09-20-status-page-dns";

/// A word in the body of [`CHECKOUT`] only, for the search test.
const CHECKOUT_WORD: &str = "pelican";

// --- the browser ----------------------------------------------------------------------------

/// The browser to run, or `None` (after saying so) when the tests should skip.
fn browser() -> Option<PathBuf> {
    let found = env::var_os("PATH").and_then(|path| {
        env::split_paths(&path)
            .flat_map(|dir| BROWSERS.iter().map(move |name| dir.join(name)))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        assert!(
            env::var_os("DEBRIEF_REQUIRE_BROWSER").is_none(),
            "DEBRIEF_REQUIRE_BROWSER is set, but none of {BROWSERS:?} is on PATH; \
             install Chromium (Debian: apt-get install chromium)"
        );
        println!("skipping: no chromium");
    }
    found
}

/// What one headless run saw.
struct Run {
    /// The DOM as serialised by the browser after the page loaded.
    dom: String,
    /// The browser's log, console messages included.
    stderr: String,
    /// With JavaScript off: whether each `tr.pm-row` was laid out (not `display: none`).
    rows_rendered: Vec<bool>,
    /// With JavaScript off: whether the finder form was laid out.
    finder_rendered: Option<bool>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Js {
    On,
    Off,
}

/// Flags of every run; each run also gets a fresh `--user-data-dir`.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
];

/// Opens `url` in a fresh headless browser and returns what it saw.
fn load(browser: &Path, url: &str, js: Js) -> Run {
    match js {
        Js::On => dump_dom(browser, url),
        Js::Off => Devtools::load_without_scripts(browser, url),
    }
}

/// `--dump-dom` after up to five seconds of virtual time, so deferred scripts and the search
/// index they load have run.
fn dump_dom(browser: &Path, url: &str) -> Run {
    let profile = tempfile::tempdir().expect("a profile folder");
    let mut command = Command::new(browser);
    command
        .args(FLAGS)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--virtual-time-budget=5000", "--dump-dom", url])
        .stdin(Stdio::null());
    let mut child = spawn(command, browser);
    let stdout = drain(child.stdout.take().expect("stdout is piped"));
    let stderr = drain(child.stderr.take().expect("stderr is piped"));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the browser") {
            break status;
        }
        if Instant::now() >= deadline {
            kill(&mut child);
            panic!("the browser did not finish {url} within {TIMEOUT:?}; killed it");
        }
        thread::sleep(Duration::from_millis(50));
    };
    let dom = collect(&stdout, "stdout");
    let stderr = collect(&stderr, "stderr");
    assert!(
        status.success(),
        "the browser failed on {url} ({status})\n{stderr}"
    );
    assert!(
        dom.contains("</html>"),
        "no DOM for {url}\n--- stderr ---\n{stderr}"
    );
    Run {
        dom,
        stderr,
        rows_rendered: Vec::new(),
        finder_rendered: None,
    }
}

/// Starts `command` with piped stdout and stderr, in a process group of its own so that a
/// timeout can kill the renderer and helper processes too.
fn spawn(mut command: Command, browser: &Path) -> Child {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()))
}

/// Reads a pipe to its end on a thread; the text arrives on the returned channel.
fn drain(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = send.send(String::from_utf8_lossy(&bytes).into_owned());
    });
    receive
}

/// The text of a drained pipe; a helper process that keeps it open cannot hang the test.
fn collect(pipe: &mpsc::Receiver<String>, name: &str) -> String {
    pipe.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("the browser's {name} was not closed after it exited"))
}

fn kill(child: &mut Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A headless browser with scripts disabled, driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: commands on fd 3, replies on fd 4, each message ending in a
/// NUL byte). `sh` maps those descriptors onto the child's stdin and stdout.
struct Devtools {
    child: Child,
    input: ChildStdin,
    messages: mpsc::Receiver<Value>,
    stderr: mpsc::Receiver<String>,
    events: Vec<Value>,
    next_id: u64,
    deadline: Instant,
    url: String,
    _profile: TempDir,
}

impl Devtools {
    fn load_without_scripts(browser: &Path, url: &str) -> Run {
        let profile = tempfile::tempdir().expect("a profile folder");
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null"#)
            .arg(browser)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args([
                "--blink-settings=scriptEnabled=false",
                "--remote-debugging-pipe",
                "about:blank",
            ])
            .stdin(Stdio::piped());
        let mut child = spawn(command, browser);
        let input = child.stdin.take().expect("stdin is piped");
        let output = child.stdout.take().expect("stdout is piped");
        let stderr = drain(child.stderr.take().expect("stderr is piped"));
        let (send, messages) = mpsc::channel();
        thread::spawn(move || {
            for message in BufReader::new(output).split(0) {
                let Ok(bytes) = message else { break };
                let Ok(value) = serde_json::from_slice::<Value>(&bytes) else {
                    continue;
                };
                if send.send(value).is_err() {
                    break;
                }
            }
        });
        let mut devtools = Devtools {
            child,
            input,
            messages,
            stderr,
            events: Vec::new(),
            next_id: 0,
            deadline: Instant::now() + TIMEOUT,
            url: url.to_owned(),
            _profile: profile,
        };
        let run = devtools.run();
        devtools.finish(run)
    }

    fn run(&mut self) -> (String, Vec<bool>, Option<bool>) {
        let targets = self
            .call("Target.getTargets", json!({}), None)
            .expect("targets");
        let target = targets["targetInfos"]
            .as_array()
            .and_then(|all| all.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["targetId"].as_str())
            .expect("the browser opened a page")
            .to_owned();
        let attached = self
            .call(
                "Target.attachToTarget",
                json!({ "targetId": target, "flatten": true }),
                None,
            )
            .expect("attach to the page");
        let session = attached["sessionId"]
            .as_str()
            .expect("a session")
            .to_owned();
        let s = Some(session.as_str());
        self.call("Page.enable", json!({}), s).expect("Page.enable");
        let url = self.url.clone();
        let navigated = self
            .call("Page.navigate", json!({ "url": url }), s)
            .expect("navigate");
        assert!(
            navigated.get("errorText").is_none(),
            "cannot open {url}: {navigated}"
        );
        self.event("Page.loadEventFired", &session);
        let document = self
            .call("DOM.getDocument", json!({ "depth": -1 }), s)
            .expect("the document");
        let root = document["root"]["nodeId"].clone();
        let dom = self
            .call("DOM.getOuterHTML", json!({ "nodeId": root }), s)
            .expect("the DOM")["outerHTML"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let rows = self.rendered(&root, "tr.pm-row", &session);
        let finder = self.rendered(&root, "form#finder", &session);
        let _ = self.call("Browser.close", json!({}), None);
        (dom, rows, finder.first().copied())
    }

    /// For each element matching `selector`: whether it has a layout box.
    fn rendered(&mut self, root: &Value, selector: &str, session: &str) -> Vec<bool> {
        let found = self
            .call(
                "DOM.querySelectorAll",
                json!({ "nodeId": root, "selector": selector }),
                Some(session),
            )
            .expect("querySelectorAll");
        let nodes: Vec<Value> = found["nodeIds"].as_array().cloned().unwrap_or_default();
        nodes
            .into_iter()
            .map(|node| {
                self.call("DOM.getBoxModel", json!({ "nodeId": node }), Some(session))
                    .is_ok()
            })
            .collect()
    }

    /// Sends a command and waits for its reply: `Ok(result)` or `Err(error message)`.
    fn call(
        &mut self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).expect("JSON");
        bytes.push(0);
        if let Err(e) = self
            .input
            .write_all(&bytes)
            .and_then(|()| self.input.flush())
        {
            self.fail(&format!("cannot send {method}: {e}"));
        }
        loop {
            let reply = self.next(method);
            if reply["id"] == id {
                return match reply.get("error") {
                    Some(error) => Err(error.to_string()),
                    None => Ok(reply["result"].clone()),
                };
            }
            if reply.get("method").is_some() {
                self.events.push(reply);
            }
        }
    }

    /// Waits for the event `method` of `session` (or finds it among those already seen).
    fn event(&mut self, method: &str, session: &str) {
        let seen = |e: &Value| e["method"] == method && e["sessionId"] == session;
        if self.events.iter().any(seen) {
            return;
        }
        loop {
            let message = self.next(method);
            if seen(&message) {
                return;
            }
        }
    }

    fn next(&mut self, waiting_for: &str) -> Value {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(left) {
            Ok(message) => message,
            Err(mpsc::RecvTimeoutError::Timeout) => self.fail(&format!(
                "no answer to {waiting_for} within {TIMEOUT:?}; killed it"
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => self.fail(&format!(
                "the browser closed the pipe waiting for {waiting_for}"
            )),
        }
    }

    fn fail(&mut self, message: &str) -> ! {
        kill(&mut self.child);
        let stderr = self
            .stderr
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default();
        panic!(
            "{} (JavaScript off): {message}\n--- stderr ---\n{stderr}",
            self.url
        );
    }

    /// Waits for the browser to exit (killing it at the deadline) and collects its log.
    fn finish(
        mut self,
        (dom, rows_rendered, finder_rendered): (String, Vec<bool>, Option<bool>),
    ) -> Run {
        loop {
            match self.child.try_wait().expect("poll the browser") {
                Some(_) => break,
                None if Instant::now() >= self.deadline => {
                    kill(&mut self.child);
                    break;
                }
                None => thread::sleep(Duration::from_millis(50)),
            }
        }
        let stderr = collect(&self.stderr, "stderr");
        assert!(
            dom.contains("</html>"),
            "no DOM for {} (JavaScript off)\n--- stderr ---\n{stderr}",
            self.url
        );
        Run {
            dom,
            stderr,
            rows_rendered,
            finder_rendered,
        }
    }
}

/// Console messages that mean something broke: script errors, failed loads and
/// Content-Security-Policy violations ("Refused to …", "… violates the following …").
fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.contains("CONSOLE"))
        .filter(|line| {
            ["Uncaught", "Error", "Refused", "violates", "Failed"]
                .iter()
                .any(|word| line.contains(word))
        })
        .collect()
}

fn assert_clean_console(run: &Run, what: &str) {
    let errors = console_errors(&run.stderr);
    assert!(
        errors.is_empty(),
        "console errors on {what}:\n{}",
        errors.join("\n")
    );
}

#[test]
fn the_console_check_can_fail() {
    // Lines as Chromium prints them; a check that never fires proves nothing.
    let log = concat!(
        "[1:1:1204/1.0:INFO:CONSOLE:93] \"Uncaught ReferenceError: x is not defined\", source: file:///s/site.js (93)\n",
        "[1:1:1204/1.0:INFO:CONSOLE:16] \"Applying inline style violates the following Content Security Policy directive 'style-src 'self''.\", source: file:///s/index.html (16)\n",
        "[1:1:1204/1.0:INFO:CONSOLE:1] \"Refused to execute inline script because it violates the following Content Security Policy directive\", source: x (1)\n",
        "[1:1:1204/1.0:WARNING:idle_linux.cc:111] None of the known D-Bus ScreenSaver services could be used.\n",
        "[1:1:1204/1.0:INFO:CONSOLE:2] \"search ready\", source: x (2)\n",
    );
    assert_eq!(console_errors(log).len(), 3, "{log}");
}

// --- the site -------------------------------------------------------------------------------

/// Three published postmortems with distinct titles, severities and services; only
/// [`CHECKOUT`] says [`CHECKOUT_WORD`]; [`STATUS`] was declared late (waived).
fn fixture() -> Repo {
    let repo = Repo::new();
    repo.write(
        &format!("content/{CHECKOUT}.md"),
        Pm::published().body(&format!(
            "\n## Follow-up\n\nThe nightly {CHECKOUT_WORD} report now reads from the replica.\n"
        )),
    );
    repo.write(
        &format!("content/{SEARCH}.md"),
        Pm::published()
            .replace(
                "title: Checkout returned 503s for 40 minutes",
                "title: Search results were stale for two hours",
            )
            .replace("severity: SEV2", "severity: SEV1")
            .replace(
                "services: [checkout-api, orders-db]",
                "services: [search-api]",
            )
            .replace("tags: [database, capacity]", "tags: [indexing]"),
    );
    repo.write(
        &format!("content/{STATUS}.md"),
        Pm::published()
            .replace(
                "title: Checkout returned 503s for 40 minutes",
                "title: Status page answered with a stale DNS record",
            )
            .replace("severity: SEV2", "severity: SEV3")
            .replace("services: [checkout-api, orders-db]", "services: [dns]")
            .replace("tags: [database, capacity]", "tags: [network]")
            .replace(
                "declared_at: 2026-11-02T09:15:00+01:00",
                "declared_at: 2026-11-02T09:40:00+01:00",
            )
            .insert_after(
                "    url: https://grafana.example.com/d/checkout",
                "waivers:\n  - rule: declare-late\n    reason: The pager rota was being migrated that week.",
            ),
    );
    let out = repo.run(&["build", "--today", TODAY]);
    out.assert_code(0);
    repo
}

fn url(repo: &Repo, page: &str) -> String {
    let path = repo.path().join("public").join(page);
    assert!(path.is_file(), "the build wrote no {page}");
    format!("file://{}", path.display())
}

fn postmortem_page(id: &str) -> String {
    format!("postmortems/{id}/index.html")
}

// --- reading the DOM ------------------------------------------------------------------------

/// Every start tag `<name …>` in `html`, as written (attributes included).
fn start_tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        let end = after
            .find('>')
            .map_or(rest.len(), |e| at + open.len() + e + 1);
        if after.starts_with([' ', '>', '\n', '\t']) {
            tags.push(&rest[at..end]);
        }
        rest = &rest[end..];
    }
    tags
}

/// The value of `attr` in a start tag.
fn attr<'a>(tag: &'a str, attr: &str) -> Option<&'a str> {
    let key = format!(" {attr}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// Whether a start tag carries the boolean attribute `hidden`.
fn is_hidden(tag: &str) -> bool {
    tag.contains(" hidden=") || tag.contains(" hidden>") || tag.contains(" hidden ")
}

/// The postmortem rows of the index: `(data-id, hidden)` in page order.
fn rows(dom: &str) -> Vec<(String, bool)> {
    start_tags(dom, "tr")
        .into_iter()
        .filter(|tag| attr(tag, "class").is_some_and(|c| c.split(' ').any(|c| c == "pm-row")))
        .map(|tag| {
            (
                attr(tag, "data-id").unwrap_or("").to_owned(),
                is_hidden(tag),
            )
        })
        .collect()
}

/// The start tag of the element with `id`.
fn by_id<'a>(dom: &'a str, name: &str, id: &str) -> &'a str {
    let tags: Vec<&str> = start_tags(dom, name)
        .into_iter()
        .filter(|tag| attr(tag, "id") == Some(id))
        .collect();
    assert_eq!(tags.len(), 1, "<{name} id=\"{id}\"> in:\n{dom}");
    tags[0]
}

/// The ids of the rows that are shown.
fn shown(rows: &[(String, bool)]) -> Vec<&str> {
    rows.iter()
        .filter(|(_, hidden)| !hidden)
        .map(|(id, _)| id.as_str())
        .collect()
}

fn assert_contains(dom: &str, needle: &str, what: &str) {
    assert!(dom.contains(needle), "{what}: `{needle}` is missing\n{dom}");
}

// --- tests ----------------------------------------------------------------------------------

#[test]
fn pages_show_their_content_with_javascript_on_and_off() {
    let Some(browser) = browser() else { return };
    let repo = fixture();
    let pm = postmortem_page(CHECKOUT);
    for js in [Js::On, Js::Off] {
        let what = |page: &str| format!("{page} (JavaScript {js:?})");

        let index = load(&browser, &url(&repo, "index.html"), js);
        assert_clean_console(&index, &what("index.html"));
        assert_contains(
            &index.dom,
            "<title>Test incident reviews</title>",
            &what("index"),
        );
        for title in [
            "Checkout returned 503s for 40 minutes",
            "Search results were stale for two hours",
            "Status page answered with a stale DNS record",
        ] {
            assert_contains(&index.dom, title, &what("index"));
        }
        let rows = rows(&index.dom);
        assert_eq!(rows.len(), 3, "{}\n{}", what("index"), index.dom);
        assert!(
            rows.iter().all(|(_, hidden)| !hidden),
            "{}: every row is visible before any search: {rows:?}",
            what("index")
        );
        let form = by_id(&index.dom, "form", "finder");
        match js {
            Js::Off => {
                assert!(
                    is_hidden(form),
                    "without JavaScript the finder stays hidden: {form}"
                );
                assert_eq!(
                    index.finder_rendered,
                    Some(false),
                    "the hidden finder takes no space"
                );
                assert_eq!(
                    index.rows_rendered,
                    [true, true, true],
                    "every row is laid out"
                );
            }
            Js::On => assert!(!is_hidden(form), "site.js reveals the finder: {form}"),
        }

        let page = load(&browser, &url(&repo, &pm), js);
        assert_clean_console(&page, &what(&pm));
        assert_contains(
            &page.dom,
            "<title>Checkout returned 503s for 40 minutes · Test incident reviews</title>",
            &what(&pm),
        );
        assert_contains(&page.dom, "Root cause", &what(&pm));
        assert_contains(&page.dom, "Batch jobs share the primary", &what(&pm));
        assert_contains(
            &page.dom,
            "Error-rate alert fires for checkout-api",
            &what(&pm),
        );
        assert_contains(&page.dom, "T+45m", &what(&pm));
        assert_contains(&page.dom, "Alert on connection-pool saturation", &what(&pm));
        assert_contains(&page.dom, "Not signed off", &what(&pm));

        let late = postmortem_page(STATUS);
        let late_page = load(&browser, &url(&repo, &late), js);
        assert_clean_console(&late_page, &what(&late));
        assert_contains(&late_page.dom, "Over the limit", &what(&late));
        assert_contains(
            &late_page.dom,
            "The pager rota was being migrated",
            &what(&late),
        );

        let actions = load(&browser, &url(&repo, "actions/index.html"), js);
        assert_clean_console(&actions, &what("actions/index.html"));
        assert_contains(
            &actions.dom,
            "<title>Action items · Test incident reviews</title>",
            &what("actions"),
        );
        assert_contains(
            &actions.dom,
            "Alert on connection-pool saturation",
            &what("actions"),
        );
        assert_contains(
            &actions.dom,
            &format!("id=\"{CHECKOUT}-AI-1\""),
            &what("actions"),
        );

        let trends = load(&browser, &url(&repo, "trends/index.html"), js);
        assert_clean_console(&trends, &what("trends/index.html"));
        assert_contains(
            &trends.dom,
            "<title>Trends · Test incident reviews</title>",
            &what("trends"),
        );
        assert_contains(&trends.dom, "<svg", &what("trends"));
    }
}

#[test]
fn search_shows_only_the_postmortem_that_says_the_word() {
    let Some(browser) = browser() else { return };
    let repo = fixture();
    let run = load(
        &browser,
        &format!("{}?q={CHECKOUT_WORD}", url(&repo, "index.html")),
        Js::On,
    );
    assert_clean_console(&run, "index.html?q=…");
    let rows = rows(&run.dom);
    assert_eq!(rows.len(), 3, "{}", run.dom);
    assert_eq!(shown(&rows), [CHECKOUT], "{rows:?}");
    assert!(
        is_hidden(by_id(&run.dom, "p", "no-results")),
        "a match hides the no-results note"
    );
    assert_contains(&run.dom, "1 of 3 postmortems shown", "the finder's count");
}

#[test]
fn a_search_without_matches_says_so() {
    let Some(browser) = browser() else { return };
    let repo = fixture();
    let run = load(
        &browser,
        &format!("{}?q=nosuchwordanywhere", url(&repo, "index.html")),
        Js::On,
    );
    assert_clean_console(&run, "index.html?q=nosuchwordanywhere");
    let rows = rows(&run.dom);
    assert_eq!(rows.len(), 3, "{}", run.dom);
    assert!(shown(&rows).is_empty(), "{rows:?}");
    assert!(
        !is_hidden(by_id(&run.dom, "p", "no-results")),
        "no match shows the no-results note\n{}",
        run.dom
    );
}

#[test]
fn severity_filter_shows_only_that_severity() {
    let Some(browser) = browser() else { return };
    let repo = fixture();
    let run = load(
        &browser,
        &format!("{}?severity=SEV1", url(&repo, "index.html")),
        Js::On,
    );
    assert_clean_console(&run, "index.html?severity=SEV1");
    let rows = rows(&run.dom);
    assert_eq!(rows.len(), 3, "{}", run.dom);
    assert_eq!(shown(&rows), [SEARCH], "{rows:?}");
}

#[test]
fn without_javascript_a_query_changes_nothing() {
    let Some(browser) = browser() else { return };
    let repo = fixture();
    let run = load(
        &browser,
        &format!(
            "{}?q={CHECKOUT_WORD}&severity=SEV1",
            url(&repo, "index.html")
        ),
        Js::Off,
    );
    assert_clean_console(&run, "index.html?q=… (JavaScript off)");
    let rows = rows(&run.dom);
    assert_eq!(shown(&rows).len(), 3, "every row stays visible: {rows:?}");
    assert!(is_hidden(by_id(&run.dom, "form", "finder")));
    assert_eq!(
        run.rows_rendered,
        [true, true, true],
        "every row is laid out"
    );
}
