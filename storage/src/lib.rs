//! # isobar-storage
//!
//! Isobar's storage engine, usable in-process like RocksDB or SQLite.
#![deny(clippy::unwrap_used)]

pub mod batch;
pub mod catalog;
pub mod codec;
pub mod encoding;
pub mod error;
pub mod fs;
pub mod manifest;
pub mod memtable;
pub mod names;
pub mod options;
pub mod run;
pub mod schema;
pub mod selector;
pub mod sst;
pub mod wal;

pub use batch::{ColumnValues, ColumnWrite, SeriesWrite, WriteBatch};
pub use error::{Error, InvalidInput, Result};
pub use options::{Limits, Options, SyncPolicy, WalRecovery};
pub use run::Run;
pub use schema::{ColumnDef, ColumnId, ColumnType, FamilyDef, FamilyId, TableDef, TableId, TableSpec};
pub use selector::{SeriesSelector, TimeRange};
