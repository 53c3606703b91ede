//! The floor: the least work any design of `debrief build` must do with these libraries.
//! Reads every postmortem, splits the front-matter, parses the YAML with saphyr's event
//! parser into `serde_json` values, renders the Markdown body with pulldown-cmark, renders a
//! trivial tera template and writes one file per postmortem, on 2 threads (rayon).
//!
//! ```text
//! cargo bench --bench floor -- CORPUS_DIR OUT_DIR [--threads N] [--phases]
//! ```
//!
//! `--phases` also runs each phase over all files on one thread and prints its time (the
//! pages go to `OUT_DIR/phases/`). Like a full `debrief build`, the floor is meant to write
//! into an output folder that does not exist yet; `scripts/bench` removes it between runs.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use pulldown_cmark::{html, Options, Parser as Markdown};
use rayon::prelude::*;
use saphyr_parser::{Event, Parser as Yaml};
use serde_json::{Map, Value};

const TEMPLATE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{{ title }}</title></head>\n<body><main><h1>{{ title }}</h1>\n{{ body | safe }}\n</main></body></html>\n";

struct Args {
    corpus: PathBuf,
    out: PathBuf,
    threads: usize,
    phases: bool,
}

fn args() -> Result<Args> {
    let mut positional = Vec::new();
    let mut threads = 2;
    let mut phases = false;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            // `cargo bench` passes `--bench` to harness-less benches.
            "--bench" => {}
            "--phases" => phases = true,
            "--threads" => {
                threads = it
                    .next()
                    .context("--threads needs a number")?
                    .parse()
                    .context("--threads needs a number")?;
            }
            other if other.starts_with("--") => bail!("unknown option {other}"),
            other => positional.push(PathBuf::from(other)),
        }
    }
    let [corpus, out] = <[PathBuf; 2]>::try_from(positional).map_err(|_| {
        anyhow::anyhow!(
            "usage: cargo bench --bench floor -- CORPUS_DIR OUT_DIR [--threads N] [--phases]"
        )
    })?;
    Ok(Args {
        corpus,
        out,
        threads,
        phases,
    })
}

/// `*.md` under `CORPUS_DIR/content`, sorted.
fn discover(corpus: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(corpus.join("content")).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot list {}", corpus.display()))?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "md") {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

/// `---\n<yaml>---\n<body>` → (yaml, body).
fn split(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("---\n")?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

/// YAML → JSON values through the event parser (scalars stay strings: the floor does not
/// type-check).
fn yaml(text: &str) -> Result<Value> {
    enum Frame {
        Seq(Vec<Value>),
        Map(Map<String, Value>, Option<String>),
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut root = Value::Null;
    for event in Yaml::new_from_str(text) {
        let (event, _) = event.map_err(|e| anyhow::anyhow!("invalid YAML: {}", e.info()))?;
        let done = match event {
            Event::Scalar(s, ..) => Some(Value::String(s.into_owned())),
            Event::SequenceStart(..) => {
                stack.push(Frame::Seq(Vec::new()));
                None
            }
            Event::MappingStart(..) => {
                stack.push(Frame::Map(Map::new(), None));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq(items)) => Some(Value::Array(items)),
                Some(Frame::Map(map, _)) => Some(Value::Object(map)),
                None => None,
            },
            _ => None,
        };
        let Some(value) = done else { continue };
        match stack.last_mut() {
            None => root = value,
            Some(Frame::Seq(items)) => items.push(value),
            Some(Frame::Map(map, key)) => match key.take() {
                None => *key = Some(value.as_str().unwrap_or_default().to_owned()),
                Some(k) => {
                    map.insert(k, value);
                }
            },
        }
    }
    Ok(root)
}

fn markdown(body: &str) -> String {
    let mut out = String::with_capacity(body.len() * 3 / 2);
    html::push_html(&mut out, Markdown::new_ext(body, Options::ENABLE_TABLES));
    out
}

fn page(tera: &tera::Tera, front: &Value, body_html: &str) -> Result<String> {
    let mut ctx = tera::Context::new();
    ctx.insert(
        "title",
        front.get("title").and_then(Value::as_str).unwrap_or(""),
    );
    ctx.insert("body", body_html);
    tera.render("page.html", &ctx)
        .context("cannot render the page")
}

fn target(out: &Path, file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.join("postmortems").join(stem).join("index.html")
}

fn write(path: &Path, html: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fs::write(path, html).with_context(|| format!("cannot write {}", path.display()))
}

fn one(tera: &tera::Tera, out: &Path, file: &Path) -> Result<()> {
    let text =
        fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (fm, body) =
        split(&text).with_context(|| format!("no front-matter in {}", file.display()))?;
    let front = yaml(fm).with_context(|| file.display().to_string())?;
    let html = page(tera, &front, &markdown(body))?;
    write(&target(out, file), &html)
}

fn phases(tera: &tera::Tera, out: &Path, files: &[PathBuf]) -> Result<()> {
    let mut times = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, times: &mut Vec<(&str, f64)>| {
        times.push((name, clock.elapsed().as_secs_f64()));
        clock = Instant::now();
    };
    let texts = files
        .iter()
        .map(|f| fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display())))
        .collect::<Result<Vec<_>>>()?;
    lap("read", &mut times);
    let parts = texts
        .iter()
        .map(|t| split(t).context("no front-matter"))
        .collect::<Result<Vec<_>>>()?;
    lap("split", &mut times);
    let fronts = parts
        .iter()
        .map(|(fm, _)| yaml(fm))
        .collect::<Result<Vec<_>>>()?;
    lap("yaml", &mut times);
    let bodies: Vec<String> = parts.iter().map(|(_, body)| markdown(body)).collect();
    lap("markdown", &mut times);
    let pages = fronts
        .iter()
        .zip(&bodies)
        .map(|(front, body)| page(tera, front, body))
        .collect::<Result<Vec<_>>>()?;
    lap("tera", &mut times);
    // Into a fresh folder, as a full build does (rewriting existing files is slower on
    // some file systems and would not be the same work).
    let fresh = out.join("phases");
    if fresh.exists() {
        fs::remove_dir_all(&fresh).with_context(|| format!("cannot remove {}", fresh.display()))?;
    }
    lap("(clean up)", &mut times);
    times.pop();
    for (file, html) in files.iter().zip(&pages) {
        write(&target(&fresh, file), html)?;
    }
    lap("write", &mut times);
    let total: f64 = times.iter().map(|(_, t)| t).sum();
    println!("| phase (1 thread) | seconds | share |\n|---|---:|---:|");
    for (name, t) in &times {
        println!(
            "| {name} | {t:.3} | {:.0}% |",
            100.0 * t / total.max(f64::EPSILON)
        );
    }
    println!("| total | {total:.3} | 100% |");
    Ok(())
}

fn main() -> Result<()> {
    let args = args()?;
    let mut tera = tera::Tera::default();
    tera.add_raw_template("page.html", TEMPLATE)
        .context("cannot compile the template")?;
    let started = Instant::now();
    let files = discover(&args.corpus)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .context("cannot start the thread pool")?;
    pool.install(|| files.par_iter().try_for_each(|f| one(&tera, &args.out, f)))?;
    println!(
        "floor: {} postmortems in {:.3} s ({} threads)",
        files.len(),
        started.elapsed().as_secs_f64(),
        args.threads
    );
    if args.phases {
        phases(&tera, &args.out, &files)?;
    }
    Ok(())
}
