//! `COPY (query) TO STDOUT` and `COPY table TO STDOUT`, in PostgreSQL's text and CSV formats:
//! what psql's `\copy ... to` sends. Rows are encoded as text by the same encoder as query
//! results, then laid out as COPY lines. `COPY ... FROM` is refused: Isobar SQL is read-only.

use bytes::Bytes;
use datafusion::sql::sqlparser::ast::Statement as Ast;
use datafusion::sql::sqlparser::ast::{CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget};
use pgwire::error::PgWireResult;
use pgwire::messages::copy::CopyData;
use pgwire::messages::data::DataRow;

use crate::errors::{FEATURE_NOT_SUPPORTED, user_error};

/// How a `COPY ... TO STDOUT` lays its rows out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CopyFormat {
    /// CSV (else PostgreSQL's text format: tab-separated, `\N` for NULL, backslash escapes).
    pub(crate) csv: bool,
    /// A first line of column names (CSV only).
    pub(crate) header: bool,
    /// The field separator (`,` for CSV, a tab for text unless given).
    pub(crate) delimiter: char,
    /// How NULL is written (empty for CSV, `\N` for text unless given).
    pub(crate) null: String,
}

/// A `COPY` statement as the query whose rows it sends and their layout; `None` when `ast` is
/// no `COPY`, an error for a `COPY` that is not `TO STDOUT`.
pub(crate) fn copy_out(ast: &Ast) -> Option<PgWireResult<(String, CopyFormat)>> {
    let Ast::Copy { source, to, target, options, legacy_options, .. } = ast else { return None };
    if !*to {
        return Some(Err(user_error(
            "25006",
            "COPY FROM is not supported: Isobar SQL is read-only; write through the Write API, line protocol \
             (isobar write --file for CSV) or Flight SQL bulk ingest",
        )));
    }
    if !matches!(target, CopyTarget::Stdout) {
        return Some(Err(user_error(
            FEATURE_NOT_SUPPORTED,
            "COPY TO a file or program is not supported: use COPY ... TO STDOUT (psql's \\copy), or `isobar export`",
        )));
    }
    let query = match source {
        CopySource::Query(query) => query.to_string(),
        CopySource::Table { table_name, columns } if columns.is_empty() => format!("SELECT * FROM {table_name}"),
        CopySource::Table { table_name, columns } => {
            let columns: Vec<String> = columns.iter().map(ToString::to_string).collect();
            format!("SELECT {} FROM {table_name}", columns.join(", "))
        }
    };
    let mut format = CopyFormat { csv: false, header: false, delimiter: '\t', null: "\\N".to_owned() };
    let mut delimiter = None;
    let mut null = None;
    for option in options {
        match option {
            CopyOption::Format(name) => format.csv = name.value.eq_ignore_ascii_case("csv"),
            CopyOption::Header(h) => format.header = *h,
            CopyOption::Delimiter(d) => delimiter = Some(*d),
            CopyOption::Null(n) => null = Some(n.clone()),
            _ => {}
        }
    }
    for option in legacy_options {
        match option {
            CopyLegacyOption::Csv(csv) => {
                format.csv = true;
                format.header |= csv.iter().any(|o| matches!(o, CopyLegacyCsvOption::Header));
            }
            CopyLegacyOption::Delimiter(d) => delimiter = Some(*d),
            CopyLegacyOption::Null(n) => null = Some(n.clone()),
            CopyLegacyOption::Binary => {
                return Some(Err(user_error(FEATURE_NOT_SUPPORTED, "COPY in binary format is not supported; use csv")));
            }
            _ => {}
        }
    }
    if format.csv {
        format.delimiter = ',';
        format.null = String::new();
    }
    format.delimiter = delimiter.unwrap_or(format.delimiter);
    format.null = null.unwrap_or(format.null);
    Some(Ok((query, format)))
}

/// The fields of a text-format `DataRow`: `None` for NULL.
fn fields(row: &DataRow) -> Vec<Option<&[u8]>> {
    let mut out = Vec::with_capacity(usize::try_from(row.field_count).unwrap_or(0));
    let mut rest: &[u8] = &row.data;
    while rest.len() >= 4 {
        let (len, tail) = rest.split_at(4);
        let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        match usize::try_from(len) {
            Err(_) => {
                out.push(None);
                rest = tail;
            }
            Ok(n) if n <= tail.len() => {
                let (value, tail) = tail.split_at(n);
                out.push(Some(value));
                rest = tail;
            }
            Ok(_) => break,
        }
    }
    out
}

/// One COPY line of `values` (already text) in `format`.
pub(crate) fn line<'a>(values: impl IntoIterator<Item = Option<&'a [u8]>>, format: &CopyFormat) -> Vec<u8> {
    let mut out = Vec::new();
    let mut delimiter = [0u8; 4];
    let delimiter = format.delimiter.encode_utf8(&mut delimiter).as_bytes();
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(delimiter);
        }
        match value {
            None => out.extend_from_slice(format.null.as_bytes()),
            Some(v) if format.csv => csv_field(v, delimiter, &format.null, &mut out),
            Some(v) => text_field(v, delimiter, &mut out),
        }
    }
    out.push(b'\n');
    out
}

fn csv_field(value: &[u8], delimiter: &[u8], null: &str, out: &mut Vec<u8>) {
    let needs_quotes = value.is_empty() && null.is_empty()
        || value == null.as_bytes()
        || value.iter().any(|b| matches!(b, b'"' | b'\n' | b'\r'))
        || value.windows(delimiter.len()).any(|w| w == delimiter);
    if !needs_quotes {
        out.extend_from_slice(value);
        return;
    }
    out.push(b'"');
    for &b in value {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

fn text_field(value: &[u8], delimiter: &[u8], out: &mut Vec<u8>) {
    for &b in value {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ if delimiter == [b] => {
                out.push(b'\\');
                out.push(b);
            }
            _ => out.push(b),
        }
    }
}

/// A `DataRow` (text format) as a COPY line.
pub(crate) fn row_line(row: &DataRow, format: &CopyFormat) -> CopyData {
    CopyData::new(Bytes::from(line(fields(row), format)))
}

/// The header line of `names`.
pub(crate) fn header_line(names: &[String], format: &CopyFormat) -> CopyData {
    CopyData::new(Bytes::from(line(names.iter().map(|n| Some(n.as_bytes())), format)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv() -> CopyFormat {
        CopyFormat { csv: true, header: false, delimiter: ',', null: String::new() }
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let row = [Some(&b"KSEA"[..]), Some(b"a,b"), None, Some(b"say \"hi\""), Some(b"")];
        assert_eq!(line(row, &csv()), b"KSEA,\"a,b\",,\"say \"\"hi\"\"\",\"\"\n");
    }

    #[test]
    fn text_escapes_and_marks_null() {
        let text = CopyFormat { csv: false, header: false, delimiter: '\t', null: "\\N".into() };
        let row = [Some(&b"a\tb"[..]), None, Some(b"back\\slash\nline")];
        assert_eq!(line(row, &text), b"a\\tb\t\\N\tback\\\\slash\\nline\n");
    }

    #[test]
    fn copy_statements_become_queries() {
        let parse = |sql: &str| {
            let parser = datafusion_pg_catalog::sql::PostgresCompatibilityParser::new();
            copy_out(&parser.parse(sql).unwrap().remove(0)).unwrap()
        };
        let (query, format) =
            parse("COPY (SELECT series FROM weather.env) TO STDOUT WITH (FORMAT csv, HEADER true)").unwrap();
        assert_eq!(query, "SELECT series FROM weather.env");
        assert!(format.csv && format.header && format.delimiter == ',');
        let (query, format) = parse("COPY weather.env (series, temp) TO STDOUT").unwrap();
        assert_eq!(query, "SELECT series, temp FROM weather.env");
        assert!(!format.csv && format.null == "\\N");
        assert!(parse("COPY weather FROM STDIN").is_err());
    }
}
