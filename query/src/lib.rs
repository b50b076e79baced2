//! # isobar-query
//!
//! The read side of Isobar above the storage engine: checks read requests, answers aggregates
//! (with chunk-statistics push-down) and latest-point queries, exports Parquet, and frames
//! answers as Arrow IPC. Wire types ([`isobar_proto::v1`]) stop here. Range scans themselves
//! are the engine's ([`isobar_storage::Snapshot::scan`]).
//!
//! ## Map
//!
//! | module | owns |
//! |---|---|
//! | [`queries`] | [`AggregateQuery`], [`LatestQuery`], [`ExportQuery`]: the serde query descriptions |
//! | [`mod@aggregate`] | [`aggregate()`]: time buckets, functions, push-down, fill |
//! | [`mod@latest`] | [`latest()`]: newest row or newest value per column, from the newest chunks |
//! | [`mod@export`] | [`export()`]: Hive-partitioned Parquet from one snapshot |
//! | [`error`] | [`Error`]: every way a query fails, with the facts |
//! | [`request`] | wire `ScanRequest`/`AggregateRequest`/`LatestRequest` -> checked plans |
//! | [`column_ref`] | `family.column` / `family.*` |
//! | [`projection`] | references resolved against a `TableDef`, answer schemas, aggregate types |
//! | [`ipc`] | [`ipc::IpcEncoder`], one `ArrowBatch` message per record batch |
//!
//! Read path of an aggregate: [`AggregateQuery`] → plan (catalog checks) → per series in
//! parallel: per family, exclusive chunks inside one bucket from statistics, the rest decoded
//! and merged ([`isobar_storage::SeriesSources`]) → accumulators per bucket → fill → batches.
//!
//! ```
//! use isobar_query::{AggregateFunction, AggregateQuery, Aggregation, Bucket, aggregate};
//! use isobar_storage::{ColumnType, ColumnValues, Db, Options, SeriesWrite, TableSpec};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let db = Db::open(dir.path(), Options::default()).unwrap();
//! db.create_table(TableSpec::new("weather").family("obs", &[("temp", ColumnType::F64)])).unwrap();
//! let hour = 3_600_000_000_000;
//! db.write(SeriesWrite::new("weather", "KSEA", vec![0, hour / 2, hour])
//!     .column("obs", "temp", ColumnValues::F64(vec![10.0, 12.0, 20.0]))).unwrap();
//! let temp = "obs.temp".parse().unwrap();
//! let mut q = AggregateQuery::new("weather", vec![Aggregation::new(AggregateFunction::Avg, temp)]);
//! q.bucket = Some(Bucket::new(hour));
//! let batches = aggregate(&db.snapshot(), &q).unwrap();
//! assert_eq!(batches[0].num_rows(), 2); // [0, 1h) and [1h, 2h)
//! db.close().unwrap();
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod aggregate;
pub mod column_ref;
pub mod error;
pub mod export;
pub mod latest;
pub mod queries;
pub mod request;
pub mod resolve;
pub mod service;
pub mod status;

pub use aggregate::{PushDownStats, aggregate, aggregate_with_stats};
pub use error::{Error, Result};
pub use export::{ExportProgress, ExportSummary, ExportedFile, export, export_snapshot};
pub use latest::latest;
pub use queries::{AggregateFunction, Fill, GroupBy, LatestMode};
pub use queries::{AggregateQuery, Aggregation, Bucket, ExportQuery, LatestQuery};
