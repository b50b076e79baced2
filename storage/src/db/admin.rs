//! Schema changes, range deletes, manual flush and statistics.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::version::FamilyVersion;
use super::{Db, ManifestCell};
use crate::catalog::{TableChange, apply_change, build_table, known_families};
use crate::error::{Error, InvalidInput, Result};
use crate::manifest::{Edit, Tombstone};
use crate::names::{NameKind, validate_name};
use crate::schema::{FamilyId, TableDef, TableSpec};
use crate::selector::{SeriesSelector, TimeRange};

/// Counters kept by the engine (exported as metrics by the server).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub writes: AtomicU64,
    pub rows: AtomicU64,
    pub points: AtomicU64,
    pub wal_bytes: AtomicU64,
    pub flushes: AtomicU64,
    pub flush_bytes: AtomicU64,
    pub stalls: AtomicU64,
    pub stall_nanos: AtomicU64,
    pub longest_stall_nanos: AtomicU64,
    pub slowed_writes: AtomicU64,
    pub compactions: AtomicU64,
    pub compaction_bytes_read: AtomicU64,
    pub compaction_bytes_written: AtomicU64,
    pub producer_duplicates: AtomicU64,
}

impl Counters {
    pub fn record_write(&self, rows: usize, points: usize, bytes: usize, _took: Duration) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.rows.fetch_add(rows as u64, Ordering::Relaxed);
        self.points.fetch_add(points as u64, Ordering::Relaxed);
        self.wal_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn record_stall(&self, took: Duration) {
        let n = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.stall_nanos.fetch_add(n, Ordering::Relaxed);
        self.longest_stall_nanos.fetch_max(n, Ordering::Relaxed);
    }
}

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
    /// Rows in SSTables (before merging duplicates across files).
    pub file_rows: u64,
    /// Series in the active memtable.
    pub memtable_series: usize,
    /// Bytes held by memtables (active and frozen).
    pub memtable_bytes: usize,
    /// Frozen memtables waiting for flush.
    pub frozen_memtables: usize,
    /// Time windows that hold files.
    pub windows: usize,
    /// Files marked bad after a checksum failure.
    pub bad_files: usize,
    /// Bytes compaction would still rewrite to bring the family in shape (estimate).
    pub pending_compaction_bytes: u64,
}

/// Whether writes are held back, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum StallState {
    /// Writes go at full speed.
    #[default]
    Normal,
    /// Writes are delayed a little so that flushes and compaction can catch up.
    Slowed(String),
    /// Writes wait (and fail with `Overloaded` past the stall timeout).
    Stopped(String),
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
    /// Bytes read by compaction since open.
    pub compaction_bytes_read: u64,
    /// Bytes written by compaction since open.
    pub compaction_bytes_written: u64,
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
    /// Creates a table; returns its definition with ids.
    pub fn create_table(&self, spec: TableSpec) -> Result<TableDef> {
        self.check_writable()?;
        let _w = self.inner.write.lock();
        let def = {
            let mut cell = self.inner.manifest.lock();
            let ManifestCell { manifest, state } = &mut *cell;
            let def = build_table(&spec, state.next_table_id, state.next_family_id, &state.tables)?;
            manifest.apply(state, vec![Edit::CreateTable(def.clone())])?;
            def
        };
        self.install_table(&def);
        Ok(def)
    }

    /// Changes a live table (add a family or columns, set TTL, allow dynamic columns).
    pub fn alter_table(&self, table: &str, change: TableChange) -> Result<TableDef> {
        self.check_writable()?;
        let _w = self.inner.write.lock();
        let def = {
            let mut cell = self.inner.manifest.lock();
            let ManifestCell { manifest, state } = &mut *cell;
            let current = state.table_by_name(table).ok_or_else(|| unknown_table(table))?;
            let def = apply_change(current, &change, state.next_family_id)?;
            let edits = match &change {
                TableChange::SetCompactionWindow { family, window_ns } => def
                    .families
                    .iter()
                    .filter(|f| family.as_ref().is_none_or(|name| *name == f.name))
                    .map(|f| Edit::SetCompactionWindow { family: f.id, window_ns: *window_ns })
                    .collect(),
                _ => vec![Edit::ReplaceTable(def.clone())],
            };
            manifest.apply(state, edits)?;
            let windows = Arc::new(state.compaction_windows.clone());
            self.install(|sv| sv.windows = windows);
            def
        };
        self.install_table(&def);
        Ok(def)
    }

    /// Drops a table and deletes its data.
    pub fn drop_table(&self, table: &str) -> Result<()> {
        self.check_writable()?;
        let _w = self.inner.write.lock();
        let def = {
            let mut cell = self.inner.manifest.lock();
            let ManifestCell { manifest, state } = &mut *cell;
            let def = state.table_by_name(table).ok_or_else(|| unknown_table(table))?.clone();
            manifest.apply(state, vec![Edit::DropTable(def.id)])?;
            def
        };
        self.install(|sv| {
            let mut tables = (*sv.tables).clone();
            tables.remove(&def.name);
            sv.tables = Arc::new(tables);
            for f in &def.families {
                if let Some(fv) = sv.families.remove(&f.id) {
                    fv.files.iter().for_each(|file| file.mark_obsolete());
                }
            }
            sv.tombstones = Arc::new(sv.tombstones.iter().filter(|t| t.table != def.id).cloned().collect());
        });
        Ok(())
    }

    /// Every table, by name.
    pub fn tables(&self) -> Vec<TableDef> {
        self.current().tables.values().cloned().collect()
    }

    /// The table named `name`.
    pub fn table_def(&self, name: &str) -> Result<TableDef> {
        self.current().table(name).cloned().ok_or_else(|| unknown_table(name))
    }

    /// Deletes every cell of the selected series in `range` (of one family, or of all), written
    /// before this call. Later writes to the same cells are kept.
    pub fn delete(&self, table: &str, family: Option<&str>, selector: SeriesSelector, range: TimeRange) -> Result<()> {
        self.check_writable()?;
        if range.is_empty() {
            return Err(
                InvalidInput::Impossible(format!("empty time range: from {} >= to {}", range.from, range.to)).into()
            );
        }
        let mut w = self.inner.write.lock();
        let def = self.current().table(table).cloned().ok_or_else(|| unknown_table(table))?;
        let family_id: Option<FamilyId> = match family {
            None => None,
            Some(name) => Some(
                def.family(name)
                    .ok_or_else(|| InvalidInput::UnknownFamily {
                        table: table.into(),
                        family: name.into(),
                        known: known_families(&def),
                    })?
                    .id,
            ),
        };
        let seq = w.last_seq + 1;
        {
            // Installed under the manifest lock, so that a flush or compaction that reads the
            // tombstone list and the tombstone id mark under that lock sees them agree.
            let mut cell = self.inner.manifest.lock();
            let ManifestCell { manifest, state } = &mut *cell;
            let id = state.next_tombstone_id;
            let tombstone = Tombstone { id, table: def.id, family: family_id, selector, range, seq };
            manifest.apply(state, vec![Edit::AddTombstone(tombstone.clone()), Edit::LastSeq(seq)])?;
            self.install(|sv| {
                let mut t = (*sv.tombstones).clone();
                t.push(tombstone);
                sv.tombstones = Arc::new(t);
            });
        }
        w.last_seq = seq;
        Ok(())
    }

    /// Flushes every memtable to SSTables and waits until done; afterwards the WAL holds nothing
    /// that is not also in an SSTable.
    pub fn flush(&self) -> Result<()> {
        self.check_writable()?;
        let target = {
            let w = self.inner.write.lock();
            let sv = self.current();
            let ids: Vec<FamilyId> = sv.families.keys().copied().collect();
            self.freeze(&ids, w.last_seq);
            w.last_seq
        };
        // Wait for the memtables frozen up to now; later ones (writes go on) are not waited for.
        let (lock, cond) = &self.inner.progress;
        let mut guard = lock.lock();
        loop {
            self.check_writable()?;
            if let Some(reason) = self.inner.flush_error.lock().clone() {
                return Err(Error::FlushFailing { reason });
            }
            let pending = self.current().families.values().any(|f| f.frozen.iter().any(|m| m.switch_seq <= target));
            if !pending {
                drop(guard);
                self.remove_obsolete_wal();
                return Ok(());
            }
            cond.wait_for(&mut guard, Duration::from_millis(50));
        }
    }

    /// Statistics per family and for the whole database.
    pub fn stats(&self) -> DbStats {
        let sv = self.current();
        let c = &self.inner.counters;
        let mut families = Vec::new();
        for table in sv.tables.values() {
            for f in &table.families {
                let Some(fv) = sv.families.get(&f.id) else { continue };
                let mut stats = family_stats(&table.name, &f.name, fv);
                (stats.windows, stats.pending_compaction_bytes) = self.compaction_state(f.id);
                families.push(stats);
            }
        }
        let cache = self.inner.cache.stats();
        let (last_seq, producers_tracked, producers_expired) = {
            let w = self.inner.write.lock();
            (w.last_seq, w.producers.len() as u64, w.producers.expired)
        };
        DbStats {
            families,
            writes: c.writes.load(Ordering::Relaxed),
            rows_written: c.rows.load(Ordering::Relaxed),
            points_written: c.points.load(Ordering::Relaxed),
            wal_bytes: c.wal_bytes.load(Ordering::Relaxed),
            flushes: c.flushes.load(Ordering::Relaxed),
            flush_bytes: c.flush_bytes.load(Ordering::Relaxed),
            write_stalls: c.stalls.load(Ordering::Relaxed),
            longest_stall: Duration::from_nanos(c.longest_stall_nanos.load(Ordering::Relaxed)),
            last_seq,
            memtable_bytes: sv.memtable_bytes(),
            compactions: c.compactions.load(Ordering::Relaxed),
            compaction_bytes_read: c.compaction_bytes_read.load(Ordering::Relaxed),
            compaction_bytes_written: c.compaction_bytes_written.load(Ordering::Relaxed),
            slowed_writes: c.slowed_writes.load(Ordering::Relaxed),
            stall: self.stall_state(),
            cache_hits: cache.hits,
            cache_misses: cache.misses,
            producers_tracked,
            producer_duplicates: c.producer_duplicates.load(Ordering::Relaxed),
            producers_expired,
        }
    }

    /// Persists table definitions (dynamic columns) and installs them. Caller holds the write lock.
    pub(crate) fn commit_tables(&self, edits: Vec<Edit>) -> Result<()> {
        let defs: Vec<TableDef> = edits
            .iter()
            .filter_map(|e| match e {
                Edit::ReplaceTable(d) => Some(d.clone()),
                _ => None,
            })
            .collect();
        {
            let mut cell = self.inner.manifest.lock();
            let ManifestCell { manifest, state } = &mut *cell;
            manifest.apply(state, edits)?;
        }
        for def in &defs {
            self.install_table(def);
        }
        Ok(())
    }

    fn install_table(&self, def: &TableDef) {
        self.install(|sv| {
            let mut tables = (*sv.tables).clone();
            tables.insert(def.name.clone(), def.clone());
            sv.tables = Arc::new(tables);
            for f in &def.families {
                sv.families.entry(f.id).or_insert_with(|| FamilyVersion::new(def.id, f.id));
            }
        });
    }
}

fn family_stats(table: &str, family: &str, fv: &FamilyVersion) -> FamilyStats {
    FamilyStats {
        table: table.to_string(),
        family: family.to_string(),
        files: fv.files.len(),
        file_bytes: fv.files.iter().map(|f| f.meta.size).sum(),
        file_rows: fv.files.iter().map(|f| f.meta.rows).sum(),
        memtable_series: fv.active.series_count(),
        memtable_bytes: fv.memtable_bytes(),
        frozen_memtables: fv.frozen.len(),
        windows: 0,
        pending_compaction_bytes: 0,
        bad_files: fv.files.iter().filter(|f| f.bad_reason().is_some()).count(),
    }
}

pub(crate) fn unknown_table(name: &str) -> Error {
    match validate_name(NameKind::Table, name) {
        Err(e) => e.into(),
        Ok(()) => InvalidInput::UnknownTable { table: name.to_string() }.into(),
    }
}
