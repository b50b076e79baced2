//! Validation of a write batch against the catalog, producing the resolved form the WAL logs.
//!
//! Every check runs before anything is written, so a rejected batch changes nothing. The resolved
//! form ([`LoggedSeries`]) names tables, families and columns by id, which is what the WAL record
//! stores and what recovery replays.

use std::collections::{BTreeMap, HashSet};

use crate::batch::{ColumnValues, WriteBatch};
use crate::error::InvalidInput;
use crate::names::{NameKind, printable, validate_name};
use crate::options::Limits;
use crate::schema::{ColumnDef, ColumnId, FamilyId, TableDef, TableId};

/// One column of a validated series write.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedColumn {
    /// Family id.
    pub family: FamilyId,
    /// Column id within the family.
    pub column: ColumnId,
    /// Values, one per row.
    pub values: ColumnValues,
    /// Validity per row; `None` = all rows have a value.
    pub validity: Option<Vec<bool>>,
}

/// A validated series write, resolved to ids.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedSeries {
    /// Table id.
    pub table: TableId,
    /// Series key.
    pub series: String,
    /// Timestamps.
    pub ts: Vec<i64>,
    /// Columns, grouped by family (ascending family id, then column id).
    pub columns: Vec<LoggedColumn>,
}

/// The outcome of [`validate_batch`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Validated {
    /// Resolved series writes.
    pub series: Vec<LoggedSeries>,
    /// Tables that gained columns through this write (dynamic columns); the caller persists them
    /// before logging the write.
    pub changed_tables: Vec<TableDef>,
    /// Non-null cells in the batch.
    pub points: usize,
    /// Rows in the batch.
    pub rows: usize,
}

/// Checks `batch` against `tables` and `limits` and resolves names to ids.
pub fn validate_batch(
    tables: &BTreeMap<String, TableDef>,
    batch: WriteBatch,
    limits: &Limits,
) -> Result<Validated, InvalidInput> {
    let rows: usize = batch.series.iter().map(|s| s.ts.len()).sum();
    if rows == 0 {
        return Err(InvalidInput::Empty("the write has no rows"));
    }
    if rows > limits.max_rows_per_batch {
        return Err(InvalidInput::TooManyRows { rows, max: limits.max_rows_per_batch });
    }
    let mut changed: BTreeMap<TableId, TableDef> = BTreeMap::new();
    let mut out = Validated { rows, ..Validated::default() };
    for write in batch.series {
        let Some(tname) = tables.get(&write.table).map(|t| t.name.clone()) else {
            validate_name(NameKind::Table, &write.table)?;
            return Err(InvalidInput::UnknownTable { table: write.table });
        };
        if write.series.is_empty() || write.series.len() > limits.max_series_key_len {
            return Err(InvalidInput::BadSeriesKey {
                table: tname,
                len: write.series.len(),
                max: limits.max_series_key_len,
            });
        }
        if let Some(row) = write.ts.iter().position(|t| *t < limits.min_ts || *t > limits.max_ts) {
            return Err(InvalidInput::TimestampOutOfRange {
                table: tname,
                series: printable(&write.series),
                row,
                ts: write.ts[row],
                min: limits.min_ts,
                max: limits.max_ts,
            });
        }
        if write.columns.is_empty() && !write.ts.is_empty() {
            return Err(InvalidInput::Empty("a series write has rows but no columns"));
        }
        let n = write.ts.len();
        let mut seen: HashSet<(FamilyId, ColumnId)> = HashSet::new();
        let mut columns = Vec::with_capacity(write.columns.len());
        for col in write.columns {
            let series = || printable(&write.series);
            let tid = table_id(tables, &tname);
            let got = col.values.column_type();
            let (family_id, existing, dynamic) = {
                let Some(table) = changed.get(&tid).or_else(|| tables.get(&tname)) else {
                    return Err(InvalidInput::UnknownTable { table: tname });
                };
                let Some(family) = table.family(&col.family) else {
                    validate_name(NameKind::Family, &col.family)?;
                    return Err(InvalidInput::UnknownFamily {
                        table: tname,
                        family: col.family,
                        known: super::known_families(table),
                    });
                };
                (family.id, family.column(&col.column).cloned(), table.dynamic_columns)
            };
            let def: ColumnDef = match existing {
                Some(def) => def,
                None if dynamic => {
                    validate_name(NameKind::Column, &col.column)?;
                    let Some(mut t) = changed.get(&tid).or_else(|| tables.get(&tname)).cloned() else {
                        return Err(InvalidInput::UnknownTable { table: tname });
                    };
                    let def = match t.families.iter_mut().find(|f| f.id == family_id) {
                        Some(fam) => {
                            let def = ColumnDef { id: fam.next_column_id(), name: col.column.clone(), ty: got };
                            fam.columns.push(def.clone());
                            def
                        }
                        None => return Err(InvalidInput::UnknownTable { table: tname }),
                    };
                    changed.insert(t.id, t);
                    def
                }
                None => {
                    validate_name(NameKind::Column, &col.column)?;
                    return Err(InvalidInput::UnknownColumn { table: tname, family: col.family, column: col.column });
                }
            };
            if def.ty != got {
                return Err(InvalidInput::TypeMismatch {
                    table: tname,
                    series: series(),
                    family: col.family,
                    column: col.column,
                    expected: def.ty,
                    got,
                });
            }
            if col.values.len() != n {
                return Err(InvalidInput::LengthMismatch {
                    table: tname,
                    series: series(),
                    what: format!("column {}.{}", col.family, col.column),
                    expected: n,
                    got: col.values.len(),
                });
            }
            if let Some(v) = &col.validity
                && v.len() != n
            {
                return Err(InvalidInput::LengthMismatch {
                    table: tname,
                    series: series(),
                    what: format!("validity of column {}.{}", col.family, col.column),
                    expected: n,
                    got: v.len(),
                });
            }
            if !seen.insert((family_id, def.id)) {
                return Err(InvalidInput::DuplicateColumn {
                    table: tname,
                    series: series(),
                    family: col.family,
                    column: col.column,
                });
            }
            if let ColumnValues::String(values) = &col.values {
                let valid = |i: usize| col.validity.as_ref().is_none_or(|v| v[i]);
                if let Some(row) = (0..n).find(|&i| valid(i) && values[i].len() > limits.max_string_len) {
                    return Err(InvalidInput::StringTooLong {
                        table: tname,
                        series: series(),
                        family: col.family,
                        column: col.column,
                        row,
                        len: values[row].len(),
                        max: limits.max_string_len,
                    });
                }
            }
            out.points += col.validity.as_ref().map_or(n, |v| v.iter().filter(|b| **b).count());
            columns.push(LoggedColumn {
                family: family_id,
                column: def.id,
                values: col.values,
                validity: col.validity,
            });
        }
        columns.sort_by_key(|c| (c.family, c.column));
        out.series.push(LoggedSeries { table: table_id(tables, &tname), series: write.series, ts: write.ts, columns });
    }
    out.changed_tables = changed.into_values().collect();
    Ok(out)
}

fn table_id(tables: &BTreeMap<String, TableDef>, name: &str) -> TableId {
    tables.get(name).map_or(TableId::MAX, |t| t.id)
}
