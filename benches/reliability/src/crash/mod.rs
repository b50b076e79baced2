//! The crash loop: write through the real server under `sync = always` from several writers
//! while flushes and compactions run, SIGKILL the server at a random moment, restart it on the
//! same data directory, and verify that nothing acknowledged was lost, that nothing is
//! half-applied and that scans, aggregates and latest agree.
//!
//! ```text
//! cycle:  start `isobar serve` ──► verify (after the first) ──► writers + maintenance run
//!                                                                     │ random uptime (seeded)
//!         ◄── SIGKILL by PID ◄── stop issuing ◄───────────────────────┘
//! end:    start ──► verify ──► SIGTERM
//! ```
//!
//! Writers (unary writes, write streams, exactly-once producer streams, deletes): [`writer`].
//! Model and values: [`model`]. Verification (including each producer's mark against its
//! data): [`verify`]. The server runs
//! with a 64 KiB memtable (flushes every few writes), an 8 MiB memtable budget, default
//! background compaction, and a maintenance task that also asks for flushes, compactions and
//! online snapshots; every snapshot the restarted server lists must verify.

pub mod model;
pub mod verify;
pub mod writer;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use isobar_proto::v1 as pb;

use crate::process::{ProcessError, ServerProcess, ServerSpec};
use crate::rng::Rng;
use crate::wire::{Clients, WireError};
use verify::Findings;
use writer::Writer;

/// Settings of a crash-loop run.
#[derive(Clone, Debug)]
pub struct CrashConfig {
    /// The `isobar` binary.
    pub bin: PathBuf,
    /// Kill cycles to run.
    pub cycles: usize,
    /// Seed of every random choice (writers, uptimes, maintenance).
    pub seed: u64,
    /// No new cycle starts after this much time.
    pub duration: Duration,
    /// Concurrent writers.
    pub streams: usize,
    /// Shortest and longest time the server runs before it is killed.
    pub uptime: (Duration, Duration),
    /// Where the data directory and the server log go (a temporary directory when `None`).
    pub work_dir: Option<PathBuf>,
    /// Print a line per cycle to stderr.
    pub verbose: bool,
}

impl CrashConfig {
    /// The CI profile: 5 cycles, 4 writers, 0.3 to 1.5 s of uptime, at most 100 s.
    pub fn ci(bin: PathBuf, seed: u64) -> Self {
        Self {
            bin,
            cycles: 5,
            seed,
            duration: Duration::from_secs(100),
            streams: 4,
            uptime: (Duration::from_millis(300), Duration::from_millis(1500)),
            work_dir: None,
            verbose: false,
        }
    }
}

/// The result of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Kill cycles run.
    pub cycles: usize,
    /// Acknowledged requests (write messages and deletes) whose effects were verified.
    pub acknowledged_writes_checked: u64,
    /// Cells the last verification compared.
    pub cells_checked: u64,
    /// Calls that failed because of a kill and were in doubt.
    pub in_doubt: u64,
    /// In-doubt messages found applied (the rest were found absent).
    pub in_doubt_applied: u64,
    /// Calls refused with back-pressure (nothing applied).
    pub refused: u64,
    /// Snapshots taken during the run that the restarted server listed and verified.
    pub snapshots_verified: u64,
    /// Acknowledged cells lost or changed.
    pub losses: u64,
    /// Disagreements between the reading methods, or half-applied requests.
    pub inconsistencies: u64,
    /// The seed.
    pub seed: u64,
    /// Problems found, for a person.
    pub details: Vec<String>,
}

impl Summary {
    /// The one-line summary.
    pub fn line(&self) -> String {
        format!(
            "crash-loop: cycles={} acknowledged_writes_checked={} in_doubt={} snapshots_verified={} losses={} seed={}",
            self.cycles,
            self.acknowledged_writes_checked,
            self.in_doubt,
            self.snapshots_verified,
            self.losses,
            self.seed
        )
    }

    /// True when nothing was lost and everything agreed.
    pub fn ok(&self) -> bool {
        self.losses == 0 && self.inconsistencies == 0
    }
}

/// Why a run could not be completed (as opposed to finding a loss, which is in the summary).
#[derive(Debug, thiserror::Error)]
pub enum CrashError {
    /// The server could not be run.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// A call the harness needs failed.
    #[error("cycle {cycle}: {source}")]
    Wire {
        /// The cycle.
        cycle: usize,
        /// The failure.
        #[source]
        source: WireError,
    },
    /// The server stopped answering.
    #[error(transparent)]
    Hang(#[from] writer::Hang),
    /// The work directory could not be made.
    #[error("work directory: {0}")]
    Io(#[from] std::io::Error),
    /// A writer task died.
    #[error("writer task: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Flushes, compactions and online snapshots at random short intervals until `stop`.
async fn maintenance(mut clients: Clients, mut rng: Rng, stop: Arc<AtomicBool>, cycle: usize) {
    let mut snapshots = 0;
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(rng.range(30, 250))).await;
        let table = model::TABLES[rng.range(0, model::TABLES.len() as u64) as usize].name.to_owned();
        // Failures here are expected when the kill lands mid-call; the writers' checks decide.
        let pick = rng.range(0, 100);
        if pick < 45 {
            let _ = clients.admin.flush(pb::FlushRequest { table }).await;
        } else if pick < 85 {
            let _ = clients.admin.compact(pb::CompactRequest { table, ..Default::default() }).await;
        } else {
            snapshots += 1;
            let name = Some(format!("crash-{cycle}-{snapshots}"));
            let _ = clients.admin.create_snapshot(pb::CreateSnapshotRequest { name }).await;
        }
    }
}

/// Every snapshot the server lists must verify (a kill in the middle of one must leave no
/// listed snapshot behind that is incomplete); then they are deleted, which keeps the disk
/// bounded over a long run. Returns the snapshots checked.
async fn check_snapshots(clients: &mut Clients, findings: &mut Findings) -> Result<u64, WireError> {
    let listed = clients.admin.list_snapshots(pb::ListSnapshotsRequest { verify: true }).await?.into_inner();
    for s in &listed.snapshots {
        if s.verified != Some(true) || !s.problem.is_empty() {
            findings.inconsistencies += 1;
            findings.details.push(format!("snapshot {} does not verify: {}", s.name, s.problem));
        }
        clients.admin.delete_snapshot(pb::DeleteSnapshotRequest { name: s.name.clone() }).await?;
    }
    Ok(listed.snapshots.len() as u64)
}

/// Verifies the store the server at `clients` holds against the writers' models.
async fn verify_all(
    clients: &mut Clients,
    writers: &mut [Writer],
    cycle: usize,
) -> Result<(Findings, u64, u64), CrashError> {
    let wire = |source| CrashError::Wire { cycle, source };
    let cells = verify::read_cells(clients).await.map_err(wire)?;
    let mut findings = Findings::default();
    verify::check_aggregates(clients, &cells, &mut findings).await.map_err(wire)?;
    verify::check_latest(clients, &cells, &mut findings).await.map_err(wire)?;
    let count = cells.len() as u64;
    for w in writers.iter_mut() {
        let request = pb::ResumeRequest { producer_id: w.producer_id() };
        let answer = clients.ingest.resume(request).await.map_err(|s| wire(s.into()))?.into_inner();
        w.producer_mark = Some(answer.applied_seq);
    }
    verify::resolve(writers, cells, &mut findings);
    let snapshots = check_snapshots(clients, &mut findings).await.map_err(wire)?;
    Ok((findings, count, snapshots))
}

/// Runs the crash loop.
pub async fn run(config: &CrashConfig) -> Result<Summary, CrashError> {
    let temp = match &config.work_dir {
        Some(_) => None,
        None => Some(tempfile::tempdir()?),
    };
    let work = config.work_dir.clone().or_else(|| temp.as_ref().map(|t| t.path().to_path_buf())).unwrap_or_default();
    std::fs::create_dir_all(&work)?;
    let spec = ServerSpec {
        bin: config.bin.clone(),
        data_dir: work.join("data"),
        log: work.join("server.log"),
        env: [
            ("ISOBAR_STORAGE_SYNC", "always"),
            ("ISOBAR_STORAGE_MEMTABLE_SIZE", "64KiB"),
            ("ISOBAR_STORAGE_MEMTABLE_BUDGET", "8MiB"),
            ("ISOBAR_STORAGE_ROWS_PER_PAGE", "256"),
            ("ISOBAR_STORAGE_WAL_SEGMENT_SIZE", "1MiB"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect(),
    };
    let mut rng = Rng::new(config.seed, 0);
    let mut writers: Vec<Writer> =
        (0..config.streams.max(1)).map(|i| Writer::new(i, config.streams, config.seed)).collect();
    let mut summary = Summary { seed: config.seed, ..Summary::default() };
    let started = Instant::now();
    let mut cycle = 0;
    loop {
        let server = ServerProcess::start(&spec).await?;
        let mut clients = Clients::connect(&server.url()).await.map_err(|source| CrashError::Wire { cycle, source })?;
        if cycle == 0 {
            for def in &model::TABLES {
                let request = pb::CreateTableRequest { table: Some(def.spec()), if_not_exists: true };
                clients.admin.create_table(request).await.map_err(|s| CrashError::Wire { cycle, source: s.into() })?;
            }
        } else {
            let (findings, cells, snapshots) = verify_all(&mut clients, &mut writers, cycle).await?;
            summary.cells_checked = cells;
            summary.snapshots_verified += snapshots;
            summary.losses += findings.losses;
            summary.inconsistencies += findings.inconsistencies;
            summary.in_doubt_applied += findings.in_doubt_applied;
            summary.acknowledged_writes_checked = writers.iter().map(|w| w.acked_ops).sum();
            summary.details.extend(findings.details);
            summary.in_doubt = writers.iter().map(|w| w.in_doubt_calls).sum();
            summary.refused = writers.iter().map(|w| w.refused).sum();
            if config.verbose {
                eprintln!(
                    "cycle {cycle}: {cells} cells, {} acknowledged requests verified; in doubt: {} applied, {} absent; losses {}",
                    summary.acknowledged_writes_checked,
                    findings.in_doubt_applied,
                    findings.in_doubt_absent,
                    findings.losses
                );
            }
            if !summary.ok() {
                let _ = server.stop().await;
                return Ok(summary);
            }
        }
        if cycle >= config.cycles || started.elapsed() >= config.duration {
            server.stop().await?;
            break;
        }
        cycle += 1;
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for w in writers.drain(..) {
            let c = Clients::connect(&server.url()).await.map_err(|source| CrashError::Wire { cycle, source })?;
            tasks.push(tokio::spawn(w.run(c, stop.clone())));
        }
        let upkeep =
            tokio::spawn(maintenance(clients.clone(), Rng::new(config.seed ^ cycle as u64, 1), stop.clone(), cycle));
        let (lo, hi) = config.uptime;
        let uptime = Duration::from_millis(rng.range(lo.as_millis() as u64, hi.as_millis() as u64 + 1));
        tokio::time::sleep(uptime).await;
        stop.store(true, Ordering::Relaxed);
        server.kill()?;
        for t in tasks {
            writers.push(t.await??);
        }
        let _ = upkeep.await;
        summary.cycles = cycle;
    }
    Ok(summary)
}
