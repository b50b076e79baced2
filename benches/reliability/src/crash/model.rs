//! What the crash loop believes the store holds: a map from cell to value, the operations that
//! change it, and the tables they touch.
//!
//! A cell is `(table, series, ts, column)`; the column fixes the family. Every value is derived
//! from the id of the operation that wrote it and the row and column it went to, so two writes
//! never write the same value and an old value surviving an overwrite is visible. Float values
//! are integers plus quarters below 2^40, so sums are exact in any order and aggregates can be
//! compared with `==`.

use std::collections::BTreeMap;

use isobar_proto::v1 as pb;
use pb::series_selector::Selector;

pub use crate::wire::Value;

/// Type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// f64.
    F64,
    /// i64.
    I64,
    /// string.
    Str,
}

/// One column of a table.
#[derive(Clone, Copy, Debug)]
pub struct ColumnDef {
    /// Its family.
    pub family: &'static str,
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
}

impl ColumnDef {
    /// `family.column`, as answers name it.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.family, self.name)
    }
}

/// A table of the crash loop.
#[derive(Clone, Copy, Debug)]
pub struct TableDef {
    /// Its name.
    pub name: &'static str,
    /// Its columns, grouped by family.
    pub columns: &'static [ColumnDef],
}

const fn col(family: &'static str, name: &'static str, ty: Ty) -> ColumnDef {
    ColumnDef { family, name, ty }
}

/// Two tables, four families: a write touching both tables must still be all-or-nothing.
pub const TABLES: [TableDef; 2] = [
    TableDef {
        name: "wx",
        columns: &[col("env", "temp", Ty::F64), col("env", "code", Ty::I64), col("meta", "note", Ty::Str)],
    },
    TableDef {
        name: "fleet",
        columns: &[col("pos", "lat", Ty::F64), col("pos", "lon", Ty::F64), col("state", "speed", Ty::I64)],
    },
];

impl TableDef {
    /// The families, in order of first appearance.
    pub fn families(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for c in self.columns {
            if !out.contains(&c.family) {
                out.push(c.family);
            }
        }
        out
    }

    /// The `CreateTable` spec.
    pub fn spec(&self) -> pb::TableSpec {
        let families = self
            .families()
            .into_iter()
            .map(|family| pb::FamilySpec {
                name: family.into(),
                columns: self
                    .columns
                    .iter()
                    .filter(|c| c.family == family)
                    .map(|c| pb::ColumnSpec {
                        name: c.name.into(),
                        r#type: match c.ty {
                            Ty::F64 => pb::ColumnType::F64,
                            Ty::I64 => pb::ColumnType::I64,
                            Ty::Str => pb::ColumnType::String,
                        }
                        .into(),
                    })
                    .collect(),
                ttl_ns: None,
            })
            .collect();
        pb::TableSpec { name: self.name.into(), families, dynamic_columns: false, ttl_ns: None }
    }
}

/// A cell: table index, series, ts, column index within the table.
pub type Key = (usize, String, i64, usize);

/// The cells of a store (or of the part of it one writer owns).
pub type Cells = BTreeMap<Key, Value>;

/// Rows of one series of one table written by one operation, to some of its columns.
#[derive(Clone, Debug)]
pub struct BatchOp {
    /// Table index into [`TABLES`].
    pub table: usize,
    /// Series key.
    pub series: String,
    /// Distinct timestamps, one per row.
    pub ts: Vec<i64>,
    /// Column indexes written (every row gets a value in each).
    pub columns: Vec<usize>,
}

/// An operation a writer sends.
#[derive(Clone, Debug)]
pub enum Op {
    /// One write request (all batches applied together).
    Write {
        /// Unique id, the source of every value written.
        id: u64,
        /// The batches, each of a distinct (table, series).
        batches: Vec<BatchOp>,
    },
    /// A range delete of one series.
    Delete {
        /// Table index.
        table: usize,
        /// Series key.
        series: String,
        /// Inclusive start.
        from: i64,
        /// Exclusive end.
        to: i64,
        /// Only this family, or every family.
        family: Option<&'static str>,
    },
}

/// The value operation `id` writes to row `row` of column `column`.
pub fn value(id: u64, row: usize, column: usize, ty: Ty) -> Value {
    let base = id * 1000 + row as u64;
    match ty {
        Ty::F64 => Value::F64(base as f64 + column as f64 * 0.25),
        Ty::I64 => Value::I64((base * 4 + column as u64) as i64),
        Ty::Str => Value::Str(format!("o{id}r{row}c{column}")),
    }
}

impl Op {
    /// Applies the operation to `cells`.
    pub fn apply(&self, cells: &mut Cells) {
        match self {
            Op::Write { id, batches } => {
                for b in batches {
                    let def = &TABLES[b.table];
                    for (row, ts) in b.ts.iter().enumerate() {
                        for &c in &b.columns {
                            cells.insert((b.table, b.series.clone(), *ts, c), value(*id, row, c, def.columns[c].ty));
                        }
                    }
                }
            }
            Op::Delete { table, series, from, to, family } => {
                let def = &TABLES[*table];
                let lo = (*table, series.clone(), *from, 0);
                let hi = (*table, series.clone(), *to, 0);
                let doomed: Vec<Key> = cells
                    .range(lo..hi)
                    .map(|(k, _)| k.clone())
                    .filter(|k| family.is_none_or(|f| def.columns[k.3].family == f))
                    .collect();
                for k in doomed {
                    cells.remove(&k);
                }
            }
        }
    }

    /// The write request of a write operation (`None` for a delete).
    pub fn write_request(&self) -> Option<pb::WriteRequest> {
        let Op::Write { id, batches } = self else { return None };
        let batches = batches
            .iter()
            .map(|b| {
                let def = &TABLES[b.table];
                let columns = b
                    .columns
                    .iter()
                    .map(|&c| {
                        let cd = def.columns[c];
                        let vals = (0..b.ts.len()).map(|row| value(*id, row, c, cd.ty));
                        let values = match cd.ty {
                            Ty::F64 => pb::column::Values::F64Values(pb::DoubleValues {
                                values: vals
                                    .filter_map(|v| if let Value::F64(x) = v { Some(x) } else { None })
                                    .collect(),
                            }),
                            Ty::I64 => pb::column::Values::I64Values(pb::Int64Values {
                                values: vals
                                    .filter_map(|v| if let Value::I64(x) = v { Some(x) } else { None })
                                    .collect(),
                            }),
                            Ty::Str => pb::column::Values::StringValues(pb::StringValues {
                                values: vals
                                    .filter_map(|v| if let Value::Str(x) = v { Some(x) } else { None })
                                    .collect(),
                            }),
                        };
                        pb::Column {
                            family: cd.family.into(),
                            name: cd.name.into(),
                            values: Some(values),
                            validity: Vec::new(),
                            nulls: Vec::new(),
                        }
                    })
                    .collect();
                pb::SeriesBatch { table: def.name.into(), series: b.series.clone(), ts: b.ts.clone(), columns }
            })
            .collect();
        Some(pb::WriteRequest { batches, ..Default::default() })
    }

    /// The delete request of a delete operation (`None` for a write).
    pub fn delete_request(&self) -> Option<pb::DeleteRequest> {
        let Op::Delete { table, series, from, to, family } = self else { return None };
        Some(pb::DeleteRequest {
            table: TABLES[*table].name.into(),
            selector: Some(pb::SeriesSelector { selector: Some(Selector::Exact(series.clone())) }),
            range: Some(pb::TimeRange { from_ns: Some(*from), to_ns: Some(*to) }),
            family: family.map(str::to_owned),
        })
    }
}
