//! WAL targets: raw segment files ([`wal_segment`]) and the payload of an intact record as the
//! engine decodes it on open ([`wal_payload`]).

use std::sync::{OnceLock, mpsc};
use std::time::Duration;

use isobar_storage::wal::format::{SEGMENT_MAGIC, SegmentHeader, encode_record};
use isobar_storage::wal::{Wal, WalOptions, segment_file_name};
use isobar_storage::{Db, Options, ScanRequest, SyncPolicy, WalRecovery};
use tempfile::TempDir;

use crate::{scratch, seeds};

/// Most segment files one input is cut into.
const MAX_SEGMENTS: usize = 4;

/// Target: `data` is the content of the WAL directory: cut before every later occurrence of the
/// segment magic (at most [`MAX_SEGMENTS`] pieces), piece `i` is segment `i + 1`. For each
/// recovery mode: open and replay (seqs must strictly increase); if that succeeds, append one
/// record, close, and reopen: the second replay must succeed in the same mode and yield exactly
/// the records of the first plus the new one (recovery leaves a log that recovers the same).
pub fn wal_segment(data: &[u8]) {
    let segments = split_segments(data);
    for recovery in [WalRecovery::Strict, WalRecovery::SkipCorrupt] {
        let dir = scratch::dir();
        for (i, bytes) in segments.iter().enumerate() {
            scratch::write(&dir.path().join(segment_file_name(i as u64 + 1)), bytes);
        }
        let Ok(wal) = Wal::open(dir.path(), options(recovery)) else { continue };
        let Some(mut records) = replay(&wal, recovery) else {
            let _ = wal.close();
            continue;
        };
        let next = records.last().map_or(1, |(seq, _)| seq.saturating_add(1));
        let appended =
            next < u64::MAX && wal.append(next, AFTER.to_vec()).and_then(|()| wal.wait_durable(next)).is_ok();
        if wal.close().is_err() || !appended {
            continue;
        }
        records.push((next, AFTER.to_vec()));
        let again = Wal::open(dir.path(), options(recovery)).ok().and_then(|wal| {
            let records = replay(&wal, recovery);
            wal.close().ok().and(records)
        });
        assert!(again.is_some(), "{recovery:?}: a WAL that recovered once fails to recover after an append");
        assert!(again.as_ref() == Some(&records), "{recovery:?}: the second replay differs from the first");
    }
}

/// The record [`wal_segment`] appends after recovery.
const AFTER: &[u8] = b"after recovery";

/// Target: `data` is the payload of the one record of an intact WAL segment in a database whose
/// manifest holds the tables of [`seeds::db_template`]. Opens the database (decoding the record
/// and applying it to the memtables), then, if it opened, scans every table and closes.
pub fn wal_payload(data: &[u8]) {
    let dir = payload_db(data);
    let Ok(db) = Db::open(dir.path(), db_options()) else { return };
    scan_all(&db);
    let _ = db.close();
}

/// Target: [`wal_payload`], plus a flush between two scans, which must return (with or without
/// an error) within [`FLUSH_DEADLINE`]. Kept out of the CI smoke run while a replayed record
/// whose column types contradict the catalog makes `Db::flush` wait forever (README, Findings).
pub fn wal_payload_flush(data: &[u8]) {
    let dir = payload_db(data);
    let Ok(db) = Db::open(dir.path(), db_options()) else { return };
    scan_all(&db);
    let (tx, rx) = mpsc::channel();
    let flusher = db.clone();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(flusher.flush());
    });
    let finished = rx.recv_timeout(FLUSH_DEADLINE).is_ok();
    if finished {
        scan_all(&db);
    }
    let _ = db.close();
    let _ = handle.join();
    assert!(finished, "Db::flush did not return within {FLUSH_DEADLINE:?} after replaying this record");
}

/// Longest [`wal_payload_flush`] waits for `Db::flush`.
pub const FLUSH_DEADLINE: Duration = Duration::from_secs(10);

/// A database directory: the template's manifest, and a WAL segment whose one intact record
/// carries `payload`.
fn payload_db(payload: &[u8]) -> TempDir {
    let template = template();
    let dir = scratch::dir();
    for (name, bytes) in &template.files {
        scratch::write(&dir.path().join(name), bytes);
    }
    let seq = template.last_seq + 1;
    let mut segment = Vec::new();
    SegmentHeader { number: 1, first_seq: seq }.encode(&mut segment);
    encode_record(&mut segment, seq, payload);
    scratch::write(&dir.path().join("wal").join(segment_file_name(1)), &segment);
    dir
}

fn db_options() -> Options {
    let mut opts = Options { sync: SyncPolicy::None, ..Options::default() };
    opts.compaction.background = false;
    opts
}

fn scan_all(db: &Db) {
    for table in db.tables() {
        let _ = db.scan(&ScanRequest::new(table.name.clone()));
    }
}

/// Replays `wal`; the records, or `None` when recovery refused the log.
fn replay(wal: &Wal, recovery: WalRecovery) -> Option<Vec<(u64, Vec<u8>)>> {
    let mut records: Vec<(u64, Vec<u8>)> = Vec::new();
    let replayed = wal.replay(0, |seq, payload| {
        if let Some((last, _)) = records.last() {
            assert!(seq > *last, "{recovery:?}: replay handed out seq {seq} after {last}");
        }
        records.push((seq, payload.to_vec()));
        Ok(())
    });
    replayed.ok().map(|_| records)
}

fn options(recovery: WalRecovery) -> WalOptions {
    WalOptions { segment_size: 1 << 20, sync: SyncPolicy::None, recovery }
}

/// Cuts `data` before every occurrence of the segment magic after the first byte.
fn split_segments(data: &[u8]) -> Vec<&[u8]> {
    let mut cuts: Vec<usize> = data
        .windows(SEGMENT_MAGIC.len())
        .enumerate()
        .filter(|(i, w)| *i > 0 && *w == SEGMENT_MAGIC)
        .map(|(i, _)| i)
        .take(MAX_SEGMENTS - 1)
        .collect();
    cuts.insert(0, 0);
    cuts.push(data.len());
    cuts.windows(2).map(|c| &data[c[0]..c[1]]).collect()
}

/// The database files (manifest and `CURRENT`) every [`wal_payload`] input starts from.
fn template() -> &'static seeds::DbTemplate {
    static TEMPLATE: OnceLock<seeds::DbTemplate> = OnceLock::new();
    TEMPLATE.get_or_init(seeds::db_template)
}
