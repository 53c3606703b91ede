//! `debrief serve`: the site from memory, rebuilt as files change, with live reload.
//!
//! Nothing is written to disk. A watcher (native events, or polling where those do not
//! work) feeds a rebuild loop; an edited postmortem is re-read alone and re-renders its own
//! page, the pages that point at it and the pages that aggregate postmortems, while
//! `debrief.toml`, theme and `.debrief/` changes rebuild everything. Open pages hear about
//! each rebuild over server-sent events. A file that does not parse keeps its last good
//! version on the site, and the problems show in an overlay and in the terminal.

mod http;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use chrono::NaiveDate;
use serde::Serialize;

use crate::cmd::check::Rechecker;
use crate::cmd::Workspace;
use crate::content::{self, ContentPath};
use crate::diagnostic::{Counts, Diagnostic, Level};
use crate::load;
use crate::model::{Postmortem, Status};
use crate::render::theme::Theme;
use crate::render::view::{related_signature, Card, RelatedIndex};
use crate::render::{self, Memo, Ordered, SiteInput, Touched, Which};
use crate::report::{self, Summary};
use crate::validate::FileRules;

pub const LIVE_JS: &str = include_str!("live.js");
pub const LIVE_CSS: &str = include_str!("live.css");
const INJECT: &str = "<link rel=\"stylesheet\" href=\"/__debrief/live.css\"><script src=\"/__debrief/live.js\" defer></script>\n";

pub struct ServeOptions {
    pub port: u16,
    pub bind: String,
    pub drafts: bool,
    pub open: bool,
    pub poll: bool,
    pub today: Option<NaiveDate>,
    pub trust_ref: Option<String>,
}

/// A finding as the overlay shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    pub location: String,
    pub level: Level,
    pub rule: &'static str,
    pub message: String,
    pub help: Option<String>,
}

/// What the server answers from.
#[derive(Default)]
pub struct Site {
    pub pages: BTreeMap<String, Arc<Vec<u8>>>,
    pub problems: Vec<Problem>,
    pub version: u64,
}

/// Shared between the HTTP thread and the rebuild loop.
pub struct Shared {
    pub site: RwLock<Site>,
    /// Open event streams; a failed write drops the client.
    pub clients: Mutex<Vec<Box<dyn std::io::Write + Send>>>,
}

impl Shared {
    fn broadcast(&self, event: &str, data: &str) {
        let message = format!("event: {event}\ndata: {data}\n\n");
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        clients.retain_mut(|client| {
            client
                .write_all(message.as_bytes())
                .and_then(|()| client.flush())
                .is_ok()
        });
    }
}

/// A content file as last read: when, and what its own rules found.
struct Cached {
    stamp: (SystemTime, u64),
    diagnostics: Vec<Diagnostic>,
}

/// What changed on disk.
#[derive(Debug, PartialEq, Eq)]
enum Change {
    /// `debrief.toml`, the theme or `.debrief/`: everything is read again.
    Everything,
    /// Paths under the content folder, as the watcher named them (none when only git's
    /// HEAD or refs moved: the update then checks whether history moved).
    Content(Vec<PathBuf>),
}

impl Change {
    fn merge(self, other: Change) -> Change {
        match (self, other) {
            (Change::Content(mut paths), Change::Content(more)) => {
                paths.extend(more);
                Change::Content(paths)
            }
            _ => Change::Everything,
        }
    }
}

/// What one reading of the content folder changed.
#[derive(Default)]
struct Changed {
    /// Every file was read again (or may have changed): nothing can be kept.
    all: bool,
    files: HashSet<String>,
    /// Ids of postmortems that changed, appeared or went (their old and new ids).
    ids: HashSet<String>,
}

/// The rebuild loop's memory. An edit re-reads the files the watcher named and re-checks
/// them alone; the git side of checking and every other postmortem's card are kept.
/// The edited postmortem's page is rendered first and served at once; the pages that
/// aggregate postmortems follow ([`Builder::aggregates`]).
struct Builder {
    ws: Workspace,
    drafts: bool,
    today: Option<NaiveDate>,
    trust_ref: Option<String>,
    /// Every content file found, by root-relative path.
    files: HashMap<String, Cached>,
    /// The last version of each file that parsed, ordered by file. A file that stops
    /// parsing stays on the site as it last was.
    postmortems: Vec<Postmortem>,
    skipped_links: Vec<Diagnostic>,
    /// The day the files were checked at (their findings depend on it).
    checked_on: Option<NaiveDate>,
    checker: Rechecker,
    theme: Option<Theme>,
    /// Cards of the published postmortems by file; valid while history and the day are.
    cards: HashMap<String, Card>,
    /// Which postmortems share keys with which, over the site's order; dropped when an edit
    /// changes a postmortem's keys, time, id or publication.
    related: Option<RelatedIndex>,
    /// Whether `related` was dropped since the aggregate pages were rendered, and the ids
    /// of the postmortems that were near an edited one in the dropped index: their
    /// suggestions may have moved.
    related_moved: bool,
    repaint: HashSet<String>,
    /// The related index describes the site before the current batch of edits.
    related_stale: bool,
    /// The last update failed: the next one starts from scratch (the failure may have
    /// been a broken `debrief.toml`, which must stay reported until it is fixed).
    failed: bool,
    /// The terms and people whose pages edits touched since the aggregates were rendered.
    touched: Touched,
    /// Each postmortem's export entries and list rows, dropped with its card.
    memo: Memo,
    /// Ids whose pages changed since the aggregate pages were last rendered.
    pending: HashSet<String>,
    aggregates_due: bool,
}

/// Pages to put on the site, and which kind of rendering made them.
struct Rendered {
    pages: Vec<render::Page>,
    scope: Scope,
    /// Pages of the scope that were not rendered again because nothing in them changed.
    kept: HashSet<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// The whole site.
    Site,
    /// Some postmortem pages.
    Postmortems,
    /// Every page that is not a postmortem's own, and postmortem pages pointing at edits.
    Aggregates,
}

impl Builder {
    fn new(ws: Workspace, opts: &ServeOptions) -> Builder {
        Builder {
            ws,
            drafts: opts.drafts,
            today: opts.today,
            trust_ref: opts.trust_ref.clone(),
            files: HashMap::new(),
            postmortems: Vec::new(),
            skipped_links: Vec::new(),
            checked_on: None,
            checker: Rechecker::default(),
            theme: None,
            cards: HashMap::new(),
            related: None,
            related_moved: false,
            repaint: HashSet::new(),
            related_stale: false,
            failed: false,
            touched: Touched::default(),
            memo: Memo::default(),
            pending: HashSet::new(),
            aggregates_due: false,
        }
    }

    /// Makes the next update read every file again and render the whole site. The last
    /// good version of each postmortem is kept: a file that does not parse stays on the
    /// site as it was, through config changes and a new day too.
    fn forget_files(&mut self) {
        self.files.clear();
        self.cards.clear();
        self.memo.clear();
        self.related = None;
        self.related_stale = false;
        self.clear_deferred();
    }

    /// Forgets the work left for the aggregate pages (they are about to be rendered whole).
    fn clear_deferred(&mut self) {
        self.related_moved = false;
        self.repaint.clear();
        self.touched = Touched::default();
        self.pending.clear();
        self.aggregates_due = false;
    }

    /// Notes what a postmortem's version `old` was on: the term and person pages it was
    /// listed on, and, when its keys, time, id or publication changed (`moved`), whom it
    /// was near in the related index. The index is kept until the update rebuilds it, so
    /// every change of one batch is looked up in the index of the state before it.
    fn retire(&mut self, old: &Postmortem, moved: bool) {
        if let Some(card) = self.cards.get(&old.file) {
            self.touched.add(old, card);
        }
        if moved {
            self.related_moved_from(Some(old));
        }
    }

    /// The related index no longer describes the site (see [`Builder::retire`]).
    fn related_moved_from(&mut self, old: Option<&Postmortem>) {
        if let (Some(index), Some(old)) = (&self.related, old) {
            self.repaint
                .extend(index.neighbours(old).into_iter().map(str::to_owned));
        }
        self.related_stale = true;
        self.related_moved = true;
    }

    fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
        let meta = std::fs::metadata(path).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    }

    /// Reads one content file into the model.
    fn read(&mut self, path: &ContentPath, rules: &FileRules, changed: &mut Changed) {
        let stamp = Self::stamp(&path.abs).unwrap_or((SystemTime::UNIX_EPOCH, 0));
        let config = &self.ws.config;
        let (postmortem, mut diagnostics) = load::load_one(config, path, Some(rules));
        config.apply_overrides(&mut diagnostics);
        self.files
            .insert(path.rel.clone(), Cached { stamp, diagnostics });
        changed.files.insert(path.rel.clone());
        if let Some(pm) = postmortem {
            changed.ids.insert(pm.id.value.clone());
            match self
                .postmortems
                .binary_search_by(|p| p.file.as_str().cmp(&path.rel))
            {
                Ok(at) => {
                    let old = std::mem::replace(&mut self.postmortems[at], pm);
                    let moved = related_signature(&old) != related_signature(&self.postmortems[at]);
                    self.retire(&old, moved);
                    changed.ids.insert(old.id.value);
                }
                Err(at) => {
                    self.postmortems.insert(at, pm);
                    self.related_moved_from(None);
                }
            }
        }
    }

    fn forget(&mut self, rel: &str, changed: &mut Changed) {
        self.files.remove(rel);
        changed.files.insert(rel.to_owned());
        if let Ok(at) = self
            .postmortems
            .binary_search_by(|p| p.file.as_str().cmp(rel))
        {
            let old = self.postmortems.remove(at);
            self.retire(&old, true);
            changed.ids.insert(old.id.value);
        }
    }

    /// Lists the content folder and reads every file that is new or changed.
    fn rescan(&mut self, rules: &FileRules, changed: &mut Changed) -> Result<()> {
        let config = &self.ws.config;
        let found = content::discover(&config.root, &config.content_dir())?;
        let mut seen = HashSet::new();
        for path in &found.files {
            seen.insert(path.rel.clone());
            let unchanged = match (self.files.get(&path.rel), Self::stamp(&path.abs)) {
                (Some(cached), Some(stamp)) => cached.stamp == stamp,
                _ => false,
            };
            if !unchanged {
                self.read(path, rules, changed);
            }
        }
        let mut gone: Vec<String> = self
            .files
            .keys()
            .chain(self.postmortems.iter().map(|p| &p.file))
            .filter(|k| !seen.contains(*k))
            .cloned()
            .collect();
        gone.sort_unstable();
        gone.dedup();
        for rel in gone {
            self.forget(&rel, changed);
        }
        self.skipped_links = found
            .skipped_links
            .iter()
            .map(|(path, why)| load::skipped_link(path, why))
            .collect();
        self.ws.config.apply_overrides(&mut self.skipped_links);
        Ok(())
    }

    /// Reads the files the watcher named. Anything but a plain Markdown file appearing,
    /// changing or going (a folder, a symbolic link) lists the whole folder again.
    fn reread(
        &mut self,
        paths: &[PathBuf],
        rules: &FileRules,
        changed: &mut Changed,
    ) -> Result<()> {
        let root = self.ws.config.root.clone();
        let content_dir = self.ws.config.content_dir();
        let mut done = HashSet::new();
        for path in paths {
            if !path.starts_with(&content_dir) || !done.insert(path) {
                continue;
            }
            let rel = content::relative_name(&root, path);
            let markdown = path.extension().is_some_and(|e| e == "md");
            match std::fs::symlink_metadata(path) {
                // Read even when its time and size look unchanged: the watcher saw a
                // write, and a coarse clock can hide a same-length save.
                Ok(meta) if meta.is_file() && markdown => {
                    let path = ContentPath {
                        rel,
                        abs: path.clone(),
                    };
                    self.read(&path, rules, changed);
                }
                Ok(meta) if meta.is_file() => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let folder = format!("{rel}/");
                    let was_link = self.skipped_links.iter().any(|d| d.file == rel);
                    if self.files.contains_key(&rel) {
                        self.forget(&rel, changed);
                    } else if was_link || self.files.keys().any(|f| f.starts_with(&folder)) {
                        return self.rescan(rules, changed);
                    }
                }
                _ => return self.rescan(rules, changed),
            }
        }
        Ok(())
    }

    /// Takes in a change and renders what it touched: the whole site, or the pages of the
    /// edited postmortems (the aggregate pages are then due, see [`Builder::aggregates`]).
    fn update(&mut self, change: Change) -> Result<(Rendered, Vec<Diagnostic>)> {
        let change = if std::mem::take(&mut self.failed) {
            Change::Everything
        } else {
            change
        };
        let result = self.update_with(change);
        if result.is_err() {
            self.failed = true;
            self.forget_files();
        }
        result
    }

    fn update_with(&mut self, change: Change) -> Result<(Rendered, Vec<Diagnostic>)> {
        let paths = match change {
            Change::Everything => {
                self.ws = Workspace::open(&self.ws.config.root)?;
                self.forget_files();
                self.checker = Rechecker::default();
                self.theme = None;
                Vec::new()
            }
            Change::Content(paths) => paths,
        };
        let today = self.ws.today(self.today);
        if self.checked_on != Some(today) {
            self.forget_files();
            self.checked_on = Some(today);
        }
        let config = self.ws.config.clone();
        let rules = FileRules::new(&config, today);
        let mut changed = Changed {
            all: self.files.is_empty(),
            ..Changed::default()
        };
        if changed.all {
            self.rescan(&rules, &mut changed)?;
        } else {
            self.reread(&paths, &rules, &mut changed)?;
        }
        let rechecked = self.checker.update(
            &self.ws,
            &self.postmortems,
            (!changed.all).then_some(&changed.files),
            self.trust_ref.as_deref(),
        )?;
        changed.all |= rechecked.everything;
        let mut found: Vec<Diagnostic> = self
            .files
            .values()
            .flat_map(|c| c.diagnostics.iter().cloned())
            .chain(self.skipped_links.iter().cloned())
            .chain(rechecked.diagnostics)
            .collect();
        crate::diagnostic::sort(&mut found);

        let theme = match self.theme.take() {
            Some(theme) => theme,
            None => Theme::load(&config.root, config.site.theme.as_deref())?,
        };
        let theme = &*self.theme.insert(theme);
        let published = on_site(&self.postmortems, self.drafts);
        let input = SiteInput {
            config: &config,
            postmortems: published,
            history: rechecked.history,
            trust: rechecked.trust,
            closures: rechecked.closures,
            today,
            base_url: "/".into(),
            inject: Some(INJECT),
            memo: Some(&self.memo),
        };
        let site = render::Prepared::new(&input, theme);
        if changed.all {
            self.cards.clear();
            self.memo.clear();
        }
        // A postmortem that left the site changed, so its card goes here too.
        for file in &changed.files {
            self.cards.remove(file);
            self.memo.forget(file);
        }
        let missing: Vec<&Postmortem> = input
            .postmortems
            .iter()
            .copied()
            .filter(|p| !self.cards.contains_key(&p.file))
            .collect();
        for (pm, card) in missing.iter().zip(site.cards(&missing)) {
            self.touched.add(pm, &card);
            self.cards.insert(pm.file.clone(), card);
        }
        let cards = &self.cards;
        let ordered = Ordered::new(
            input.postmortems.clone(),
            input
                .postmortems
                .iter()
                .filter_map(|p| cards.get(&p.file))
                .collect(),
        );
        if changed.all || std::mem::take(&mut self.related_stale) {
            self.related = None;
        }
        let index = &*self
            .related
            .get_or_insert_with(|| RelatedIndex::new(&ordered.postmortems));
        let pages = render::Collect::default();
        let scope = if changed.all {
            site.exports(&ordered, &pages)?;
            site.postmortem_pages(&ordered, index, Which::All, &pages)?;
            site.aggregates(&ordered, None, &pages)?;
            self.clear_deferred();
            Scope::Site
        } else {
            site.postmortem_pages(&ordered, index, Which::These(&changed.ids), &pages)?;
            self.aggregates_due |= !changed.files.is_empty();
            self.pending.extend(changed.ids);
            Scope::Postmortems
        };
        let rendered = Rendered {
            pages: pages.into_pages(),
            scope,
            kept: HashSet::new(),
        };
        Ok((rendered, found))
    }

    /// The pages that aggregate postmortems, after edits were served: the index, lists,
    /// action items, trends, feed and exports, and postmortem pages that point at an
    /// edited one.
    fn aggregates(&mut self) -> Result<Option<Rendered>> {
        self.aggregates_due = false;
        let pending = std::mem::take(&mut self.pending);
        let (Some(theme), Some((history, trust, closures)), Some(today)) =
            (&self.theme, self.checker.current(), self.checked_on)
        else {
            return Ok(None);
        };
        if self.files.is_empty() {
            // Nothing to build on: the next update renders everything.
            return Ok(None);
        }
        let published = on_site(&self.postmortems, self.drafts);
        let cards: Vec<&Card> = published
            .iter()
            .filter_map(|p| self.cards.get(&p.file))
            .collect();
        let ordered = Ordered::new(published.clone(), cards);
        let input = SiteInput {
            config: &self.ws.config,
            postmortems: published,
            history,
            trust,
            closures,
            today,
            base_url: "/".into(),
            inject: Some(INJECT),
            memo: Some(&self.memo),
        };
        let site = render::Prepared::new(&input, theme);
        let index = &*self
            .related
            .get_or_insert_with(|| RelatedIndex::new(&ordered.postmortems));
        let pages = render::Collect::default();
        site.exports(&ordered, &pages)?;
        if std::mem::take(&mut self.related_moved) {
            let repaint = std::mem::take(&mut self.repaint);
            site.postmortem_pages(&ordered, index, Which::Near(&pending, &repaint), &pages)?;
        } else {
            site.postmortem_pages(&ordered, index, Which::PointingAt(&pending), &pages)?;
        }
        let touched = std::mem::take(&mut self.touched);
        let kept = site.aggregates(&ordered, Some(&touched), &pages)?;
        Ok(Some(Rendered {
            pages: pages.into_pages(),
            scope: Scope::Aggregates,
            kept: kept.into_iter().collect(),
        }))
    }

    /// Ids of the postmortems on the site now.
    fn published_ids(&self) -> HashSet<String> {
        on_site(&self.postmortems, self.drafts)
            .into_iter()
            .map(|p| p.id.value.clone())
            .collect()
    }
}

/// The postmortems the site shows: published and closed ones, and drafts unless
/// `--no-drafts`.
fn on_site(postmortems: &[Postmortem], drafts: bool) -> Vec<&Postmortem> {
    postmortems
        .iter()
        .filter(|p| drafts || p.status() >= Status::Published)
        .collect()
}

fn problems(ws: &Workspace, found: &[Diagnostic]) -> Vec<Problem> {
    found
        .iter()
        .filter(|d| d.level == Level::Error)
        .map(|d| Problem {
            location: match d.pos {
                Some(p) => format!("{}:{}:{}", ws.display(&d.file), p.line, p.col),
                None => ws.display(&d.file),
            },
            level: d.level,
            rule: d.rule,
            message: d.message.clone(),
            help: d.help.clone(),
        })
        .collect()
}

/// Prints the findings that are new since the last build (all of them the first time),
/// and how many went away: after an edit the terminal shows what that edit did, not the
/// whole repository again. `found` is sorted; `shown` is what was printed before.
fn print_findings(ws: &Workspace, found: Vec<Diagnostic>, shown: &mut Vec<Diagnostic>) {
    let (new, resolved) = crate::diagnostic::changes(shown, &found);
    let mut new: Vec<Diagnostic> = new.into_iter().cloned().collect();
    *shown = found;
    if !new.is_empty() {
        for d in &mut new {
            d.file = ws.display(&d.file);
        }
        let summary = Summary {
            checked: 0,
            counts: Counts::of(&new),
        };
        let text = report::human(&new, &summary, false);
        let body: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("checked "))
            .collect();
        eprintln!("{}", body.join("\n"));
    }
    if resolved > 0 {
        eprintln!("{resolved} finding(s) resolved");
    }
}

/// `postmortems/<id>/index.html` → `<id>`
fn postmortem_page_id(path: &str) -> Option<&str> {
    path.strip_prefix("postmortems/")?
        .strip_suffix("/index.html")
}

/// Puts rendered pages on the site and returns the paths whose bytes changed, appeared
/// or went. A postmortem rendering drops the pages of postmortems that left the site; an
/// aggregate rendering replaces every page that is not a postmortem's own.
fn apply(
    shared: &Shared,
    rendered: Rendered,
    published: &HashSet<String>,
    problems: Vec<Problem>,
) -> Vec<String> {
    let mut site = shared
        .site
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let incoming: HashSet<String> = rendered.pages.iter().map(|p| p.path.clone()).collect();
    let mut changed = Vec::new();
    site.pages.retain(|path, _| {
        let keep = match (rendered.scope, postmortem_page_id(path)) {
            (Scope::Site, _) => incoming.contains(path),
            (_, Some(id)) => published.contains(id),
            (Scope::Aggregates, None) => incoming.contains(path) || rendered.kept.contains(path),
            (Scope::Postmortems, None) => true,
        };
        if !keep {
            changed.push(path.clone());
        }
        keep
    });
    for page in rendered.pages {
        let path = page.path.clone();
        let bytes = page.into_bytes();
        if site.pages.get(&path).is_none_or(|old| **old != bytes) {
            changed.push(path.clone());
            site.pages.insert(path, Arc::new(bytes));
        }
    }
    site.problems = problems;
    site.version += 1;
    changed.sort();
    changed
}

/// Tells open pages what changed: those showing a changed page reload; all of them
/// refresh the problems overlay.
fn announce(shared: &Shared, changed: &[String]) {
    if !changed.is_empty() {
        let paths = serde_json::to_string(changed).unwrap_or_else(|_| "[]".into());
        shared.broadcast("reload", &paths);
    }
    shared.broadcast("status", "{}");
}

pub fn run(ws: Workspace, opts: &ServeOptions) -> Result<()> {
    let root = ws.config.root.clone();
    let content_dir = ws.config.content_dir();
    let mut builder = Builder::new(ws, opts);
    let shared = Arc::new(Shared {
        site: RwLock::new(Site::default()),
        clients: Mutex::new(Vec::new()),
    });
    let started = Instant::now();
    let mut shown = Vec::new();
    let (rendered, found) = builder.update(Change::Everything)?;
    let count = rendered.pages.len();
    apply(
        &shared,
        rendered,
        &builder.published_ids(),
        problems(&builder.ws, &found),
    );
    print_findings(&builder.ws, found, &mut shown);
    // Watch before announcing the address: an edit made right after must not be missed.
    let (tx, rx) = mpsc::channel();
    let _watcher = watch(&root, &content_dir, opts.poll, tx)?;
    let (server, address) = http::bind(&opts.bind, opts.port)?;
    println!(
        "built {count} pages in {} ms",
        started.elapsed().as_millis()
    );
    println!(
        "serving {} at http://{address}/ (Ctrl-C to stop)",
        root.display()
    );
    let _ = std::io::stdout().flush();
    if opts.open {
        open_browser(&format!("http://{address}/"));
    }
    let server_shared = Arc::clone(&shared);
    std::thread::Builder::new()
        .name("http".into())
        .spawn(move || http::serve(&server, &server_shared))
        .context("cannot start the HTTP thread")?;

    let mut next = None;
    loop {
        let first = match next.take() {
            Some(change) => change,
            None => match rx.recv() {
                Ok(change) => change,
                Err(_) => break,
            },
        };
        // Editors save in bursts; take everything that is already queued.
        let mut change: Change = first;
        while let Ok(more) = rx.try_recv() {
            change = change.merge(more);
        }
        let started = Instant::now();
        // Only git's HEAD or refs moved: say nothing unless a page changed.
        let quiet = matches!(&change, Change::Content(paths) if paths.is_empty());
        match builder.update(change) {
            Ok((rendered, found)) => {
                let scope = rendered.scope;
                let changed = apply(
                    &shared,
                    rendered,
                    &builder.published_ids(),
                    problems(&builder.ws, &found),
                );
                announce(&shared, &changed);
                let errors = found.iter().filter(|d| d.level == Level::Error).count();
                print_findings(&builder.ws, found, &mut shown);
                if !(quiet && changed.is_empty()) {
                    println!(
                        "{} in {} ms{}",
                        describe(scope, &changed),
                        started.elapsed().as_millis(),
                        if errors > 0 {
                            format!(" ({errors} error(s) shown in the browser)")
                        } else {
                            String::new()
                        }
                    );
                }
            }
            Err(error) => {
                let message = match error.downcast_ref::<crate::config::ConfigErrors>() {
                    Some(errors) => {
                        let message = problems(&builder.ws, &errors.0);
                        print_findings(&builder.ws, errors.0.clone(), &mut shown);
                        message
                    }
                    None => {
                        eprintln!("error: {error:#}");
                        vec![Problem {
                            location: builder.ws.display(crate::config::FILE_NAME),
                            level: Level::Error,
                            rule: "build",
                            message: format!("{error:#}"),
                            help: None,
                        }]
                    }
                };
                let mut site = shared
                    .site
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                site.problems = message;
                site.version += 1;
                drop(site);
                shared.broadcast("status", "{}");
            }
        }
        let _ = std::io::stdout().flush();
        // The lists wait while more edits are queued: they are rendered once, after the
        // last of them.
        if builder.aggregates_due {
            match rx.try_recv() {
                Ok(change) => {
                    next = Some(change);
                    continue;
                }
                Err(mpsc::TryRecvError::Disconnected) => break,
                Err(mpsc::TryRecvError::Empty) => {}
            }
            let started = Instant::now();
            match builder.aggregates() {
                Ok(None) => {}
                Ok(Some(rendered)) => {
                    let problems = shared
                        .site
                        .read()
                        .map(|s| s.problems.clone())
                        .unwrap_or_default();
                    let changed = apply(&shared, rendered, &builder.published_ids(), problems);
                    announce(&shared, &changed);
                    println!(
                        "{} in {} ms",
                        describe(Scope::Aggregates, &changed),
                        started.elapsed().as_millis()
                    );
                }
                Err(error) => {
                    // The lists are not on the site: the next update renders everything.
                    builder.failed = true;
                    eprintln!("error: {error:#}");
                }
            }
            let _ = std::io::stdout().flush();
        }
    }
    Ok(())
}

/// "rebuilt postmortems/x/index.html", "rebuilt 12 pages of lists and exports".
fn describe(scope: Scope, changed: &[String]) -> String {
    let what = match scope {
        Scope::Site => "pages",
        Scope::Postmortems => "postmortem pages",
        Scope::Aggregates => "pages of lists and exports",
    };
    match changed {
        [] => format!("rebuilt; no {what} changed"),
        [one] => format!("rebuilt {one}"),
        many => format!("rebuilt {} {what}", many.len()),
    }
}

/// Starts watching; native events where the platform has them, polling otherwise.
fn watch(
    root: &Path,
    content: &Path,
    poll: bool,
    tx: mpsc::Sender<Change>,
) -> Result<Box<dyn std::any::Any>> {
    use notify::{EventKind, RecursiveMode};
    use notify_debouncer_full::{
        new_debouncer, new_debouncer_opt, DebounceEventResult, RecommendedCache,
    };

    let root_owned = root.to_path_buf();
    let content_owned = content.to_path_buf();
    // A commit, checkout or fetch moves what approvals are judged against.
    let git_dir = crate::git::Repo::discover(root)
        .ok()
        .flatten()
        .map(|repo| repo.git_dir().to_path_buf());
    let git_owned = git_dir.clone();
    let handler = move |result: DebounceEventResult| {
        let Ok(events) = result else { return };
        let mut change: Option<Change> = None;
        for event in events
            .iter()
            .filter(|e| !matches!(e.kind, EventKind::Access(_)))
        {
            for path in &event.paths {
                let more = classify(&root_owned, &content_owned, path)
                    .or_else(|| git_owned.as_deref().and_then(|git| classify_git(git, path)));
                if let Some(more) = more {
                    change = Some(match change.take() {
                        Some(change) => change.merge(more),
                        None => more,
                    });
                }
            }
        }
        if let Some(change) = change {
            let _ = tx.send(change);
        }
    };
    let targets: Vec<(PathBuf, RecursiveMode)> = [
        (
            root.join(crate::config::FILE_NAME),
            RecursiveMode::NonRecursive,
        ),
        (content.to_path_buf(), RecursiveMode::Recursive),
        (root.join("themes"), RecursiveMode::Recursive),
        (root.join(".debrief"), RecursiveMode::Recursive),
    ]
    .into_iter()
    .chain(git_dir.iter().flat_map(|git| {
        [
            (git.clone(), RecursiveMode::NonRecursive),
            (git.join("refs"), RecursiveMode::Recursive),
        ]
    }))
    .filter(|(p, _)| p.exists())
    .collect();
    // Short: an editor's save (write, rename) lands within a millisecond or two, and
    // events that arrive during a rebuild are taken together by the next one.
    let delay = Duration::from_millis(15);
    if !poll {
        if let Ok(mut debouncer) = new_debouncer(delay, None, handler.clone()) {
            if targets
                .iter()
                .all(|(p, mode)| debouncer.watch(p, *mode).is_ok())
            {
                return Ok(Box::new(debouncer));
            }
        }
        eprintln!("note: file-system events are unavailable here; polling for changes instead");
    }
    let config = notify::Config::default()
        .with_poll_interval(Duration::from_millis(250))
        .with_compare_contents(true);
    let mut debouncer = new_debouncer_opt::<_, notify::PollWatcher, RecommendedCache>(
        delay,
        None,
        handler,
        RecommendedCache::default(),
        config,
    )
    .context("cannot watch the repository for changes")?;
    for (path, mode) in &targets {
        debouncer
            .watch(path, *mode)
            .with_context(|| format!("cannot watch {}", path.display()))?;
    }
    Ok(Box::new(debouncer))
}

fn classify(root: &Path, content: &Path, path: &Path) -> Option<Change> {
    let name = path.file_name()?.to_string_lossy();
    if name.ends_with(".debrief-tmp")
        || name.starts_with(".#")
        || name.ends_with('~')
        || name.ends_with(".swp")
    {
        return None;
    }
    if path == root.join(crate::config::FILE_NAME)
        || path.starts_with(root.join("themes"))
        || path.starts_with(root.join(".debrief"))
    {
        return Some(Change::Everything);
    }
    if path.starts_with(content) {
        return Some(Change::Content(vec![path.to_path_buf()]));
    }
    None
}

/// HEAD and refs moving (a commit, checkout, fetch): the next update asks git whether
/// HEAD or the trust ref moved. The index and objects change on every `git status` and
/// `git add` and tell nothing.
fn classify_git(git_dir: &Path, path: &Path) -> Option<Change> {
    let moved = path == git_dir.join("HEAD")
        || path == git_dir.join("packed-refs")
        || path.starts_with(git_dir.join("refs"));
    moved.then(|| Change::Content(Vec::new()))
}

fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    if std::process::Command::new(opener).arg(url).spawn().is_err() {
        eprintln!("note: could not open a browser; visit {url}");
    }
}
