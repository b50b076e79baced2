//! Behaviour tests of the WAL, one file per concern, with shared helpers here.

mod corruption;
mod crash;
mod garbage;
mod lifecycle;
mod round_trip;
mod torn_tail;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span;

use super::format::{RECORD_HEADER_LEN, SEGMENT_HEADER_LEN};
use super::{ReplayStats, SegmentInfo, Wal, WalOptions};
use crate::options::{SyncPolicy, WalRecovery};

/// Options with a small segment size.
fn opts(segment_size: u64, sync: SyncPolicy) -> WalOptions {
    WalOptions { segment_size, sync, recovery: WalRecovery::Strict }
}

/// A deterministic payload whose length varies with the seq (1 to 40 bytes).
fn payload(seq: u64) -> Vec<u8> {
    (0..(seq % 40 + 1)).map(|i| (seq.wrapping_mul(31).wrapping_add(i) % 251) as u8).collect()
}

/// Opens `dir`, replays everything, returns the handle and the records.
fn open_and_replay(dir: &Path, o: WalOptions) -> (Wal, Vec<(u64, Vec<u8>)>, ReplayStats) {
    let wal = Wal::open(dir, o).expect("open");
    let mut got = Vec::new();
    let stats = wal
        .replay(0, |seq, p| {
            got.push((seq, p.to_vec()));
            Ok(())
        })
        .expect("replay");
    (wal, got, stats)
}

/// Writes `seqs` with [`payload`] into a fresh WAL in `dir` and closes it; returns its segments.
fn write_log(dir: &Path, seqs: impl IntoIterator<Item = u64>, segment_size: u64) -> Vec<SegmentInfo> {
    let (wal, got, _) = open_and_replay(dir, opts(segment_size, SyncPolicy::None));
    assert!(got.is_empty(), "write_log expects an empty directory");
    for seq in seqs {
        wal.append(seq, payload(seq)).expect("append");
    }
    wal.close().expect("close");
    wal.segments()
}

/// The expected records for `seqs`.
fn expected(seqs: impl IntoIterator<Item = u64>) -> Vec<(u64, Vec<u8>)> {
    seqs.into_iter().map(|s| (s, payload(s))).collect()
}

/// Byte offset of each record in a segment whose records are `seqs` (written with [`payload`]).
fn record_offsets(seqs: impl IntoIterator<Item = u64>) -> Vec<(u64, usize)> {
    let mut at = SEGMENT_HEADER_LEN;
    seqs.into_iter()
        .map(|s| {
            let here = at;
            at += RECORD_HEADER_LEN + payload(s).len();
            (s, here)
        })
        .collect()
}

/// The seqs stored in segment `info`, assuming consecutive seqs across the log.
fn seqs_of(info: &SegmentInfo) -> std::ops::RangeInclusive<u64> {
    info.first_seq.expect("first seq")..=info.last_seq.expect("last seq")
}

/// Copies every file of `from` into a new temporary directory.
fn copy_dir(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.path().join(entry.file_name())).expect("copy");
    }
    to
}

/// Path of a file inside a temp dir, for comparisons.
fn path_in(dir: &Path, info: &SegmentInfo) -> PathBuf {
    dir.join(info.path.file_name().expect("file name"))
}

/// Runs `f` with a subscriber that captures WARN events as `field=value` text.
fn capture_warnings<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    let store = Arc::new(Mutex::new(Vec::new()));
    let out = tracing::subscriber::with_default(Capture(Arc::clone(&store)), f);
    let warnings = store.lock().expect("lock").clone();
    (out, warnings)
}

struct Capture(Arc<Mutex<Vec<String>>>);

struct FieldText(String);

impl Visit for FieldText {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() == tracing::Level::WARN {
            let mut text = FieldText(String::new());
            event.record(&mut text);
            self.0.lock().expect("lock").push(text.0);
        }
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}
