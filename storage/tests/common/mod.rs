//! Helpers shared by the storage integration tests: a small schema, batch builders, and a
//! plain in-memory model of what a scan must return.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampNanosecondType};
use arrow_array::{Array, RecordBatch};
use isobar_storage::{
    ColumnType, ColumnValues, ColumnWrite, Db, ScanRequest, SeriesSelector, SeriesWrite, TableSpec, TimeRange,
};

/// A cell value as the model stores it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    F(u64),
    I(i64),
    B(bool),
    S(String),
}

/// Two tables: `t0` with families `a` (f64 x, i64 y) and `b` (bool z, string w); `t1` with `a`.
pub fn specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new("t0")
            .family("a", &[("x", ColumnType::F64), ("y", ColumnType::I64)])
            .family("b", &[("z", ColumnType::Bool), ("w", ColumnType::String)]),
        TableSpec::new("t1").family("a", &[("x", ColumnType::F64)]),
    ]
}

/// The columns of a family of [`specs`].
pub fn family_columns(table: &str, family: &str) -> Vec<(&'static str, ColumnType)> {
    match (table, family) {
        ("t0", "a") => vec![("x", ColumnType::F64), ("y", ColumnType::I64)],
        ("t0", "b") => vec![("z", ColumnType::Bool), ("w", ColumnType::String)],
        ("t1", "a") => vec![("x", ColumnType::F64)],
        _ => vec![],
    }
}

pub fn families(table: &str) -> Vec<&'static str> {
    if table == "t0" { vec!["a", "b"] } else { vec!["a"] }
}

/// Row key in the model: (table, series, ts).
pub type RowKey = (String, String, i64);

/// What a correct engine holds: per row, the families that have the row (those with a cell
/// written there) and the cells.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// (table, family, series, ts) present.
    pub present: BTreeSet<(String, String, String, i64)>,
    /// (table, series, ts) -> "family.column" -> value.
    pub cells: BTreeMap<RowKey, BTreeMap<String, Cell>>,
}

impl Model {
    pub fn write(&mut self, w: &SeriesWrite) {
        for (i, ts) in w.ts.iter().enumerate() {
            for c in &w.columns {
                // A family has a row only where one of its cells was written: an absent cell
                // adds no row (and keeps the old value). An explicit null is a cell: it adds the
                // row and clears the old value.
                let null = c.nulls.as_ref().is_some_and(|n| n[i]);
                if c.validity.as_ref().is_some_and(|v| !v[i]) && !null {
                    continue;
                }
                self.present.insert((w.table.clone(), c.family.clone(), w.series.clone(), *ts));
                if null {
                    if let Some(cells) = self.cells.get_mut(&(w.table.clone(), w.series.clone(), *ts)) {
                        cells.remove(&format!("{}.{}", c.family, c.column));
                    }
                    continue;
                }
                let v = match &c.values {
                    ColumnValues::F64(v) => Cell::F(v[i].to_bits()),
                    ColumnValues::I64(v) => Cell::I(v[i]),
                    ColumnValues::Bool(v) => Cell::B(v[i]),
                    ColumnValues::String(v) => Cell::S(v[i].clone()),
                };
                self.cells
                    .entry((w.table.clone(), w.series.clone(), *ts))
                    .or_default()
                    .insert(format!("{}.{}", c.family, c.column), v);
            }
        }
    }

    pub fn delete(&mut self, table: &str, family: Option<&str>, sel: &SeriesSelector, range: TimeRange) {
        let hit = |t: &str, f: &str, s: &str, ts: i64| {
            t == table && family.is_none_or(|x| x == f) && sel.matches(s) && range.contains(ts)
        };
        self.present.retain(|(t, f, s, ts)| !hit(t, f, s, *ts));
        for ((t, s, ts), cells) in self.cells.iter_mut() {
            cells.retain(|k, _| {
                let f = k.split('.').next().unwrap_or("");
                !hit(t, f, s, *ts)
            });
        }
    }

    /// Expected rows of a scan of `table` (all columns): (series, ts, "family.column" -> value).
    pub fn scan(
        &self,
        table: &str,
        sel: &SeriesSelector,
        range: TimeRange,
    ) -> Vec<(String, i64, BTreeMap<String, Cell>)> {
        let mut rows: BTreeSet<(String, i64)> = BTreeSet::new();
        for (t, _, s, ts) in &self.present {
            if t == table && sel.matches(s) && range.contains(*ts) {
                rows.insert((s.clone(), *ts));
            }
        }
        rows.into_iter()
            .map(|(s, ts)| {
                let cells = self.cells.get(&(table.to_string(), s.clone(), ts)).cloned().unwrap_or_default();
                (s, ts, cells)
            })
            .collect()
    }
}

/// Turns scan batches into the model's row form.
pub fn rows_of(batches: &[RecordBatch]) -> Vec<(String, i64, BTreeMap<String, Cell>)> {
    let mut out = Vec::new();
    for b in batches {
        let series = b.column(0).as_string::<i32>();
        let ts = b.column(1).as_primitive::<TimestampNanosecondType>();
        for r in 0..b.num_rows() {
            let mut cells = BTreeMap::new();
            for (i, field) in b.schema().fields().iter().enumerate().skip(2) {
                let a = b.column(i);
                if a.is_null(r) {
                    continue;
                }
                let v = match field.data_type() {
                    arrow_schema::DataType::Float64 => Cell::F(a.as_primitive::<Float64Type>().value(r).to_bits()),
                    arrow_schema::DataType::Int64 => Cell::I(a.as_primitive::<Int64Type>().value(r)),
                    arrow_schema::DataType::Boolean => Cell::B(a.as_boolean().value(r)),
                    _ => Cell::S(a.as_string::<i32>().value(r).to_string()),
                };
                cells.insert(field.name().clone(), v);
            }
            out.push((series.value(r).to_string(), ts.value(r), cells));
        }
    }
    out
}

/// Scans `table` fully and returns the model-form rows (checking that a scan reading every
/// series in 3-row windows gives the same).
pub fn scan_all(
    db: &Db,
    table: &str,
    sel: &SeriesSelector,
    range: TimeRange,
) -> Vec<(String, i64, BTreeMap<String, Cell>)> {
    let req = ScanRequest::new(table).selector(sel.clone()).range(range);
    let snapshot = db.snapshot();
    let whole = rows_of(&snapshot.scan(&req).expect("scan").collect::<Result<Vec<_>, _>>().expect("scan"));
    // Reading every series in windows of a few rows must give the same answer.
    let windowed = snapshot.scan(&req).expect("scan").with_span_rows(3);
    assert_eq!(rows_of(&windowed.collect::<Result<Vec<_>, _>>().expect("scan")), whole, "scan in 3-row windows");
    whole
}

/// A dense f64 write of one column.
pub fn f64_write(table: &str, series: &str, ts: Vec<i64>, family: &str, column: &str, values: Vec<f64>) -> SeriesWrite {
    SeriesWrite {
        table: table.into(),
        series: series.into(),
        ts,
        columns: vec![ColumnWrite {
            family: family.into(),
            column: column.into(),
            values: ColumnValues::F64(values),
            validity: None,
            nulls: None,
        }],
    }
}

pub fn create_tables(db: &Db) {
    for spec in specs() {
        db.create_table(spec).expect("create table");
    }
}
