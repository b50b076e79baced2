//! `isobar-lp-load`: renders the IoT workload to InfluxDB line protocol once, in memory, then
//! POSTs it to `/api/v2/write` of an Isobar server over N keep-alive HTTP/1.1 connections and
//! reports points/s (field values acknowledged with 204 per second of wall time).
//!
//! It starts the server itself (`isobar serve` from `--server-bin` on free loopback ports over
//! a temporary data directory, with `ISOBAR_LINE_PROTOCOL_ENABLED=true` and
//! `ISOBAR_STORAGE_SYNC` from `--sync`) and stops it with SIGTERM at the end.
//!
//! Each line is `iot,truck=truck_<i> latitude=..,longitude=..,... <ts>`: one line per series and
//! timestamp, ten float fields, lines in time order across the fleet (as gateways send them),
//! cut into requests of `--lines` lines.
//!
//! With authentication on (`--config` with `[auth] enabled = true` and a token entry), every
//! request carries `Authorization: Bearer <secret>`, the secret read from `--token-file`.
//!
//! ```text
//! cargo build --release -p isobar -p isobar-lp-load
//! target/release/isobar-lp-load --server-bin target/release/isobar --timestamps 432 --connections 4
//! target/release/isobar-lp-load --config auth.toml --token-file bench.token   # auth on
//! ```

mod http;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use isobar_storage::ColumnValues;
use isobar_testkit::server::{ServerCommand, free_addr};
use isobar_workload::Spec;

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(about = "Load the IoT workload into Isobar as line protocol over HTTP and report points/s")]
struct Args {
    /// The `isobar` binary to start.
    #[arg(long, default_value = "target/release/isobar")]
    server_bin: PathBuf,
    /// WAL sync policy of the server: always, none or interval:<duration>.
    #[arg(long, default_value = "interval:100ms")]
    sync: String,
    /// Trucks (the full workload has 1000).
    #[arg(long, default_value_t = 1000)]
    series: usize,
    /// Samples per truck (the full workload has 4320).
    #[arg(long, default_value_t = 432)]
    timestamps: usize,
    /// Lines per HTTP request.
    #[arg(long, default_value_t = 5000)]
    lines: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// A config file for the started server (`serve --config FILE`), e.g. one turning on
    /// authentication with a `[[auth.tokens]]` entry.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Send `Authorization: Bearer <secret>` with every request, the secret read from this file
    /// (never taken on the command line).
    #[arg(long)]
    token_file: Option<PathBuf>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    if let Err(e) = run(args).await {
        eprintln!("isobar-lp-load: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let spec = Spec::iot().series(args.series).timestamps(args.timestamps);
    let started = Instant::now();
    let (requests, points, bytes) = render(&spec, args.lines.max(1));
    eprintln!(
        "rendered {} requests, {points} points, {:.1} MiB of line protocol in {:.1} s",
        requests.len(),
        bytes as f64 / (1 << 20) as f64,
        started.elapsed().as_secs_f64()
    );
    let token = match &args.token_file {
        Some(path) => Some(read_token(path)?),
        None => None,
    };
    let free_port = || free_addr().map_err(|e| format!("free port: {e}"));
    let http = free_port()?;
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let mut command = ServerCommand::new(&args.server_bin, dir.path())
        .env("ISOBAR_STORAGE_SYNC", &args.sync)
        .env("ISOBAR_LINE_PROTOCOL_ENABLED", "true")
        .env("ISOBAR_LINE_PROTOCOL_LISTEN", http.to_string());
    if let Some(config) = &args.config {
        command = command.arg("--config").arg(config);
    }
    let mut server = command.spawn().map_err(|e| e.to_string())?;
    let result = load(http, requests, args.connections, token).await;
    let _ = server.terminate();
    let _ = server.wait();
    let elapsed = result?;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "line protocol over HTTP: {points} points ({} series x {} ts x 10 fields) in {:.2} s = {:.0} points/s \
         ({} connections, {} lines/request, sync {}, auth {}); load average: {}",
        args.series,
        args.timestamps,
        elapsed.as_secs_f64(),
        points as f64 / elapsed.as_secs_f64(),
        args.connections,
        args.lines,
        args.sync,
        if args.token_file.is_some() { "token" } else { "none" },
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    Ok(())
}

/// The secret in `path`, without a trailing newline.
fn read_token(path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("token file {}: {e}", path.display()))?;
    let token = text.trim_end_matches(['\n', '\r']);
    if token.is_empty() {
        return Err(format!("token file {} is empty", path.display()));
    }
    Ok(token.to_owned())
}

/// The workload as request bodies, with the total points and bytes.
fn render(spec: &Spec, lines_per_request: usize) -> (Vec<Vec<u8>>, u64, usize) {
    let names: Vec<&str> = spec.columns().iter().map(|c| c.name).collect();
    let histories: Vec<Vec<Vec<f64>>> = (0..spec.series)
        .map(|i| {
            spec.series_history(i)
                .columns
                .into_iter()
                .map(|c| match c.values {
                    ColumnValues::F64(v) => v,
                    _ => Vec::new(),
                })
                .collect()
        })
        .collect();
    let (mut requests, mut body, mut in_body, mut points) = (Vec::new(), String::new(), 0, 0u64);
    for t in 0..spec.timestamps {
        for (i, columns) in histories.iter().enumerate() {
            let _ = write!(body, "iot,truck=truck_{i} ");
            for (j, (name, values)) in names.iter().zip(columns).enumerate() {
                let sep = if j == 0 { "" } else { "," };
                let _ = write!(body, "{sep}{name}={}", values.get(t).copied().unwrap_or(0.0));
                points += 1;
            }
            let _ = writeln!(body, " {}", spec.ts_at(t));
            in_body += 1;
            if in_body == lines_per_request {
                requests.push(std::mem::take(&mut body).into_bytes());
                in_body = 0;
            }
        }
    }
    if !body.is_empty() {
        requests.push(body.into_bytes());
    }
    let bytes = requests.iter().map(Vec::len).sum();
    (requests, points, bytes)
}

/// Sends every request over `connections` connections; the wall time from the first send to
/// the last acknowledgement.
async fn load(
    addr: std::net::SocketAddr,
    requests: Vec<Vec<u8>>,
    connections: usize,
    token: Option<String>,
) -> Result<Duration, String> {
    http::wait_until_up(addr, Duration::from_secs(30)).await?;
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (requests, next, token) = (requests.clone(), next.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = http::Connection::open(addr, token.as_deref()).await?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = requests.get(i) else { return Ok::<(), String>(()) };
                let (status, text) = conn.post("/api/v2/write?bucket=bench&precision=ns", body).await?;
                if status != 204 {
                    return Err(format!("request {i}: HTTP {status}: {text}"));
                }
            }
        }));
    }
    for task in tasks {
        task.await.map_err(|e| format!("writer task: {e}"))??;
    }
    Ok(started.elapsed())
}
