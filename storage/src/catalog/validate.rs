//! Validation of a write batch against the catalog, producing the resolved form the WAL logs.
//!
//! Every check runs before anything is written, so a rejected batch changes nothing. The resolved
//! form ([`LoggedSeries`]) names tables, families and columns by id, which is what the WAL record
//! stores and what recovery replays.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::batch::{ColumnValues, ColumnWrite, WriteBatch};
use crate::error::InvalidInput;
use crate::names::{NameKind, printable, validate_name};
use crate::options::Limits;
use crate::schema::{ColumnDef, ColumnId, ColumnType, FamilyId, TableDef, TableId, null_marker};

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
    // Name lookups of the tables this batch touches, built once per table on the first column
    // the hints miss, so a wide write costs one pass over the definition, not one per column.
    let mut indexes: HashMap<TableId, TableIndex<'_>> = HashMap::new();
    let mut new_columns = 0usize;
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
            let hinted = hints.get(j).and_then(|h| h.check(base, &col));
            let (family_id, existing) = match hinted {
                Some((family, column, ty)) => (family, Some((column, ty))),
                None => {
                    let index = indexes.entry(tid).or_insert_with(|| TableIndex::new(base));
                    let Some(&(fi, family_id)) = index.families.get(col.family.as_str()) else {
                        validate_name(NameKind::Family, &col.family)?;
                        return Err(InvalidInput::UnknownFamily {
                            table: tname,
                            family: col.family,
                            known: known_families(base),
                        });
                    };
                    let found = index.column(family_id, &col.column);
                    if let Some(ColumnAt { index: Some(ci), .. }) = found {
                        hints.resize(hints.len().max(j + 1), Hint::NONE);
                        if let Some(hint) = hints.get_mut(j) {
                            *hint = Hint { table: tid, family: fi, column: ci };
                        }
                    }
                    (family_id, found.map(|c| (c.id, c.ty)))
                }
            };
            let (def_id, def_ty) = match existing {
                Some(found) => found,
                // Setting a column that does not exist yet to null changes nothing, and gives no
                // type to create it with.
                None if base.dynamic_columns
                    && col.nulls.is_some()
                    && col.validity.as_ref().is_some_and(|v| !v.contains(&true)) =>
                {
                    continue;
                }
                None if base.dynamic_columns => {
                    validate_name(NameKind::Column, &col.column)?;
                    new_columns += 1;
                    if new_columns > limits.max_new_columns_per_request {
                        return Err(InvalidInput::TooManyNewColumns {
                            table: tname,
                            new: new_columns,
                            max: limits.max_new_columns_per_request,
                        });
                    }
                    let index = indexes.entry(tid).or_insert_with(|| TableIndex::new(base));
                    if index.total_columns >= limits.max_columns_per_table {
                        return Err(InvalidInput::TooManyColumns {
                            table: tname,
                            columns: index.total_columns + 1,
                            max: limits.max_columns_per_table,
                        });
                    }
                    // One copy of the definition per table and request, however many columns it gains.
                    let t = changed.entry(tid).or_insert_with(|| copy_table(base));
                    let def = match t.families.iter_mut().find(|f| f.id == family_id) {
                        Some(fam) => {
                            let def = ColumnDef { id: fam.next_column_id(), name: col.column.clone(), ty: got };
                            fam.columns.push(def.clone());
                            def
                        }
                        None => return Err(InvalidInput::UnknownTable { table: tname }),
                    };
                    index.add(family_id, def.name.clone(), def.id, def.ty);
                    (def.id, def.ty)
                }
                None => {
                    validate_name(NameKind::Column, &col.column)?;
                    return Err(InvalidInput::UnknownColumn { table: tname, family: col.family, column: col.column });
                }
            };
            // A column of explicit nulls only carries no value, so its placeholders may be of any
            // type (a row-form writer cannot know the type of a column it only sets to null).
            let nulls_only = col.nulls.is_some() && col.validity.as_ref().is_some_and(|v| !v.contains(&true));
            if def_ty != got && !nulls_only {
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
            let marker = match &col.nulls {
                Some(nulls) => {
                    Some(null_marker_column(family_id, def_id, nulls, &col, n).map_err(|problem| match problem {
                        NullsProblem::Length(got) => InvalidInput::LengthMismatch {
                            table: tname.clone(),
                            series: series(),
                            what: format!("nulls of column {}.{}", col.family, col.column),
                            expected: n,
                            got,
                        },
                        NullsProblem::AlsoValue(row) => InvalidInput::ValueAndNull {
                            table: tname.clone(),
                            series: series(),
                            family: col.family.clone(),
                            column: col.column.clone(),
                            row,
                        },
                    })?)
                }
                None => None,
            };
            out.points += col.validity.as_ref().map_or(n, |v| v.iter().filter(|b| **b).count());
            if !nulls_only {
                columns.push(LoggedColumn {
                    family: family_id,
                    column: def_id,
                    values: col.values,
                    validity: col.validity,
                });
            }
            columns.extend(marker.flatten());
        }
        if !columns.is_sorted_by_key(|c| (c.family, c.column)) {
            columns.sort_by_key(|c| (c.family, c.column));
        }
        out.series.push(LoggedSeries { table: tid, series: write.series, ts: write.ts, columns });
    }
    out.changed_tables = changed.into_values().collect();
    Ok(out)
}

/// What is wrong with a column's explicit nulls.
enum NullsProblem {
    /// The list has this many entries, not one per row.
    Length(usize),
    /// This row has a value too.
    AlsoValue(usize),
}

/// The null-marker column ([`null_marker`]) of a column write with explicit `nulls`: a present,
/// true cell at every row set to null; `None` when no row is. A row with a value cannot also be
/// set to null.
fn null_marker_column(
    family: FamilyId,
    column: ColumnId,
    nulls: &[bool],
    col: &ColumnWrite,
    n: usize,
) -> Result<Option<LoggedColumn>, NullsProblem> {
    if nulls.len() != n {
        return Err(NullsProblem::Length(nulls.len()));
    }
    let has_value = |i: usize| col.validity.as_ref().is_none_or(|v| v.get(i).is_some_and(|b| *b));
    if let Some(row) = nulls.iter().enumerate().position(|(i, null)| *null && has_value(i)) {
        return Err(NullsProblem::AlsoValue(row));
    }
    if !nulls.contains(&true) {
        return Ok(None);
    }
    Ok(Some(LoggedColumn {
        family,
        column: null_marker(column),
        values: ColumnValues::Bool(vec![true; n]),
        validity: Some(nulls.to_vec()),
    }))
}

/// Copies a table definition that gains columns. Test builds count the copies, so a test can
/// check that a write adding many columns copies the definition once.
fn copy_table(def: &TableDef) -> TableDef {
    #[cfg(test)]
    TABLE_COPIES.with(|c| c.set(c.get() + 1));
    def.clone()
}

#[cfg(test)]
thread_local! {
    /// Table definitions copied by [`copy_table`] on this thread.
    pub(crate) static TABLE_COPIES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Hash lookups of one table's families and columns by name: those of the catalog's definition,
/// borrowed, plus those this batch adds.
struct TableIndex<'a> {
    /// Family name to `(position in families, id)`.
    families: HashMap<&'a str, (usize, FamilyId)>,
    /// Existing columns by `(family, name)`.
    columns: HashMap<(FamilyId, &'a str), ColumnAt>,
    /// Columns added by this batch by `(family, name)`.
    added: HashMap<(FamilyId, String), ColumnAt>,
    /// Columns of the table in all families, including the added ones.
    total_columns: usize,
}

/// A column found by [`TableIndex`]; `index` is its position in its family, for columns of the
/// catalog's definition.
#[derive(Clone, Copy)]
struct ColumnAt {
    index: Option<usize>,
    id: ColumnId,
    ty: ColumnType,
}

impl<'a> TableIndex<'a> {
    fn new(def: &'a TableDef) -> Self {
        let total_columns = def.families.iter().map(|f| f.columns.len()).sum();
        let mut columns = HashMap::with_capacity(total_columns);
        for family in &def.families {
            for (ci, c) in family.columns.iter().enumerate() {
                columns.insert((family.id, c.name.as_str()), ColumnAt { index: Some(ci), id: c.id, ty: c.ty });
            }
        }
        let families = def.families.iter().enumerate().map(|(fi, f)| (f.name.as_str(), (fi, f.id))).collect();
        Self { families, columns, added: HashMap::new(), total_columns }
    }

    fn column(&self, family: FamilyId, name: &str) -> Option<ColumnAt> {
        if let Some(c) = self.columns.get(&(family, name)) {
            return Some(*c);
        }
        if self.added.is_empty() {
            return None;
        }
        self.added.get(&(family, name.to_owned())).copied()
    }

    fn add(&mut self, family: FamilyId, name: String, id: ColumnId, ty: ColumnType) {
        self.added.insert((family, name), ColumnAt { index: None, id, ty });
        self.total_columns += 1;
    }
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
