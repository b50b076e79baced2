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
//! Modules are private; what other crates use is re-exported here. The subsystem namespaces that
//! name their own formats and errors ([`wal`], [`sst`], [`manifest`], [`encoding`], [`fs`]) are
//! public modules with their own curated surface (`wal::Error`, `sst::Error`, ...).
//!
//! | module | owns |
//! |---|---|
//! | `db` | the [`Db`] handle and its parts: version set, write path, flusher, compactor (ownership and lock order in its module doc); open/recover, flush, running compaction, tables, stats, checkpoints |
//! | `version` | `SuperVersion`s: the immutable catalog + memtables + SSTables a reader pins; [`SstFile`] |
//! | `catalog` | table definitions, schema changes, validation of write batches |
//! | [`wal`] | the write-ahead log: segments, group commit, replay |
//! | `memtable` | per-family in-memory rows, merge-on-read |
//! | [`sst`] | the SSTable format: writer, reader, index, filter, block cache; file names in a database and the windowed writer flush and compaction share |
//! | [`encoding`] | column encodings inside SSTable pages |
//! | `compaction` | time-window compaction: options, policy (pure), plan (reads a version), executor (a function returning an edit) |
//! | [`manifest`] | the crash-safe log of catalog and file-set changes |
//! | `producer` | idempotent producers: ids, marks, expiry ([`Db::write_as`], [`Db::producer_state`]) |
//! | `read` | snapshots, last-write-wins merge, scans to Arrow |
//! | [`fs`] | the file-system layer every engine file goes through ([`Options::fs`]); [`fs::FaultFs`] injects I/O faults in tests (see `docs/faults.md`) |
//! | `histogram` | the lock-free latency histogram behind [`Db::metrics`] |
//! | `clock` | the wall clock in the engine's units (ns, ms) |
//! | `batch`, `schema`, `selector`, `run`, `names`, `options`, `error`, `codec` | the data model's types, names, options, errors, byte reading |
//!
//! Dependencies run one way: `db` → `compaction`, `read` → `version` → `sst`, `memtable`,
//! `manifest` → the data model; no file imports a file that imports it back.
//!
//! Write path: [`Db::write`] → [`validate_batch`] → WAL append → memtable insert →
//! wait for durability. Read path: [`Db::snapshot`] → [`Snapshot::read_series`] per family
//! (memtables + SSTables, merged) → [`Scan`] joins families into Arrow record batches.
//!
//! ## Glossary
//!
//! One word per concept inside this crate:
//!
//! - **series**: the writer-chosen key of a row, with `ts` its identity `(series, ts)`.
//! - **cell**: one `(family, column)` value of a row; *absent* (null) where a write gave no value.
//! - **row** (of a family): `(series, ts)` in one family; it exists only where a cell of that family was written (a write's all-absent rows are not stored, older files' are skipped on read).
//! - **family** (column family): the unit of physical storage: its own memtables, SSTables and compaction.
//! - **seq** (sequence number): the place of a write in last-write-wins order, assigned under the write lock.
//! - **run** ([`Run`]): the rows of one series, sorted by ts, with their seqs and columns.
//! - **memtable**: a family's in-memory rows; *active* takes writes, *frozen* waits for flush.
//! - **flush**: writing a frozen memtable to SSTables.
//! - **SSTable** / **file**: an immutable, sorted, columnar file of one family ([`sst`]).
//! - **page**: up to `rows_per_page` rows of an SSTable, stored as one block per column.
//! - **chunk**: the rows of one series within one page, with their statistics.
//! - **block**: a checksummed byte range of an SSTable (a column of a page, the index, the filter, the meta); the block cache holds decoded blocks.
//! - **pack**: a run of bytes inside an encoded column, stored as a fill byte, raw, or one zstd frame (`encoding`).
//! - **window** (compaction window): the time range every SSTable belongs to; compaction merges within a window.
//! - **span**: the bounded piece of one series' time range a scan reads at once ([`SPAN_ROWS`] rows or so).
//! - **version** (`SuperVersion`): the catalog, memtables and SSTables at one moment, swapped atomically.
//! - **edit**: one change to the manifest ([`manifest::Edit`]); only `db` applies edits.
//! - **manifest**: the log of edits that makes the file set crash-safe; a manifest file starts with a *manifest snapshot* (its full state, `snapshot_records` on disk).
//! - **snapshot** ([`Snapshot`]): a consistent read view (a pinned version plus a visible seq). Not a backup.
//! - **checkpoint**: a consistent on-disk copy of the database ([`Db::checkpoint`]); the server and CLI call these *snapshots*.
//! - **tombstone**: a range delete (series selector × time range, optionally one family).
//! - **producer**: an idempotent writer whose batches carry their own seqs ([`ProducerId`]).
//! - **projection** ([`Projection`]): the families and columns a scan outputs.
//! - **stall**: holding writes back ([`StallState`]): slowed, then stopped.
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
pub use db::checkpoint::{
    CHECKPOINT_FILE, CheckpointFile, CheckpointInfo, restore_checkpoint, restore_checkpoint_in, verify_checkpoint,
    verify_checkpoint_in,
};
pub use db::health::{ReadOnly, ReadOnlyReason};
pub use db::metrics::EngineMetrics;
pub use db::producer::PendingWrite;
pub use db::resume::Resumed;
pub use db::stall::StallState;
pub use db::stats::{DbStats, FamilyStats};
pub use db::{Db, FamilyCompaction};
pub use error::{Error, InvalidInput, NameKind, Result};
pub use histogram::{HistogramSnapshot, LATENCY_BOUNDS_SECONDS, LatencyHistogram};
pub use memtable::{ColumnInput, Memtable};
pub use names::{MAX_NAME_LEN, validate_name};
pub use options::{Limits, Options, SyncPolicy, WalRecovery};
pub use producer::{ProducerId, ProducerReceipt, ProducerState};
pub use read::{FileSource, Order, Projection, SPAN_ROWS, Scan, ScanRequest, SeriesSources, Snapshot, merge_runs};
pub use run::Run;
pub use schema::{
    ColumnDef, ColumnId, ColumnSpec, ColumnType, FamilyDef, FamilyId, FamilySpec, TableDef, TableId, TableSpec,
    marked_column, null_marker, ts_arrow_type,
};
pub use selector::{SeriesSelector, TimeRange};
pub use version::SstFile;
