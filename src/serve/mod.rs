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

use crate::cmd::check::checked_from;
use crate::cmd::Workspace;
use crate::content;
use crate::diagnostic::{Counts, Diagnostic, Level};
use crate::load::{self, Loaded};
use crate::model::{Postmortem, Status};
use crate::render::{self, SiteInput};
use crate::report::{self, Summary};

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
    pub pages: BTreeMap<String, Vec<u8>>,
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

/// A parsed file, remembered until it changes on disk.
struct Cached {
    stamp: (SystemTime, u64),
    postmortem: Option<Postmortem>,
    diagnostics: Vec<Diagnostic>,
}

/// The rebuild loop's memory: parsed files and the last version of each that parsed.
struct Builder {
    ws: Workspace,
    opts_drafts: bool,
    today: Option<NaiveDate>,
    trust_ref: Option<String>,
    files: HashMap<String, Cached>,
    /// The day the cached files were checked at (their findings depend on it).
    files_checked_on: Option<NaiveDate>,
    last_good: HashMap<String, Postmortem>,
}

/// What changed since the last build.
#[derive(Debug, PartialEq, Eq)]
enum Change {
    Everything,
    Content,
}

impl Builder {
    fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
        let meta = std::fs::metadata(path).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    }

    /// Re-reads changed files only; returns the postmortems and the ids whose pages changed.
    fn load(&mut self, today: NaiveDate) -> Result<(Loaded, HashSet<String>)> {
        if self.files_checked_on != Some(today) {
            self.files.clear();
            self.files_checked_on = Some(today);
        }
        let config = &self.ws.config;
        let rules = crate::validate::FileRules::new(config, today);
        let found = content::discover(&config.root, &config.content_dir())?;
        let mut changed_ids = HashSet::new();
        let mut seen = HashSet::new();
        for path in &found.files {
            seen.insert(path.rel.clone());
            let stamp = Self::stamp(&path.abs);
            let fresh = match (self.files.get(&path.rel), stamp) {
                (Some(cached), Some(stamp)) => cached.stamp != stamp,
                _ => true,
            };
            if !fresh {
                continue;
            }
            let (postmortem, diagnostics) = load::load_one(config, path, Some(&rules));
            if let Some(old) = self
                .files
                .get(&path.rel)
                .and_then(|c| c.postmortem.as_ref())
            {
                changed_ids.insert(old.id.value.clone());
            }
            if let Some(pm) = &postmortem {
                changed_ids.insert(pm.id.value.clone());
                self.last_good.insert(path.rel.clone(), pm.clone());
            }
            self.files.insert(
                path.rel.clone(),
                Cached {
                    stamp: stamp.unwrap_or((SystemTime::UNIX_EPOCH, 0)),
                    postmortem,
                    diagnostics,
                },
            );
        }
        let gone: Vec<String> = self
            .files
            .keys()
            .filter(|k| !seen.contains(*k))
            .cloned()
            .collect();
        for rel in gone {
            if let Some(pm) = self.files.remove(&rel).and_then(|c| c.postmortem) {
                changed_ids.insert(pm.id.value);
            }
            self.last_good.remove(&rel);
        }
        let mut loaded = Loaded {
            files: found.files.iter().map(|f| f.rel.clone()).collect(),
            ..Loaded::default()
        };
        let mut rels: Vec<&String> = self.files.keys().collect();
        rels.sort();
        for rel in rels {
            let cached = &self.files[rel];
            loaded
                .diagnostics
                .extend(cached.diagnostics.iter().cloned());
            // A file that stopped parsing stays on the site as it last was.
            if let Some(pm) = cached
                .postmortem
                .as_ref()
                .or_else(|| self.last_good.get(rel))
            {
                loaded.postmortems.push(pm.clone());
            }
        }
        for (path, why) in &found.skipped_links {
            loaded.diagnostics.push(load::skipped_link(path, why));
        }
        config.apply_overrides(&mut loaded.diagnostics);
        Ok((loaded, changed_ids))
    }

    /// One build. `Ok(None)` when the configuration itself is broken (the old site stays).
    fn build(&mut self, change: &Change) -> Result<(Vec<render::Page>, Vec<Diagnostic>, bool)> {
        if *change == Change::Everything {
            self.ws = Workspace::open(&self.ws.config.root)?;
            self.files.clear();
        }
        let today = self.ws.today(self.today);
        let (loaded, changed_ids) = self.load(today)?;
        let checked = checked_from(&self.ws, loaded, self.trust_ref.as_deref(), true)?;
        let published: Vec<&Postmortem> = checked
            .loaded
            .postmortems
            .iter()
            .filter(|p| self.opts_drafts || p.status() >= Status::Published)
            .collect();
        let partial = *change == Change::Content;
        let only = partial.then_some(&changed_ids);
        let pages = render::render_to_vec(&SiteInput {
            config: &self.ws.config,
            postmortems: published,
            history: &checked.history,
            trust: &checked.trust,
            closures: &checked.closures,
            today,
            base_url: "/".into(),
            only,
            inject: Some(INJECT),
        })?;
        Ok((pages, checked.diagnostics, partial))
    }
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

fn print_findings(ws: &Workspace, found: &[Diagnostic]) {
    let mut shown: Vec<Diagnostic> = found.to_vec();
    for d in &mut shown {
        d.file = ws.display(&d.file);
    }
    let summary = Summary {
        checked: 0,
        counts: Counts::of(&shown),
    };
    let text = report::human(&shown, &summary, false);
    let body: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("checked "))
        .collect();
    if !body.is_empty() {
        eprintln!("{}", body.join("\n"));
    }
}

/// Applies a build to the shared site: a partial build replaces every aggregate page and
/// the postmortem pages it rendered; pages of postmortems that left the site go.
fn apply(
    shared: &Shared,
    pages: Vec<render::Page>,
    partial: bool,
    published: &HashSet<String>,
    problems: Vec<Problem>,
) {
    let mut site = shared
        .site
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if partial {
        site.pages.retain(|path, _| {
            path.strip_prefix("postmortems/")
                .and_then(|rest| rest.strip_suffix("/index.html"))
                .is_some_and(|id| published.contains(id))
        });
    } else {
        site.pages.clear();
    }
    for page in pages {
        let path = page.path.clone();
        site.pages.insert(path, page.into_bytes());
    }
    site.problems = problems;
    site.version += 1;
}

pub fn run(ws: Workspace, opts: &ServeOptions) -> Result<()> {
    let root = ws.config.root.clone();
    let content_dir = ws.config.content_dir();
    let mut builder = Builder {
        ws,
        opts_drafts: opts.drafts,
        today: opts.today,
        trust_ref: opts.trust_ref.clone(),
        files: HashMap::new(),
        files_checked_on: None,
        last_good: HashMap::new(),
    };
    let shared = Arc::new(Shared {
        site: RwLock::new(Site::default()),
        clients: Mutex::new(Vec::new()),
    });
    let started = Instant::now();
    let (pages, found, _) = builder.build(&Change::Everything)?;
    print_findings(&builder.ws, &found);
    let published = published_ids(&pages);
    let count = pages.len();
    apply(
        &shared,
        pages,
        false,
        &published,
        problems(&builder.ws, &found),
    );
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

    while let Ok(first) = rx.recv() {
        // Editors save in bursts; take everything that is already queued.
        let mut change = first;
        while let Ok(more) = rx.try_recv() {
            if more == Change::Everything {
                change = Change::Everything;
            }
        }
        let started = Instant::now();
        match builder.build(&change) {
            Ok((pages, found, partial)) => {
                print_findings(&builder.ws, &found);
                let ids = current_ids(&builder);
                let rendered = pages.len();
                apply(&shared, pages, partial, &ids, problems(&builder.ws, &found));
                let errors = found.iter().filter(|d| d.level == Level::Error).count();
                println!(
                    "rebuilt {rendered} pages in {} ms{}",
                    started.elapsed().as_millis(),
                    if errors > 0 {
                        format!(" ({errors} error(s) shown in the browser)")
                    } else {
                        String::new()
                    }
                );
                shared.broadcast("reload", "{}");
            }
            Err(error) => {
                let message = match error.downcast_ref::<crate::config::ConfigErrors>() {
                    Some(errors) => {
                        print_findings(&builder.ws, &errors.0);
                        problems(&builder.ws, &errors.0)
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
    }
    Ok(())
}

fn published_ids(pages: &[render::Page]) -> HashSet<String> {
    pages
        .iter()
        .filter_map(|p| {
            p.path
                .strip_prefix("postmortems/")?
                .strip_suffix("/index.html")
                .map(str::to_owned)
        })
        .collect()
}

fn current_ids(builder: &Builder) -> HashSet<String> {
    builder
        .files
        .iter()
        .filter_map(|(rel, c)| c.postmortem.as_ref().or_else(|| builder.last_good.get(rel)))
        .filter(|p| builder.opts_drafts || p.status() >= Status::Published)
        .map(|p| p.id.value.clone())
        .collect()
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
    let handler = move |result: DebounceEventResult| {
        let Ok(events) = result else { return };
        let mut change = None;
        for event in events
            .iter()
            .filter(|e| !matches!(e.kind, EventKind::Access(_)))
        {
            for path in &event.paths {
                match classify(&root_owned, &content_owned, path) {
                    Some(Change::Everything) => change = Some(Change::Everything),
                    Some(Change::Content) if change.is_none() => change = Some(Change::Content),
                    _ => {}
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
    .filter(|(p, _)| p.exists())
    .collect();
    let delay = Duration::from_millis(50);
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
        return Some(Change::Content);
    }
    None
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
