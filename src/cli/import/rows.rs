//! Reading the rows of a file into write requests, `rows_per_request` rows at a time.

use std::io::Read;

use isobar_ingest::convert::{batch_to_request, rows_to_series};
use isobar_proto::v1::{Cell, Row, WriteRequest, cell};
use isobar_storage::{ColumnType, TableDef, WriteBatch};

use super::error::{ImportError, Place};
use super::header::{Plan, SeriesSource, TemplatePart, TsSource, ValueColumn, resolve};
use super::options::ImportOptions;
use super::report::Tally;
use super::source::Records;
use super::source::csv_file::CsvRecords;
use super::timestamp::TsError;

/// Rows of consecutive lines (or Parquet rows), ready to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    /// The request.
    pub request: WriteRequest,
    /// Rows in it.
    pub rows: u64,
    /// Non-null cells in it.
    pub points: u64,
    /// Line (Parquet: row) of its first row.
    pub first_line: u64,
    /// Line (Parquet: row) of its last row.
    pub last_line: u64,
}

/// Reads a file's records (after its header) as a sequence of [`Chunk`]s.
pub struct Importer<S: Records> {
    source: S,
    record: csv::StringRecord,
    table: String,
    plan: Plan,
    options: ImportOptions,
    rows_per_request: usize,
    tally: Tally,
}

impl<R: Read> Importer<CsvRecords<R>> {
    /// Reads `input` as CSV: skips the BOM and `--skip-lines`, reads and resolves the header;
    /// rows go to `table` (whose definition, when known, gives types the header lacks).
    pub fn new(
        input: R,
        table: &str,
        options: &ImportOptions,
        table_def: Option<&TableDef>,
        rows_per_request: usize,
    ) -> Result<Self, ImportError> {
        Importer::from_records(CsvRecords::new(input, options)?, table, options, table_def, rows_per_request)
    }
}

impl<S: Records> Importer<S> {
    /// Reads and resolves the header of `source` (of any format); rows go to `table`.
    pub fn from_records(
        mut source: S,
        table: &str,
        options: &ImportOptions,
        table_def: Option<&TableDef>,
        rows_per_request: usize,
    ) -> Result<Self, ImportError> {
        let header = source.header()?;
        let plan = resolve(&header.names, header.at, &header.kinds, options, table_def)?;
        source.select(&plan.fields())?;
        Ok(Self {
            source,
            record: csv::StringRecord::new(),
            table: table.to_owned(),
            plan,
            options: options.clone(),
            rows_per_request: rows_per_request.max(1),
            tally: Tally::default(),
        })
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

    /// The next chunk of up to `rows_per_request` rows; `None` at the end of the file. A row
    /// that cannot be read is passed to `on_error`, which either skips it (returns `Ok`) or stops
    /// the import (returns the error).
    pub fn next_chunk(
        &mut self,
        on_error: &mut dyn FnMut(ImportError) -> Result<(), ImportError>,
    ) -> Result<Option<Chunk>, ImportError> {
        let mut rows = Vec::with_capacity(self.rows_per_request.min(1 << 16));
        let (mut first, mut last_line, mut points) = (Place::Line(0), 0, 0u64);
        while rows.len() < self.rows_per_request {
            let at = match self.source.next_record(&mut self.record) {
                Ok(Some(at)) => at,
                Ok(None) => break,
                Err(e) => match e.row_line() {
                    // A bad record that the source has moved past.
                    Some(line) if line < self.options.from_line => continue,
                    Some(_) => {
                        on_error(e)?;
                        continue;
                    }
                    None => return Err(e),
                },
            };
            let line = at.number();
            if line < self.options.from_line {
                continue;
            }
            match self.row(at) {
                Ok((row, set)) => {
                    if rows.is_empty() {
                        first = at;
                    }
                    last_line = line;
                    points += set.len() as u64;
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
        let series = rows_to_series(rows).map_err(|source| ImportError::Convert { at: first, source })?;
        Ok(Some(Chunk {
            request: batch_to_request(WriteBatch { series }),
            rows: count,
            points,
            first_line: first.number(),
            last_line,
        }))
    }

    /// The current record as a row, with the indexes of the value columns it sets.
    fn row(&self, at: Place) -> Result<(Row, Vec<usize>), ImportError> {
        let record = &self.record;
        if record.len() != self.plan.width {
            return Err(ImportError::FieldCount { at, expected: self.plan.width, got: record.len() });
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
            return Err(ImportError::EmptySeries { at, from: self.plan.series_label.clone() });
        }
        let ts_text = match self.plan.ts {
            TsSource::Field(i) => std::borrow::Cow::Borrowed(field(i)),
            TsSource::DateTime(d, t) => std::borrow::Cow::Owned(format!("{} {}", field(d).trim(), field(t).trim())),
        };
        let parsed = match self.plan.ts_instant {
            true => parse_instant(&ts_text),
            false => self.options.ts_parser.parse(&ts_text),
        };
        let ts = parsed.map_err(|source| ImportError::Timestamp {
            at,
            column: self.plan.ts_label.clone(),
            text: ts_text.to_string(),
            source: Box::new(source),
        })?;
        let mut cells = Vec::with_capacity(self.plan.values.len());
        let mut set = Vec::with_capacity(self.plan.values.len());
        for (j, column) in self.plan.values.iter().enumerate() {
            let text = field(column.index);
            let cell = |value, null| Cell { family: column.family.clone(), column: column.column.clone(), value, null };
            match self.value(at, column, text)? {
                Some(value) => {
                    cells.push(cell(Some(value), false));
                    set.push(j);
                }
                None if self.options.empty_as_null => cells.push(cell(None, true)),
                None => {}
            }
        }
        Ok((Row { table: self.table.clone(), series, ts, cells }, set))
    }

    /// The value of one field; `None` for an empty field or a `--null-values` marker.
    fn value(&self, at: Place, column: &ValueColumn, text: &str) -> Result<Option<cell::Value>, ImportError> {
        let trimmed = text.trim();
        if trimmed.is_empty() || self.options.null_values.iter().any(|n| n == trimmed) {
            return Ok(None);
        }
        let bad = |expected| ImportError::Value { at, column: column.label.clone(), text: text.to_owned(), expected };
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

/// The nanoseconds of an instant that a typed column wrote as RFC 3339.
fn parse_instant(text: &str) -> Result<i64, TsError> {
    let ts: jiff::Timestamp = text.parse().map_err(|_| TsError::Range)?;
    i64::try_from(ts.as_nanosecond()).map_err(|_| TsError::Range)
}
