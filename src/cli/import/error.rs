//! What is wrong with an import, and where: the file is named by the caller, every error here
//! names the line (1-based, counting skipped lines), the column as the header spells it, and what
//! was expected.

use std::path::PathBuf;

use super::timestamp::TsError;

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
    #[error("line {line}: {what} names column \"{column}\", which the header does not have (it has: {header})")]
    MissingColumn {
        /// The header's line.
        line: u64,
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
        "line {line}, column {field} \"{column}\": not family.column[:type]; map it with --map '{column}=family.column' \
         (with any --map, unmapped columns are skipped)"
    )]
    UnknownColumn {
        /// The header's line.
        line: u64,
        /// 1-based field number.
        field: usize,
        /// The header's text.
        column: String,
    },
    /// Two columns of the file go to one column of the table.
    #[error("line {line}: columns \"{first}\" and \"{second}\" both go to {target}")]
    DuplicateTarget {
        /// The header's line.
        line: u64,
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
    #[error("line {line}: {got} fields, the header has {expected}")]
    FieldCount {
        /// Line number.
        line: u64,
        /// Fields in the header.
        expected: usize,
        /// Fields on the line.
        got: usize,
    },
    /// A value that does not parse as its column's type.
    #[error("line {line}, column \"{column}\": \"{text}\" is not a valid {expected}")]
    Value {
        /// Line number.
        line: u64,
        /// The header's text.
        column: String,
        /// The field.
        text: String,
        /// The expected type.
        expected: &'static str,
    },
    /// A timestamp that cannot be read.
    #[error("line {line}, column \"{column}\": \"{text}\" {source}")]
    Timestamp {
        /// Line number.
        line: u64,
        /// The header's text (`date + time` for two columns).
        column: String,
        /// The field.
        text: String,
        /// Why.
        #[source]
        source: TsError,
    },
    /// An empty series key.
    #[error("line {line}: the series key is empty (from {from})")]
    EmptySeries {
        /// Line number.
        line: u64,
        /// Where it came from.
        from: String,
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
    #[error("line {line}: {source}")]
    Convert {
        /// First line of the chunk.
        line: u64,
        /// The conversion error.
        #[source]
        source: isobar_wire::write::ConvertError,
    },
}

impl ImportError {
    /// The line of a row-level error (the ones `--max-errors` may skip); `None` for errors of the
    /// header or the options, which stop the import.
    pub fn row_line(&self) -> Option<u64> {
        match self {
            ImportError::FieldCount { line, .. }
            | ImportError::Value { line, .. }
            | ImportError::Timestamp { line, .. }
            | ImportError::EmptySeries { line, .. } => Some(*line),
            _ => None,
        }
    }
}
