//! `isobar-grpc-load`: loads the IoT (or weather) workload into an Isobar server over gRPC with
//! N concurrent writers and reports points/s, acknowledgement latency percentiles and the
//! server's peak RSS.
//!
//! By default it starts the server itself (`isobar serve` from `--server-bin`, on a free
//! loopback port, over a fresh temporary data directory, with `ISOBAR_STORAGE_SYNC` set from
//! `--sync`) so that it can read the server's peak resident set (`VmHWM` in
//! `/proc/<pid>/status`), and stops it with SIGTERM at the end (checking it exits 0).
//! `--addr` targets a running server instead (no RSS figure then).
//!
//! With authentication on (a started server's `--config` with `[auth] enabled = true`, or a
//! running server that has it), `--token-file` gives the secret sent as
//! `authorization: Bearer <secret>` with every call (`CreateTable` and each `Write`). The
//! started server serves `--data-dir` as it is, so a directory prepared beforehand (say, one
//! whose access catalog already holds the users and grants to measure with) can be copied and
//! loaded run after run; the run writes into it.
//!
//! Requests are generated before the clock starts (the generator is not what is measured);
//! each writer has its own HTTP/2 connection and sends unary `Write`s back to back, so the
//! latency of a request is its acknowledgement latency under the configured sync policy.
//!
//! ```text
//! cargo build --release -p isobar -p isobar-grpc-load
//! target/release/isobar-grpc-load --server-bin target/release/isobar --scale 0.2 --streams 8 --sync always
//! target/release/isobar-grpc-load --config auth.toml --token-file bench.token   # auth on
//! ```

mod report;
mod server;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use isobar_ingest::convert::batch_to_request;
use isobar_proto::v1::admin_client::AdminClient;
use isobar_proto::v1::ingest_client::IngestClient;
use isobar_proto::v1::{CreateTableRequest, WriteRequest};
use isobar_workload::{Generator, Spec};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request};

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(about = "Load the IoT workload into Isobar over gRPC and report throughput and latency")]
struct Args {
    /// The `isobar` binary to start (ignored with --addr).
    #[arg(long, default_value = "target/release/isobar")]
    server_bin: PathBuf,
    /// Use the server at this URL instead of starting one.
    #[arg(long)]
    addr: Option<String>,
    /// WAL sync policy of the started server: always, none or interval:<duration>.
    #[arg(long, default_value = "interval:100ms")]
    sync: String,
    /// Workload: iot or weather.
    #[arg(long, default_value = "iot")]
    workload: isobar_workload::Kind,
    /// Fleet size relative to the full workload (1,000 trucks for iot).
    #[arg(long, default_value_t = 0.2)]
    scale: f64,
    /// Samples per series (default: the workload's, 4,320 for iot).
    #[arg(long)]
    timestamps: Option<usize>,
    /// Concurrent writers (one connection each).
    #[arg(long, default_value_t = 8)]
    streams: usize,
    /// Rows per write request.
    #[arg(long, default_value_t = 10_000)]
    rows_per_request: usize,
    /// Data directory of the started server (default: a fresh temporary directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// A config file for the started server (`serve --config FILE`), e.g. one turning on
    /// authentication with a `[[auth.tokens]]` entry (ignored with --addr).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Send `authorization: Bearer <secret>` with every call, the secret read from this file
    /// (never taken on the command line).
    #[arg(long)]
    token_file: Option<PathBuf>,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error("server: {0}")]
    Server(#[from] server::ServerError),
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("gRPC call failed: {0}")]
    Status(#[from] tonic::Status),
    #[error("writer task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("token file: {0}")]
    Token(String),
}

/// The `authorization` value to send, if any.
type Bearer = Option<MetadataValue<Ascii>>;

/// `message` as a request carrying `bearer`.
fn authorized<T>(message: T, bearer: &Bearer) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(value) = bearer {
        request.metadata_mut().insert("authorization", value.clone());
    }
    request
}

/// `authorization: Bearer <secret>` from the secret in `path` (a trailing newline is ignored).
fn read_bearer(path: &std::path::Path) -> Result<MetadataValue<Ascii>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Token(format!("{}: {e}", path.display())))?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err(LoadError::Token(format!("{} is empty", path.display())));
    }
    format!("Bearer {secret}")
        .parse()
        .map_err(|_| LoadError::Token(format!("{}: not a valid header value", path.display())))
}

/// Per-writer results.
#[derive(Debug, Default)]
struct WriterResult {
    latencies: Vec<Duration>,
    points: u64,
    retries: u64,
}

async fn connect(url: &str) -> Result<Channel, LoadError> {
    Ok(Endpoint::from_shared(url.to_owned())?.tcp_nodelay(true).connect().await?)
}

/// Sends requests from `queue` until it is empty.
async fn writer(
    url: String,
    queue: Arc<Mutex<VecDeque<WriteRequest>>>,
    bearer: Bearer,
) -> Result<WriterResult, LoadError> {
    let mut client = IngestClient::new(connect(&url).await?).max_encoding_message_size(256 << 20);
    let mut result = WriterResult::default();
    loop {
        let next = queue.lock().map(|mut q| q.pop_front()).unwrap_or(None);
        let Some(request) = next else { return Ok(result) };
        let started = Instant::now();
        loop {
            match client.write(authorized(request.clone(), &bearer)).await {
                Ok(ack) => {
                    result.points += ack.get_ref().points;
                    break;
                }
                Err(status) if status.code() == Code::ResourceExhausted => {
                    result.retries += 1;
                    let wait = isobar_ingest::status::retry_hint(&status).unwrap_or(Duration::from_millis(100));
                    tokio::time::sleep(wait).await;
                }
                Err(status) => return Err(status.into()),
            }
        }
        result.latencies.push(started.elapsed());
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut spec = Spec::new(args.workload).scale(args.scale);
    if let Some(t) = args.timestamps {
        spec = spec.timestamps(t);
    }
    let started_server = match &args.addr {
        Some(_) => None,
        None => Some(
            server::Server::start(&args.server_bin, &args.sync, args.data_dir.as_deref(), args.config.as_deref())
                .await?,
        ),
    };
    let url = args.addr.clone().or_else(|| started_server.as_ref().map(server::Server::url)).unwrap_or_default();

    let bearer: Bearer = match &args.token_file {
        Some(path) => Some(read_bearer(path)?),
        None => None,
    };
    let mut admin = AdminClient::new(connect(&url).await?);
    let table = Some(isobar_ingest::table::table_spec_to_proto(spec.table_spec()));
    admin.create_table(authorized(CreateTableRequest { table, if_not_exists: true }, &bearer)).await?;

    let ts_per_batch = (args.rows_per_request / spec.series.max(1)).max(1);
    let requests: VecDeque<WriteRequest> =
        Generator::new(spec.clone()).ts_per_batch(ts_per_batch).map(batch_to_request).collect();
    let count = requests.len();
    eprintln!(
        "{} series x {} samples = {} points in {count} requests of ~{} rows; {} writers; sync {}; auth {}",
        spec.series,
        spec.timestamps,
        spec.points(),
        ts_per_batch * spec.series,
        args.streams,
        args.sync,
        if bearer.is_some() { "token" } else { "none" }
    );
    let queue = Arc::new(Mutex::new(requests));
    let sampler = started_server.as_ref().map(|s| s.rss_sampler());
    let clock = Instant::now();
    let writers: Vec<_> =
        (0..args.streams.max(1)).map(|_| tokio::spawn(writer(url.clone(), queue.clone(), bearer.clone()))).collect();
    let mut results = Vec::with_capacity(writers.len());
    for w in writers {
        results.push(w.await??);
    }
    let elapsed = clock.elapsed();
    let peak_sampled = sampler.map(server::RssSampler::stop);

    let rss = match started_server {
        Some(s) => Some(s.stop(peak_sampled).await?),
        None => None,
    };
    report::print(&report::Report::new(
        &args.sync,
        args.streams,
        elapsed,
        results.iter().map(|r| (&r.latencies[..], r.points, r.retries)),
        rss,
    ));
    Ok(())
}
