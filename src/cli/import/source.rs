//! Where the records of an import come from: a CSV, JSON Lines or Parquet file, each read as a
//! header (the column names) and then one record of text fields per row, in the header's order.
//! Everything after that (which field goes where, timestamps, types, nulls, bad rows) is the
//! same code for every format ([`super::rows`]).
//!
//! | format | header | a record | place in errors |
//! | --- | --- | --- | --- |
//! | CSV | the first line after `--skip-lines` | a line | line |
//! | JSON Lines | the keys of the first object, in order | an object (a line) | line |
//! | Parquet | the schema's column names | a row | row |
//!
//! The format is `--file-format`, or else chosen from the file's name: `.jsonl` and `.ndjson`
//! are JSON Lines, `.parquet` is Parquet, anything else (and standard input) is CSV.

pub mod csv_file;
pub mod jsonl_file;
pub mod parquet_file;

use std::path::Path;

use clap::ValueEnum;
use isobar_storage::ColumnType;

use super::error::{ImportError, Place};
use super::open_input;
use super::options::ImportOptions;

/// The format of an imported file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    /// Comma-separated values (or another `--delimiter`) with a header line.
    Csv,
    /// JSON Lines (NDJSON): one JSON object per line.
    Jsonl,
    /// Apache Parquet.
    Parquet,
}

impl FileFormat {
    /// The format of `path`: `explicit` when given, else from the extension (`.jsonl`,
    /// `.ndjson`, `.parquet`, case-insensitive), else CSV; standard input (`-`) is CSV.
    pub fn of(path: &Path, explicit: Option<FileFormat>) -> FileFormat {
        if let Some(format) = explicit {
            return format;
        }
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("jsonl" | "ndjson") => FileFormat::Jsonl,
            Some("parquet") => FileFormat::Parquet,
            _ => FileFormat::Csv,
        }
    }

    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Csv => "CSV",
            FileFormat::Jsonl => "JSON Lines",
            FileFormat::Parquet => "Parquet",
        }
    }
}

/// What a file says about the values of one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Text, read by the target column's type (CSV and JSON values).
    Text,
    /// Values of this type (a typed Parquet column): the type of a target column when neither
    /// the header, the mapping nor the table gives one.
    Typed(ColumnType),
    /// Instants written as RFC 3339 in UTC (a Parquet timestamp column): as the timestamp they
    /// are read as such, whatever `--ts-format`, `--tz` and `--ts-unit` say.
    Instant,
}

/// The header of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The column names, in order.
    pub names: Vec<String>,
    /// Where the header is.
    pub at: Place,
    /// What each column holds (as long as `names`).
    pub kinds: Vec<FieldKind>,
}

/// A file read as a header and then records of text fields in the header's order.
///
/// An error of [`Records::next_record`] for which [`ImportError::row_line`] is `Some` is about
/// that record alone: the source has moved past it, and reading may go on (`--max-errors`).
/// Any other error ends the file.
pub trait Records {
    /// Reads the header; called once, first.
    fn header(&mut self) -> Result<Header, ImportError>;

    /// Says which fields (0-based, sorted) the import uses; the others may be left empty in
    /// every record. Called once, after the header.
    fn select(&mut self, fields: &[usize]) -> Result<(), ImportError>;

    /// Reads the next record into `record`; its place, or `None` at the end of the file.
    fn next_record(&mut self, record: &mut csv::StringRecord) -> Result<Option<Place>, ImportError>;
}

impl<T: Records + ?Sized> Records for Box<T> {
    fn header(&mut self) -> Result<Header, ImportError> {
        (**self).header()
    }

    fn select(&mut self, fields: &[usize]) -> Result<(), ImportError> {
        (**self).select(fields)
    }

    fn next_record(&mut self, record: &mut csv::StringRecord) -> Result<Option<Place>, ImportError> {
        (**self).next_record(record)
    }
}

/// Opens `path` (`-`: standard input) in its format ([`FileFormat::of`] with `options.format`).
pub fn open_records(path: &Path, options: &ImportOptions) -> Result<Box<dyn Records>, ImportError> {
    let format = FileFormat::of(path, options.format);
    if format != FileFormat::Csv && options.delimiter != b',' {
        return Err(ImportError::FlagNotForFormat { flag: "--delimiter", format: format.name() });
    }
    match format {
        FileFormat::Csv => Ok(Box::new(csv_file::CsvRecords::new(open_input(path)?, options)?)),
        FileFormat::Jsonl => Ok(Box::new(jsonl_file::JsonlRecords::new(open_input(path)?, options)?)),
        FileFormat::Parquet => {
            if path == Path::new("-") {
                return Err(ImportError::ParquetStdin);
            }
            if options.skip_lines > 0 {
                return Err(ImportError::FlagNotForFormat { flag: "--skip-lines", format: format.name() });
            }
            let file = std::fs::File::open(path).map_err(|source| ImportError::Io { line: 0, source })?;
            Ok(Box::new(parquet_file::ParquetRecords::new(file)?))
        }
    }
}
