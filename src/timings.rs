//! Where the time goes: `--timings` prints each phase's duration, and long runs show the
//! current phase on a terminal (never in CI logs or when stderr is piped).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct Timings {
    report: bool,
    progress: bool,
    phases: Mutex<Vec<(&'static str, Duration)>>,
    /// Work done on another thread while the phases ran: shown, not added to the total.
    background: Mutex<Vec<(&'static str, Duration)>>,
}

impl Timings {
    pub fn new(report: bool) -> Timings {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
        Timings {
            report,
            progress: std::io::stderr().is_terminal() && !ci,
            phases: Mutex::new(Vec::new()),
            background: Mutex::new(Vec::new()),
        }
    }

    /// Runs `work` as the phase `name`.
    pub fn time<T>(&self, name: &'static str, work: impl FnOnce() -> T) -> T {
        if self.progress {
            eprint!("\r\x1b[2K{name}…");
        }
        let result = timed(&self.phases, name, work);
        if self.progress {
            eprint!("\r\x1b[2K");
        }
        result
    }

    /// Runs `work` as `name` on a thread beside the phases (no progress line).
    pub fn time_background<T>(&self, name: &'static str, work: impl FnOnce() -> T) -> T {
        timed(&self.background, name, work)
    }

    /// Prints the table when `--timings` was given.
    pub fn finish(&self) {
        if !self.report {
            return;
        }
        let phases = self
            .phases
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let total: Duration = phases.iter().map(|(_, d)| *d).sum();
        eprintln!("timings:");
        for (name, duration) in phases.iter() {
            let share = if total.is_zero() {
                0.0
            } else {
                100.0 * duration.as_secs_f64() / total.as_secs_f64()
            };
            eprintln!(
                "  {name:<12} {:>9.1} ms  {share:>5.1}%",
                duration.as_secs_f64() * 1000.0
            );
        }
        eprintln!("  {:<12} {:>9.1} ms", "total", total.as_secs_f64() * 1000.0);
        let background = self
            .background
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (name, duration) in background.iter() {
            eprintln!(
                "  {name:<12} {:>9.1} ms  (in the background, during load)",
                duration.as_secs_f64() * 1000.0
            );
        }
    }
}

/// Runs `work` and records how long it took under `name` in `into`.
fn timed<T>(
    into: &Mutex<Vec<(&'static str, Duration)>>,
    name: &'static str,
    work: impl FnOnce() -> T,
) -> T {
    let start = Instant::now();
    let result = work();
    into.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push((name, start.elapsed()));
    result
}
