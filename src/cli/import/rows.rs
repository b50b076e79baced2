//! Reading the rows of a file into write requests, `rows_per_request` rows at a time.

use std::io::{BufRead, BufReader, Read};

use isobar_ingest::convert::{batch_to_request, rows_to_series};
use isobar_proto::v1::{Cell, Row, WriteRequest, cell};
use isobar_storage::{ColumnType, TableDef, WriteBatch};

use super::error::ImportError;
use super::header::{Plan, SeriesSource, TemplatePart, TsSource, ValueColumn, resolve};
use super::options::ImportOptions;
use super::report::Tally;

/// Rows of consecutive lines, ready to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    /// The request.
    pub request: WriteRequest,
    /// Rows in it.
    pub rows: u64,
    /// Non-null cells in it.
    pub points: u64,
    /// Line of its first row.
    pub first_line: u64,
    /// Line of its last row.
    pub last_line: u64,
}

/// Reads a file (after the skipped lines and the header) as a sequence of [`Chunk`]s.
pub struct Importer<R: Read> {
    reader: csv::Reader<BufReader<R>>,
    record: csv::StringRecord,
    skipped: u64,
    table: String,
    plan: Plan,
    options: ImportOptions,
    rows_per_request: usize,
    tally: Tally,
}

/// A UTF-8 byte-order mark, as spreadsheets write at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

impl<R: Read> Importer<R> {
    /// Skips the BOM and `--skip-lines`, reads and resolves the header; rows go to `table`
    /// (whose definition, when known, gives types the header lacks).
    pub fn new(
        input: R,
        table: &str,
        options: &ImportOptions,
        table_def: Option<&TableDef>,
        rows_per_request: usize,
    ) -> Result<Self, ImportError> {
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
        let mut this = Self {
            reader,
            record: csv::StringRecord::new(),
            skipped,
            table: table.to_owned(),
            plan: Plan {
                width: 0,
                series: SeriesSource::Constant(String::new()),
                series_label: String::new(),
                ts: TsSource::Field(0),
                ts_label: String::new(),
                values: Vec::new(),
                skipped: Vec::new(),
            },
            options: options.clone(),
            rows_per_request: rows_per_request.max(1),
            tally: Tally::default(),
        };
        if !this.read_record()? {
            return Err(ImportError::NoHeader { skipped: options.skip_lines });
        }
        let header: Vec<String> = this.record.iter().map(|h| h.trim().to_owned()).collect();
        let line = this.line();
        this.plan = resolve(&header, line, options, table_def)?;
        Ok(this)
    }

    /// The resolved header.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Distinct series keys read so far.
    pub fn series(&self) -> u64 {
        self.tally.series()
    }

    /// Rows, points and duplicates read so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Takes the tally out (the importer's is reset).
    pub fn take_tally(&mut self) -> Tally {
        std::mem::take(&mut self.tally)
    }

    /// Line of the record read last (1-based, counting skipped lines). Found from where the
    /// reader stopped, because the record's own start position counts the blank lines the
    /// reader skipped before it.
    fn line(&self) -> u64 {
        let end = self.reader.position().line();
        let last = if self.reader.is_done() { end } else { end.saturating_sub(1) };
        let inner: usize = self.record.iter().map(|f| f.bytes().filter(|b| *b == b'\n').count()).sum();
        last.saturating_sub(inner as u64) + self.skipped
    }

    /// Reads the next non-blank record; `false` at the end.
    fn read_record(&mut self) -> Result<bool, ImportError> {
        loop {
            let more = self.reader.read_record(&mut self.record).map_err(|e| ImportError::Csv {
                line: e.position().map_or(0, |p| p.line()) + self.skipped,
                message: csv_message(&e),
            })?;
            let blank = self.record.len() == 1 && self.record.get(0).is_some_and(|f| f.trim().is_empty());
            if !more || !blank {
                return Ok(more);
            }
        }
    }

    /// The next chunk of up to `rows_per_request` rows; `None` at the end of the file. A row
    /// that cannot be read is passed to `on_error`, which either skips it (returns `Ok`) or stops
    /// the import (returns the error).
    pub fn next_chunk(
        &mut self,
        on_error: &mut dyn FnMut(ImportError) -> Result<(), ImportError>,
    ) -> Result<Option<Chunk>, ImportError> {
        let mut rows = Vec::with_capacity(self.rows_per_request.min(1 << 16));
        let (mut first_line, mut last_line, mut points) = (0, 0, 0u64);
        while rows.len() < self.rows_per_request {
            if !self.read_record()? {
                break;
            }
            let line = self.line();
            if line < self.options.from_line {
                continue;
            }
            match self.row(line) {
                Ok((row, set)) => {
                    if rows.is_empty() {
                        first_line = line;
                    }
                    last_line = line;
                    points += row.cells.len() as u64;
                    self.tally.add(&row.series, row.ts, set.into_iter());
                    rows.push(row);
                }
                Err(e) => on_error(e)?,
            }
        }
        if rows.is_empty() {
            return Ok(None);
        }
        let count = rows.len() as u64;
        let series = rows_to_series(rows).map_err(|source| ImportError::Convert { line: first_line, source })?;
        Ok(Some(Chunk { request: batch_to_request(WriteBatch { series }), rows: count, points, first_line, last_line }))
    }

    /// The current record as a row, with the indexes of the value columns it sets.
    fn row(&self, line: u64) -> Result<(Row, Vec<usize>), ImportError> {
        let record = &self.record;
        if record.len() != self.plan.width {
            return Err(ImportError::FieldCount { line, expected: self.plan.width, got: record.len() });
        }
        let field = |i: usize| record.get(i).unwrap_or_default();
        let series = match &self.plan.series {
            SeriesSource::Constant(key) => key.clone(),
            SeriesSource::Template(parts) => {
                let mut key = String::new();
                for part in parts {
                    match part {
                        TemplatePart::Text(t) => key.push_str(t),
                        TemplatePart::Field(i) => key.push_str(field(*i).trim()),
                    }
                }
                key
            }
        };
        if series.is_empty() {
            return Err(ImportError::EmptySeries { line, from: self.plan.series_label.clone() });
        }
        let ts_text = match self.plan.ts {
            TsSource::Field(i) => std::borrow::Cow::Borrowed(field(i)),
            TsSource::DateTime(d, t) => std::borrow::Cow::Owned(format!("{} {}", field(d).trim(), field(t).trim())),
        };
        let ts = self.options.ts_parser.parse(&ts_text).map_err(|source| ImportError::Timestamp {
            line,
            column: self.plan.ts_label.clone(),
            text: ts_text.to_string(),
            source,
        })?;
        let mut cells = Vec::with_capacity(self.plan.values.len());
        let mut set = Vec::with_capacity(self.plan.values.len());
        for (j, column) in self.plan.values.iter().enumerate() {
            let text = field(column.index);
            if let Some(value) = self.value(line, column, text)? {
                cells.push(Cell { family: column.family.clone(), column: column.column.clone(), value: Some(value) });
                set.push(j);
            }
        }
        Ok((Row { table: self.table.clone(), series, ts, cells }, set))
    }

    /// The value of one field; `None` for an empty field or a `--null-values` marker.
    fn value(&self, line: u64, column: &ValueColumn, text: &str) -> Result<Option<cell::Value>, ImportError> {
        let trimmed = text.trim();
        if trimmed.is_empty() || self.options.null_values.iter().any(|n| n == trimmed) {
            return Ok(None);
        }
        let bad = |expected| ImportError::Value { line, column: column.label.clone(), text: text.to_owned(), expected };
        Ok(Some(match column.ty {
            ColumnType::F64 => cell::Value::F64Value(trimmed.parse().map_err(|_| bad("f64 (a number such as 1.5)"))?),
            ColumnType::I64 => cell::Value::I64Value(trimmed.parse().map_err(|_| bad("i64 (a whole number)"))?),
            ColumnType::Bool => cell::Value::BoolValue(match trimmed {
                "true" | "TRUE" | "True" | "1" => true,
                "false" | "FALSE" | "False" | "0" => false,
                _ => return Err(bad("bool (true, false, 1 or 0)")),
            }),
            ColumnType::String => cell::Value::StringValue(text.to_owned()),
        }))
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
