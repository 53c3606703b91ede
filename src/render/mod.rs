//! Render: every page of the site, handed to a sink as it is ready. Nothing here writes
//! files; `output` does.
//!
//! Pages are rendered in parallel from view structs ([`view`]). Output is deterministic:
//! every list is sorted, every date comes from the input or `today`.

pub mod markdown;
pub mod svg;
pub mod theme;
pub mod trends;
pub mod view;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use anyhow::{anyhow, Result};
use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;

use crate::approvals::{History, Trust};
use crate::config::Config;
use crate::model::{ItemStatus, Postmortem, Status};
use theme::{tera_error, Theme};
use trends::slug;
use view::{Card, ItemView, Named, PersonRef};

/// One output file, by its path relative to the site root (`postmortems/x/index.html`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub path: String,
    /// The file's bytes, in pieces: the large exports are produced per postmortem and
    /// written piece by piece rather than joined in memory first.
    pub parts: Vec<Vec<u8>>,
}

impl Page {
    pub fn new(path: impl Into<String>, bytes: Vec<u8>) -> Page {
        Page {
            path: path.into(),
            parts: vec![bytes],
        }
    }

    pub fn len(&self) -> usize {
        self.parts.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn into_bytes(mut self) -> Vec<u8> {
        // One part (most pages, and the exports `serve` collects): no copy.
        if self.parts.len() == 1 {
            return self.parts.pop().unwrap_or_default();
        }
        self.parts.concat()
    }
}

/// What the site is built from.
pub struct SiteInput<'a> {
    pub config: &'a Config,
    /// The postmortems to publish (already filtered by status).
    pub postmortems: Vec<&'a Postmortem>,
    pub history: &'a History,
    pub trust: &'a Trust,
    pub closures: &'a crate::actions::Closures,
    pub today: NaiveDate,
    pub base_url: String,
    /// Extra markup before `</body>` of every HTML page (the live-reload script of `serve`).
    pub inject: Option<&'a str>,
    /// Pieces made for one postmortem alone, kept between renderings (`serve`).
    pub memo: Option<&'a Memo>,
}

/// The pieces of pages that depend on one postmortem alone: its entries in the two big
/// exports and its row in lists. `serve` keeps them between edits and forgets those of
/// the files an edit touched, so the lists after an edit are joined, not rendered again.
#[derive(Default)]
pub struct Memo(std::sync::Mutex<Pieces>);

/// (piece, file) → its bytes.
type Pieces = HashMap<(Piece, String), Arc<Vec<u8>>>;

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
enum Piece {
    DataEntry,
    SearchEntry,
    Row,
    DeepRow,
}

const PIECES: [Piece; 4] = [
    Piece::DataEntry,
    Piece::SearchEntry,
    Piece::Row,
    Piece::DeepRow,
];

impl Memo {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pieces> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drops the pieces of `file` (root-relative).
    pub fn forget(&self, file: &str) {
        let mut pieces = self.lock();
        for piece in PIECES {
            pieces.remove(&(piece, file.to_owned()));
        }
    }

    pub fn clear(&self) {
        self.lock().clear();
    }
}

#[derive(Serialize)]
struct SiteMeta<'a> {
    title: &'a str,
    base_url: &'a str,
}

/// A taxonomy term and how many postmortems carry it.
#[derive(Serialize)]
struct Term {
    name: String,
    url: String,
    count: usize,
}

/// The names that share one taxonomy slug, and the postmortems (by index) that carry them.
type TermGroup<'a> = (BTreeSet<&'a str>, Vec<usize>);

struct Renderer<'a> {
    theme: &'a Theme,
    site: SiteMeta<'a>,
    today: String,
}

impl Renderer<'_> {
    /// A piece of a page (a list row) for a card, at the depth `root` leads back from.
    fn fragment(&self, template: &str, card: &Card, root: &str) -> Result<String> {
        let mut context = tera::Context::new();
        context.insert("c", card);
        context.insert("root", root);
        self.theme.tera.render(template, &context).map_err(|e| {
            anyhow!(
                "cannot render {template} for {}: {}",
                card.id,
                tera_error(&e)
            )
        })
    }

    /// Renders `template` for a page at `path`, with `root` pointing back to the site root.
    fn page(&self, template: &str, path: &str, nav: &str, extra: tera::Context) -> Result<Page> {
        let mut context = tera::Context::new();
        context.insert("site", &self.site);
        context.insert("root", &root_of(path));
        context.insert("nav", nav);
        context.insert("today", &self.today);
        context.extend(extra);
        let html = self.theme.tera.render(template, &context).map_err(|e| {
            anyhow!(
                "cannot render {path} with template {template}: {}",
                tera_error(&e)
            )
        })?;
        Ok(Page::new(path, html.into_bytes()))
    }
}

/// `postmortems/x/index.html` → `../../`
pub fn root_of(path: &str) -> String {
    "../".repeat(path.matches('/').count())
}

fn context(pairs: &[(&str, &dyn erased::Value)]) -> tera::Context {
    let mut context = tera::Context::new();
    for (key, value) in pairs {
        value.insert_into(&mut context, key);
    }
    context
}

/// Lets `context()` take values of different types.
mod erased {
    pub trait Value {
        fn insert_into(&self, context: &mut tera::Context, key: &str);
    }
    impl<T: serde::Serialize> Value for T {
        fn insert_into(&self, context: &mut tera::Context, key: &str) {
            context.insert(key, self);
        }
    }
}

/// Takes the next piece of a file that is produced piece by piece.
pub type Put<'p> = &'p mut dyn FnMut(&[u8]) -> Result<()>;

/// Where rendered files go: the output writer of `build`, the in-memory site of `serve`.
/// Called from several threads; pages arrive in no particular order.
pub trait Sink: Sync {
    /// A whole page.
    fn page(&self, page: Page) -> Result<()>;
    /// A file produced piece by piece by `produce` on the calling thread (the big exports:
    /// never whole in memory).
    fn stream(&self, path: &str, produce: &mut dyn FnMut(Put) -> Result<()>) -> Result<()>;
}

/// Collects the site in memory.
#[derive(Default)]
pub struct Collect(std::sync::Mutex<Vec<Page>>);

impl Collect {
    /// The pages, sorted by path.
    pub fn into_pages(self) -> Vec<Page> {
        let mut pages = self
            .0
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pages.sort_by(|a, b| a.path.cmp(&b.path));
        pages
    }
}

impl Sink for Collect {
    fn page(&self, page: Page) -> Result<()> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(page);
        Ok(())
    }

    fn stream(&self, path: &str, produce: &mut dyn FnMut(Put) -> Result<()>) -> Result<()> {
        let mut bytes = Vec::new();
        produce(&mut |piece| {
            bytes.extend_from_slice(piece);
            Ok(())
        })?;
        self.page(Page::new(path, bytes))
    }
}

/// Renders the site into memory, sorted by path (`serve` and tests).
pub fn render_to_vec(input: &SiteInput) -> Result<Vec<Page>> {
    let pages = Collect::default();
    render(input, &pages)?;
    Ok(pages.into_pages())
}

/// Renders every page of the site and hands each to `sink` as soon as it is ready, so
/// memory does not grow with the size of the site.
pub fn render(input: &SiteInput, sink: &dyn Sink) -> Result<()> {
    let theme = Theme::load(&input.config.root, input.config.site.theme.as_deref())?;
    let site = Prepared::new(input, &theme);
    let cards = site.cards(&input.postmortems);
    let ordered = Ordered::new(input.postmortems.clone(), cards.iter().collect());
    // The two big exports first, while little else is in memory: the memory they free
    // is then reused by the pages, rather than added on top (peak memory).
    site.exports(&ordered, sink)?;
    let index = view::RelatedIndex::new(&ordered.postmortems);
    site.postmortem_pages(&ordered, &index, Which::All, sink)?;
    drop(index);
    site.aggregates(&ordered, None, sink)?;
    Ok(())
}

/// The published postmortems newest first (ties by id, so the order never depends on the
/// file system), each beside its card.
pub struct Ordered<'p> {
    pub postmortems: Vec<&'p Postmortem>,
    pub cards: Vec<&'p Card>,
}

impl<'p> Ordered<'p> {
    /// `cards[i]` is the card of `postmortems[i]`.
    pub fn new(postmortems: Vec<&'p Postmortem>, cards: Vec<&'p Card>) -> Ordered<'p> {
        let mut order: Vec<usize> = (0..postmortems.len()).collect();
        order.sort_by(|&a, &b| {
            cards[b]
                .sort_key
                .cmp(&cards[a].sort_key)
                .then_with(|| postmortems[a].id.value.cmp(&postmortems[b].id.value))
        });
        Ordered {
            postmortems: order.iter().map(|&i| postmortems[i]).collect(),
            cards: order.iter().map(|&i| cards[i]).collect(),
        }
    }
}

/// Which postmortem pages to render.
#[derive(Clone, Copy)]
pub enum Which<'a> {
    All,
    /// The pages of these postmortem ids.
    These(&'a HashSet<String>),
    /// The pages that list one of these postmortem ids among their related incidents.
    PointingAt(&'a HashSet<String>),
    /// The pages of the first ids and of those that may list one of them (explicitly, or
    /// as a neighbour in time under a shared key), whatever they list now, and the pages
    /// of the second ids: after the first ids' keys, time or publication changed, which
    /// moves what their neighbours suggest (the second: who their neighbours were).
    Near(&'a HashSet<String>, &'a HashSet<String>),
}

/// What every page of one rendering shares: the theme, the view context and the input.
/// `render` renders all of it; `serve` renders the parts an edit touched.
pub struct Prepared<'a> {
    input: &'a SiteInput<'a>,
    renderer: Renderer<'a>,
    ctx: view::Context<'a>,
}

impl<'a> Prepared<'a> {
    pub fn new(input: &'a SiteInput<'a>, theme: &'a Theme) -> Prepared<'a> {
        let config = input.config;
        Prepared {
            input,
            renderer: Renderer {
                theme,
                site: SiteMeta {
                    title: &config.site.title,
                    base_url: &input.base_url,
                },
                today: input.today.to_string(),
            },
            ctx: view::Context {
                config,
                tz: config.site.timezone,
                today: input.today,
                history: input.history,
                trust: input.trust,
                closures: input.closures,
            },
        }
    }

    /// The card (list entry) of each postmortem, in the order given. Standings (the review
    /// and sign-off records) are recomputed for each page rather than kept for every
    /// postmortem: cheap to compute, a sizeable share of peak memory to keep.
    pub fn cards(&self, postmortems: &[&Postmortem]) -> Vec<Card> {
        postmortems
            .par_iter()
            .map(|pm| self.ctx.card(pm, &self.ctx.standing(pm)))
            .collect()
    }

    /// `piece` of `pm`: from the memo when it has it, else made (and kept there).
    fn piece(
        &self,
        piece: Piece,
        pm: &Postmortem,
        make: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<Arc<Vec<u8>>> {
        let Some(memo) = self.input.memo else {
            return Ok(Arc::new(make()?));
        };
        let key = (piece, pm.file.clone());
        if let Some(found) = memo.lock().get(&key) {
            return Ok(Arc::clone(found));
        }
        let made = Arc::new(make()?);
        memo.lock().insert(key, Arc::clone(&made));
        Ok(made)
    }

    fn emit(&self, sink: &dyn Sink, mut page: Page) -> Result<()> {
        if let Some(markup) = self.input.inject {
            if page.path.ends_with(".html") {
                inject(&mut page, markup);
            }
        }
        sink.page(page)
    }

    /// The two big exports: `postmortems.json` and the search index.
    pub fn exports(&self, ordered: &Ordered, sink: &dyn Sink) -> Result<()> {
        let (postmortems, cards) = (&ordered.postmortems, &ordered.cards);
        let today = self.input.today;
        sink.stream("postmortems.json", &mut |put| {
            put(format!(
                "{{\"version\":1,\"generated\":{},\"postmortems\":[\n",
                serde_json::to_string(&today.to_string())?
            )
            .as_bytes())?;
            put_batched(postmortems.len(), b",\n", put, |i| {
                let (pm, card) = (postmortems[i], cards[i]);
                self.piece(Piece::DataEntry, pm, || data_entry(pm, card))
            })?;
            put(b"\n]}\n")
        })?;
        sink.stream("static/search-index.js", &mut |put| {
            put(b"window.DEBRIEF_SEARCH = [")?;
            put_batched(postmortems.len(), b",", put, |i| {
                let (pm, card) = (postmortems[i], cards[i]);
                self.piece(Piece::SearchEntry, pm, || search_entry(pm, card))
            })?;
            put(b"];\n")
        })
    }

    /// One page per postmortem, or the ones `which` names. `index` is that of `ordered`.
    pub fn postmortem_pages(
        &self,
        ordered: &Ordered,
        index: &view::RelatedIndex,
        which: Which,
        sink: &dyn Sink,
    ) -> Result<()> {
        let postmortems = &ordered.postmortems;
        let indices: Vec<usize> = match which {
            Which::All => (0..postmortems.len()).collect(),
            Which::These(ids) => (0..postmortems.len())
                .filter(|&i| ids.contains(&postmortems[i].id.value))
                .collect(),
            // Those that list one of `ids` as related, and those that may suggest it.
            Which::PointingAt(ids) | Which::Near(ids, _) => {
                let mut near: HashSet<&str> = HashSet::new();
                for pm in postmortems.iter().filter(|p| ids.contains(&p.id.value)) {
                    near.extend(index.neighbours(pm));
                }
                let also = match which {
                    Which::Near(ids, also) => Some((ids, also)),
                    _ => None,
                };
                (0..postmortems.len())
                    .filter(|&i| {
                        let pm = postmortems[i];
                        let id = &pm.id.value;
                        near.contains(id.as_str())
                            || pm.related.iter().any(|r| ids.contains(&r.value))
                            || also.is_some_and(|(ids, also)| ids.contains(id) || also.contains(id))
                    })
                    .collect()
            }
        };
        let related = view::related(index, postmortems, &ordered.cards, &indices);
        let points_at = |related: &[view::RelatedView], ids: &HashSet<String>| {
            related.iter().any(|r| {
                r.url
                    .as_deref()
                    .is_some_and(|u| ids.iter().any(|id| u == view::postmortem_url(id)))
            })
        };
        indices
            .par_iter()
            .zip(related)
            .filter(|(_, related)| match which {
                Which::PointingAt(ids) => points_at(related, ids),
                Which::All | Which::These(_) | Which::Near(..) => true,
            })
            .try_for_each(|(&i, related)| {
                let (pm, card) = (postmortems[i], ordered.cards[i]);
                let view = self
                    .ctx
                    .postmortem(pm, card.clone(), self.ctx.standing(pm), related);
                let path = view::postmortem_url(&pm.id.value);
                let page = self.renderer.page(
                    "postmortem.html",
                    &path,
                    "index",
                    context(&[("pm", &view)]),
                )?;
                self.emit(sink, page)
            })
    }

    /// Every page that lists or counts postmortems (index, taxonomies, people, action
    /// items, trends, feed, calendar and CSV exports), then the 404 page and theme assets.
    /// With `only`, the pages of one taxonomy term or person are rendered for the terms
    /// and people it names; the paths of those left as they were are returned.
    pub fn aggregates<'o>(
        &self,
        ordered: &Ordered<'o>,
        only: Option<&Touched>,
        sink: &dyn Sink,
    ) -> Result<Vec<String>> {
        let (input, renderer, ctx) = (self.input, &self.renderer, &self.ctx);
        let config = input.config;
        let (postmortems, cards) = (&ordered.postmortems, &ordered.cards);
        let emit = |page: Page| self.emit(sink, page);

        // Taxonomies: term → indexes into `cards`.
        // Keyed by slug: names that differ only in case or punctuation share one page, and
        // that page lists all of them.
        // Slugs are made once per distinct name, not once per postmortem.
        let mut slugs: HashMap<&str, String> = HashMap::new();
        for (pm, card) in postmortems.iter().zip(cards.iter()) {
            for (_, name) in taxonomy_terms(pm, card) {
                if !slugs.contains_key(name) {
                    slugs.insert(name, slug(name));
                }
            }
        }
        let mut by: BTreeMap<(&str, &str), TermGroup> = BTreeMap::new();
        let mut add = |kind: &'static str, name: &'o str, i: usize| {
            let Some(slug) = slugs.get(name) else { return };
            let entry = by.entry((kind, slug.as_str())).or_default();
            entry.0.insert(name);
            if entry.1.last() != Some(&i) {
                entry.1.push(i);
            }
        };
        let mut people: BTreeMap<&str, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        for (i, pm) in postmortems.iter().enumerate() {
            for (kind, name) in taxonomy_terms(pm, cards[i]) {
                add(kind, name, i);
            }
            if let Some(owner) = &pm.owner {
                people.entry(owner.value.as_str()).or_default().0.push(i);
            }
            for r in pm.responders.iter().flat_map(|r| &r.value) {
                people.entry(r.value.as_str()).or_default().1.push(i);
            }
        }
        for owner in postmortems
            .iter()
            .flat_map(|pm| pm.items())
            .filter_map(|i| i.owner.as_ref())
        {
            people.entry(owner.value.as_str()).or_default();
        }
        // List rows are rendered once per card and depth, then reused by every list.
        let rows = |piece: Piece| -> Result<Vec<Arc<Vec<u8>>>> {
            let root = if piece == Piece::Row { "" } else { "../../" };
            postmortems
                .par_iter()
                .zip(cards.par_iter())
                .map(|(pm, card)| {
                    self.piece(piece, pm, || {
                        Ok(renderer.fragment("card-row.html", card, root)?.into_bytes())
                    })
                })
                .collect()
        };
        let term_name =
            |names: &BTreeSet<&str>| names.iter().copied().collect::<Vec<_>>().join(" / ");
        let terms = |kind: &str| -> Vec<Term> {
            by.iter()
                .filter(|((k, _), _)| *k == kind)
                .map(|((k, slug), (names, list))| Term {
                    name: term_name(names),
                    url: term_path(k, slug),
                    count: list.len(),
                })
                .collect()
        };
        let severity_order = |t: &Term| {
            config
                .workflow
                .severities
                .iter()
                .position(|s| *s == t.name)
                .unwrap_or(usize::MAX)
        };
        let mut severities = terms("severity");
        severities.sort_by_key(|t| (severity_order(t), t.name.clone()));
        let mut years = terms("years");
        years.reverse();
        let person_terms: Vec<Term> = people
            .iter()
            .map(|(handle, (owned, responded))| {
                let p = ctx.person(handle);
                Term {
                    name: p.name,
                    url: person_path(handle),
                    count: owned.len().max(responded.len()),
                }
            })
            .collect();

        let browse = json!({
            "severities": severities,
            "years": years,
            "services": terms("services"),
            "tags": terms("tags"),
            "people": person_terms,
        });
        let open_items: usize = cards.iter().map(|c| c.open_items).sum();
        let overdue_items: usize = cards.iter().map(|c| c.overdue_items).sum();
        let statuses: Vec<&str> = Status::names().collect();
        // The index's rows (at the top level) live only as long as it takes to join them.
        let mut lists = Lists::default();
        let index_cards = lists.add(rows(Piece::Row)?.iter().map(|r| r.as_slice()));
        emit(lists.fill(renderer.page(
            "index.html",
            "index.html",
            "index",
            context(&[
                ("cards", &index_cards),
                ("browse", &browse),
                ("statuses", &statuses),
                ("open_items", &open_items),
                ("overdue_items", &overdue_items),
            ]),
        )?))?;

        let deep_rows = rows(Piece::DeepRow)?;
        let pick = |lists: &mut Lists, indexes: &[usize]| {
            lists.add(indexes.iter().map(|&i| deep_rows[i].as_slice()))
        };

        // One list page per taxonomy term.
        let mut skipped = Vec::new();
        let term_wanted = |kind: &str, slug: &str| {
            only.is_none_or(|t| t.terms.contains(&(kind.to_owned(), slug.to_owned())))
        };
        let person_wanted = |handle: &str| only.is_none_or(|t| t.people.contains(handle));
        for (kind, slug) in by.keys().filter(|(k, s)| !term_wanted(k, s)) {
            skipped.push(term_path(kind, slug));
        }
        for handle in people.keys().filter(|h| !person_wanted(h)) {
            skipped.push(person_path(handle));
        }
        by.par_iter()
            .filter(|((kind, slug), _)| term_wanted(kind, slug))
            .try_for_each(|((kind, slug), (names, list))| {
                let name = term_name(names);
                let (heading, parent) = match *kind {
                    "severity" => (format!("Severity {name}"), None),
                    "years" => (format!("Incidents in {name}"), None),
                    "services" => (
                        format!("Service: {name}"),
                        Some(Named {
                            name: "Services".into(),
                            url: "services/index.html".into(),
                        }),
                    ),
                    _ => (
                        format!("Tag: {name}"),
                        Some(Named {
                            name: "Tags".into(),
                            url: "tags/index.html".into(),
                        }),
                    ),
                };
                let path = term_path(kind, slug);
                let mut lists = Lists::default();
                let cards = pick(&mut lists, list);
                emit(lists.fill(renderer.page(
                    "list.html",
                    &path,
                    kind,
                    context(&[
                        ("heading", &heading),
                        ("parent", &parent),
                        ("cards", &cards),
                    ]),
                )?))
            })?;
        for (kind, heading) in [("services", "Services"), ("tags", "Tags")] {
            let path = format!("{kind}/index.html");
            emit(renderer.page(
                "terms.html",
                &path,
                kind,
                context(&[("heading", &heading), ("terms", &terms(kind))]),
            )?)?;
        }
        emit(renderer.page(
            "terms.html",
            "people/index.html",
            "people",
            context(&[("heading", &"People"), ("terms", &person_terms)]),
        )?)?;

        // Action items as pages show them, made only now: the pages above do not need them.
        let items: Vec<ItemView> = postmortems
            .iter()
            .flat_map(|pm| {
                pm.items()
                    .iter()
                    .map(|i| ctx.item(pm, i))
                    .collect::<Vec<_>>()
            })
            .collect();

        // People pages.
        let mut items_of: HashMap<&str, Vec<&ItemView>> = HashMap::new();
        for item in &items {
            if let Some(owner) = &item.owner {
                items_of
                    .entry(owner.handle.as_str())
                    .or_default()
                    .push(item);
            }
        }
        people
            .par_iter()
            .filter(|(handle, _)| person_wanted(handle))
            .try_for_each(|(handle, (owned, responded))| {
                let person = ctx.person(handle);
                let roles = config
                    .people
                    .get(*handle)
                    .map(|p| p.roles.clone())
                    .unwrap_or_default();
                let mine = items_of.get(*handle).map_or(&[][..], Vec::as_slice);
                let path = person_path(handle);
                let mut lists = Lists::default();
                let (owned, responded) = (pick(&mut lists, owned), pick(&mut lists, responded));
                emit(lists.fill(renderer.page(
                    "person.html",
                    &path,
                    "people",
                    context(&[
                        ("person", &person),
                        ("roles", &roles),
                        ("owned", &owned),
                        ("responded", &responded),
                        ("items", &mine),
                    ]),
                )?))
            })?;

        emit(actions_page(renderer, &items)?)?;

        // Incidents without any timestamp cannot be placed in time, so trends leave them out.
        let incidents: Vec<trends::Incident> = postmortems
            .iter()
            .zip(cards.iter())
            .filter_map(|(pm, card)| incident(pm, card, ctx))
            .collect();
        let trends = trends::compute(
            &incidents,
            &config.workflow.severities,
            &config.workflow.factor_categories,
            input.today,
            "../",
        );
        emit(renderer.page(
            "trends.html",
            "trends/index.html",
            "trends",
            context(&[("trends", &trends)]),
        )?)?;

        let mut not_found = renderer.page("404.html", "404.html", "", tera::Context::new())?;
        if input.base_url.starts_with('/') || input.base_url.contains("://") {
            // A server shows 404.html at any depth, so its links must be absolute.
            let mut ctx404 = tera::Context::new();
            ctx404.insert(
                "root",
                &format!("{}/", input.base_url.trim_end_matches('/')),
            );
            not_found = renderer.page("404.html", "404.html", "", ctx404)?;
        }
        emit(not_found)?;

        emit(Page::new(
            "feed.xml",
            feed(config, &input.base_url, postmortems, cards, ctx).into_bytes(),
        ))?;
        emit(Page::new(
            "action-items.csv",
            crate::export::csv(&items).into_bytes(),
        ))?;
        emit(Page::new(
            "action-items.ics",
            crate::export::ics(
                &items,
                &format!("{} action items", config.site.title),
                input.today,
            )
            .into_bytes(),
        ))?;
        for (name, bytes) in &renderer.theme.assets {
            let mut bytes = bytes.clone();
            if name == "style.css" {
                bytes.extend_from_slice(b"\n/* charts */\n");
                bytes.extend_from_slice(svg::css().as_bytes());
            }
            emit(Page::new(format!("static/{name}"), bytes))?;
        }
        Ok(skipped)
    }
}

/// The page of one taxonomy term (`tags/<slug>/index.html`).
fn term_path(kind: &str, slug: &str) -> String {
    format!("{kind}/{slug}/index.html")
}

/// The page of one person (`people/<slug>/index.html`).
fn person_path(handle: &str) -> String {
    format!("people/{}/index.html", slug(handle))
}

/// The taxonomy terms and people whose pages an edit can change: those of the edited
/// postmortems as they were and as they are.
#[derive(Debug, Default)]
pub struct Touched {
    /// (kind, slug), as in `tags/<slug>/index.html`.
    terms: HashSet<(String, String)>,
    people: HashSet<String>,
}

impl Touched {
    /// Adds the terms and people of `pm` (whose card is `card`).
    pub fn add(&mut self, pm: &Postmortem, card: &Card) {
        for (kind, name) in taxonomy_terms(pm, card) {
            self.terms.insert((kind.to_owned(), slug(name)));
        }
        let owners = pm.items().iter().filter_map(|i| i.owner.as_ref());
        let responders = pm.responders.iter().flat_map(|r| &r.value);
        for who in pm.owner.iter().chain(responders).chain(owners) {
            self.people.insert(who.value.clone());
        }
    }
}

/// The taxonomy terms a postmortem is listed under: (kind, name), the kind as in
/// `tags/<slug>/index.html`.
fn taxonomy_terms<'p>(
    pm: &'p Postmortem,
    card: &'p Card,
) -> impl Iterator<Item = (&'static str, &'p str)> {
    let year = (!card.year.is_empty()).then_some(("years", card.year.as_str()));
    [("severity", card.severity.as_str())]
        .into_iter()
        .chain(year)
        .chain(pm.services.iter().map(|s| ("services", s.value.as_str())))
        .chain(pm.tags.iter().map(|t| ("tags", t.value.as_str())))
}

/// A list of postmortems as a page gets it: how many, and a marker where their rows go.
#[derive(Serialize)]
struct CardList {
    count: usize,
    rows: String,
}

/// The lists of one page. Rows are rendered once per postmortem (`card-row.html`) and put
/// into the page after tera has rendered it, at their markers: through tera, a list of
/// thousands of rows would be copied into its context and again into its output.
#[derive(Default)]
struct Lists {
    rows: Vec<Vec<u8>>,
}

const ROWS_MARKER: &str = "<!--debrief-rows-";

impl Lists {
    fn add<'r>(&mut self, rows: impl Iterator<Item = &'r [u8]>) -> CardList {
        let mut count = 0;
        let mut joined = Vec::new();
        for row in rows {
            count += 1;
            joined.extend_from_slice(row);
        }
        let marker = format!("{ROWS_MARKER}{}-->", self.rows.len());
        self.rows.push(joined);
        CardList {
            count,
            rows: marker,
        }
    }

    /// The page with each marker replaced by its rows, as parts (nothing is joined).
    fn fill(mut self, page: Page) -> Page {
        if self.rows.is_empty() {
            return page;
        }
        let path = page.path.clone();
        let Ok(html) = String::from_utf8(page.into_bytes()) else {
            return Page::new(path, Vec::new());
        };
        let mut parts: Vec<Vec<u8>> = Vec::new();
        // Where each list went (a theme may show one twice: the copy comes from there).
        let mut placed: Vec<Option<usize>> = vec![None; self.rows.len()];
        let mut rest = html.as_str();
        while let Some(at) = rest.find(ROWS_MARKER) {
            let after = &rest[at + ROWS_MARKER.len()..];
            let index = after.find("-->").and_then(|end| {
                let i: usize = after[..end].parse().ok()?;
                (i < self.rows.len()).then_some((i, end))
            });
            let Some((i, end)) = index else {
                parts.push(rest.as_bytes()[..at + ROWS_MARKER.len()].to_vec());
                rest = after;
                continue;
            };
            parts.push(rest.as_bytes()[..at].to_vec());
            let rows = match placed[i] {
                Some(k) => parts[k].clone(),
                None => std::mem::take(&mut self.rows[i]),
            };
            placed[i] = Some(parts.len());
            parts.push(rows);
            rest = &after[end + 3..];
        }
        parts.push(rest.as_bytes().to_vec());
        Page { path, parts }
    }
}

fn inject(page: &mut Page, markup: &str) {
    let bytes = std::mem::take(&mut page.parts).concat();
    let injected = {
        let html = String::from_utf8_lossy(&bytes);
        html.rfind("</body>").map(|at| {
            let mut out = String::with_capacity(html.len() + markup.len());
            out.push_str(&html[..at]);
            out.push_str(markup);
            out.push_str(&html[at..]);
            out.into_bytes()
        })
    };
    page.parts = vec![injected.unwrap_or(bytes)];
}

fn incident<'a>(
    pm: &'a Postmortem,
    card: &Card,
    ctx: &view::Context,
) -> Option<trends::Incident<'a>> {
    let at = pm.incident_time()?;
    let metrics = pm.metrics();
    let limit = ctx
        .config
        .workflow
        .declare_limit(pm.severity.as_ref().map(|s| s.value.as_str()));
    let time_to_publish = match (card.signed_off_at, &pm.resolved_at) {
        (Some(signed), Some(resolved)) => Some(signed - resolved.value),
        _ => None,
    };
    Some(trends::Incident {
        id: &pm.id.value,
        title: pm
            .title
            .as_ref()
            .map_or(pm.id.value.as_str(), |t| t.value.as_str()),
        url: card.url.clone(),
        severity: pm.severity.as_ref().map_or("(none)", |s| s.value.as_str()),
        at,
        services: pm.services.iter().map(|s| s.value.as_str()).collect(),
        tags: pm.tags.iter().map(|t| t.value.as_str()).collect(),
        factor_categories: pm
            .factors()
            .iter()
            .filter_map(|f| f.category.as_ref())
            .map(|c| c.value.as_str())
            .collect(),
        time_to_detect: metrics.time_to_detect,
        time_to_declare: metrics.time_to_declare,
        time_to_mitigate: metrics.time_to_mitigate,
        time_to_resolve: metrics.time_to_resolve,
        declared_within_limit: metrics.time_to_declare.map(|t| t <= limit),
        time_to_publish,
        items: pm
            .items()
            .iter()
            .map(|i| trends::ItemFacts {
                due: i.due.as_ref().map(|d| d.value),
                closed_at: i.closed_at.as_ref().map(|d| d.value),
                done: i.status() == ItemStatus::Done,
                wontfix: i.status() == ItemStatus::Wontfix,
            })
            .collect(),
    })
}

#[derive(Serialize, Default)]
struct OwnerRow {
    person: Option<PersonRef>,
    open: usize,
    overdue: usize,
    done: usize,
    on_time: usize,
}

/// How many closed action items the board lists.
const RECENT_CLOSED_ITEMS: usize = 200;

fn actions_page(renderer: &Renderer, items: &[ItemView]) -> Result<Page> {
    let mut overdue: Vec<&ItemView> = items.iter().filter(|i| i.overdue_days.is_some()).collect();
    overdue.sort_by(|a, b| {
        b.overdue_days
            .cmp(&a.overdue_days)
            .then(a.postmortem_id.cmp(&b.postmortem_id))
            .then(a.id.cmp(&b.id))
    });
    let by_due = |a: &&ItemView, b: &&ItemView| {
        a.due
            .cmp(&b.due)
            .then(a.postmortem_id.cmp(&b.postmortem_id))
            .then(a.id.cmp(&b.id))
    };
    let mut due_soon: Vec<&ItemView> = items.iter().filter(|i| i.due_soon).collect();
    due_soon.sort_by(by_due);
    let mut open: Vec<&ItemView> = items
        .iter()
        .filter(|i| i.status == ItemStatus::Open && i.overdue_days.is_none() && !i.due_soon)
        .collect();
    open.sort_by(by_due);
    let mut done: Vec<&ItemView> = items
        .iter()
        .filter(|i| i.status != ItemStatus::Open)
        .collect();
    done.sort_by(|a, b| {
        b.closed_at
            .cmp(&a.closed_at)
            .then(a.postmortem_id.cmp(&b.postmortem_id))
            .then(a.id.cmp(&b.id))
    });
    // The board is for work still to do: closed items are shown up to the most recent
    // ones; the CSV export has all of them (tens of thousands of rows would make the page
    // slow to load for everyone).
    let done_earlier = done.len().saturating_sub(RECENT_CLOSED_ITEMS);
    done.truncate(RECENT_CLOSED_ITEMS);

    let mut owners: BTreeMap<String, OwnerRow> = BTreeMap::new();
    for item in items {
        let key = item
            .owner
            .as_ref()
            .map_or_else(String::new, |o| o.handle.clone());
        let row = owners.entry(key).or_default();
        row.person = item.owner.clone().or_else(|| {
            Some(PersonRef {
                handle: String::new(),
                name: "(no owner)".into(),
                url: None,
            })
        });
        match item.status {
            ItemStatus::Open => row.open += 1,
            ItemStatus::Done => row.done += 1,
            ItemStatus::Wontfix => {}
        }
        if item.overdue_days.is_some() {
            row.overdue += 1;
        }
        if item.status == ItemStatus::Done && item.late_days.is_none() && item.due.is_some() {
            row.on_time += 1;
        }
    }
    let mut owners: Vec<OwnerRow> = owners.into_values().collect();
    owners.sort_by(|a, b| {
        b.overdue.cmp(&a.overdue).then(b.open.cmp(&a.open)).then(
            a.person
                .as_ref()
                .map(|p| &p.name)
                .cmp(&b.person.as_ref().map(|p| &p.name)),
        )
    });

    // On time = done on or before due. Late = done after due, or still open past due.
    let on_time = items
        .iter()
        .filter(|i| i.status == ItemStatus::Done && i.due.is_some() && i.late_days.is_none())
        .count();
    let late = items
        .iter()
        .filter(|i| i.late_days.is_some() || i.overdue_days.is_some())
        .count();
    let judged = on_time + late;
    let rate = (judged > 0).then(|| format!("{:.0}%", 100.0 * on_time as f64 / judged as f64));
    let counts = json!({
        "open": items.iter().filter(|i| i.status == ItemStatus::Open).count(),
        "overdue": overdue.len(),
        "due_soon": due_soon.len(),
        "done": items.iter().filter(|i| i.status == ItemStatus::Done).count(),
        "wontfix": items.iter().filter(|i| i.status == ItemStatus::Wontfix).count(),
    });
    let closure = json!({ "rate": rate, "on_time": on_time, "judged": judged });
    renderer.page(
        "actions.html",
        "actions/index.html",
        "actions",
        context(&[
            ("overdue", &overdue),
            ("due_soon", &due_soon),
            ("open", &open),
            ("done", &done),
            ("done_earlier", &done_earlier),
            ("owners", &owners),
            ("counts", &counts),
            ("closure", &closure),
        ]),
    )
}

/// Atom feed of published postmortems, newest first. Entry ids are stable URNs; `updated`
/// is the sign-off time when known, so the feed changes only when content does.
fn feed(
    config: &Config,
    base_url: &str,
    postmortems: &[&Postmortem],
    cards: &[&Card],
    ctx: &view::Context,
) -> String {
    let base = if base_url.ends_with('/') {
        base_url.to_owned()
    } else {
        format!("{base_url}/")
    };
    let mut entries = Vec::new();
    let mut latest = String::new();
    for (pm, card) in postmortems
        .iter()
        .zip(cards)
        .filter(|(p, _)| p.status() >= Status::Published)
        .take(50)
    {
        let standing = ctx.standing(pm);
        let updated = standing
            .signoff
            .map(|s| s.time)
            .or(pm.resolved_at.as_ref().map(|r| r.value))
            .or(pm.incident_time())
            .map(|t| t.to_utc().to_rfc3339())
            .unwrap_or_else(|| format!("{}T00:00:00+00:00", ctx.today));
        if updated > latest {
            latest = updated.clone();
        }
        let author = card
            .owner
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), |o| o.name.clone());
        entries.push(format!(
            "  <entry>\n    <id>urn:debrief:postmortem:{id}</id>\n    <title>{title}</title>\n    <link rel=\"alternate\" type=\"text/html\" href=\"{href}\"/>\n    <updated>{updated}</updated>\n    <author><name>{author}</name></author>\n    <category term=\"{severity}\"/>\n    <summary>{summary}</summary>\n  </entry>\n",
            id = svg::escape(&card.id),
            title = svg::escape(&card.title),
            href = svg::escape(&format!("{base}{}", card.url)),
            author = svg::escape(&author),
            severity = svg::escape(&card.severity),
            summary = svg::escape(card.summary.as_deref().unwrap_or("")),
        ));
    }
    if latest.is_empty() {
        latest = format!("{}T00:00:00+00:00", ctx.today);
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n  <id>urn:debrief:site:{id}</id>\n  <title>{title}</title>\n  <link rel=\"self\" href=\"{base}feed.xml\"/>\n  <link rel=\"alternate\" href=\"{base}index.html\"/>\n  <updated>{latest}</updated>\n  <generator>debrief</generator>\n{entries}</feed>\n",
        id = svg::escape(&slug(&config.site.title)),
        title = svg::escape(&config.site.title),
        base = svg::escape(&base),
        entries = entries.concat(),
    )
}

/// All structured data, versioned: the front-matter as written plus derived values. One
/// postmortem per line, so the file stays greppable and its entries serialise in parallel.
/// One postmortem's entry in `postmortems.json` (one line).
fn data_entry(pm: &Postmortem, card: &Card) -> Result<Vec<u8>> {
    let metrics = pm.metrics();
    let minutes = |d: Option<chrono::TimeDelta>| d.map(|d| d.num_minutes());
    let entry = json!({
        "id": pm.id.value,
        "file": pm.file,
        "url": card.url,
        "signed_off": card.signed_off,
        "digest": pm.digest,
        "metrics_minutes": {
            "time_to_detect": minutes(metrics.time_to_detect),
            "time_to_declare": minutes(metrics.time_to_declare),
            "time_to_mitigate": minutes(metrics.time_to_mitigate),
            "time_to_resolve": minutes(metrics.time_to_resolve),
        },
        "body": pm.body,
    });
    // The front-matter is already JSON text: spliced in rather than parsed again.
    let mut bytes = serde_json::to_vec(&entry)?;
    bytes.pop();
    bytes.extend_from_slice(b",\"front_matter\":");
    bytes.extend_from_slice(pm.front_matter_json().as_bytes());
    bytes.push(b'}');
    Ok(bytes)
}

/// How many postmortems the exports serialise at a time.
const EXPORT_BATCH: usize = 512;

/// Puts `count` entries, `separator` between them, made by `entry` in parallel batches of
/// [`EXPORT_BATCH`]: each batch is written and dropped before the next is made.
fn put_batched(
    count: usize,
    separator: &[u8],
    put: Put,
    entry: impl Fn(usize) -> Result<Arc<Vec<u8>>> + Sync,
) -> Result<()> {
    for start in (0..count).step_by(EXPORT_BATCH) {
        let end = (start + EXPORT_BATCH).min(count);
        let entries: Vec<Arc<Vec<u8>>> = (start..end)
            .into_par_iter()
            .map(&entry)
            .collect::<Result<_>>()?;
        for (i, bytes) in entries.iter().enumerate() {
            if start + i > 0 {
                put(separator)?;
            }
            put(bytes)?;
        }
    }
    Ok(())
}

/// Every string of a JSON value, each after a space.
fn json_strings(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::String(s) => {
            out.push(' ');
            out.push_str(s);
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| json_strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| json_strings(v, out)),
        _ => {}
    }
}

/// The search index as a script (so it also loads from `file://`): per postmortem, its
/// card fields and the distinct words of everything it says. Written directly rather than
/// through JSON values: it is the largest file after the pages.
/// One postmortem's entry in the search index.
fn search_entry(pm: &Postmortem, card: &Card) -> Result<Vec<u8>> {
    let mut text = markdown::plain_text(&pm.body);
    let front_matter: serde_json::Value =
        serde_json::from_str(&pm.front_matter_json()).unwrap_or_default();
    json_strings(&front_matter, &mut text);
    // Words are split from the text as written, then lowercased (lowercasing
    // first could split a word: `İ` lowercases to `i` and a combining dot).
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().nth(1).is_some())
        .map(|w| {
            if w.is_ascii() {
                w.to_ascii_lowercase()
            } else {
                w.to_lowercase()
            }
        })
        .collect();
    words.sort_unstable();
    words.dedup();
    fn json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
        serde_json::to_string(value)
    }
    Ok(format!(
        "{{\"id\":{},\"t\":{},\"u\":{},\"d\":{},\"s\":{},\"st\":{},\"w\":{}}}",
        json(&card.id)?,
        json(&card.title)?,
        json(&card.url)?,
        json(&card.date)?,
        json(&card.severity)?,
        json(&card.status)?,
        json(&words.join(" "))?,
    )
    .into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_rows_go_where_their_markers_are() {
        let rows = ["<tr>a</tr>".to_owned(), "<tr>b</tr>".to_owned()];
        let mut lists = Lists::default();
        let first = lists.add(rows.iter().map(|r| r.as_bytes()));
        let second = lists.add(rows[1..].iter().map(|r| r.as_bytes()));
        assert_eq!((first.count, second.count), (2, 1));
        let html = format!(
            "<p>{}</p>{}<!--debrief-rows-9--><!--debrief-rows-x-->{}.",
            first.rows, second.rows, first.rows
        );
        let page = lists.fill(Page::new("list.html", html.into_bytes()));
        assert_eq!(
            String::from_utf8(page.into_bytes()).unwrap_or_default(),
            "<p><tr>a</tr><tr>b</tr></p><tr>b</tr><!--debrief-rows-9--><!--debrief-rows-x--><tr>a</tr><tr>b</tr>."
        );
    }
}
