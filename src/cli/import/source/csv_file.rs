//! CSV records: a UTF-8 byte-order mark and `--skip-lines` skipped, the first non-blank line is
//! the header, blank lines are skipped, and every record knows its line in the file.

use std::io::{BufRead, BufReader, Read};

use super::{FieldKind, Header, Records};
use crate::cli::import::error::{ImportError, Place};
use crate::cli::import::options::ImportOptions;

/// A UTF-8 byte-order mark, as spreadsheets write at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The records of a CSV file.
pub struct CsvRecords<R: Read> {
    reader: csv::Reader<BufReader<R>>,
    skipped: u64,
    skip_lines: usize,
}

impl<R: Read> CsvRecords<R> {
    /// Skips the BOM and `--skip-lines` of `input`.
    pub fn new(input: R, options: &ImportOptions) -> Result<Self, ImportError> {
        let mut input = BufReader::with_capacity(1 << 16, input);
        let head = input.fill_buf().map_err(|source| ImportError::Io { line: 1, source })?;
        if head.starts_with(BOM) {
            input.consume(BOM.len());
        }
        let mut skipped = 0u64;
        let mut discard = Vec::new();
        for _ in 0..options.skip_lines {
            discard.clear();
            let n = input
                .read_until(b'\n', &mut discard)
                .map_err(|source| ImportError::Io { line: skipped + 1, source })?;
            if n == 0 {
                return Err(ImportError::NoHeader { skipped: options.skip_lines });
            }
            skipped += 1;
        }
        let reader =
            csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(options.delimiter).from_reader(input);
        Ok(Self { reader, skipped, skip_lines: options.skip_lines })
    }

    /// Line of `record`, just read (1-based, counting skipped lines). Found from where the
    /// reader stopped, because the record's own start position counts the blank lines the
    /// reader skipped before it.
    fn line(&self, record: &csv::StringRecord) -> u64 {
        let end = self.reader.position().line();
        let last = if self.reader.is_done() { end } else { end.saturating_sub(1) };
        let inner: usize = record.iter().map(|f| f.bytes().filter(|b| *b == b'\n').count()).sum();
        last.saturating_sub(inner as u64) + self.skipped
    }

    /// Reads the next non-blank record; `false` at the end.
    fn read(&mut self, record: &mut csv::StringRecord) -> Result<bool, ImportError> {
        loop {
            let more = self.reader.read_record(record).map_err(|e| ImportError::Csv {
                line: e.position().map_or(0, |p| p.line()) + self.skipped,
                message: csv_message(&e),
            })?;
            let blank = record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty());
            if !more || !blank {
                return Ok(more);
            }
        }
    }
}

impl<R: Read> Records for CsvRecords<R> {
    fn header(&mut self) -> Result<Header, ImportError> {
        let mut record = csv::StringRecord::new();
        if !self.read(&mut record)? {
            return Err(ImportError::NoHeader { skipped: self.skip_lines });
        }
        let names: Vec<String> = record.iter().map(|h| h.trim().to_owned()).collect();
        let kinds = vec![FieldKind::Text; names.len()];
        Ok(Header { names, at: Place::Line(self.line(&record)), kinds })
    }

    fn select(&mut self, _fields: &[usize]) -> Result<(), ImportError> {
        Ok(())
    }

    fn next_record(&mut self, record: &mut csv::StringRecord) -> Result<Option<Place>, ImportError> {
        if !self.read(record)? {
            return Ok(None);
        }
        Ok(Some(Place::Line(self.line(record))))
    }
}

/// The CSV reader's error without its own position prefix.
fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("field {} is not valid UTF-8", err.field() + 1),
        csv::ErrorKind::Io(io) => format!("read error: {io}"),
        _ => e.to_string(),
    }
}
