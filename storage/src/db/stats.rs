//! Statistics: the engine's counters and [`Db::stats`], per family and for the whole database.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Db;
use super::stall::StallState;
use crate::version::FamilyVersion;

/// Statistics of one column family.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct FamilyStats {
    /// Table name.
    pub table: String,
    /// Family name.
    pub family: String,
    /// SSTable count.
    pub files: usize,
    /// Bytes in SSTables.
    pub file_bytes: u64,
    /// Rows in SSTables (before merging duplicates across files). Only rows with a present cell
    /// are written; files from versions before that rule may also count rows without one until
    /// compaction rewrites them.
    pub file_rows: u64,
    /// Points (non-null cells) in SSTables, before merging duplicates across files.
    pub file_points: u64,
    /// Smallest and largest ts in SSTables and memtables (rows hidden by a TTL or a delete not
    /// yet compacted away included); `None` when the family holds no rows.
    pub ts_bounds: Option<(i64, i64)>,
    /// Series in the active memtable.
    pub memtable_series: usize,
    /// Bytes held by memtables (active and frozen).
    pub memtable_bytes: usize,
    /// Of those, bytes held by frozen memtables waiting for flush.
    pub frozen_memtable_bytes: usize,
    /// Frozen memtables waiting for flush.
    pub frozen_memtables: usize,
    /// Time windows that hold files.
    pub windows: usize,
    /// Files marked bad after a checksum failure.
    pub bad_files: usize,
    /// Bytes compaction would still rewrite to bring the family in shape (estimate).
    pub pending_compaction_bytes: u64,
}

/// Statistics of the whole database.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct DbStats {
    /// Per family.
    pub families: Vec<FamilyStats>,
    /// Writes accepted since open.
    pub writes: u64,
    /// Rows written since open.
    pub rows_written: u64,
    /// Points (non-null cells) written since open.
    pub points_written: u64,
    /// Bytes handed to the WAL since open.
    pub wal_bytes: u64,
    /// Memtable flushes since open.
    pub flushes: u64,
    /// Bytes written by flushes since open.
    pub flush_bytes: u64,
    /// SSTables written by flushes since open (a flush writes one file per time window it covers,
    /// so this can exceed `flushes`).
    pub flush_files: u64,
    /// Writes that had to wait for memory.
    pub write_stalls: u64,
    /// Longest such wait.
    pub longest_stall: Duration,
    /// Highest sequence number assigned.
    pub last_seq: u64,
    /// Memory held by memtables.
    pub memtable_bytes: usize,
    /// Merges run by compaction since open.
    pub compactions: u64,
    /// Bytes read by compaction merges since open (dropping expired files reads nothing and is
    /// not counted here).
    pub compaction_bytes_read: u64,
    /// Bytes written by compaction since open.
    pub compaction_bytes_written: u64,
    /// SSTables deleted whole since open because all their rows were past the TTL.
    pub expired_files_dropped: u64,
    /// Bytes of those SSTables.
    pub expired_bytes_dropped: u64,
    /// Writes that were slowed down since open.
    pub slowed_writes: u64,
    /// Whether writes are held back now.
    pub stall: StallState,
    /// Block-cache hits.
    pub cache_hits: u64,
    /// Block-cache misses.
    pub cache_misses: u64,
    /// Idempotent producers tracked now.
    pub producers_tracked: u64,
    /// Producer writes acknowledged as duplicates (not applied again) since open.
    pub producer_duplicates: u64,
    /// Producers forgotten by age or by count since open.
    pub producers_expired: u64,
}

impl Db {
    /// Statistics per family and for the whole database.
    pub fn stats(&self) -> DbStats {
        let sv = self.current();
        let c = &self.inner.counters;
        let mut families = Vec::new();
        for table in sv.tables.values() {
            for f in &table.families {
                let Some(fv) = sv.families.get(&f.id) else { continue };
                let mut stats = family_stats(&table.name, &f.name, fv);
                (stats.windows, stats.pending_compaction_bytes) = self.compaction_backlog(f.id);
                families.push(stats);
            }
        }
        let cache = self.inner.cache.stats();
        let (last_seq, producers_tracked, producers_expired) = {
            let w = self.inner.writes.lock();
            (w.last_seq(), w.producers().len() as u64, w.producers().expired)
        };
        DbStats {
            families,
            writes: c.writes.load(Ordering::Relaxed),
            rows_written: c.rows.load(Ordering::Relaxed),
            points_written: c.points.load(Ordering::Relaxed),
            wal_bytes: c.wal_bytes.load(Ordering::Relaxed),
            flushes: c.flushes.load(Ordering::Relaxed),
            flush_bytes: c.flush_bytes.load(Ordering::Relaxed),
            flush_files: c.flush_files.load(Ordering::Relaxed),
            write_stalls: c.stalls.load(Ordering::Relaxed),
            longest_stall: Duration::from_nanos(c.longest_stall_nanos.load(Ordering::Relaxed)),
            last_seq,
            memtable_bytes: sv.memtable_bytes(),
            compactions: c.compactions.load(Ordering::Relaxed),
            compaction_bytes_read: c.compaction_bytes_read.load(Ordering::Relaxed),
            compaction_bytes_written: c.compaction_bytes_written.load(Ordering::Relaxed),
            expired_files_dropped: c.expired_files_dropped.load(Ordering::Relaxed),
            expired_bytes_dropped: c.expired_bytes_dropped.load(Ordering::Relaxed),
            slowed_writes: c.slowed_writes.load(Ordering::Relaxed),
            stall: self.stall_state(),
            cache_hits: cache.hits,
            cache_misses: cache.misses,
            producers_tracked,
            producer_duplicates: c.producer_duplicates.load(Ordering::Relaxed),
            producers_expired,
        }
    }
}

fn family_stats(table: &str, family: &str, fv: &FamilyVersion) -> FamilyStats {
    FamilyStats {
        table: table.to_string(),
        family: family.to_string(),
        files: fv.files.len(),
        file_bytes: fv.files.iter().map(|f| f.meta.size).sum(),
        file_rows: fv.files.iter().map(|f| f.meta.rows).sum(),
        file_points: fv.files.iter().map(|f| f.reader.points()).sum(),
        ts_bounds: ts_bounds(fv),
        memtable_series: fv.active.series_count(),
        memtable_bytes: fv.memtable_bytes(),
        frozen_memtable_bytes: fv.frozen.iter().map(|f| f.mem.approximate_bytes()).sum(),
        frozen_memtables: fv.frozen.len(),
        windows: 0,
        pending_compaction_bytes: 0,
        bad_files: fv.files.iter().filter(|f| f.bad_reason().is_some()).count(),
    }
}

/// Smallest and largest ts of a family's files and memtables.
fn ts_bounds(fv: &FamilyVersion) -> Option<(i64, i64)> {
    let files = fv.files.iter().filter(|f| f.meta.rows > 0).map(|f| (f.meta.min_ts, f.meta.max_ts));
    let mems = std::iter::once(&fv.active).chain(fv.frozen.iter().map(|f| &f.mem)).filter_map(|m| m.ts_bounds());
    files.chain(mems).reduce(|(lo, hi), (a, b)| (lo.min(a), hi.max(b)))
}
