//! # isobar-ingest
//!
//! The write edge of the server: turns gRPC write requests into engine
//! [`WriteBatch`](isobar_storage::WriteBatch)es and table definitions into engine specs. Wire
//! types ([`isobar_proto::v1`]) stop here; the engine never sees them.
//!
//! Modules:
//!
//! - [`convert`]: `WriteRequest` <-> `WriteBatch`, checking the wire-level shape (lengths,
//!   validity bitmaps, unset `oneof`s, empty requests, row limits) with errors that name the
//!   batch or row index, table, series and column.
//! - [`bitmap`]: the wire validity bitmap (LSB-first) and its checks.
//! - [`table`]: `TableSpec`/`TableInfo` <-> the engine's `TableSpec`/`TableDef`, and the
//!   `AlterTable` pieces.
//! - [`selector`]: `SeriesSelector`/`TimeRange` <-> the engine's, shared with deletes and the
//!   query crate.
//!
//! Still to come once the engine's `Db` handle exists (each in its own module):
//!
//! - `service`: the tonic `Ingest` service. `Write` decodes with [`convert::request_to_batch`]
//!   and hands the batch to `Db::write` on a blocking thread (never on a tokio worker);
//!   `WriteStream` does the same per message, in order, and answers with the totals.
//! - `status`: one exhaustive `match` from [`convert::ConvertError`] and the engine's errors to
//!   a gRPC `Status` (`INVALID_ARGUMENT`, `NOT_FOUND`, `RESOURCE_EXHAUSTED` with a retry hint).
//! - `admission`: back-pressure. A semaphore bounds the bytes of requests being decoded and
//!   written; when it is exhausted, or the engine answers `Overloaded`, the call fails fast with
//!   `RESOURCE_EXHAUSTED` instead of queueing without bound.
//! - `batching`: coalescing of small concurrent requests into one engine write (one WAL record,
//!   one group commit) while keeping each request's all-or-nothing answer.
//!
//! ```
//! use isobar_ingest::convert::request_to_batch;
//! use isobar_proto::v1::{Cell, Row, WriteRequest, cell};
//!
//! let request = WriteRequest {
//!     batches: Vec::new(),
//!     rows: vec![Row {
//!         table: "weather".into(),
//!         series: "station=KSEA".into(),
//!         ts: 1_700_000_000_000_000_000,
//!         cells: vec![Cell {
//!             family: "env".into(),
//!             column: "temp_c".into(),
//!             value: Some(cell::Value::F64Value(11.5)),
//!         }],
//!     }],
//! };
//! let batch = request_to_batch(request, 10_000).unwrap();
//! assert_eq!(batch.points(), 1);
//! ```

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod bitmap;
pub mod convert;
pub mod selector;
pub mod table;
