use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use debrief::approvals::Kind;
use debrief::cmd::actions::{CloseOptions, ListFormat as ActionsFormat, ListOptions, StatusFilter};
use debrief::cmd::approve::ApproveOptions;
use debrief::cmd::build::BuildOptions;
use debrief::cmd::{
    self, check::CheckOptions, new::NewOptions, parse_date_arg, Outcome, Workspace,
};
use debrief::config::ConfigErrors;
use debrief::diagnostic::Counts;
use debrief::report::{self, Format, Summary};

/// Incident postmortems as code: check, sign off and publish a git repository of postmortems.
#[derive(Parser)]
#[command(name = "debrief", version, about, long_about = None)]
struct Cli {
    /// Run as if started in DIR (like `git -C`).
    #[arg(short = 'C', global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Print how long each phase took (on stderr).
    #[arg(long, global = true)]
    timings: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Set up a postmortem repository: debrief.toml, an example, a CI workflow.
    Init {
        /// Folder to initialise (default: the current folder).
        #[arg(value_name = "DIR")]
        target: Option<PathBuf>,
    },
    /// Start a new postmortem as a scaffolded draft.
    New {
        /// What happened, in a few words.
        title: String,
        /// Severity (default: the least severe configured).
        #[arg(long)]
        severity: Option<String>,
        /// Owner handle (default: the person whose email is your git user.email).
        #[arg(long)]
        owner: Option<String>,
        /// Postmortem id (default: the file name, <date>-<slug>).
        #[arg(long)]
        id: Option<String>,
        /// Incident date for the file name (default: today).
        #[arg(long, value_parser = parse_date_arg, value_name = "YYYY-MM-DD")]
        date: Option<NaiveDate>,
    },
    /// Validate every postmortem against the workflow (the CI gate).
    Check {
        /// Only report on these files or folders (all are still loaded).
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Judge due dates as of this day instead of today.
        #[arg(long, value_parser = parse_date_arg, value_name = "YYYY-MM-DD")]
        today: Option<NaiveDate>,
        /// Fail (exit 1) on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// Read [people], [approvals] and allowed signers from this revision (in CI: the base branch).
        #[arg(long, value_name = "REF")]
        trust_ref: Option<String>,
    },
    /// Render the site: index, postmortem pages, action items, trends, feeds and exports.
    Build {
        /// Output folder (default: public/ in the repository).
        #[arg(long, short = 'o', value_name = "DIR")]
        output: Option<PathBuf>,
        /// Also publish drafts and postmortems in review, with a banner.
        #[arg(long)]
        drafts: bool,
        /// Base URL used in the feed (default: [site] base_url).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Judge due dates as of this day instead of today.
        #[arg(long, value_parser = parse_date_arg, value_name = "YYYY-MM-DD")]
        today: Option<NaiveDate>,
        /// Read [people], [approvals] and allowed signers from this revision.
        #[arg(long, value_name = "REF")]
        trust_ref: Option<String>,
    },
    /// List action items across postmortems (overdue first), or close one.
    #[command(args_conflicts_with_subcommands = true)]
    Actions {
        #[command(subcommand)]
        command: Option<ActionsCommand>,
        #[command(flatten)]
        list: ActionsList,
    },
    /// Preview the site with live reload while you write (drafts included).
    Serve {
        /// Port to listen on (the next free one is used if it is taken; 0 picks any).
        #[arg(long, default_value_t = 1111)]
        port: u16,
        /// Address to listen on (loopback by default: the preview is for you).
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Leave drafts and postmortems in review out, as `build` does.
        #[arg(long)]
        no_drafts: bool,
        /// Open the site in a browser.
        #[arg(long)]
        open: bool,
        /// Poll for changes instead of using file-system events (network or container file systems).
        #[arg(long)]
        poll: bool,
        /// Judge due dates as of this day instead of today.
        #[arg(long, value_parser = parse_date_arg, value_name = "YYYY-MM-DD")]
        today: Option<NaiveDate>,
        /// Read [people], [approvals] and allowed signers from this revision.
        #[arg(long, value_name = "REF")]
        trust_ref: Option<String>,
    },
    /// Work with the site theme.
    #[command(subcommand)]
    Theme(ThemeCommand),
    /// Record your review of a postmortem (workflow step 6) as a git commit.
    Review(ApproveArgs),
    /// Sign off a postmortem as its tech lead (step 7): sets `status: published` and commits.
    Approve(ApproveArgs),
    /// Show the reviews and sign-offs that history records for each postmortem.
    Approvals {
        /// One postmortem (id or file); default: all.
        target: Option<String>,
        #[arg(long, value_enum, default_value = "human")]
        format: ListFormat,
        /// Read [people], [approvals] and allowed signers from this revision.
        #[arg(long, value_name = "REF")]
        trust_ref: Option<String>,
    },
    /// Print the content digest that reviews and sign-offs approve.
    Digest {
        /// Postmortem id or file.
        target: String,
        /// Print the canonical text that is hashed instead of the digest.
        #[arg(long)]
        canonical: bool,
    },
}

#[derive(clap::Args)]
struct ActionsList {
    /// Which items to list.
    #[arg(long, value_enum, default_value = "open")]
    status: StatusFilter,
    /// Only items past their due date.
    #[arg(long)]
    overdue: bool,
    /// Only open items due within this long (e.g. 14d, 2w), overdue ones included.
    #[arg(long, value_name = "DURATION")]
    due_within: Option<String>,
    /// Only items owned by this handle.
    #[arg(long, value_name = "HANDLE")]
    owner: Option<String>,
    /// Only items of postmortems about this service.
    #[arg(long)]
    service: Option<String>,
    /// Only items of postmortems of this severity.
    #[arg(long)]
    severity: Option<String>,
    /// Judge due dates as of this day instead of today.
    #[arg(long, value_parser = parse_date_arg, value_name = "YYYY-MM-DD")]
    today: Option<NaiveDate>,
    #[arg(long, value_enum, default_value = "table")]
    format: ActionsFormat,
    /// Exit 1 when any listed item is overdue.
    #[arg(long)]
    fail_on_overdue: bool,
}

#[derive(Subcommand)]
enum ActionsCommand {
    /// Close an action item: edits only its lines and commits with an Action-Closed trailer.
    Close {
        /// POSTMORTEM-ID/ITEM-ID, e.g. 2026-02-11-checkout-outage/AI-2
        target: String,
        /// The day it was done (default: today).
        #[arg(long, value_parser = parse_date_arg, value_name = "YYYY-MM-DD")]
        date: Option<NaiveDate>,
        /// Link to the ticket that tracked it.
        #[arg(long, value_name = "URL")]
        ticket: Option<String>,
        /// Close it as won't fix, with the reason.
        #[arg(long, value_name = "REASON")]
        wontfix: Option<String>,
        /// Edit the file but do not commit.
        #[arg(long)]
        no_commit: bool,
    },
}

#[derive(Subcommand)]
enum ThemeCommand {
    /// Copy the default theme into DIR (default: themes/custom) to customise it.
    Eject {
        #[arg(value_name = "DIR")]
        target: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct ApproveArgs {
    /// Postmortem id or file.
    target: String,
    /// Do not commit: print the trailer to put in your own commit message.
    #[arg(long)]
    no_commit: bool,
    /// Read [people], [approvals] and allowed signers from this revision.
    #[arg(long, value_name = "REF")]
    trust_ref: Option<String>,
    /// Judge due dates as of this day instead of today.
    #[arg(long, value_parser = parse_date_arg, value_name = "YYYY-MM-DD")]
    today: Option<NaiveDate>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ListFormat {
    Human,
    Json,
}

fn approve(dir: &Path, args: ApproveArgs, kind: Kind) -> Result<Outcome> {
    let ws = Workspace::open(dir)?;
    let done = cmd::approve::approve(
        &ws,
        &ApproveOptions {
            target: args.target,
            kind,
            no_commit: args.no_commit,
            trust_ref: args.trust_ref,
            today: args.today,
        },
    )?;
    if let Some(path) = &done.status_changed {
        let rel = debrief::content::relative_name(&ws.config.root, path);
        println!("set status: published in {}", ws.display(&rel));
    }
    let what = if kind == Kind::Review {
        "review"
    } else {
        "sign-off"
    };
    match (&done.approval_file, done.committed) {
        (Some(file), true) => println!(
            "recorded {what} of {} in {}",
            done.postmortem,
            ws.display(file)
        ),
        (Some(file), false) => {
            println!("wrote {}; commit it to record the {what}", ws.display(file))
        }
        (None, true) => println!("recorded {what} of {}: {}", done.postmortem, done.trailer),
        (None, false) => println!(
            "add this trailer as the last paragraph of your commit message:\n\n{}",
            done.trailer
        ),
    }
    Ok(Outcome::Clean)
}

fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

fn run(cli: Cli) -> Result<Outcome> {
    let timings = cli.timings;
    let workspace = |dir: &Path| -> Result<Workspace> {
        let mut ws = Workspace::open(dir)?;
        ws.timings = debrief::timings::Timings::new(timings);
        Ok(ws)
    };
    let dir = match cli.dir {
        Some(dir) => dir,
        None => std::env::current_dir()?,
    };
    match cli.command {
        Command::Init { target } => {
            let target = target.map_or_else(|| dir.clone(), |t| dir.join(t));
            let written = cmd::init::run(&target)?;
            for path in &written {
                println!("created {}", path.display());
            }
            println!("next: edit debrief.toml ([people]), then `debrief new \"Title\"` and `debrief check`");
            Ok(Outcome::Clean)
        }
        Command::New {
            title,
            severity,
            owner,
            id,
            date,
        } => {
            let ws = workspace(&dir)?;
            let path = cmd::new::run(
                &ws,
                &NewOptions {
                    title,
                    severity,
                    owner,
                    id,
                    date,
                },
            )?;
            let rel = debrief::content::relative_name(&ws.config.root, &path);
            println!("created {}", ws.display(&rel));
            Ok(Outcome::Clean)
        }
        Command::Check {
            paths,
            format,
            today,
            deny_warnings,
            trust_ref,
        } => {
            let ws = workspace(&dir)?;
            let opts = CheckOptions {
                paths,
                format,
                today,
                deny_warnings,
                color: format == Format::Human && color_enabled(),
                trust_ref,
            };
            cmd::check::run(&ws, &opts)
        }
        Command::Build {
            output,
            drafts,
            base_url,
            today,
            trust_ref,
        } => {
            let ws = workspace(&dir)?;
            let opts = BuildOptions {
                output,
                drafts,
                base_url,
                today,
                trust_ref,
                color: std::io::stderr().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            };
            cmd::build::run(&ws, &opts)
        }
        Command::Actions {
            command:
                Some(ActionsCommand::Close {
                    target,
                    date,
                    ticket,
                    wontfix,
                    no_commit,
                }),
            ..
        } => {
            let ws = workspace(&dir)?;
            let text = cmd::actions::close(
                &ws,
                &CloseOptions {
                    target,
                    date,
                    ticket,
                    wontfix,
                    no_commit,
                },
            )?;
            print!("{text}");
            Ok(Outcome::Clean)
        }
        Command::Actions {
            command: None,
            list,
        } => {
            let ws = workspace(&dir)?;
            cmd::actions::list(
                &ws,
                &ListOptions {
                    status: list.status,
                    overdue: list.overdue,
                    due_within: list.due_within,
                    owner: list.owner,
                    service: list.service,
                    severity: list.severity,
                    today: list.today,
                    format: list.format,
                    fail_on_overdue: list.fail_on_overdue,
                },
            )
        }
        Command::Serve {
            port,
            bind,
            no_drafts,
            open,
            poll,
            today,
            trust_ref,
        } => {
            let ws = workspace(&dir)?;
            debrief::serve::run(
                ws,
                &debrief::serve::ServeOptions {
                    port,
                    bind,
                    drafts: !no_drafts,
                    open,
                    poll,
                    today,
                    trust_ref,
                },
            )?;
            Ok(Outcome::Clean)
        }
        Command::Theme(ThemeCommand::Eject { target }) => {
            let ws = workspace(&dir)?;
            let target =
                target.map_or_else(|| ws.config.root.join("themes/custom"), |t| dir.join(t));
            let written = debrief::render::theme::eject(&target)?;
            for path in &written {
                println!("created {}", path.display());
            }
            let name = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            println!("next: set `theme = \"{name}\"` in [site] of debrief.toml (the folder must be themes/{name} in the repository)");
            Ok(Outcome::Clean)
        }
        Command::Review(args) => approve(&dir, args, Kind::Review),
        Command::Approve(args) => approve(&dir, args, Kind::Signoff),
        Command::Approvals {
            target,
            format,
            trust_ref,
        } => {
            let ws = workspace(&dir)?;
            let text = cmd::approve::approvals_report(
                &ws,
                target.as_deref(),
                format == ListFormat::Json,
                trust_ref.as_deref(),
                None,
            )?;
            print!("{text}");
            Ok(Outcome::Clean)
        }
        Command::Digest { target, canonical } => {
            let ws = workspace(&dir)?;
            print!("{}", cmd::approve::digest(&ws, &target, canonical)?);
            Ok(Outcome::Clean)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(error) => {
            if let Some(ConfigErrors(found)) = error.downcast_ref::<ConfigErrors>() {
                let summary = Summary {
                    checked: 0,
                    counts: Counts::of(found),
                };
                let text = report::human(found, &summary, std::io::stderr().is_terminal());
                let text = text
                    .lines()
                    .filter(|l| !l.starts_with("checked "))
                    .collect::<Vec<_>>()
                    .join("\n");
                eprintln!("{text}");
                eprintln!(
                    "error: debrief.toml has {} problem(s); nothing was checked",
                    found.len()
                );
            } else {
                eprintln!("error: {error:#}");
            }
            ExitCode::from(2)
        }
    }
}
