//! Opening a database: lock, manifest, SSTables, WAL replay, background threads.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use parking_lot::{Condvar, Mutex};

use super::compactor::Compactor;
use super::flusher::Flusher;
use super::versions::VersionSet;
use super::write;
use super::write_path::WritePath;
use super::{Db, DbInner, record};
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::fs::{FileSystem, Fs, Lock};
use crate::manifest::{Manifest, ManifestOptions, ManifestState};
use crate::producer::table::ProducerTable;
use crate::sst::{BlockCache, SstReader, sst_path};
use crate::version::{FamilyVersion, SstFile, SuperVersion};
use crate::wal::{Wal, WalOptions};

impl Db {
    /// Opens the database in `dir` (creating it when missing) and recovers it: the manifest gives
    /// the catalog and the SSTables, the WAL replays what was not yet flushed.
    pub fn open(dir: impl AsRef<Path>, opts: crate::Options) -> Result<Db> {
        open(dir.as_ref(), opts)
    }
}

fn open(dir: &Path, opts: crate::Options) -> Result<Db> {
    let fs = opts.fs.clone();
    crate::fs::create_dir_all_in(&*fs, dir)?;
    let lock = lock_dir(&*fs, dir)?;
    let sst_dir = dir.join("sst");
    crate::fs::create_dir_all_in(&*fs, &sst_dir)?;
    let (manifest, state) = Manifest::create_or_open_in(fs.clone(), dir, ManifestOptions::default())?;
    remove_orphans(&*fs, &sst_dir, &state)?;
    let cache = Arc::new(BlockCache::new(opts.block_cache_size));
    let sv = build_version(&fs, dir, &state, &cache)?;
    let wal = Wal::open_in(
        fs.clone(),
        &dir.join("wal"),
        WalOptions { segment_size: opts.wal_segment_size, sync: opts.sync, recovery: opts.wal_recovery },
    )?;
    // Replay: every record after the oldest family's flushed point; each family takes only the
    // records it has not flushed yet.
    // Producer stamps come from the records above the manifest's producer mark, which may
    // reach further back than the families' flushed points.
    let flushed = |family| state.flushed_seq.get(&family).copied().unwrap_or(0);
    let replay_from =
        sv.families.keys().map(|f| flushed(*f)).min().unwrap_or(state.last_seq).min(state.producers_as_of);
    let ttl_ms = u64::try_from(opts.producer_state_ttl.as_millis()).unwrap_or(u64::MAX);
    let mut producers = ProducerTable::new(ttl_ms, opts.max_producers).with_owner_cap(opts.max_producers_per_owner);
    producers.load(&state.producers);
    let mut last_seq = state.last_seq;
    let mut replayed = 0u64;
    let stats = wal.replay(replay_from, |seq, payload| {
        let record = record::decode(payload).map_err(|source| Error::WalPayload { seq, source })?;
        check_record(&sv, &record.series).map_err(|reason| Error::WalMismatch { seq, reason })?;
        write::apply(&sv, &record.series, seq, |family| seq > flushed(family));
        if let Some(st) = record.stamp.filter(|_| seq > state.producers_as_of) {
            producers.record(&st.producer, st.seq, st.active_ms, seq);
        }
        last_seq = last_seq.max(seq);
        replayed += 1;
        Ok(())
    })?;
    // The WAL (and the flushed points) may be ahead of the manifest's last recorded seq when the
    // last close could not record it (a failed manifest sync): new seqs must follow all of them.
    let flushed_max = state.flushed_seq.values().copied().max().unwrap_or(0);
    last_seq = last_seq.max(stats.last_seq.unwrap_or(0)).max(flushed_max).max(state.producers_as_of);
    producers.expire(now_ms());
    if replayed > 0 {
        tracing::info!(records = replayed, last_seq, ?stats, "replayed the WAL into memtables");
    }
    let (flusher, flush_rx) = Flusher::new();
    let (compactor, compaction_rx) = Compactor::new(opts.compaction.background);
    let inner = Arc::new(DbInner {
        dir: dir.to_path_buf(),
        opts,
        wal,
        versions: VersionSet::new(sv, manifest, state),
        writes: WritePath::new(last_seq, producers),
        flusher,
        compactor,
        cache,
        progress: (Mutex::new(()), Condvar::new()),
        poison: Mutex::new(None),
        closed: AtomicBool::new(false),
        counters: Default::default(),
        producer_persist: Mutex::new(()),
        lock: Mutex::new(Some(lock)),
        flush_gate: Mutex::new(()),
        resumer: super::resumer::Resumer::new(),
    });
    let weak = Arc::downgrade(&inner);
    let handle = std::thread::Builder::new()
        .name("isobar-flush".into())
        .spawn(move || super::flush::run_worker(weak, flush_rx))
        .map_err(|e| Error::io(dir, e))?;
    inner.flusher.started(handle);
    if let Some(rx) = compaction_rx {
        let weak = Arc::downgrade(&inner);
        let interval = inner.opts.compaction.interval;
        let handle = std::thread::Builder::new()
            .name("isobar-compact".into())
            .spawn(move || super::compaction::run_worker(weak, rx, interval))
            .map_err(|e| Error::io(dir, e))?;
        inner.compactor.started(handle);
    }
    let db = Db::owned(inner);
    db.update_window_files();
    {
        let w = db.inner.writes.lock();
        db.freeze_full(&w, &db.current());
    }
    Ok(db)
}

/// Checks a replayed record against the catalog: every column of a live table and family must
/// exist with the type of its values. (Records of dropped tables or families are skipped by
/// `apply`; they are legitimate leftovers.)
fn check_record(sv: &SuperVersion, series: &[crate::catalog::LoggedSeries]) -> Result<(), String> {
    for s in series {
        let Some(table) = sv.table_by_id(s.table) else { continue };
        for c in &s.columns {
            let Some(family) = table.family_by_id(c.family) else { continue };
            // `stored_type` also knows the null markers of the family's columns.
            match family.stored_type(c.column) {
                None => {
                    return Err(format!(
                        "table {} family {} has no column with id {} (series {:?})",
                        table.name, family.name, c.column, s.series
                    ));
                }
                Some(ty) if ty != c.values.column_type() => {
                    return Err(format!(
                        "column id {} of {}.{} has type {}, the record holds {} values",
                        c.column,
                        table.name,
                        family.name,
                        ty,
                        c.values.column_type()
                    ));
                }
                Some(_) => {}
            }
            if c.values.len() != s.ts.len() || c.validity.as_ref().is_some_and(|v| v.len() != s.ts.len()) {
                return Err(format!(
                    "column {} of series {:?} has another length than its timestamps",
                    c.column, s.series
                ));
            }
        }
    }
    Ok(())
}

/// Takes the data directory's `LOCK` through `fs`: one process per directory.
fn lock_dir(fs: &dyn FileSystem, dir: &Path) -> Result<Box<dyn Lock>> {
    let path = dir.join("LOCK");
    match fs.lock(&path) {
        Ok(lock) => Ok(lock),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(Error::Locked { path }),
        Err(e) => Err(Error::io(&path, e)),
    }
}

/// Deletes SSTables the manifest does not list (a flush or compaction that crashed before its
/// manifest edit) and temporary files.
fn remove_orphans(fs: &dyn FileSystem, sst_dir: &Path, state: &ManifestState) -> Result<()> {
    let live = state.live_file_ids();
    let entries = fs.read_dir(sst_dir).map_err(|e| Error::io(sst_dir, e))?;
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let id = name.strip_suffix(".sst").and_then(|n| n.parse::<u64>().ok());
        let orphan = match id {
            Some(id) => !live.contains(&id),
            None => name.ends_with(".tmp"),
        };
        if orphan {
            tracing::warn!(file = %path.display(), "removing a file the manifest does not list (left by an interrupted flush or compaction)");
            fs.remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

fn build_version(fs: &Fs, dir: &Path, state: &ManifestState, cache: &Arc<BlockCache>) -> Result<SuperVersion> {
    let mut families = HashMap::new();
    let mut tables = BTreeMap::new();
    for table in state.tables.values() {
        tables.insert(table.name.clone(), table.clone());
        for f in &table.families {
            let mut fv = FamilyVersion::new(table.id, f.id);
            if let Some(files) = state.files.get(&f.id) {
                for meta in files.values() {
                    let path = sst_path(dir, meta.id);
                    let reader = SstReader::open_in(fs.clone(), &path, meta.id, cache.clone())?;
                    fv.files.push(Arc::new(SstFile::new(meta.clone(), reader, path)));
                }
            }
            families.insert(f.id, fv);
        }
    }
    Ok(SuperVersion {
        tables: Arc::new(tables),
        families,
        tombstones: Arc::new(state.tombstones.values().cloned().collect()),
        windows: Arc::new(state.compaction_windows.clone()),
        closed_after: Arc::new(state.closed_after.clone()),
    })
}
