//! # isobar-query
//!
//! The one read model of Isobar: every read, from whichever front end, becomes the engine's
//! request here, once, and is answered here. It owns the tonic `Query` service (`Scan`,
//! `Aggregate`, `Latest`) and the read-only calls of `Admin` (`ListTables`, `DescribeTable`,
//! `Stats`, `Export`, `ExportWithProgress`); it answers aggregates (with chunk-statistics
//! push-down) and latest-point queries and exports Parquet. Range scans themselves are the
//! engine's ([`isobar_storage::Snapshot::scan`]). Wire types ([`isobar_proto::v1`]) stop in
//! [`request`]; the conversions it shares with the write side (selectors, table definitions,
//! Arrow IPC framing, the error-to-status table) are [`isobar_wire`]'s.
//!
//! What lives where: the `Query` service is here entirely ([`service::QueryService`]; the server
//! adds its permission check as a [`service::ReadGuard`]). `Admin` mixes reads with catalog
//! changes, flushes, deletes and snapshots, so its tonic implementation stays in the server,
//! which checks permissions and delegates the read calls to [`service::admin`] and
//! [`service::export`].
//!
//! ## Map
//!
//! | module | owns |
//! |---|---|
//! | [`service`] | [`service::QueryService`] (tonic `Query`), [`service::ReadGuard`]; [`service::stream`]: batches to a bounded stream of IPC messages; [`service::admin`], [`service::export`]: the read-only `Admin` calls |
//! | [`request`] | wire `ScanRequest` / `AggregateRequest` / `LatestRequest` -> [`isobar_storage::ScanRequest`] / [`AggregateQuery`] / [`LatestQuery`], once, with [`request::RequestError`] |
//! | [`status`] | [`status::ReadError`] and its gRPC status: the read side's errors in one `match`, engine errors via [`isobar_wire::status`] |
//! | [`queries`] | [`AggregateQuery`], [`LatestQuery`], [`ExportQuery`] and their enums: the serde query descriptions |
//! | [`column_ref`] | [`column_ref::ColumnRef`]: `family.column` / `family.*`, parsed once where a query is made |
//! | [`resolve`] | column references resolved against a `TableDef` ([`resolve::ResolvedColumns`]), answer schemas, aggregate types |
//! | [`mod@aggregate`] | [`aggregate()`]: time buckets (fixed, local days, months), functions, push-down, fill; [`aggregate::BucketStarts`]: the same buckets row by row (SQL) |
//! | [`zone`] | [`parse_time_zone`]: a zone from an IANA name or a fixed offset |
//! | [`mod@latest`] | [`latest()`]: newest row or newest value per column, from the newest chunks |
//! | [`mod@export`] | [`export()`]: Hive-partitioned Parquet from one snapshot (by day, month, year or none; three column namings; files up to a target size); [`export::ExportWriter`]: the same files from batches a client streamed |
//! | [`error`] | [`Error`]: every way a query fails, with the facts |
//!
//! ## Read paths
//!
//! Each crosses a crate boundary once on the way in (server -> query -> storage):
//!
//! - **Scan**: `isobar::server` (authentication layer, routing) -> [`service`] (`ReadGuard`
//!   permission check) -> [`request::scan_request`] (protobuf -> [`isobar_storage::ScanRequest`]
//!   with the total and per-series limits) -> [`isobar_storage::Snapshot::scan`] (series, windows,
//!   merge, limits) -> [`service::stream`] (Arrow IPC messages via [`isobar_wire::ipc`], bounded
//!   channel) -> client.
//! - **Aggregate**: server -> [`service`] (guard) -> [`request::aggregate_query`] (protobuf ->
//!   [`AggregateQuery`]) -> [`mod@aggregate`] (plan against the catalog via [`resolve`]; per series
//!   in parallel: per family, exclusive chunks inside one bucket from statistics, the rest decoded
//!   and merged by [`isobar_storage::SeriesSources`]; accumulators per bucket; fill; batches) ->
//!   [`service::stream`] -> client.
//! - **Latest**: server -> [`service`] (guard) -> [`request::latest_query`] -> [`mod@latest`]
//!   (newest chunks of each family via [`isobar_storage::SeriesSources`]) -> [`service::stream`].
//! - **Export**: server's `Admin` (permission check) -> [`service::export`] (destination checks,
//!   blocking pool) -> [`mod@export`] (one snapshot, the partitioning chosen, scans per key range
//!   and column group, Parquet writers). A client's local export scans through `Query/Scan` and
//!   writes with [`export::ExportWriter`].
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
pub mod zone;

pub use aggregate::{PushDownStats, aggregate, aggregate_with_stats};
pub use error::{Error, Result};
pub use export::{ExportProgress, ExportSummary, ExportedFile, export, export_snapshot};
pub use latest::latest;
pub use queries::{AggregateFunction, Fill, GroupBy, LatestMode};
pub use queries::{AggregateQuery, Aggregation, Bucket, ExportQuery, LatestQuery};
pub use zone::parse_time_zone;
