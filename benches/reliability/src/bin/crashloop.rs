//! `isobar-crashloop`: the SIGKILL crash loop against a real `isobar serve` (see
//! `isobar_reliability::crash`). Prints one summary line and exits 1 on any loss or
//! inconsistency, 2 when the run itself failed.
//!
//! ```text
//! target/release/isobar-crashloop --server-bin target/release/isobar --cycles 200 --duration 10m
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use isobar_reliability::crash::{CrashConfig, run};

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(about = "SIGKILL the Isobar server at random moments under write load and verify every acknowledged write")]
struct Args {
    /// The `isobar` binary to run.
    #[arg(long, default_value = "target/release/isobar")]
    server_bin: PathBuf,
    /// Kill cycles.
    #[arg(long, default_value_t = 5)]
    cycles: usize,
    /// Seed of every random choice (default: from the clock; printed in the summary).
    #[arg(long)]
    seed: Option<u64>,
    /// Start no new cycle after this long, in seconds (e.g. 600).
    #[arg(long, default_value_t = 600)]
    duration: u64,
    /// Concurrent writer streams.
    #[arg(long, default_value_t = 4)]
    streams: usize,
    /// Longest uptime before a kill, in milliseconds (the shortest is a fifth of it).
    #[arg(long, default_value_t = 1500)]
    max_uptime_ms: u64,
    /// Keep the data directory and server log here (default: a temporary directory).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    let mut config = CrashConfig::ci(args.server_bin, seed);
    config.cycles = args.cycles;
    config.duration = Duration::from_secs(args.duration);
    config.streams = args.streams;
    config.uptime = (Duration::from_millis(args.max_uptime_ms / 5), Duration::from_millis(args.max_uptime_ms));
    config.work_dir = args.work_dir;
    config.verbose = true;
    match run(&config).await {
        Ok(summary) => {
            for d in &summary.details {
                eprintln!("  {d}");
            }
            println!("{}", summary.line());
            println!(
                "crash-loop detail: cells_checked={} in_doubt_applied={} refused={} inconsistencies={}",
                summary.cells_checked, summary.in_doubt_applied, summary.refused, summary.inconsistencies
            );
            if summary.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Err(e) => {
            eprintln!("crash-loop failed: {e}");
            ExitCode::from(2)
        }
    }
}
