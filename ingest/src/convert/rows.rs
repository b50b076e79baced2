//! The row form: rows grouped into one `SeriesWrite` per `(table, series)`.
//!
//! Each group keeps its rows in request order. A column that some rows of a group lack gets a
//! validity list with `false` there (and a placeholder value: 0, false or ""); a column every
//! row has gets no validity list. So a group gives every family a slot at every timestamp of the
//! group; the engine stores a family's row only where one of its cells is present, so a row adds
//! rows only to the families it has cells of, however the rows were grouped.

use std::collections::HashMap;

use isobar_proto::v1::{Row, cell::Value};
use isobar_storage::{ColumnType, ColumnValues, ColumnWrite, SeriesWrite};

use isobar_wire::write::{CellAt, ConvertError};

/// A column being assembled: values and validity have one entry per row seen so far.
struct ColumnBuilder {
    family: String,
    column: String,
    values: ColumnValues,
    validity: Vec<bool>,
}

impl ColumnBuilder {
    /// A column of type `ty` that is absent in the first `rows` rows.
    fn new(family: String, column: String, ty: ColumnType, rows: usize) -> Self {
        let values = match ty {
            ColumnType::F64 => ColumnValues::F64(vec![0.0; rows]),
            ColumnType::I64 => ColumnValues::I64(vec![0; rows]),
            ColumnType::Bool => ColumnValues::Bool(vec![false; rows]),
            ColumnType::String => ColumnValues::String(vec![String::new(); rows]),
        };
        Self { family, column, values, validity: vec![false; rows] }
    }

    /// Appends `value`; `false` when its type is not the column's (nothing is appended then).
    fn push(&mut self, value: Value) -> bool {
        match (&mut self.values, value) {
            (ColumnValues::F64(v), Value::F64Value(x)) => v.push(x),
            (ColumnValues::I64(v), Value::I64Value(x)) => v.push(x),
            (ColumnValues::Bool(v), Value::BoolValue(x)) => v.push(x),
            (ColumnValues::String(v), Value::StringValue(x)) => v.push(x),
            _ => return false,
        }
        self.validity.push(true);
        true
    }

    /// Appends an absent slot.
    fn push_absent(&mut self) {
        match &mut self.values {
            ColumnValues::F64(v) => v.push(0.0),
            ColumnValues::I64(v) => v.push(0),
            ColumnValues::Bool(v) => v.push(false),
            ColumnValues::String(v) => v.push(String::new()),
        }
        self.validity.push(false);
    }

    fn finish(self) -> ColumnWrite {
        let validity = if self.validity.iter().all(|v| *v) { None } else { Some(self.validity) };
        ColumnWrite { family: self.family, column: self.column, values: self.values, validity, nulls: None }
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
            let Some(value) = cell.value else {
                return Err(ConvertError::MissingCellValue { at: at() });
            };
            let got = value_type(&value);
            let existing = self.index.get(&cell.family).and_then(|c| c.get(&cell.column)).copied();
            let i = match existing {
                Some(i) => i,
                None => {
                    let i = self.columns.len();
                    let builder = ColumnBuilder::new(cell.family.clone(), cell.column.clone(), got, slot);
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
            let expected = builder.values.column_type();
            if !builder.push(value) {
                return Err(ConvertError::CellTypeConflict { at: at(), expected, got });
            }
        }
        for builder in &mut self.columns {
            if builder.validity.len() == slot {
                builder.push_absent();
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
