//! A progress line on standard error for long imports and exports.
//!
//! When standard error is a terminal the line is redrawn in place (`\r`) at most five times a
//! second, with a bar when the total is known; otherwise nothing is drawn until the summary,
//! so logs and pipes stay clean.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Redraws at most this often.
const EVERY: Duration = Duration::from_millis(200);
/// Width of the bar in characters.
const BAR: usize = 30;

/// One progress line.
#[derive(Debug)]
pub struct Progress {
    label: String,
    unit: &'static str,
    total: Option<u64>,
    started: Instant,
    last_draw: Option<Instant>,
    live: bool,
}

impl Progress {
    /// A line `label` counting `unit`s out of `total` (if known).
    pub fn new(label: impl Into<String>, unit: &'static str, total: Option<u64>) -> Self {
        Self {
            label: label.into(),
            unit,
            total,
            started: Instant::now(),
            last_draw: None,
            live: std::io::stderr().is_terminal(),
        }
    }

    /// Reports `done` units so far (redraws if due).
    pub fn set(&mut self, done: u64) {
        if !self.live || self.last_draw.is_some_and(|t| t.elapsed() < EVERY) {
            return;
        }
        self.last_draw = Some(Instant::now());
        let line = render(&self.label, self.unit, done, self.total, self.started.elapsed());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
    }

    /// Ends the line with a summary of `done` units.
    pub fn finish(self, done: u64) {
        let elapsed = self.started.elapsed();
        let rate = per_second(done, elapsed);
        let clear = if self.live { "\r\x1b[K" } else { "" };
        eprintln!("{clear}{}: {done} {} in {:.1?} ({rate} {}/s)", self.label, self.unit, elapsed, self.unit);
    }
}

/// Units per second, rounded.
fn per_second(done: u64, elapsed: Duration) -> u64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { (done as f64 / secs).round() as u64 } else { 0 }
}

/// The text of the line.
fn render(label: &str, unit: &str, done: u64, total: Option<u64>, elapsed: Duration) -> String {
    let rate = per_second(done, elapsed);
    match total {
        Some(total) if total > 0 => {
            let frac = (done as f64 / total as f64).clamp(0.0, 1.0);
            let filled = (frac * BAR as f64).round() as usize;
            format!(
                "{label} [{}{}] {:>3}% {done}/{total} {unit} ({rate}/s)",
                "#".repeat(filled),
                "-".repeat(BAR - filled),
                (frac * 100.0).round() as u64
            )
        }
        _ => format!("{label} {done} {unit} ({rate}/s)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shows_bar_percent_and_rate() {
        let line = render("import", "rows", 50, Some(100), Duration::from_secs(2));
        assert_eq!(line, format!("import [{}{}]  50% 50/100 rows (25/s)", "#".repeat(15), "-".repeat(15)));
        assert_eq!(render("export", "rows", 7, None, Duration::from_secs(1)), "export 7 rows (7/s)");
    }
}
