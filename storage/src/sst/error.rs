//! [`Error`]: everything that can go wrong writing or reading an SSTable, with the file named.
//!
//! Damaged bytes are always [`Error::Corrupt`], which says which file, which region or data block
//! ([`BlockRef`]), at which file offset, and what was wrong ([`Corruption`]). Corrupt data is never
//! returned as data.

use std::fmt;
use std::path::PathBuf;

use arrow_schema::DataType;

use crate::codec::DecodeError;
use crate::encoding::EncodingError;
use crate::schema::{ColumnId, ColumnType};

/// Errors of SSTable writing and reading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file-system operation failed.
    #[error("SSTable {file}: I/O error: {source}")]
    Io {
        /// The SSTable.
        file: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Bytes on disk are damaged or inconsistent.
    #[error("SSTable {file} is corrupt: {block} at byte {offset}: {reason}")]
    Corrupt {
        /// The SSTable.
        file: PathBuf,
        /// Which part of the file.
        block: BlockRef,
        /// File offset of that part.
        offset: u64,
        /// What is wrong.
        reason: Corruption,
    },
    /// The file was written by a format version this build does not read.
    #[error("SSTable {file} has format version {found}; this build reads version {supported}")]
    UnsupportedVersion {
        /// The SSTable.
        file: PathBuf,
        /// Version in the footer.
        found: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// Rows were appended out of `(series, ts)` order.
    #[error(
        "SSTable {file}: rows must ascend by (series, ts), but ({series:?}, {ts}) came after ({previous_series:?}, {previous_ts})"
    )]
    OutOfOrder {
        /// The SSTable being written.
        file: PathBuf,
        /// Series of the offending row.
        series: String,
        /// Timestamp of the offending row.
        ts: i64,
        /// Series of the row written before.
        previous_series: String,
        /// Timestamp of the row written before.
        previous_ts: i64,
    },
    /// A run carries a column that is not in the file's schema.
    #[error("SSTable {file}: series {series:?} has column {column}, which is not in the file's schema")]
    UnknownColumn {
        /// The SSTable being written.
        file: PathBuf,
        /// Series key.
        series: String,
        /// Column id.
        column: ColumnId,
    },
    /// A run's column has another Arrow type than the schema says.
    #[error("SSTable {file}: series {series:?} column {column} is {got}, the schema says {expected}")]
    TypeMismatch {
        /// The SSTable being written.
        file: PathBuf,
        /// Series key.
        series: String,
        /// Column id.
        column: ColumnId,
        /// Type in the schema.
        expected: ColumnType,
        /// Arrow type of the run's array.
        got: DataType,
    },
    /// A run breaks the [`Run`](crate::Run) invariants (lengths, order of ts or column ids).
    #[error("SSTable {file}: series {series:?} is not a valid run: {problem}")]
    InvalidRun {
        /// The SSTable being written.
        file: PathBuf,
        /// Series key.
        series: String,
        /// What [`Run::check_invariants`](crate::Run::check_invariants) reported.
        problem: String,
    },
    /// The schema given to the writer names a column id twice.
    #[error("SSTable {file}: column id {column} appears twice in the schema")]
    DuplicateColumn {
        /// The SSTable being written.
        file: PathBuf,
        /// Column id.
        column: ColumnId,
    },
    /// Writer options out of range.
    #[error("SSTable {file}: rows_per_page is {rows_per_page}, it must be 1 to {max}")]
    BadPageSize {
        /// The SSTable being written.
        file: PathBuf,
        /// The value given.
        rows_per_page: usize,
        /// Largest accepted.
        max: usize,
    },
    /// A column could not be encoded.
    #[error("SSTable {file}: cannot encode column {column}: {source}")]
    Encode {
        /// The SSTable being written.
        file: PathBuf,
        /// Column id.
        column: ColumnId,
        /// The encoder's error.
        #[source]
        source: EncodingError,
    },
}

impl Error {
    /// Wraps an I/O error with the file it concerns.
    pub fn io(file: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { file: file.into(), source }
    }

    /// True for [`Error::Corrupt`].
    pub fn is_corrupt(&self) -> bool {
        matches!(self, Error::Corrupt { .. })
    }
}

/// The part of an SSTable an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockRef {
    /// The fixed-size footer at the end.
    Footer,
    /// The schema/meta block.
    Meta,
    /// The series index (with the page table).
    Index,
    /// The series filter.
    Filter,
    /// A column block of a page.
    Data {
        /// Block number in the file (`page * (2 + columns) + slot`).
        block: u32,
        /// Page number.
        page: u32,
        /// Which column of the page.
        column: BlockColumn,
    },
    /// The whole file (for example: shorter than a footer).
    File,
}

/// Which column a data block holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockColumn {
    /// Timestamps.
    Ts,
    /// Sequence numbers.
    Seq,
    /// A column of the schema.
    Column(ColumnId),
}

impl fmt::Display for BlockRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockRef::Footer => f.write_str("footer"),
            BlockRef::Meta => f.write_str("meta block"),
            BlockRef::Index => f.write_str("index block"),
            BlockRef::Filter => f.write_str("filter block"),
            BlockRef::File => f.write_str("file"),
            BlockRef::Data { block, page, column } => {
                write!(f, "data block {block} (page {page}, ")?;
                match column {
                    BlockColumn::Ts => f.write_str("ts)"),
                    BlockColumn::Seq => f.write_str("seq)"),
                    BlockColumn::Column(id) => write!(f, "column {id})"),
                }
            }
        }
    }
}

/// What is wrong with a damaged part of a file.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Corruption {
    /// The stored checksum does not match the bytes.
    #[error("crc32c mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// Checksum stored in the file.
        stored: u32,
        /// Checksum of the bytes read.
        computed: u32,
    },
    /// The file does not end with the SSTable magic.
    #[error("bad magic {found:02x?}, not an Isobar SSTable")]
    BadMagic {
        /// The last 8 bytes of the file.
        found: Vec<u8>,
    },
    /// A region reaches past the end of the file or into another region.
    #[error("region of {len} bytes at {offset} does not fit in the file of {file_size} bytes")]
    OutOfBounds {
        /// Start of the region.
        offset: u64,
        /// Length of the region.
        len: u64,
        /// Size of the file.
        file_size: u64,
    },
    /// A field could not be read.
    #[error("{0}")]
    Decode(#[from] DecodeError),
    /// A column block could not be decoded.
    #[error("{0}")]
    Encoding(#[from] EncodingError),
    /// A decoded value contradicts another part of the file.
    #[error("{what}: expected {expected}, found {found}")]
    Mismatch {
        /// Which value.
        what: &'static str,
        /// What the rest of the file implies.
        expected: u64,
        /// What was read.
        found: u64,
    },
    /// A value that is impossible on its own (for example an unknown type tag).
    #[error("{what}: {value}")]
    Invalid {
        /// Which value.
        what: &'static str,
        /// The value read.
        value: u64,
    },
    /// The compressed index does not decompress.
    #[error("zstd: {0}")]
    Decompress(String),
}
