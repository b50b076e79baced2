//! # isobar-storage
//!
//! Isobar's storage engine: a wide-column time-series store with one LSM tree per column family,
//! usable in-process like RocksDB or SQLite. No network code lives here; the server crates wrap it.
//!
//! ```no_run
//! use isobar_storage::{ColumnType, ColumnValues, Db, Options, ScanRequest, SeriesWrite, TableSpec};
//!
//! # fn main() -> isobar_storage::Result<()> {
//! let db = Db::open("./isobar-data", Options::default())?;
//! db.create_table(
//!     TableSpec::new("weather").family("obs", &[("temperature", ColumnType::F64), ("wind", ColumnType::F64)]),
//! )?;
//! db.write(
//!     SeriesWrite::new("weather", "station=KSEA", vec![1_700_000_000_000_000_000, 1_700_000_060_000_000_000])
//!         .column("obs", "temperature", ColumnValues::F64(vec![11.5, 11.7])),
//! )?;
//! let batches = db.scan(&ScanRequest::new("weather").columns(["obs.temperature"]))?;
//! assert_eq!(batches[0].num_rows(), 2);
//! db.close()?;
//! # Ok(()) }
//! ```
//!
//! ## Map
//!
//! | module | owns |
//! |---|---|
//! | [`db`] | the [`Db`] handle: open/recover, write path, flush worker, admin, versions |
//! | [`catalog`] | table definitions, schema changes, validation of write batches |
//! | [`wal`] | the write-ahead log: segments, group commit, replay |
//! | [`memtable`] | per-family in-memory rows, merge-on-read |
//! | [`sst`] | the SSTable format: writer, reader, index, filter, block cache |
//! | [`encoding`] | column encodings inside SSTable pages |
//! | [`histogram`] | the lock-free latency histogram behind [`Db::metrics`] |
//! | [`compaction`] | time-window compaction: policy, executor, background worker |
//! | [`manifest`] | the crash-safe log of catalog and file-set changes |
//! | [`producer`] | idempotent producers: ids, marks, expiry ([`Db::write_as`], [`Db::producer_state`]) |
//! | [`read`] | snapshots, last-write-wins merge, scans to Arrow |
//! | [`fs`] | the file-system layer every engine file goes through ([`Options::fs`]); [`fs::FaultFs`] injects I/O faults in tests (see `docs/faults.md`) |
//! | [`batch`], [`schema`], [`selector`], [`run`] | the data model's types |
//!
//! Write path: [`Db::write`] → [`catalog::validate_batch`] → WAL append → memtable insert →
//! wait for durability. Read path: [`Db::snapshot`] → [`Snapshot::read_series`] per family
//! (memtables + SSTables, merged) → [`Scan`] joins families into Arrow record batches.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![deny(unreachable_pub)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

mod batch;
mod catalog;
mod clock;
mod codec;
mod compaction;
mod db;
pub mod encoding;
mod error;
pub mod fs;
mod histogram;
pub mod manifest;
mod memtable;
mod names;
mod options;
mod producer;
mod read;
mod run;
mod schema;
mod selector;
pub mod sst;
mod version;
pub mod wal;

pub use batch::{ColumnValues, ColumnWrite, SeriesWrite, WriteBatch, WriteReceipt};
pub use catalog::{LoggedColumn, LoggedSeries, TableChange, Validated, apply_change, build_table, validate_batch};
pub use codec::DecodeError;
pub use compaction::{CompactionOptions, CompactionReport};
pub use db::{
    CHECKPOINT_FILE, CheckpointFile, CheckpointInfo, Db, DbStats, EngineMetrics, FamilyStats, PendingWrite, StallState,
    restore_checkpoint, verify_checkpoint,
};
pub use error::{Error, InvalidInput, NameKind, Result};
pub use histogram::{HistogramSnapshot, LATENCY_BOUNDS_SECONDS, LatencyHistogram};
pub use memtable::{ColumnInput, Memtable};
pub use names::{MAX_NAME_LEN, validate_name};
pub use options::{Limits, Options, SyncPolicy, WalRecovery};
pub use producer::{ProducerId, ProducerReceipt, ProducerState};
pub use read::{FileSource, Order, Projection, Scan, ScanRequest, SeriesSources, Snapshot, WINDOW_ROWS, merge_runs};
pub use run::Run;
pub use schema::{
    ColumnDef, ColumnId, ColumnSpec, ColumnType, FamilyDef, FamilyId, FamilySpec, TableDef, TableId, TableSpec,
    ts_arrow_type,
};
pub use selector::{SeriesSelector, TimeRange};
pub use version::SstFile;
