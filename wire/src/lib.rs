//! # isobar-wire
//!
//! The one place where the gRPC wire ([`isobar_proto::v1`]) meets the engine
//! ([`isobar_storage`]), shared by the write service (`isobar-ingest`) and the read service
//! (`isobar-query`). Everything here is pure conversion, no I/O and no tokio: protobuf in,
//! engine types out (and back), and engine errors out as gRPC statuses.
//!
//! ## Map
//!
//! | module | owns |
//! |---|---|
//! | [`selector`] | `SeriesSelector` / `TimeRange` <-> the engine's (unset selector refused, open range ends) |
//! | [`table`] | `TableSpec` / `FamilySpec` / `ColumnSpec` / `TableInfo` <-> the engine's specs and `TableDef`; column types |
//! | [`ipc`] | [`ipc::IpcEncoder`]: record batches as one Arrow IPC stream, one `ArrowBatch` message each |
//! | [`mod@write`] | [`write::ConvertError`]: what can be wrong with the shape of a write request, and where |
//! | [`status`] | [`status::ApiError`] and the one exhaustive table from engine, wire and server errors to a gRPC code, retryable flag and retry hint |
//! | [`shown`] | user-supplied names as error messages show them (escaped, cut at 128 characters) |
//!
//! Write requests themselves (`WriteRequest` <-> `WriteBatch`) are converted by
//! `isobar_ingest::convert`; read requests (`ScanRequest`, `AggregateRequest`, `LatestRequest`)
//! by `isobar_query::request`. Both use this crate for the pieces they share.
//!
//! ## On the paths
//!
//! Dependencies run one way: `proto`, `storage` <- `wire` <- `ingest`, `query` <- the server.
//!
//! - Write: `ingest::service` -> `ingest::convert` (shape errors: [`mod@write`]) -> `Db::write`;
//!   a refusal -> [`status`].
//! - Scan, aggregate, latest: `query::service` -> `query::request` ([`selector`]) -> engine ->
//!   `query::service::stream` ([`ipc`]); a refusal -> `query::status` -> [`status`].
//! - Admin: the server's `Admin` -> [`table`] (create, alter, describe, list), [`selector`]
//!   (delete, compact, export); a refusal -> [`status`].
//!
//! ```
//! use isobar_proto::v1 as pb;
//! use isobar_storage::{SeriesSelector, TimeRange};
//! use isobar_wire::selector::{selector_from_proto, time_range_from_proto};
//!
//! let wire = pb::SeriesSelector { selector: Some(pb::series_selector::Selector::Prefix("truck_".into())) };
//! assert_eq!(selector_from_proto(Some(wire)), Ok(SeriesSelector::Prefix("truck_".into())));
//! let open_end = pb::TimeRange { from_ns: Some(5), to_ns: None };
//! assert_eq!(time_range_from_proto(Some(open_end)), Ok(TimeRange::new(5, i64::MAX)));
//!
//! let unknown = isobar_storage::Error::from(isobar_storage::InvalidInput::UnknownTable { table: "nope".into() });
//! let status = isobar_wire::status::storage_status(unknown);
//! assert_eq!(status.code(), tonic::Code::NotFound);
//! assert_eq!(status.message(), "table \"nope\" does not exist");
//! ```

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod ipc;
pub mod selector;
pub mod shown;
pub mod status;
pub mod table;
pub mod write;

pub use status::{ApiError, Classified, classify, classify_storage, status_with};
