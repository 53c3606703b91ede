//! How long an edit takes to show in `debrief serve`, measured from outside: the time from
//! writing a postmortem to the server answering with the new page, and to the action-item
//! export (a page that aggregates every postmortem) showing it too.
//!
//! ```text
//! cargo run --release --example serve-latency -- --debrief target/release/debrief \
//!     --site DIR --file content/x.md [--runs 10] [--today 2026-12-04]
//! ```
//!
//! Each run appends `-probe<N>` to the first action item's `ticket:` (the page shows the
//! ticket; the sign-off digest leaves it out), then polls the postmortem's page and
//! `action-items.csv` every millisecond. The file is restored at the end. Prints one line
//! per run and the median and minimum of each.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Args {
    debrief: PathBuf,
    site: PathBuf,
    file: String,
    runs: usize,
    today: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        debrief: PathBuf::from("target/release/debrief"),
        site: PathBuf::new(),
        file: String::new(),
        runs: 10,
        today: "2026-12-04".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--debrief" => args.debrief = PathBuf::from(value()?),
            "--site" => args.site = PathBuf::from(value()?),
            "--file" => args.file = value()?,
            "--runs" => {
                args.runs = value()?
                    .parse()
                    .map_err(|_| "--runs needs a number".to_owned())?;
            }
            "--today" => args.today = value()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.file.is_empty() || args.site.as_os_str().is_empty() {
        return Err("--site and --file are required".into());
    }
    Ok(args)
}

/// Kills the server when the measurement ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(address: &str, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(address).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").ok()?;
    let mut body = String::new();
    stream.read_to_string(&mut body).ok()?;
    Some(body)
}

/// Polls `path` until it contains `marker`; the time since `start`.
fn until(address: &str, path: &str, marker: &str, start: Instant) -> Result<Duration, String> {
    loop {
        if get(address, path).is_some_and(|body| body.contains(marker)) {
            return Ok(start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(60) {
            return Err(format!("{path} did not show {marker} within 60 s"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn summary(label: &str, mut values: Vec<Duration>) {
    values.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = if values.len() % 2 == 1 {
        ms(values[values.len() / 2])
    } else {
        (ms(values[values.len() / 2 - 1]) + ms(values[values.len() / 2])) / 2.0
    };
    println!(
        "{label}: median {median:.1} ms, min {:.1} ms ({} runs)",
        values.first().map_or(0.0, |d| ms(*d)),
        values.len()
    );
}

fn run(args: &Args) -> Result<(), String> {
    let path = args.site.join(&args.file);
    let original =
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let ticket_line = original
        .lines()
        .position(|l| l.trim_start().starts_with("ticket: "))
        .ok_or(format!("{} has no action item with a ticket", args.file))?;
    let stem = args
        .file
        .rsplit('/')
        .next()
        .and_then(|name| name.strip_suffix(".md"))
        .ok_or("--file must name a .md file")?;
    let page = format!("/postmortems/{stem}/");

    let mut child = Command::new(&args.debrief)
        .arg("-C")
        .arg(&args.site)
        .args(["serve", "--port", "0", "--today", &args.today])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", args.debrief.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let address = loop {
        let line = lines
            .next()
            .ok_or("the server stopped before serving")?
            .map_err(|e| e.to_string())?;
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split('/').next().unwrap_or_default().to_owned();
        }
    };
    // Keep reading the server's output so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));

    let mut pages = Vec::new();
    let mut lists = Vec::new();
    let mut outcome = Ok(());
    for n in 1..=args.runs {
        let marker = format!("-probe{n}");
        let edited: String = original
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == ticket_line {
                    format!("{l}{marker}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        let start = Instant::now();
        if let Err(e) = std::fs::write(&path, edited) {
            outcome = Err(format!("cannot write {}: {e}", path.display()));
            break;
        }
        let measured = until(&address, &page, &marker, start).and_then(|page_time| {
            until(&address, "/action-items.csv", &marker, start).map(|list| (page_time, list))
        });
        match measured {
            Ok((page_time, list_time)) => {
                println!(
                    "run {n}: page {:.1} ms, lists {:.1} ms",
                    page_time.as_secs_f64() * 1000.0,
                    list_time.as_secs_f64() * 1000.0
                );
                pages.push(page_time);
                lists.push(list_time);
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    let restored = std::fs::write(&path, &original);
    drop(server);
    restored.map_err(|e| format!("cannot restore {}: {e}", path.display()))?;
    outcome?;
    summary("edited postmortem's page served", pages);
    summary("action-item export served", lists);
    Ok(())
}

fn main() {
    let result = parse_args().and_then(|args| run(&args));
    if let Err(e) = result {
        eprintln!("serve-latency: {e}");
        std::process::exit(1);
    }
}
