//! CSV import for `isobar write --file`.
//!
//! The first line is a header: `series,ts,<family>.<column>:<type>,...` where `<type>` is `f64`,
//! `i64`, `bool` or `string`. Each following line is one row: the series key, the timestamp
//! (nanoseconds since the epoch or RFC 3339, see `--from`), then one field per column. An empty
//! field is a null cell (not written). Booleans are `true`/`false` (also `1`/`0`). Fields may be
//! quoted with `"` (a doubled `""` inside quotes is one quote); a quoted empty string `""` is an
//! empty string, not null. Records may not span lines. Blank lines are skipped.
//!
//! ```text
//! series,ts,env.temp_c:f64,env.rh:f64,meta.note:string
//! station=KSEA,2024-05-01T00:00:00Z,11.5,80,
//! station=KSEA,1714521660000000000,11.7,,"gusty, wet"
//! ```
//!
//! Rows are read in chunks of `rows_per_request` and grouped by series into columnar batches.

use std::io::BufRead;

use isobar_ingest::convert::{batch_to_request, rows_to_series};
use isobar_proto::v1::{Cell, Row, WriteRequest, cell};
use isobar_storage::{ColumnType, WriteBatch};

use super::time::parse_time;

/// A header column after `series,ts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvColumn {
    /// Family name.
    pub family: String,
    /// Column name.
    pub column: String,
    /// Value type.
    pub ty: ColumnType,
}

/// What is wrong with a CSV file, and where (1-based line numbers).
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// The file could not be read.
    #[error("line {line}: read error: {source}")]
    Io {
        /// Line being read.
        line: usize,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file has no header.
    #[error("the file is empty; the first line must be a header series,ts,<family>.<column>:<type>,...")]
    NoHeader,
    /// The header does not start with `series,ts`.
    #[error("line 1: the header must start with series,ts (got \"{got}\")")]
    HeaderStart {
        /// The first two fields found.
        got: String,
    },
    /// A header field that is not `<family>.<column>:<type>`.
    #[error("line 1, field {field}: \"{text}\" is not <family>.<column>:<type> with type f64, i64, bool or string")]
    HeaderField {
        /// 1-based field number.
        field: usize,
        /// The field.
        text: String,
    },
    /// A line with another number of fields than the header.
    #[error("line {line}: {got} fields, the header has {expected}")]
    FieldCount {
        /// Line number.
        line: usize,
        /// Fields in the header.
        expected: usize,
        /// Fields on the line.
        got: usize,
    },
    /// A quote that is not closed, or text after a closing quote.
    #[error("line {line}: malformed quoting in field {field}")]
    Quoting {
        /// Line number.
        line: usize,
        /// 1-based field number.
        field: usize,
    },
    /// A value that does not parse as its column's type.
    #[error("line {line}: {what} \"{text}\" is not a valid {expected}")]
    Value {
        /// Line number.
        line: usize,
        /// `ts` or `family.column`.
        what: String,
        /// The field.
        text: String,
        /// The expected type.
        expected: &'static str,
    },
    /// Two rows of one chunk disagree (cannot happen with a consistent header).
    #[error("line {line}: {source}")]
    Convert {
        /// First line of the chunk.
        line: usize,
        /// The conversion error.
        #[source]
        source: isobar_wire::write::ConvertError,
    },
}

/// Reads a CSV file as a sequence of write requests.
pub struct CsvReader<R> {
    input: R,
    table: String,
    columns: Vec<CsvColumn>,
    rows_per_request: usize,
    line: usize,
    buf: String,
}

impl<R: BufRead> CsvReader<R> {
    /// Reads the header of `input`; rows go to `table`, at most `rows_per_request` per request.
    pub fn new(mut input: R, table: &str, rows_per_request: usize) -> Result<Self, CsvError> {
        let mut buf = String::new();
        let n = input.read_line(&mut buf).map_err(|source| CsvError::Io { line: 1, source })?;
        if n == 0 {
            return Err(CsvError::NoHeader);
        }
        let columns = parse_header(buf.trim_end_matches(['\r', '\n']))?;
        Ok(Self { input, table: table.to_owned(), columns, rows_per_request: rows_per_request.max(1), line: 1, buf })
    }

    /// The header's value columns.
    pub fn columns(&self) -> &[CsvColumn] {
        &self.columns
    }

    /// The next request of up to `rows_per_request` rows; `None` at the end of the file.
    pub fn next_request(&mut self) -> Result<Option<WriteRequest>, CsvError> {
        let first_line = self.line + 1;
        let mut rows = Vec::new();
        while rows.len() < self.rows_per_request {
            self.buf.clear();
            self.line += 1;
            let n = self.input.read_line(&mut self.buf).map_err(|source| CsvError::Io { line: self.line, source })?;
            if n == 0 {
                break;
            }
            let text = self.buf.trim_end_matches(['\r', '\n']);
            if text.trim().is_empty() {
                continue;
            }
            rows.push(parse_row(self.line, text, &self.table, &self.columns)?);
        }
        if rows.is_empty() {
            return Ok(None);
        }
        let series = rows_to_series(rows).map_err(|source| CsvError::Convert { line: first_line, source })?;
        Ok(Some(batch_to_request(WriteBatch { series })))
    }
}

/// Parses the header line.
pub fn parse_header(line: &str) -> Result<Vec<CsvColumn>, CsvError> {
    let fields = split_fields(1, line)?;
    match fields.get(..2) {
        Some([s, t]) if s.as_deref() == Some("series") && t.as_deref() == Some("ts") => {}
        _ => {
            let got = line.split(',').take(2).collect::<Vec<_>>().join(",");
            return Err(CsvError::HeaderStart { got });
        }
    }
    fields
        .iter()
        .enumerate()
        .skip(2)
        .map(|(i, field)| {
            let text = field.clone().unwrap_or_default();
            let bad = || CsvError::HeaderField { field: i + 1, text: text.clone() };
            let (name, ty) = text.rsplit_once(':').ok_or_else(bad)?;
            let (family, column) = name.split_once('.').ok_or_else(bad)?;
            let ty = ColumnType::parse(ty).ok_or_else(bad)?;
            if family.is_empty() || column.is_empty() {
                return Err(bad());
            }
            Ok(CsvColumn { family: family.to_owned(), column: column.to_owned(), ty })
        })
        .collect()
}

/// Parses one data line into a row.
fn parse_row(line: usize, text: &str, table: &str, columns: &[CsvColumn]) -> Result<Row, CsvError> {
    let fields = split_fields(line, text)?;
    let expected = columns.len() + 2;
    if fields.len() != expected {
        return Err(CsvError::FieldCount { line, expected, got: fields.len() });
    }
    let mut fields = fields.into_iter();
    let series = fields.next().flatten().unwrap_or_default();
    let ts_text = fields.next().flatten().unwrap_or_default();
    let ts = parse_time(&ts_text).map_err(|_| CsvError::Value {
        line,
        what: "ts".into(),
        text: ts_text.clone(),
        expected: "timestamp (ns since the epoch or RFC 3339)",
    })?;
    let mut cells = Vec::with_capacity(columns.len());
    for (column, field) in columns.iter().zip(fields) {
        let Some(field) = field else { continue };
        let bad = |expected| CsvError::Value {
            line,
            what: format!("{}.{}", column.family, column.column),
            text: field.clone(),
            expected,
        };
        let value = match column.ty {
            ColumnType::F64 => cell::Value::F64Value(field.trim().parse().map_err(|_| bad("f64"))?),
            ColumnType::I64 => cell::Value::I64Value(field.trim().parse().map_err(|_| bad("i64"))?),
            ColumnType::Bool => cell::Value::BoolValue(match field.trim() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(bad("bool (true, false, 1 or 0)")),
            }),
            ColumnType::String => cell::Value::StringValue(field),
        };
        cells.push(Cell { family: column.family.clone(), column: column.column.clone(), value: Some(value) });
    }
    Ok(Row { table: table.to_owned(), series, ts, cells })
}

/// Splits a line into fields; `None` is an empty unquoted field (null), `Some` anything else.
fn split_fields(line: usize, text: &str) -> Result<Vec<Option<String>>, CsvError> {
    let mut fields = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let field_no = fields.len() + 1;
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut value = String::new();
            loop {
                match chars.next() {
                    None => {
                        return Err(CsvError::Quoting { line, field: field_no });
                    }
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        value.push('"');
                    }
                    Some('"') => break,
                    Some(c) => value.push(c),
                }
            }
            fields.push(Some(value));
            match chars.next() {
                None => return Ok(fields),
                Some(',') => {}
                Some(_) => {
                    return Err(CsvError::Quoting { line, field: field_no });
                }
            }
        } else {
            let mut value = String::new();
            let mut ended = true;
            for c in chars.by_ref() {
                if c == ',' {
                    ended = false;
                    break;
                }
                if c == '"' {
                    return Err(CsvError::Quoting { line, field: field_no });
                }
                value.push(c);
            }
            fields.push((!value.is_empty()).then_some(value));
            if ended {
                return Ok(fields);
            }
        }
    }
}

#[cfg(test)]
mod tests;
