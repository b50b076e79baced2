//! The soak: many concurrent gRPC streams writing (`WriteStream`) and scanning at once for a
//! bounded time, against the real server started with explicit memory budgets.
//!
//! ```text
//! W writers ─┐                       ┌─ Stats sampler: memtable bytes <= memtable_budget
//! S scanners ┼─ C connections ─► isobar serve
//!            │  (W + S >= 200 streams)└─ /proc sampler: VmRSS, VmHWM at the end
//! end: every writer's acknowledged rows read back exactly; SIGTERM exits 0
//! ```
//!
//! Back-pressure (`RESOURCE_EXHAUSTED`, `UNAVAILABLE`) is expected and counted; any other error
//! is a failure. Tasks: [`load`].

pub mod load;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use isobar_proto::v1 as pb;
use pb::series_selector::Selector;

use crate::process::{ProcessError, ServerProcess, ServerSpec};
use crate::wire::{self, Clients, Percentiles, WireError};
use load::{Progress, TaskResult};

/// Settings of a soak.
#[derive(Clone, Debug)]
pub struct SoakConfig {
    /// The `isobar` binary.
    pub bin: PathBuf,
    /// Writer streams.
    pub writers: usize,
    /// Scanner streams.
    pub scanners: usize,
    /// HTTP/2 connections the streams share.
    pub connections: usize,
    /// How long the load runs.
    pub duration: Duration,
    /// Rows per write message.
    pub rows_per_message: u64,
    /// `storage.memtable_size`.
    pub memtable_size: u64,
    /// `storage.memtable_budget`.
    pub memtable_budget: u64,
    /// `server.max_inflight_write_bytes`.
    pub max_inflight_write_bytes: u64,
    /// `storage.block_cache_size`.
    pub block_cache_size: u64,
    /// `storage.sync`.
    pub sync: String,
    /// Seed of the random choices.
    pub seed: u64,
}

impl SoakConfig {
    /// The CI profile: 160 writers and 40 scanners over 20 connections for 15 s, budgets small
    /// enough that back-pressure happens (1 MiB memtables within a 4 MiB budget, 256 KiB of
    /// requests in flight), `sync = always`.
    pub fn ci(bin: PathBuf) -> Self {
        Self {
            bin,
            writers: 160,
            scanners: 40,
            connections: 20,
            duration: Duration::from_secs(15),
            rows_per_message: 100,
            memtable_size: 1 << 20,
            memtable_budget: 4 << 20,
            max_inflight_write_bytes: 256 << 10,
            block_cache_size: 16 << 20,
            sync: "always".into(),
            seed: 6,
        }
    }

    /// A generous bound on the server's resident set, in KiB, from the configuration: twice
    /// what the budgets let the server hold (memtables; requests in flight, counted four times
    /// for the encoded request, its decoded form, the engine batch and the WAL record; the block
    /// cache; a memtable being flushed and a compaction output), plus 2 MiB per connection for
    /// HTTP/2 windows and buffers, 256 KiB of touched stack for each of tokio's 512 blocking
    /// threads at most, and 64 MiB for the allocator's slack, all over the idle server's RSS.
    /// Twice, because glibc malloc keeps freed memory in per-thread arenas.
    pub fn rss_bound_kib(&self, idle_kib: u64) -> u64 {
        let budgets =
            self.memtable_budget + 4 * self.max_inflight_write_bytes + self.block_cache_size + 2 * self.memtable_size;
        let bytes = 2 * budgets + self.connections as u64 * (2 << 20) + 512 * (256 << 10) + (64 << 20);
        idle_kib + bytes / 1024
    }
}

/// What a soak measured.
#[derive(Clone, Debug, Default)]
pub struct SoakReport {
    /// Concurrent streams (writers + scanners).
    pub streams: usize,
    /// `WriteStream` call latencies.
    pub write: Percentiles,
    /// `Scan` latencies (until the last batch).
    pub scan: Percentiles,
    /// Rows acknowledged.
    pub rows_written: u64,
    /// Rows read by scanners.
    pub rows_scanned: u64,
    /// Refusals with back-pressure codes.
    pub backpressure: u64,
    /// Unexpected errors and failed checks.
    pub errors: Vec<String>,
    /// Largest memtable bytes the Stats RPC reported.
    pub max_memtable_bytes: u64,
    /// The configured memtable budget.
    pub memtable_budget: u64,
    /// RSS of the idle server before the load, KiB.
    pub idle_rss_kib: u64,
    /// Largest sampled VmRSS, KiB.
    pub sampled_rss_kib: u64,
    /// VmHWM at the end, KiB.
    pub peak_rss_kib: u64,
    /// The bound [`SoakConfig::rss_bound_kib`] gives, KiB.
    pub rss_bound_kib: u64,
    /// Wall time of the load.
    pub elapsed: Duration,
}

impl SoakReport {
    /// True when nothing but back-pressure went wrong and memory stayed within its bounds.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
            && self.max_memtable_bytes <= self.memtable_budget
            && self.peak_rss_kib <= self.rss_bound_kib
    }

    /// The report as lines for a person.
    pub fn lines(&self) -> Vec<String> {
        let mib = |kib: u64| kib as f64 / 1024.0;
        vec![
            format!(
                "soak: streams={} elapsed={:.1}s rows_written={} ({:.0}/s) rows_scanned={} backpressure={} errors={}",
                self.streams,
                self.elapsed.as_secs_f64(),
                self.rows_written,
                self.rows_written as f64 / self.elapsed.as_secs_f64().max(1e-9),
                self.rows_scanned,
                self.backpressure,
                self.errors.len()
            ),
            format!("soak: write (WriteStream call) latency {}", self.write),
            format!("soak: scan latency {}", self.scan),
            format!(
                "soak: memtable max {:.1} MiB of budget {:.1} MiB; server RSS idle {:.1} MiB, sampled max {:.1} MiB, \
                 VmHWM {:.1} MiB, bound {:.1} MiB",
                self.max_memtable_bytes as f64 / 1048576.0,
                self.memtable_budget as f64 / 1048576.0,
                mib(self.idle_rss_kib),
                mib(self.sampled_rss_kib),
                mib(self.peak_rss_kib),
                mib(self.rss_bound_kib)
            ),
        ]
    }
}

/// Why a soak could not be run.
#[derive(Debug, thiserror::Error)]
pub enum SoakError {
    /// The server could not be run.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// A call of the harness itself failed.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The work directory could not be made.
    #[error("work directory: {0}")]
    Io(#[from] std::io::Error),
    /// A task died.
    #[error("task: {0}")]
    Join(#[from] tokio::task::JoinError),
}

fn table_spec() -> pb::TableSpec {
    let col = |name: &str, ty: pb::ColumnType| pb::ColumnSpec { name: name.into(), r#type: ty.into() };
    pb::TableSpec {
        name: load::TABLE.into(),
        families: vec![pb::FamilySpec {
            name: "m".into(),
            columns: vec![col("v", pb::ColumnType::F64), col("n", pb::ColumnType::I64)],
            ttl_ns: None,
        }],
        dynamic_columns: false,
        ttl_ns: None,
    }
}

/// Runs a soak.
pub async fn run(config: &SoakConfig) -> Result<SoakReport, SoakError> {
    let work = tempfile::tempdir()?;
    let env = [
        ("ISOBAR_STORAGE_SYNC", config.sync.clone()),
        ("ISOBAR_STORAGE_MEMTABLE_SIZE", config.memtable_size.to_string()),
        ("ISOBAR_STORAGE_MEMTABLE_BUDGET", config.memtable_budget.to_string()),
        ("ISOBAR_STORAGE_BLOCK_CACHE_SIZE", config.block_cache_size.to_string()),
        ("ISOBAR_SERVER_MAX_INFLIGHT_WRITE_BYTES", config.max_inflight_write_bytes.to_string()),
    ];
    let spec = ServerSpec {
        bin: config.bin.clone(),
        data_dir: work.path().join("data"),
        log: work.path().join("server.log"),
        env: env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
    };
    let server = ServerProcess::start(&spec).await?;
    let mut admin = Clients::connect(&server.url()).await?;
    admin
        .admin
        .create_table(pb::CreateTableRequest { table: Some(table_spec()), if_not_exists: true })
        .await
        .map_err(WireError::from)?;
    let idle_rss_kib = server.rss_kib();

    let mut channels = Vec::new();
    for _ in 0..config.connections.max(1) {
        channels.push(wire::connect(&server.url()).await?);
    }
    let progress: Vec<Arc<Progress>> = (0..config.writers).map(|_| Arc::new(Progress::default())).collect();
    let started = Instant::now();
    let deadline = started + config.duration;
    let mut writers = Vec::new();
    for (w, p) in progress.iter().enumerate() {
        let clients = Clients::new(channels[w % channels.len()].clone());
        writers.push(tokio::spawn(load::writer(w, clients, p.clone(), config.rows_per_message, config.seed, deadline)));
    }
    let mut scanners = Vec::new();
    for s in 0..config.scanners {
        let clients = Clients::new(channels[(config.writers + s) % channels.len()].clone());
        scanners.push(tokio::spawn(load::scanner(s, clients, progress.clone(), config.seed, deadline)));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let max_memtable = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, max, mut stats) = (stop.clone(), max_memtable.clone(), admin.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(answer) = stats.admin.stats(pb::StatsRequest { table: String::new() }).await {
                    max.fetch_max(answer.get_ref().memtable_bytes, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let pid = server.pid();
    let rss_sampler = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut max = 0;
            while !stop.load(Ordering::Relaxed) {
                max = max.max(isobar_testkit::procfs::pid_status_kib(pid, "VmRSS").unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            max
        })
    };

    let mut report = SoakReport {
        streams: config.writers + config.scanners,
        memtable_budget: config.memtable_budget,
        idle_rss_kib,
        rss_bound_kib: config.rss_bound_kib(idle_rss_kib),
        ..SoakReport::default()
    };
    let mut write_lat = Vec::new();
    let mut scan_lat = Vec::new();
    let absorb = |r: TaskResult, lat: &mut Vec<Duration>, report: &mut SoakReport| {
        lat.extend(r.latencies);
        report.backpressure += r.backpressure;
        report.errors.extend(r.errors);
    };
    for w in writers {
        let r = w.await?;
        report.rows_written += r.rows;
        absorb(r, &mut write_lat, &mut report);
    }
    for s in scanners {
        let r = s.await?;
        report.rows_scanned += r.rows;
        absorb(r, &mut scan_lat, &mut report);
    }
    report.elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    report.sampled_rss_kib = rss_sampler.await?;
    report.max_memtable_bytes = max_memtable.load(Ordering::Relaxed);
    report.write = Percentiles::of(&mut write_lat);
    report.scan = Percentiles::of(&mut scan_lat);

    // Every acknowledged row is readable, and nothing else is there.
    let request = pb::ScanRequest {
        table: load::TABLE.into(),
        selector: Some(pb::SeriesSelector { selector: Some(Selector::All(pb::AllSeries {})) }),
        ..Default::default()
    };
    let batches = wire::collect(admin.query.scan(request).await.map_err(WireError::from)?.into_inner()).await?;
    let acked: Vec<u64> = progress.iter().map(|p| p.acked.load(Ordering::SeqCst)).collect();
    let counts = match load::check_prefixes(&batches, 0, &acked, &progress) {
        Ok(counts) => counts,
        Err(problem) => {
            report.errors.push(format!("final read: {problem}"));
            Vec::new()
        }
    };
    for (w, (count, acked)) in counts.iter().zip(&acked).enumerate() {
        if count != acked {
            report.errors.push(format!("{}: {count} rows stored, {acked} acknowledged", load::series_of(w)));
        }
    }
    let total: u64 = counts.iter().sum();
    if !counts.is_empty() && total != report.rows_written {
        report.errors.push(format!("{total} rows stored, {} acknowledged", report.rows_written));
    }
    report.peak_rss_kib = server.peak_rss_kib();
    server.stop().await?;
    Ok(report)
}
