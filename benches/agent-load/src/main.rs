//! `isobar-agent-bench`: catch-up after an outage, and with it the agent's forwarding
//! throughput from its queue to the server on loopback.
//!
//! 1. With no server listening, `isobar agent run` queues `--minutes` of the IoT fleet
//!    (`Spec::iot()`: 1,000 trucks, one sample every 10 s, 10 columns) from its generator source.
//! 2. `isobar serve` (sync = always) starts on the agent's server address; the clock runs from
//!    then until the server's `Resume` reports the producer's last record applied.
//!
//! Prints: points queued, fill time, catch-up time, points/s. Example:
//! `isobar-agent-bench --bin target/release/isobar --minutes 60`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use isobar_proto::v1::ResumeRequest;
use isobar_proto::v1::ingest_client::IngestClient;
use isobar_testkit::server::{ServerCommand, free_addr};
use isobar_workload::Spec;

/// Arguments.
#[derive(Parser, Debug)]
#[command(about = "Agent catch-up and forwarding throughput benchmark")]
struct Args {
    /// The `isobar` binary.
    #[arg(long, default_value = "target/release/isobar")]
    bin: PathBuf,
    /// Minutes of the IoT fleet to queue during the outage.
    #[arg(long, default_value_t = 60)]
    minutes: usize,
    /// Records in flight (`server.window`).
    #[arg(long, default_value_t = 32)]
    window: usize,
    /// `none` or `zstd`.
    #[arg(long, default_value = "none")]
    compression: String,
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn status_seqs(queue: &Path) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(queue.join("status.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some((v["queue"]["last_seq"].as_u64()?, v["rows_in"].as_u64()?))
}

fn main() {
    let args = Args::parse();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let addr = free_addr().unwrap_or_else(|e| panic!("cannot find a free port: {e}"));
    let queue = dir.path().join("queue");
    let spec = Spec::iot().timestamps(args.minutes * 6);
    let config = dir.path().join("agent.toml");
    let text = format!(
        "[server]\nurl = \"http://{addr}\"\nwindow = {}\ncompression = \"{}\"\n[queue]\ndir = \"{}\"\nmax_bytes = 17179869184\n\
         [backoff]\ninitial_ms = 50\nmax_ms = 200\n\
         [[source]]\ntype = \"generator\"\nworkload = \"iot\"\ntimestamps = {}\n",
        args.window,
        args.compression,
        queue.display(),
        spec.timestamps
    );
    std::fs::write(&config, text).unwrap_or_else(|e| panic!("config: {e}"));
    let fill_start = Instant::now();
    let _agent = Proc(
        Command::new(&args.bin)
            .args(["agent", "run", "--config"])
            .arg(&config)
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("agent: {e}")),
    );
    // Fill: wait until the generator's whole hour is queued (status.json, every second).
    let rows = spec.rows();
    let last_seq = loop {
        std::thread::sleep(Duration::from_millis(200));
        if let Some((last, rows_in)) = status_seqs(&queue)
            && rows_in >= rows
        {
            // The batcher closes its last record within max_delay; let the status catch up.
            std::thread::sleep(Duration::from_millis(1500));
            break status_seqs(&queue).map_or(last, |s| s.0);
        }
        assert!(fill_start.elapsed() < Duration::from_secs(1800), "the queue did not fill in 30 min");
    };
    let fill = fill_start.elapsed();
    let queue_bytes: u64 = std::fs::read_dir(&queue)
        .map(|d| d.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0);
    let start = Instant::now();
    // Not waited for: the catch-up time includes the server's start.
    let _server = ServerCommand::new(&args.bin, dir.path().join("data"))
        .listen(addr)
        .env("ISOBAR_LOG_LEVEL", "error")
        .spawn()
        .unwrap_or_else(|e| panic!("serve: {e}"));
    let producer_id = std::fs::read_to_string(queue.join("producer_id")).unwrap_or_else(|e| panic!("producer id: {e}"));
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("rt: {e}"));
    runtime.block_on(async {
        let mut client = loop {
            if let Ok(c) = IngestClient::connect(format!("http://{addr}")).await {
                break c;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        loop {
            let applied = client
                .resume(ResumeRequest { producer_id: producer_id.trim().to_string() })
                .await
                .map(|r| r.into_inner().applied_seq)
                .unwrap_or(0);
            if applied >= last_seq {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(3600), "not drained within an hour");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let catch_up = start.elapsed();
    let points = spec.points();
    println!(
        "queued: {} min of the IoT fleet = {rows} rows, {points} points, {last_seq} records, {queue_bytes} bytes on disk",
        args.minutes
    );
    println!("fill (generator -> queue, server down): {:.1} s", fill.as_secs_f64());
    println!("catch-up (server start -> last record applied): {:.2} s", catch_up.as_secs_f64());
    println!(
        "forwarding throughput: {:.0} points/s ({:.0} rows/s)",
        points as f64 / catch_up.as_secs_f64(),
        rows as f64 / catch_up.as_secs_f64()
    );
}
