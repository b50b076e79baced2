//! # isobar-proto
//!
//! Isobar's gRPC API, package `isobar.v1`: the `.proto` files under `proto/isobar/v1/` and the
//! Rust that `build.rs` generates from them (with `protox` and `tonic-prost-build`, no system
//! `protoc`). Wire types stay in this crate; the engine never sees them, and the conversions live
//! at the edge (`isobar-ingest`, `isobar-query`).
//!
//! Services, all in [`v1`]:
//!
//! - `Ingest`: `Write` and client-streaming `WriteStream` of columnar [`v1::SeriesBatch`]es or
//!   simple [`v1::Row`]s.
//! - `Query`: `Scan`, `Aggregate` and `Latest`, each answering a stream of
//!   [`v1::ArrowBatch`]es that together form one Arrow IPC stream.
//! - `Admin`: tables (`CreateTable`, `AlterTable`, `DropTable`, `ListTables`, `DescribeTable`),
//!   `Flush`, `Compact`, `Stats`, `Export`/`ExportWithProgress` and `Delete`.
//!
//! ```
//! use isobar_proto::v1::{column, Column, DoubleValues, SeriesBatch, WriteRequest};
//! use prost::Message;
//!
//! let request = WriteRequest {
//!     batches: vec![SeriesBatch {
//!         table: "weather".into(),
//!         series: "station=KSEA".into(),
//!         ts: vec![1_700_000_000_000_000_000, 1_700_000_060_000_000_000],
//!         columns: vec![Column {
//!             family: "env".into(),
//!             name: "temp_c".into(),
//!             values: Some(column::Values::F64Values(DoubleValues { values: vec![11.5, 11.7] })),
//!             validity: Vec::new(),
//!             nulls: Vec::new(),
//!         }],
//!     }],
//!     ..Default::default()
//! };
//! let bytes = request.encode_to_vec();
//! assert_eq!(WriteRequest::decode(bytes.as_slice()).unwrap(), request);
//! ```

/// Generated types of package `isobar.v1`: messages, enums, `*_client` and `*_server` modules.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/isobar.v1.rs"));
}

/// The encoded `FileDescriptorSet` of every `isobar.v1` file, with source info (comments), for
/// gRPC server reflection (`tonic-reflection`'s `register_encoded_file_descriptor_set`).
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/isobar_v1_descriptor.bin"));

#[cfg(test)]
mod tests;
