//! The catalog: table definitions, and validation of everything that changes or writes them.
//!
//! The catalog itself is persisted by the manifest (`CreateTable`, `ReplaceTable`, `DropTable`
//! edits), so a schema change and the data that depends on it commit in one crash-safe log. This
//! module holds the pure parts: turning a [`TableSpec`] into a [`TableDef`] with fresh ids,
//! applying [`TableChange`]s, and resolving a [`WriteBatch`](crate::WriteBatch) against the
//! definitions ([`validate`]).

mod expiry;
mod validate;

use std::collections::BTreeMap;

pub(crate) use expiry::expired_rows;
pub(crate) use validate::known_families;
pub use validate::{LoggedColumn, LoggedSeries, Validated, validate_batch};

use crate::error::{Error, InvalidInput};
use crate::names::{NameKind, validate_name};
use crate::schema::{ColumnDef, ColumnSpec, FamilyDef, FamilyId, FamilySpec, TableDef, TableId, TableSpec};

/// A change to a live table.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableChange {
    /// Adds a column family with its columns.
    AddFamily(FamilySpec),
    /// Adds columns to an existing family.
    AddColumns {
        /// Family name.
        family: String,
        /// New columns.
        columns: Vec<ColumnSpec>,
    },
    /// Sets (or clears with `None`) the retention of the table, or of one family.
    SetTtl {
        /// `None` for the whole table.
        family: Option<String>,
        /// Retention in nanoseconds; `None` keeps data forever.
        ttl_ns: Option<i64>,
    },
    /// Allows or forbids new columns on write.
    SetDynamicColumns(bool),
    /// Sets (or resets to the database default with `None`) the compaction time-window width of
    /// one family, or of every family of the table. Files already written keep their windows;
    /// new flushes and merges use the new width.
    SetCompactionWindow {
        /// `None` for every family of the table.
        family: Option<String>,
        /// Window width in nanoseconds.
        window_ns: Option<i64>,
    },
    /// Sets (or resets to the database default with `None`) how long after its newest row (by
    /// wall clock) a window of one family, or of every family of the table, is closed, so that
    /// compaction merges it into as few files as possible. A table whose data arrives hours
    /// late wants a longer value than one fed in real time.
    SetClosedAfter {
        /// `None` for every family of the table.
        family: Option<String>,
        /// Time in nanoseconds; zero closes a window as soon as newer data exists.
        closed_after_ns: Option<i64>,
    },
}

/// Builds the definition of a new table; `next_family` is the first free family id.
pub fn build_table(
    spec: &TableSpec,
    id: TableId,
    next_family: FamilyId,
    existing: &BTreeMap<TableId, TableDef>,
) -> Result<TableDef, InvalidInput> {
    validate_name(NameKind::Table, &spec.name)?;
    if existing.values().any(|t| t.name == spec.name) {
        return Err(InvalidInput::TableExists { table: spec.name.clone() });
    }
    if spec.families.is_empty() {
        return Err(InvalidInput::Empty("a table needs at least one column family"));
    }
    check_ttl(spec.ttl_ns)?;
    let mut def = TableDef {
        id,
        name: spec.name.clone(),
        families: Vec::new(),
        dynamic_columns: spec.dynamic_columns,
        ttl_ns: spec.ttl_ns,
    };
    for (i, family) in spec.families.iter().enumerate() {
        add_family(&mut def, family, next_family + i as FamilyId)?;
    }
    Ok(def)
}

/// Applies `change` to a copy of `def`; `next_family` is the first free family id.
pub fn apply_change(def: &TableDef, change: &TableChange, next_family: FamilyId) -> Result<TableDef, InvalidInput> {
    let mut def = def.clone();
    match change {
        TableChange::AddFamily(spec) => add_family(&mut def, spec, next_family)?,
        TableChange::AddColumns { family, columns } => {
            let table = def.name.clone();
            let fam = family_mut(&mut def, family)?;
            for column in columns {
                add_column(&table, fam, column)?;
            }
        }
        TableChange::SetTtl { family: None, ttl_ns } => {
            check_ttl(*ttl_ns)?;
            def.ttl_ns = *ttl_ns;
        }
        TableChange::SetTtl { family: Some(family), ttl_ns } => {
            check_ttl(*ttl_ns)?;
            family_mut(&mut def, family)?.ttl_ns = *ttl_ns;
        }
        TableChange::SetDynamicColumns(on) => def.dynamic_columns = *on,
        TableChange::SetCompactionWindow { family, window_ns } => {
            if let Some(w) = window_ns.filter(|w| *w <= 0) {
                return Err(InvalidInput::Impossible(format!("a compaction window must be positive, got {w} ns")));
            }
            if let Some(name) = family {
                family_mut(&mut def, name)?;
            }
        }
        TableChange::SetClosedAfter { family, closed_after_ns } => {
            if let Some(t) = closed_after_ns.filter(|t| *t < 0) {
                return Err(InvalidInput::Impossible(format!("closed_after must not be negative, got {t} ns")));
            }
            if let Some(name) = family {
                family_mut(&mut def, name)?;
            }
        }
    }
    Ok(def)
}

fn family_mut<'a>(def: &'a mut TableDef, family: &str) -> Result<&'a mut FamilyDef, InvalidInput> {
    let known = known_families(def);
    let table = def.name.clone();
    def.families.iter_mut().find(|f| f.name == family).ok_or(InvalidInput::UnknownFamily {
        table,
        family: family.to_string(),
        known,
    })
}

/// The error for a table that does not exist: a bad name is reported as such, a good name as
/// unknown.
pub(crate) fn unknown_table(name: &str) -> Error {
    match validate_name(NameKind::Table, name) {
        Err(e) => e.into(),
        Ok(()) => InvalidInput::UnknownTable { table: name.to_string() }.into(),
    }
}

fn add_family(def: &mut TableDef, spec: &FamilySpec, id: FamilyId) -> Result<(), InvalidInput> {
    validate_name(NameKind::Family, &spec.name)?;
    if def.family(&spec.name).is_some() {
        return Err(InvalidInput::FamilyExists { table: def.name.clone(), family: spec.name.clone() });
    }
    check_ttl(spec.ttl_ns)?;
    let mut family = FamilyDef { id, name: spec.name.clone(), columns: Vec::new(), ttl_ns: spec.ttl_ns };
    for column in &spec.columns {
        add_column(&def.name, &mut family, column)?;
    }
    def.families.push(family);
    Ok(())
}

fn add_column(table: &str, family: &mut FamilyDef, spec: &ColumnSpec) -> Result<(), InvalidInput> {
    validate_name(NameKind::Column, &spec.name)?;
    if family.column(&spec.name).is_some() {
        return Err(InvalidInput::ColumnExists {
            table: table.to_string(),
            family: family.name.clone(),
            column: spec.name.clone(),
        });
    }
    let id = family.next_column_id();
    family.columns.push(ColumnDef { id, name: spec.name.clone(), ty: spec.ty });
    Ok(())
}

fn check_ttl(ttl: Option<i64>) -> Result<(), InvalidInput> {
    match ttl {
        Some(t) if t <= 0 => Err(InvalidInput::Impossible(format!("a TTL must be positive, got {t} ns"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
