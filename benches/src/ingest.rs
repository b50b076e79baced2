//! In-process ingest: write pre-generated batches as fast as the engine takes them.
//!
//! All batches are generated before the clock starts, so the generator is not measured; the
//! clock stops when the last `write` returned (acknowledged under the database's sync policy).
//! Memtables flush in the background meanwhile, as in production; the final flush is timed
//! separately. Peak RSS is `VmHWM` reset right before the first write, so it covers the engine
//! plus the batches still waiting to be written (which shrink as they are consumed).

use std::time::{Duration, Instant};

use isobar_storage::{Db, Result, WriteBatch};
use isobar_workload::{Generator, Spec};

use isobar_testkit::procfs;

/// How batches are cut from the workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchShape {
    /// Consecutive timestamps per batch.
    pub ts_per_batch: usize,
    /// Series per batch.
    pub series_per_batch: usize,
}

/// Pre-generated batches and what they hold.
#[derive(Debug)]
pub struct Batches {
    /// The batches, in stream order.
    pub batches: Vec<WriteBatch>,
    /// Rows in all batches.
    pub rows: u64,
    /// Points (non-null cells) in all batches.
    pub points: u64,
    /// Time the generator took.
    pub generated_in: Duration,
}

/// Generates every batch of `spec` cut as `shape`.
pub fn pregenerate(spec: &Spec, shape: BatchShape) -> Batches {
    let start = Instant::now();
    let batches: Vec<WriteBatch> = Generator::new(spec.clone())
        .ts_per_batch(shape.ts_per_batch)
        .series_per_batch(shape.series_per_batch)
        .collect();
    let rows = batches.iter().flat_map(|b| &b.series).map(|s| s.ts.len() as u64).sum();
    let points = batches.iter().map(|b| b.points() as u64).sum();
    Batches { batches, rows, points, generated_in: start.elapsed() }
}

/// What an ingest run measured.
#[derive(Debug, Clone)]
pub struct IngestFigures {
    /// Batches written.
    pub batches: usize,
    /// Rows written.
    pub rows: u64,
    /// Points written.
    pub points: u64,
    /// From the first write to the last acknowledgement.
    pub elapsed: Duration,
    /// CPU time (all threads: writers, WAL, flush) over `elapsed`.
    pub cpu: Option<Duration>,
    /// The final `Db::flush` after the last write.
    pub final_flush: Duration,
    /// Peak RSS during the writes (`VmHWM` after a reset), and RSS right before them.
    pub peak_rss: Option<u64>,
    /// RSS right before the first write (the pre-generated batches and the empty engine).
    pub rss_before: Option<u64>,
    /// Bytes of WAL payload written.
    pub wal_bytes: u64,
    /// Memtable flushes during the run, including the final one.
    pub flushes: u64,
    /// Writes that waited for memory.
    pub stalls: u64,
    /// Longest such wait.
    pub longest_stall: Duration,
}

impl IngestFigures {
    /// Points per second over [`IngestFigures::elapsed`].
    pub fn points_per_s(&self) -> f64 {
        crate::report::per_second(self.points, self.elapsed)
    }
}

/// Writes `batches` into `db` (whose table exists) from `writers` threads, round-robin, then
/// flushes.
pub fn run(db: &Db, batches: Batches, writers: usize) -> Result<IngestFigures> {
    let Batches { batches, rows, points, .. } = batches;
    let n = batches.len();
    let writers = writers.max(1);
    let mut lanes: Vec<Vec<WriteBatch>> = (0..writers).map(|_| Vec::with_capacity(n / writers + 1)).collect();
    for (i, b) in batches.into_iter().enumerate() {
        lanes[i % writers].push(b);
    }
    let before = db.stats();
    let rss_before = procfs::rss_bytes();
    procfs::reset_peak_rss();
    let cpu0 = procfs::cpu_time();
    let start = Instant::now();
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = lanes
            .into_iter()
            .map(|lane| {
                s.spawn(move || -> Result<()> {
                    for b in lane {
                        db.write(b)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| isobar_storage::Error::Poisoned("a writer thread panicked".into()))??;
        }
        Ok(())
    })?;
    let elapsed = start.elapsed();
    let cpu = procfs::cpu_time().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
    let peak_rss = procfs::peak_rss_bytes();
    let flush_start = Instant::now();
    db.flush()?;
    let final_flush = flush_start.elapsed();
    let after = db.stats();
    Ok(IngestFigures {
        batches: n,
        rows,
        points,
        elapsed,
        cpu,
        final_flush,
        peak_rss,
        rss_before,
        wal_bytes: after.wal_bytes - before.wal_bytes,
        flushes: after.flushes - before.flushes,
        stalls: after.write_stalls - before.write_stalls,
        longest_stall: after.longest_stall,
    })
}
