//! Line protocol to the engine's columnar [`WriteBatch`].
//!
//! | line protocol | Isobar |
//! |---|---|
//! | measurement | table (must be a valid table name) |
//! | tags, sorted by key | series key `k1=v1,k2=v2` (no tags: the measurement name) |
//! | field key | column of the configured family (e.g. `fields`) |
//! | float / integer, unsigned / boolean / string | `f64` / `i64` / `bool` / `string` |
//! | timestamp (request precision) | `ts` in ns; absent: the time of the request |
//!
//! In the series key a backslash is put before every `,`, `=` and `\` of a tag key or value, so
//! that `a=1,b=2` always means two tags: `host=a\,b` is tag `host` with value `a,b`.
//!
//! Lines are grouped per `(table, series)`: each group becomes one [`SeriesWrite`] whose columns
//! are the union of the fields of its lines, sparse where a line lacks a field. A field written
//! twice in one line keeps the last value. Every check that can name a line is done here, so that
//! the engine only sees a batch it will accept (or refuse for reasons of its own, such as the
//! catalog or back-pressure).

use std::collections::HashMap;

use isobar_storage::{ColumnType, ColumnValues, ColumnWrite, Limits, SeriesWrite, WriteBatch};
use isobar_storage::{NameKind, validate_name};

use super::error::{LineError, LineErrorKind};
use super::parse::{FieldValue, Line, Parser, shorten};
use super::precision::Precision;

/// How lines are mapped.
#[derive(Clone, Debug, PartialEq)]
pub struct MapOptions {
    /// The column family every field goes to.
    pub family: String,
    /// The unit of the timestamps in the body.
    pub precision: Precision,
    /// Timestamp (ns) of lines without one: the time the request arrived.
    pub now_ns: i64,
    /// The engine's limits (timestamp range, series key and string lengths).
    pub limits: Limits,
}

/// A column a request writes, with the line that first wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedColumn {
    /// Column (field key).
    pub name: String,
    /// Its type.
    pub ty: ColumnType,
    /// The first line that wrote it.
    pub line: usize,
}

/// The columns one table receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedTable {
    /// Table (measurement).
    pub name: String,
    /// The first line that wrote it.
    pub line: usize,
    /// Its columns in order of first appearance.
    pub columns: Vec<MappedColumn>,
}

/// A mapped request.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapped {
    /// The batch to write atomically.
    pub batch: WriteBatch,
    /// The tables and columns it writes (for checks against the catalog).
    pub tables: Vec<MappedTable>,
    /// Lines (records) in the body.
    pub lines: usize,
    /// Field values in the body.
    pub points: usize,
}

/// A column being filled.
struct ColumnAcc {
    name: String,
    values: ColumnValues,
    /// `None` while every row has a value.
    validity: Option<Vec<bool>>,
}

/// A series being filled.
struct SeriesAcc {
    table: usize,
    key: String,
    ts: Vec<i64>,
    columns: Vec<ColumnAcc>,
    /// Column name -> index in `columns`: a field is found in O(1) however many columns the series
    /// has (a linear search made one line of 80,000 fields cost seconds).
    column_index: HashMap<String, usize>,
}

/// A table being filled.
struct TableAcc {
    mapped: MappedTable,
    /// Column name -> index in `mapped.columns`.
    columns: HashMap<String, usize>,
    /// Series key -> index in the series list.
    series: HashMap<String, usize>,
}

/// Parses and maps a whole body; the first bad line fails it all.
pub fn map_body(text: &str, options: &MapOptions) -> Result<Mapped, LineError> {
    let mut parser = Parser::new(text);
    let mut line = Line::default();
    let mut tables: Vec<TableAcc> = Vec::new();
    // Measurement -> index in `tables`, so a body of many distinct measurements maps in linear time.
    let mut table_index: HashMap<String, usize> = HashMap::new();
    let mut series: Vec<SeriesAcc> = Vec::new();
    let mut key = String::new();
    let (mut lines, mut points) = (0, 0);
    let mut last_table = usize::MAX;
    while parser.next_line(&mut line)? {
        lines += 1;
        points += line.fields.len();
        let at = line.number;
        let err = |kind| LineError { line: at, kind };
        let ts = timestamp(&line, options).map_err(err)?;
        let table = match tables.get(last_table) {
            Some(t) if t.mapped.name == *line.measurement => last_table,
            _ => match table_index.get(&*line.measurement) {
                Some(&i) => i,
                None => {
                    if validate_name(NameKind::Table, &line.measurement).is_err() {
                        return Err(err(bad_name("measurement", "table", &line.measurement)));
                    }
                    tables.push(TableAcc {
                        mapped: MappedTable { name: line.measurement.to_string(), line: at, columns: Vec::new() },
                        columns: HashMap::new(),
                        series: HashMap::new(),
                    });
                    table_index.insert(line.measurement.to_string(), tables.len() - 1);
                    tables.len() - 1
                }
            },
        };
        last_table = table;
        series_key(&mut line, &mut key).map_err(err)?;
        if key.len() > options.limits.max_series_key_len {
            return Err(err(LineErrorKind::SeriesKeyTooLong {
                len: key.len(),
                max: options.limits.max_series_key_len,
            }));
        }
        let t = &mut tables[table];
        let s = match t.series.get(key.as_str()) {
            Some(&i) => i,
            None => {
                t.series.insert(key.clone(), series.len());
                series.push(SeriesAcc {
                    table,
                    key: key.clone(),
                    ts: Vec::new(),
                    columns: Vec::new(),
                    column_index: HashMap::new(),
                });
                series.len() - 1
            }
        };
        let acc = &mut series[s];
        let row = acc.ts.len();
        acc.ts.push(ts);
        for (i, (name, value)) in line.fields.iter().enumerate() {
            let value = column_value(name, value, &options.limits).map_err(err)?;
            let hinted = acc.columns.get(i).filter(|c| c.name == **name).map(|_| i);
            let ci = match hinted.or_else(|| acc.column_index.get(&**name).copied()) {
                Some(ci) => ci,
                None => {
                    check_table_column(t, name, value.ty(), at)?;
                    let validity = (row > 0).then(|| vec![false; row]);
                    acc.columns.push(ColumnAcc { name: name.to_string(), values: value.empty(row), validity });
                    acc.column_index.insert(name.to_string(), acc.columns.len() - 1);
                    acc.columns.len() - 1
                }
            };
            let column = &mut acc.columns[ci];
            if column.values.column_type() != value.ty() {
                let (got, expected) = (value.ty(), column.values.column_type());
                let first = t.columns.get(&**name).and_then(|&c| t.mapped.columns.get(c)).map_or(at, |c| c.line);
                return Err(err(LineErrorKind::TypeConflict {
                    table: t.mapped.name.clone(),
                    column: name.to_string(),
                    got,
                    expected,
                    origin: format!("on line {first}"),
                }));
            }
            value.push(column, row);
        }
        for column in &mut acc.columns {
            if column.values.len() == row {
                pad(column, row);
            }
        }
    }
    let family = &options.family;
    let mut batch = WriteBatch { series: Vec::with_capacity(series.len()) };
    for s in series {
        let table = tables[s.table].mapped.name.clone();
        let columns = s
            .columns
            .into_iter()
            .map(|c| ColumnWrite {
                family: family.clone(),
                column: c.name,
                values: c.values,
                validity: c.validity,
                nulls: None,
            })
            .collect();
        batch.series.push(SeriesWrite { table, series: s.key, ts: s.ts, columns });
    }
    Ok(Mapped { batch, tables: tables.into_iter().map(|t| t.mapped).collect(), lines, points })
}

/// The line's timestamp in ns, checked against the limits.
fn timestamp(line: &Line<'_>, options: &MapOptions) -> Result<i64, LineErrorKind> {
    let (min, max) = (options.limits.min_ts, options.limits.max_ts);
    let Some(raw) = line.timestamp else {
        return Ok(options.now_ns);
    };
    match options.precision.to_nanos(raw) {
        Some(ts) if (min..=max).contains(&ts) => Ok(ts),
        _ => Err(LineErrorKind::TimestampOutOfRange { ts: raw, precision: options.precision.name(), min, max }),
    }
}

/// Writes the series key of `line` (its tags sorted by key, escaped) into `key`: the one rule
/// every line-protocol path uses (the HTTP endpoint and the agent's line-protocol source).
pub fn series_key(line: &mut Line<'_>, key: &mut String) -> Result<(), LineErrorKind> {
    key.clear();
    if line.tags.is_empty() {
        key.push_str(&line.measurement);
        return Ok(());
    }
    line.tags.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (i, (k, v)) in line.tags.iter().enumerate() {
        if i > 0 {
            if line.tags.get(i - 1).is_some_and(|prev| prev.0 == *k) {
                return Err(LineErrorKind::DuplicateTag { key: shorten(k) });
            }
            key.push(',');
        }
        push_escaped(key, k);
        key.push('=');
        push_escaped(key, v);
    }
    Ok(())
}

/// Appends `text` with a backslash before every `,`, `=` and `\` (shared with OTLP series keys).
pub(crate) fn push_escaped(out: &mut String, text: &str) {
    if !text.bytes().any(|b| matches!(b, b',' | b'=' | b'\\')) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        if matches!(c, ',' | '=' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Registers `name` as a column of table `t` with type `ty`, or checks it against the type an
/// earlier series of this request gave it.
fn check_table_column(t: &mut TableAcc, name: &str, ty: ColumnType, at: usize) -> Result<(), LineError> {
    match t.columns.get(name) {
        Some(&c) => match t.mapped.columns.get(c) {
            Some(col) if col.ty != ty => Err(LineError {
                line: at,
                kind: LineErrorKind::TypeConflict {
                    table: t.mapped.name.clone(),
                    column: name.to_owned(),
                    got: ty,
                    expected: col.ty,
                    origin: format!("on line {}", col.line),
                },
            }),
            _ => Ok(()),
        },
        None => {
            if validate_name(NameKind::Column, name).is_err() {
                return Err(LineError { line: at, kind: bad_name("field", "column", name) });
            }
            t.columns.insert(name.to_owned(), t.mapped.columns.len());
            t.mapped.columns.push(MappedColumn { name: name.to_owned(), ty, line: at });
            Ok(())
        }
    }
}

fn bad_name(what: &'static str, kind: &'static str, name: &str) -> LineErrorKind {
    LineErrorKind::BadName { what, kind, name: shorten(name) }
}

/// A field value converted to the engine's types.
enum Value<'v> {
    F64(f64),
    I64(i64),
    Bool(bool),
    Str(&'v str),
}

fn column_value<'v>(key: &str, value: &'v FieldValue<'_>, limits: &Limits) -> Result<Value<'v>, LineErrorKind> {
    Ok(match value {
        FieldValue::Float(f) => Value::F64(*f),
        FieldValue::Integer(i) => Value::I64(*i),
        FieldValue::Unsigned(u) => {
            Value::I64(i64::try_from(*u).map_err(|_| LineErrorKind::UnsignedTooLarge { key: shorten(key), value: *u })?)
        }
        FieldValue::Boolean(b) => Value::Bool(*b),
        FieldValue::String(s) => {
            if s.len() > limits.max_string_len {
                return Err(LineErrorKind::StringTooLong {
                    key: shorten(key),
                    len: s.len(),
                    max: limits.max_string_len,
                });
            }
            Value::Str(s.as_ref())
        }
    })
}

impl Value<'_> {
    fn ty(&self) -> ColumnType {
        match self {
            Value::F64(_) => ColumnType::F64,
            Value::I64(_) => ColumnType::I64,
            Value::Bool(_) => ColumnType::Bool,
            Value::Str(_) => ColumnType::String,
        }
    }

    /// A column of this type with `rows` absent rows.
    fn empty(&self, rows: usize) -> ColumnValues {
        match self {
            Value::F64(_) => ColumnValues::F64(vec![0.0; rows]),
            Value::I64(_) => ColumnValues::I64(vec![0; rows]),
            Value::Bool(_) => ColumnValues::Bool(vec![false; rows]),
            Value::Str(_) => ColumnValues::String(vec![String::new(); rows]),
        }
    }

    /// Sets row `row` of `column` (appends, or replaces when the line repeats the field). The
    /// caller has checked that the types agree.
    fn push(&self, column: &mut ColumnAcc, row: usize) {
        let repeat = column.values.len() > row;
        match (&mut column.values, self) {
            (ColumnValues::F64(v), Value::F64(x)) => set(v, row, repeat, *x),
            (ColumnValues::I64(v), Value::I64(x)) => set(v, row, repeat, *x),
            (ColumnValues::Bool(v), Value::Bool(x)) => set(v, row, repeat, *x),
            (ColumnValues::String(v), Value::Str(x)) => set(v, row, repeat, (*x).to_owned()),
            _ => return,
        }
        if let Some(validity) = &mut column.validity {
            if repeat {
                if let Some(slot) = validity.get_mut(row) {
                    *slot = true;
                }
            } else {
                validity.push(true);
            }
        }
    }
}

fn set<T>(values: &mut Vec<T>, row: usize, repeat: bool, x: T) {
    match values.get_mut(row) {
        Some(slot) if repeat => *slot = x,
        _ => values.push(x),
    }
}

/// Appends an absent row to `column`.
fn pad(column: &mut ColumnAcc, row: usize) {
    match &mut column.values {
        ColumnValues::F64(v) => v.push(0.0),
        ColumnValues::I64(v) => v.push(0),
        ColumnValues::Bool(v) => v.push(false),
        ColumnValues::String(v) => v.push(String::new()),
    }
    column.validity.get_or_insert_with(|| vec![true; row]).push(false);
}

#[cfg(test)]
mod tests;
