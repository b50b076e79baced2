//! Read throughput: whole-table scans of a projection and single-series scans through the
//! public [`Db`] API, and page decoding isolated at the SSTable reader.
//!
//! "Cold" means a block cache that has never seen the file (pages are read, checked and
//! decoded); the OS page cache is warm in every case, since the files were just written.
//! "Warm" repeats the same reads with every decoded page in the block cache, so the difference
//! between the two is the cost of decoding pages.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::Array;
use isobar_storage::sst::{BlockCache, SstReader};
use isobar_storage::{Db, Result, ScanRequest, SeriesSelector, TimeRange};

use isobar_testkit::procfs;

/// What a scan measured.
#[derive(Debug, Clone, Copy)]
pub struct ScanFigures {
    /// Rows returned.
    pub rows: u64,
    /// Non-null cells of the projected columns returned.
    pub points: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// CPU time of all threads over the scan (10 ms resolution).
    pub cpu: Option<Duration>,
}

impl ScanFigures {
    /// Points per second of wall time.
    pub fn points_per_s(&self) -> f64 {
        crate::report::per_second(self.points, self.elapsed)
    }

    /// Points per second of CPU time (throughput per busy core); `None` when the CPU time is
    /// too short to measure with the 10 ms clock.
    pub fn points_per_cpu_s(&self) -> Option<f64> {
        self.cpu.filter(|c| *c >= Duration::from_millis(100)).map(|c| crate::report::per_second(self.points, c))
    }
}

/// Runs `req` to the end, counting what comes back (batches are dropped as they arrive).
pub fn scan(db: &Db, req: &ScanRequest) -> Result<ScanFigures> {
    let cpu0 = procfs::cpu_time();
    let start = Instant::now();
    let (mut rows, mut points) = (0u64, 0u64);
    for batch in db.snapshot().scan(req)? {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        // Columns 0 and 1 are `series` and `ts`; the rest are the projected cells.
        points += batch.columns().iter().skip(2).map(|c| (c.len() - c.null_count()) as u64).sum::<u64>();
    }
    let elapsed = start.elapsed();
    let cpu = procfs::cpu_time().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
    Ok(ScanFigures { rows, points, elapsed, cpu })
}

/// Scans each of `series` on its own (an exact selector each) with the projection `columns`.
pub fn single_series(db: &Db, table: &str, columns: &[String], series: &[String]) -> Result<ScanFigures> {
    let cpu0 = procfs::cpu_time();
    let start = Instant::now();
    let (mut rows, mut points) = (0u64, 0u64);
    for key in series {
        let req = ScanRequest::new(table).columns(columns.iter().cloned()).selector(SeriesSelector::Exact(key.clone()));
        let f = scan(db, &req)?;
        rows += f.rows;
        points += f.points;
    }
    let elapsed = start.elapsed();
    let cpu = procfs::cpu_time().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
    Ok(ScanFigures { rows, points, elapsed, cpu })
}

/// Page decoding isolated at the SSTable reader, on one thread.
#[derive(Debug, Clone, Copy)]
pub struct DecodeFigures {
    /// Files read.
    pub files: usize,
    /// Rows read.
    pub rows: u64,
    /// Cells of the projected columns read (`rows x columns`; `ts` and `seq` are decoded too).
    pub values: u64,
    /// Reading every series of every file with an empty block cache.
    pub cold: Duration,
    /// The same reads again, every page cached.
    pub warm: Duration,
}

impl DecodeFigures {
    /// Values per second attributable to reading and decoding pages: `values / (cold - warm)`.
    pub fn decode_values_per_s(&self) -> f64 {
        crate::report::per_second(self.values, self.cold.saturating_sub(self.warm))
    }

    /// Values per second of the cold pass (read, check, decode, slice, concatenate).
    pub fn cold_values_per_s(&self) -> f64 {
        crate::report::per_second(self.values, self.cold)
    }
}

/// Reads every series of every SSTable of family `family` (an id) under `data_dir`, the
/// `columns` (ids) only, twice on this thread: with a fresh block cache, then warm.
pub fn reader_decode(data_dir: &Path, family: u32, columns: &[u32]) -> Result<DecodeFigures> {
    let cache = Arc::new(BlockCache::new(usize::MAX / 2));
    let mut readers = Vec::new();
    let dir = data_dir.join("sst");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| isobar_storage::Error::io(&dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sst"))
        .collect();
    paths.sort();
    for (i, path) in paths.iter().enumerate() {
        let reader = SstReader::open(path, 1_000_000 + i as u64, cache.clone())?;
        if reader.info().family == family {
            readers.push(reader);
        }
    }
    let mut ids = columns.to_vec();
    ids.sort_unstable();
    let pass = |readers: &[SstReader]| -> Result<(u64, Duration)> {
        let start = Instant::now();
        let mut rows = 0u64;
        for r in readers {
            for entry in r.series(&SeriesSelector::All) {
                if let Some(run) = r.read(&entry, TimeRange::ALL, &ids)? {
                    rows += run.len() as u64;
                }
            }
        }
        Ok((rows, start.elapsed()))
    };
    let (rows, cold) = pass(&readers)?;
    let (_, warm) = pass(&readers)?;
    Ok(DecodeFigures { files: readers.len(), rows, values: rows * ids.len() as u64, cold, warm })
}
