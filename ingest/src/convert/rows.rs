//! The row form: rows grouped into one `SeriesWrite` per `(table, series)`.
//!
//! Each group keeps its rows in request order. A column that some rows of a group lack gets a
//! validity list with `false` there (and a placeholder value: 0, false or ""); a column every
//! row has gets no validity list. A cell with `null` set is an explicit null: no value, and a
//! `true` in the column's nulls list. So a group gives every family a slot at every timestamp of the
//! group; the engine stores a family's row only where one of its cells is present, so a row adds
//! rows only to the families it has cells of, however the rows were grouped.

use std::collections::HashMap;

use isobar_proto::v1::{Row, cell::Value};
use isobar_storage::{ColumnType, ColumnValues, ColumnWrite, SeriesWrite};

use isobar_wire::write::{CellAt, ConvertError};

/// A column being assembled: validity and nulls have one entry per row seen so far, and so do
/// the values once the column has a type (its first value gives it; a column that has only
/// explicit nulls so far has none).
struct ColumnBuilder {
    family: String,
    column: String,
    values: Option<ColumnValues>,
    validity: Vec<bool>,
    /// Rows that set the column to null on purpose (a cell with `null` set).
    nulls: Vec<bool>,
}

/// `rows` placeholder slots of type `ty` (0, false or "").
fn placeholders(ty: ColumnType, rows: usize) -> ColumnValues {
    match ty {
        ColumnType::F64 => ColumnValues::F64(vec![0.0; rows]),
        ColumnType::I64 => ColumnValues::I64(vec![0; rows]),
        ColumnType::Bool => ColumnValues::Bool(vec![false; rows]),
        ColumnType::String => ColumnValues::String(vec![String::new(); rows]),
    }
}

impl ColumnBuilder {
    /// A column that is absent in the first `rows` rows.
    fn new(family: String, column: String, rows: usize) -> Self {
        Self { family, column, values: None, validity: vec![false; rows], nulls: vec![false; rows] }
    }

    /// The column's type, once a value gave it one.
    fn column_type(&self) -> Option<ColumnType> {
        self.values.as_ref().map(ColumnValues::column_type)
    }

    /// Appends `value`; `false` when its type is not the column's (nothing is appended then).
    fn push(&mut self, value: Value) -> bool {
        let rows = self.validity.len();
        let values = self.values.get_or_insert_with(|| placeholders(value_type(&value), rows));
        match (values, value) {
            (ColumnValues::F64(v), Value::F64Value(x)) => v.push(x),
            (ColumnValues::I64(v), Value::I64Value(x)) => v.push(x),
            (ColumnValues::Bool(v), Value::BoolValue(x)) => v.push(x),
            (ColumnValues::String(v), Value::StringValue(x)) => v.push(x),
            _ => return false,
        }
        self.validity.push(true);
        self.nulls.push(false);
        true
    }

    /// Appends a slot without a value: absent, or an explicit null.
    fn push_empty(&mut self, null: bool) {
        match &mut self.values {
            Some(ColumnValues::F64(v)) => v.push(0.0),
            Some(ColumnValues::I64(v)) => v.push(0),
            Some(ColumnValues::Bool(v)) => v.push(false),
            Some(ColumnValues::String(v)) => v.push(String::new()),
            None => {}
        }
        self.validity.push(false);
        self.nulls.push(null);
    }

    /// The column write. A column of explicit nulls only has no values to type it: it is sent as
    /// `f64` placeholders, which the engine accepts for a column of any type because no row
    /// carries a value.
    fn finish(self) -> ColumnWrite {
        let rows = self.validity.len();
        let values = self.values.unwrap_or_else(|| placeholders(ColumnType::F64, rows));
        let validity = if self.validity.iter().all(|v| *v) { None } else { Some(self.validity) };
        let nulls = self.nulls.contains(&true).then_some(self.nulls);
        ColumnWrite { family: self.family, column: self.column, values, validity, nulls }
    }
}

/// The rows of one `(table, series)`.
struct Group {
    table: String,
    series: String,
    ts: Vec<i64>,
    columns: Vec<ColumnBuilder>,
    /// family -> column -> index in `columns`.
    index: HashMap<String, HashMap<String, usize>>,
}

/// The column type a cell value has.
fn value_type(value: &Value) -> ColumnType {
    match value {
        Value::F64Value(_) => ColumnType::F64,
        Value::I64Value(_) => ColumnType::I64,
        Value::BoolValue(_) => ColumnType::Bool,
        Value::StringValue(_) => ColumnType::String,
    }
}

impl Group {
    /// Appends row `row_index` of the request (for errors).
    fn push(&mut self, row_index: usize, row: Row) -> Result<(), ConvertError> {
        let slot = self.ts.len();
        self.ts.push(row.ts);
        for cell in row.cells {
            let at = || CellAt::new(row_index, &self.table, &self.series, &cell.family, &cell.column);
            let value = match (cell.value, cell.null) {
                (Some(_), true) => return Err(ConvertError::NullWithValue { at: at() }),
                (None, false) => return Err(ConvertError::MissingCellValue { at: at() }),
                (value, _) => value,
            };
            let existing = self.index.get(&cell.family).and_then(|c| c.get(&cell.column)).copied();
            let i = match existing {
                Some(i) => i,
                None => {
                    let i = self.columns.len();
                    let builder = ColumnBuilder::new(cell.family.clone(), cell.column.clone(), slot);
                    self.columns.push(builder);
                    self.index.entry(cell.family.clone()).or_default().insert(cell.column.clone(), i);
                    i
                }
            };
            // `i` came from `index`, which only holds positions of `columns`.
            let builder = &mut self.columns[i];
            if builder.validity.len() > slot {
                return Err(ConvertError::DuplicateCell { at: at() });
            }
            let Some(value) = value else {
                builder.push_empty(true);
                continue;
            };
            let (expected, got) = (builder.column_type(), value_type(&value));
            if !builder.push(value) {
                let expected = expected.unwrap_or(got);
                return Err(ConvertError::CellTypeConflict { at: at(), expected, got });
            }
        }
        for builder in &mut self.columns {
            if builder.validity.len() == slot {
                builder.push_empty(false);
            }
        }
        Ok(())
    }

    fn finish(self) -> SeriesWrite {
        SeriesWrite {
            table: self.table,
            series: self.series,
            ts: self.ts,
            columns: self.columns.into_iter().map(ColumnBuilder::finish).collect(),
        }
    }
}

/// Groups `rows` by `(table, series)` in order of first appearance; each group becomes one series
/// write with its rows in request order. Errors name the row's index in `rows`.
pub fn rows_to_series(rows: Vec<Row>) -> Result<Vec<SeriesWrite>, ConvertError> {
    let mut groups: Vec<Group> = Vec::new();
    // table -> series -> index in `groups`.
    let mut index: HashMap<String, HashMap<String, usize>> = HashMap::new();
    for (row_index, mut row) in rows.into_iter().enumerate() {
        let existing = index.get(&row.table).and_then(|s| s.get(&row.series)).copied();
        let i = match existing {
            Some(i) => i,
            None => {
                let i = groups.len();
                index.entry(row.table.clone()).or_default().insert(row.series.clone(), i);
                groups.push(Group {
                    table: std::mem::take(&mut row.table),
                    series: std::mem::take(&mut row.series),
                    ts: Vec::new(),
                    columns: Vec::new(),
                    index: HashMap::new(),
                });
                i
            }
        };
        // `i` came from `index`, which only holds positions of `groups`.
        groups[i].push(row_index, row)?;
    }
    Ok(groups.into_iter().map(Group::finish).collect())
}
