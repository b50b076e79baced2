//! SSTables: immutable, sorted, columnar files of one column family.
//!
//! An SSTable holds the rows of one family sorted by `(series key bytewise, ts)`. Rows are cut
//! into pages (default 8192 rows, possibly spanning several series); each page stores one block
//! per column (`ts`, `seq`, then every column of the file's schema), encoded by
//! [`crate::encoding`] and checksummed. An index lists every series with its chunks (its rows
//! within one page) and their statistics; a bloom filter answers "may this file hold series X";
//! a meta block holds the schema and file facts; a fixed footer points at all three. The byte
//! layout is drawn in [`mod@format`].
//!
//! - Write: [`SstWriter::create`], [`SstWriter::append`] runs in `(series, ts)` order,
//!   [`SstWriter::finish`] → [`SstInfo`] (for the manifest). Memory: one page of rows.
//! - Read: [`SstReader::open`] (loads footer, meta, index, filter), then
//!   [`SstReader::series`] / [`SstReader::get`] to find series, [`SstReader::chunks`] for
//!   statistics, [`SstReader::read`] / [`SstReader::read_chunk`] for rows. Decoded blocks are
//!   shared between readers through a byte-bounded [`BlockCache`].
//! - Check: [`SstReader::verify`] reads and checks every block.
//! - In a database: `files` names them (`sst/<id>.sst`), `windowed` writes a flush's or a
//!   merge's rows as one file per compaction window.
//!
//! Damaged bytes surface as [`Error::Corrupt`] naming the file and block; nothing in this module
//! panics on the content of a file.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, Float64Array};
//! use isobar_storage::sst::{BlockCache, ColumnSchema, SstReader, SstWriter, SstWriterOptions};
//! use isobar_storage::{ColumnType, Run, SeriesSelector, TimeRange};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("1.sst");
//! let schema = vec![ColumnSchema { id: 0, name: "temp".into(), ty: ColumnType::F64 }];
//! let mut w = SstWriter::create(&path, 7, schema, SstWriterOptions::default()).unwrap();
//! let temp: ArrayRef = Arc::new(Float64Array::from(vec![20.5, 21.0]));
//! w.append(&Run { series: "station=KSEA".into(), ts: vec![10, 20].into(), seq: vec![1, 1].into(),
//!                 columns: vec![(0, temp)] }).unwrap();
//! let info = w.finish().unwrap();
//! assert_eq!(info.rows, 2);
//!
//! let r = SstReader::open(&path, 1, Arc::new(BlockCache::new(1 << 20))).unwrap();
//! let entry = r.series(&SeriesSelector::Prefix("station=".into())).next().unwrap();
//! let run = r.read(&entry, TimeRange::new(15, 30), &[0]).unwrap().unwrap();
//! assert_eq!(&run.ts[..], &[20]);
//! ```

mod block;
mod cache;
mod error;
mod files;
mod filter;
pub mod format;
mod index;
mod meta;
mod page;
mod present;
mod read;
mod reader;
mod stats;
mod verify;
mod windowed;
mod writer;

#[cfg(test)]
mod tests;

pub use block::BlockHandle;
pub use cache::{BlockCache, CacheKey, CacheStats, CachedBlock};
pub use error::{BlockColumn, BlockRef, Corruption, Error};
pub use format::{FORMAT_VERSION, Footer};
pub use index::{ChunkMeta, SeriesEntry};
pub use meta::{ColumnSchema, SstInfo};
pub use reader::SstReader;
pub use stats::{ColumnStats, ValueStats};
pub use verify::VerifyReport;
pub use writer::{SstWriter, SstWriterOptions};

pub(crate) use files::sst_path;
pub(crate) use windowed::{OutputTarget, WindowedWriter, window_start};
