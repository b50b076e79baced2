//! `isobar-soak`: hundreds of concurrent gRPC streams writing and scanning against a real
//! `isobar serve` with explicit memory budgets (see `isobar_reliability::soak`). Prints latency
//! percentiles, back-pressure counts, memtable bytes and RSS; exits 1 when anything but
//! back-pressure went wrong or memory went over its bound.
//!
//! ```text
//! target/release/isobar-soak --server-bin target/release/isobar --duration 120
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use isobar_reliability::soak::{SoakConfig, run};

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(about = "Soak the Isobar server with many concurrent writing and scanning streams")]
struct Args {
    /// The `isobar` binary to run.
    #[arg(long, default_value = "target/release/isobar")]
    server_bin: PathBuf,
    /// How long the load runs, in seconds.
    #[arg(long, default_value_t = 15)]
    duration: u64,
    /// Writer streams.
    #[arg(long, default_value_t = 160)]
    writers: usize,
    /// Scanner streams.
    #[arg(long, default_value_t = 40)]
    scanners: usize,
    /// HTTP/2 connections shared by the streams.
    #[arg(long, default_value_t = 20)]
    connections: usize,
    /// Rows per write message.
    #[arg(long, default_value_t = 100)]
    rows_per_message: u64,
    /// storage.memtable_budget in MiB.
    #[arg(long, default_value_t = 4)]
    memtable_budget_mib: u64,
    /// server.max_inflight_write_bytes in KiB.
    #[arg(long, default_value_t = 256)]
    inflight_kib: u64,
    /// storage.sync of the server.
    #[arg(long, default_value = "always")]
    sync: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut config = SoakConfig::ci(args.server_bin);
    config.duration = Duration::from_secs(args.duration);
    config.writers = args.writers;
    config.scanners = args.scanners;
    config.connections = args.connections;
    config.rows_per_message = args.rows_per_message;
    config.memtable_budget = args.memtable_budget_mib << 20;
    config.memtable_size = config.memtable_size.min(config.memtable_budget);
    config.max_inflight_write_bytes = args.inflight_kib << 10;
    config.sync = args.sync;
    match run(&config).await {
        Ok(report) => {
            for line in report.lines() {
                println!("{line}");
            }
            for e in report.errors.iter().take(20) {
                eprintln!("  {e}");
            }
            if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Err(e) => {
            eprintln!("soak failed: {e}");
            ExitCode::from(2)
        }
    }
}
