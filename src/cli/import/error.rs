//! What is wrong with an import, and where: the file is named by the caller, every error here
//! names the place ([`Place`]: the line of a CSV or JSON Lines file, 1-based and counting skipped
//! lines; the row of a Parquet file, 1-based), the column as the header spells it, and what was
//! expected.

use std::fmt;
use std::path::PathBuf;

use arrow_schema::DataType;
use parquet::errors::ParquetError;

use super::timestamp::TsError;

/// Where in a file a record or its header is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A line of a CSV or JSON Lines file (1-based, counting skipped lines).
    Line(u64),
    /// A row of a Parquet file (1-based).
    Row(u64),
    /// The schema of a Parquet file, which is its header.
    Schema,
}

impl Place {
    /// The line or row number (0 for the schema): what `--from-line` and the reject file take.
    pub fn number(self) -> u64 {
        match self {
            Place::Line(n) | Place::Row(n) => n,
            Place::Schema => 0,
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line(n) => write!(f, "line {n}"),
            Place::Row(n) => write!(f, "row {n}"),
            Place::Schema => f.write_str("the Parquet schema"),
        }
    }
}

/// Why a file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("line {line}: read error: {source}")]
    Io {
        /// Line being read.
        line: u64,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The CSV reader failed (e.g. invalid UTF-8).
    #[error("line {line}: {message}")]
    Csv {
        /// Line being read.
        line: u64,
        /// The reader's explanation.
        message: String,
    },
    /// No header after the skipped lines.
    #[error("no header line after skipping {skipped} lines: the file is empty or shorter")]
    NoHeader {
        /// `--skip-lines`.
        skipped: usize,
    },
    /// `--map-file` could not be read.
    #[error("cannot read --map-file {}: {source}", path.display())]
    MapFile {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A mapping that is not `SRC=FAMILY.COLUMN[:TYPE]`.
    #[error("{origin}: \"{text}\" is not SRC=FAMILY.COLUMN or SRC=FAMILY.COLUMN:TYPE (TYPE f64, i64, bool or string)")]
    Map {
        /// `--map` or `FILE:LINE`.
        origin: String,
        /// The mapping.
        text: String,
    },
    /// A mapping or template names a column the header lacks.
    #[error("{at}: {what} names column \"{column}\", which the header does not have (it has: {header})")]
    MissingColumn {
        /// The header's place.
        at: Place,
        /// `--map`, `--series`, `--ts-column`, ...
        what: &'static str,
        /// The column named.
        column: String,
        /// The header's columns.
        header: String,
    },
    /// A bad `--series`.
    #[error("--series \"{template}\": {reason} (give a constant key, or columns in braces such as {{station}}-{{id}})")]
    SeriesTemplate {
        /// The text given.
        template: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A bad `--tz`.
    #[error("--tz {0}")]
    Zone(String),
    /// A header column that is not `family.column` with no `--map`.
    #[error(
        "{at}, column {field} \"{column}\": not family.column[:type]; map it with --map '{column}=family.column' \
         (with any --map, unmapped columns are skipped)"
    )]
    UnknownColumn {
        /// The header's place.
        at: Place,
        /// 1-based field number.
        field: usize,
        /// The header's text.
        column: String,
    },
    /// Two columns of the file go to one column of the table.
    #[error("{at}: columns \"{first}\" and \"{second}\" both go to {target}")]
    DuplicateTarget {
        /// The header's place.
        at: Place,
        /// The first source column.
        first: String,
        /// The second source column.
        second: String,
        /// `family.column`.
        target: String,
    },
    /// A column whose type neither the header, the mapping nor the table gives.
    #[error("column \"{column}\" -> {target}: no type; {why}; give it as {target}:f64 (or i64, bool, string)")]
    NoType {
        /// The header's text.
        column: String,
        /// `family.column`.
        target: String,
        /// Why the table did not tell.
        why: String,
    },
    /// A line with another number of fields than the header.
    #[error("{at}: {got} fields, the header has {expected}")]
    FieldCount {
        /// The record's place.
        at: Place,
        /// Fields in the header.
        expected: usize,
        /// Fields on the line.
        got: usize,
    },
    /// A value that does not parse as its column's type.
    #[error("{at}, column \"{column}\": \"{text}\" is not a valid {expected}")]
    Value {
        /// The record's place.
        at: Place,
        /// The header's text.
        column: String,
        /// The field.
        text: String,
        /// The expected type.
        expected: &'static str,
    },
    /// A timestamp that cannot be read.
    #[error("{at}, column \"{column}\": \"{text}\" {source}")]
    Timestamp {
        /// The record's place.
        at: Place,
        /// The header's text (`date + time` for two columns).
        column: String,
        /// The field.
        text: String,
        /// Why (boxed: the error stays small).
        #[source]
        source: Box<TsError>,
    },
    /// An empty series key.
    #[error("{at}: the series key is empty (from {from})")]
    EmptySeries {
        /// The record's place.
        at: Place,
        /// Where it came from.
        from: String,
    },
    /// A line of a JSON Lines file that is not valid JSON.
    #[error("line {line}: not valid JSON: {reason} (at character {column}); expected one JSON object per line")]
    Json {
        /// The line.
        line: u64,
        /// Character (1-based) of the line where the parser stopped.
        column: usize,
        /// The parser's explanation, without its own position.
        reason: String,
    },
    /// A line of a JSON Lines file that holds JSON but not an object.
    #[error(
        "line {line}: {found} is not a JSON object; expected one object per line, such as {{\"series\":\"s1\",\"ts\":\"2024-05-01T00:00:00Z\",\"m.v\":1.5}}"
    )]
    JsonNotObject {
        /// The line.
        line: u64,
        /// What the line holds (`an array`, `a number`, ...).
        found: &'static str,
    },
    /// A nested object or array as a field value.
    #[error(
        "line {line}, key \"{key}\": {found} is not a field value; expected a number, string, boolean or null (flatten nested values first)"
    )]
    JsonNested {
        /// The line.
        line: u64,
        /// The key.
        key: String,
        /// `an object` or `an array`.
        found: &'static str,
    },
    /// A key that the header (the first object's keys) does not have, with no `--map`.
    #[error(
        "line {line}: key \"{key}\" is not in the header (the keys of the first object, line {header_line}: {header}); \
         give every key in the first object (null where there is no value), or import only mapped keys with --map"
    )]
    JsonUnknownKey {
        /// The line.
        line: u64,
        /// The key.
        key: String,
        /// The line of the first object.
        header_line: u64,
        /// The header's keys.
        header: String,
    },
    /// The same key twice in one object.
    #[error("line {line}: key \"{key}\" appears twice in the object")]
    JsonDuplicateKey {
        /// The line.
        line: u64,
        /// The key.
        key: String,
    },
    /// A file that cannot be opened as Parquet (not Parquet, truncated, damaged footer).
    #[error("not a readable Parquet file (truncated, damaged or not Parquet): {source}")]
    ParquetOpen {
        /// The reader's error.
        #[source]
        source: ParquetError,
    },
    /// A Parquet file whose data cannot be read past some row.
    #[error("row {row}: cannot read the Parquet data (truncated or damaged file): {source}")]
    ParquetRead {
        /// The first row of the batch being read.
        row: u64,
        /// The reader's error.
        #[source]
        source: ParquetError,
    },
    /// A Parquet column whose values cannot be read as text (e.g. binary that is not UTF-8).
    #[error("rows from {row}, column \"{column}\": cannot be read as text: {source}")]
    ParquetCast {
        /// The first row of the batch.
        row: u64,
        /// The column.
        column: String,
        /// Arrow's error.
        #[source]
        source: arrow_schema::ArrowError,
    },
    /// A Parquet column compressed with a codec this build does not read.
    #[error(
        "column \"{column}\" is compressed with {codec}; Isobar reads uncompressed and ZSTD Parquet files: \
         write the file with zstd (pyarrow and pandas: compression='zstd'; Polars: compression='zstd')"
    )]
    ParquetCodec {
        /// The column.
        column: String,
        /// The codec's name.
        codec: String,
    },
    /// A Parquet column of a type that does not import (lists, structs, maps, ...).
    #[error(
        "the Parquet schema, column \"{column}\": type {found} does not import; expected numbers, strings, booleans, \
         timestamps, dates or times (leave it out: with any --map, unmapped columns are skipped)"
    )]
    ParquetType {
        /// The column.
        column: String,
        /// Its Arrow type.
        found: DataType,
    },
    /// Parquet from standard input.
    #[error("a Parquet file cannot be read from standard input (its footer, at the end, is read first): give its path")]
    ParquetStdin,
    /// A flag that does not apply to the file's format.
    #[error("{flag} does not apply to {format} files")]
    FlagNotForFormat {
        /// The flag.
        flag: &'static str,
        /// The format.
        format: &'static str,
    },
    /// More bad rows than `--max-errors`.
    #[error("more than --max-errors {max} bad rows; the last: {last}")]
    TooManyErrors {
        /// The limit.
        max: u64,
        /// The bad row past the limit.
        #[source]
        last: Box<ImportError>,
    },
    /// The reject file could not be written.
    #[error("cannot write --reject-file {}: {message}", path.display())]
    RejectFile {
        /// The file.
        path: PathBuf,
        /// The writer's error.
        message: String,
    },
    /// Rows of one chunk that cannot be grouped (cannot happen with a consistent header).
    #[error("{at}: {source}")]
    Convert {
        /// The chunk's first record.
        at: Place,
        /// The conversion error.
        #[source]
        source: isobar_wire::write::ConvertError,
    },
}

impl ImportError {
    /// The line (or Parquet row) of a row-level error (the ones `--max-errors` may skip);
    /// `None` for errors of the header, the options or the file as a whole, which stop the
    /// import.
    pub fn row_line(&self) -> Option<u64> {
        match self {
            ImportError::FieldCount { at, .. }
            | ImportError::Value { at, .. }
            | ImportError::Timestamp { at, .. }
            | ImportError::EmptySeries { at, .. } => Some(at.number()),
            ImportError::Json { line, .. }
            | ImportError::JsonNotObject { line, .. }
            | ImportError::JsonNested { line, .. }
            | ImportError::JsonUnknownKey { line, .. }
            | ImportError::JsonDuplicateKey { line, .. } => Some(*line),
            _ => None,
        }
    }
}
