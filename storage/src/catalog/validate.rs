//! Validation of a write batch against the catalog, producing the resolved form the WAL logs.
//!
//! Every check runs before anything is written, so a rejected batch changes nothing. The resolved
//! form ([`LoggedSeries`]) names tables, families and columns by id, which is what the WAL record
//! stores and what recovery replays.

use std::collections::{BTreeMap, HashSet};

use crate::batch::{ColumnValues, ColumnWrite, WriteBatch};
use crate::error::InvalidInput;
use crate::names::{NameKind, printable, validate_name};
use crate::options::Limits;
use crate::schema::{ColumnDef, ColumnId, ColumnType, FamilyId, TableDef, TableId};

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
    // Where the column at each position of the previous series write was found: batches repeat
    // the same layout for every series, so this usually saves the searches by name.
    let mut hints: Vec<Hint> = Vec::new();
    for write in batch.series {
        let Some(base) = tables.get(&write.table) else {
            validate_name(NameKind::Table, &write.table)?;
            return Err(InvalidInput::UnknownTable { table: write.table });
        };
        let (tid, tname) = (base.id, write.table);
        if write.series.is_empty() || write.series.len() > limits.max_series_key_len {
            return Err(InvalidInput::BadSeriesKey {
                table: tname,
                len: write.series.len(),
                max: limits.max_series_key_len,
            });
        }
        if let Some((row, &ts)) = write.ts.iter().enumerate().find(|(_, t)| **t < limits.min_ts || **t > limits.max_ts)
        {
            return Err(InvalidInput::TimestampOutOfRange {
                table: tname,
                series: printable(&write.series),
                row,
                ts,
                min: limits.min_ts,
                max: limits.max_ts,
            });
        }
        if write.columns.is_empty() && !write.ts.is_empty() {
            return Err(InvalidInput::Empty("a series write has rows but no columns"));
        }
        let n = write.ts.len();
        let mut seen = Seen::with_capacity(write.columns.len());
        let mut columns = Vec::with_capacity(write.columns.len());
        for (j, col) in write.columns.into_iter().enumerate() {
            let series = || printable(&write.series);
            let got = col.values.column_type();
            // A table that gained columns earlier in this batch is read in its new form.
            let table = if changed.is_empty() { base } else { changed.get(&tid).unwrap_or(base) };
            let hinted = hints.get(j).filter(|_| changed.is_empty()).and_then(|h| h.check(table, &col));
            let (family_id, existing) = match hinted {
                Some((family, column, ty)) => (family, Some((column, ty))),
                None => {
                    let Some((fi, family)) = table.families.iter().enumerate().find(|(_, f)| f.name == col.family)
                    else {
                        validate_name(NameKind::Family, &col.family)?;
                        return Err(InvalidInput::UnknownFamily {
                            table: tname,
                            family: col.family,
                            known: known_families(table),
                        });
                    };
                    let found = family.columns.iter().enumerate().find(|(_, c)| c.name == col.column);
                    if let Some((ci, _)) = found {
                        hints.resize(hints.len().max(j + 1), Hint::NONE);
                        if let Some(hint) = hints.get_mut(j) {
                            *hint = Hint { table: tid, family: fi, column: ci };
                        }
                    }
                    (family.id, found.map(|(_, c)| (c.id, c.ty)))
                }
            };
            let dynamic = table.dynamic_columns;
            let (def_id, def_ty) = match existing {
                Some(found) => found,
                None if dynamic => {
                    validate_name(NameKind::Column, &col.column)?;
                    let mut t = changed.get(&tid).unwrap_or(base).clone();
                    let def = match t.families.iter_mut().find(|f| f.id == family_id) {
                        Some(fam) => {
                            let def = ColumnDef { id: fam.next_column_id(), name: col.column.clone(), ty: got };
                            fam.columns.push(def.clone());
                            def
                        }
                        None => return Err(InvalidInput::UnknownTable { table: tname }),
                    };
                    changed.insert(t.id, t);
                    (def.id, def.ty)
                }
                None => {
                    validate_name(NameKind::Column, &col.column)?;
                    return Err(InvalidInput::UnknownColumn { table: tname, family: col.family, column: col.column });
                }
            };
            if def_ty != got {
                return Err(InvalidInput::TypeMismatch {
                    table: tname,
                    series: series(),
                    family: col.family,
                    column: col.column,
                    expected: def_ty,
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
            if !seen.insert((family_id, def_id)) {
                return Err(InvalidInput::DuplicateColumn {
                    table: tname,
                    series: series(),
                    family: col.family,
                    column: col.column,
                });
            }
            if let ColumnValues::String(values) = &col.values {
                let valid = |i: usize| col.validity.as_ref().is_none_or(|v| v.get(i).is_none_or(|b| *b));
                let too_long =
                    values.iter().take(n).enumerate().find(|(i, v)| valid(*i) && v.len() > limits.max_string_len);
                if let Some((row, value)) = too_long {
                    return Err(InvalidInput::StringTooLong {
                        table: tname,
                        series: series(),
                        family: col.family,
                        column: col.column,
                        row,
                        len: value.len(),
                        max: limits.max_string_len,
                    });
                }
            }
            out.points += col.validity.as_ref().map_or(n, |v| v.iter().filter(|b| **b).count());
            columns.push(LoggedColumn {
                family: family_id,
                column: def_id,
                values: col.values,
                validity: col.validity,
            });
        }
        if !columns.is_sorted_by_key(|c| (c.family, c.column)) {
            columns.sort_by_key(|c| (c.family, c.column));
        }
        out.series.push(LoggedSeries { table: tid, series: write.series, ts: write.ts, columns });
    }
    out.changed_tables = changed.into_values().collect();
    Ok(out)
}

/// Where a column was found in a table: indexes into `families` and that family's `columns`.
#[derive(Clone, Copy)]
struct Hint {
    table: TableId,
    family: usize,
    column: usize,
}

impl Hint {
    const NONE: Hint = Hint { table: TableId::MAX, family: usize::MAX, column: usize::MAX };

    /// `(family id, column id, type)` when `col` names the hinted column of `table`.
    fn check(&self, table: &TableDef, col: &ColumnWrite) -> Option<(FamilyId, ColumnId, ColumnType)> {
        if self.table != table.id {
            return None;
        }
        let family = table.families.get(self.family)?;
        let column = family.columns.get(self.column)?;
        (family.name == col.family && column.name == col.column).then_some((family.id, column.id, column.ty))
    }
}

/// The `(family, column)` pairs of one series write seen so far. Writes carry a handful of
/// columns, for which a linear scan beats hashing; wide writes switch to a hash set.
enum Seen {
    Few(Vec<(FamilyId, ColumnId)>),
    Many(HashSet<(FamilyId, ColumnId)>),
}

impl Seen {
    /// Columns up to which the linear scan is used.
    const LINEAR: usize = 32;

    fn with_capacity(n: usize) -> Self {
        if n <= Self::LINEAR { Seen::Few(Vec::with_capacity(n)) } else { Seen::Many(HashSet::with_capacity(n)) }
    }

    /// Adds `key`; false when it was already there.
    fn insert(&mut self, key: (FamilyId, ColumnId)) -> bool {
        match self {
            Seen::Few(v) if v.contains(&key) => false,
            Seen::Few(v) => {
                v.push(key);
                true
            }
            Seen::Many(set) => set.insert(key),
        }
    }
}

/// The family names of `def`, comma-separated, for error messages.
pub(crate) fn known_families(def: &TableDef) -> String {
    def.families.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
}
