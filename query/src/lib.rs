//! # isobar-query
//!
//! The read edge of the server: checks read requests and turns them into plans, resolves column
//! references against the catalog, and frames answers as Arrow IPC. Wire types
//! ([`isobar_proto::v1`]) stop here.
//!
//! Modules:
//!
//! - [`request`]: `ScanRequest`, `AggregateRequest`, `LatestRequest` -> [`request::ScanPlan`],
//!   [`request::AggregatePlan`], [`request::LatestPlan`], with errors naming the field.
//! - [`column_ref`]: `family.column` / `family.*`.
//! - [`projection`]: references resolved against a `TableDef` (only the named families are
//!   read), the Arrow schema of answers, and type checks and output types of aggregates.
//! - [`ipc`]: [`ipc::IpcEncoder`], one `ArrowBatch` message per record batch.
//!
//! Still to come once the engine's `Db` handle and read path exist: scan planning and merge
//! over memtables and SSTables, aggregates (with chunk-statistics push-down) and fill, latest
//! point, Parquet export, and the tonic `Query` service (each call runs on a blocking thread and
//! streams `ArrowBatch` messages through a bounded channel).
//!
//! ```
//! use isobar_proto::v1::{AllSeries, ScanRequest, SeriesSelector, series_selector::Selector};
//! use isobar_query::request::scan_plan;
//!
//! let request = ScanRequest {
//!     table: "weather".into(),
//!     selector: Some(SeriesSelector { selector: Some(Selector::All(AllSeries {})) }),
//!     columns: vec!["env.*".into()],
//!     ..Default::default()
//! };
//! let plan = scan_plan(request).unwrap();
//! assert!(plan.columns[0].is_wildcard());
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod column_ref;
pub mod ipc;
pub mod projection;
pub mod request;
