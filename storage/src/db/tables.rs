//! Schema changes and range deletes: create, alter and drop tables, delete cells.

use std::sync::Arc;

use super::Db;
use crate::catalog::{TableChange, apply_change, build_table, known_families, unknown_table};
use crate::error::{InvalidInput, Result};
use crate::manifest::{Edit, Tombstone};
use crate::schema::{FamilyId, TableDef, TableSpec};
use crate::selector::{SeriesSelector, TimeRange};
use crate::version::FamilyVersion;

/// A family's own compaction settings, set by [`TableChange::SetCompactionWindow`] and
/// [`TableChange::SetClosedAfter`]; `None` follows the database default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FamilyCompaction {
    /// Window width in nanoseconds.
    pub window_ns: Option<i64>,
    /// Time after which a window is closed, in nanoseconds.
    pub closed_after_ns: Option<i64>,
}

impl Db {
    /// Creates a table; returns its definition with ids.
    pub fn create_table(&self, spec: TableSpec) -> Result<TableDef> {
        self.check_writable()?;
        let _w = self.inner.writes.lock();
        let def = {
            let mut cell = self.inner.versions.lock_manifest();
            let state = cell.state();
            let def = build_table(&spec, state.next_table_id, state.next_family_id, &state.tables)?;
            cell.apply(vec![Edit::CreateTable(def.clone())])?;
            def
        };
        self.install_table(&def);
        Ok(def)
    }

    /// Changes a live table (add a family or columns, set TTL, allow dynamic columns).
    pub fn alter_table(&self, table: &str, change: TableChange) -> Result<TableDef> {
        self.check_writable()?;
        let _w = self.inner.writes.lock();
        let def = {
            let mut cell = self.inner.versions.lock_manifest();
            let state = cell.state();
            let current = state.table_by_name(table).ok_or_else(|| unknown_table(table))?;
            let def = apply_change(current, &change, state.next_family_id)?;
            let edits = match &change {
                TableChange::SetCompactionWindow { family, window_ns } => def
                    .families
                    .iter()
                    .filter(|f| family.as_ref().is_none_or(|name| *name == f.name))
                    .map(|f| Edit::SetCompactionWindow { family: f.id, window_ns: *window_ns })
                    .collect(),
                TableChange::SetClosedAfter { family, closed_after_ns } => def
                    .families
                    .iter()
                    .filter(|f| family.as_ref().is_none_or(|name| *name == f.name))
                    .map(|f| Edit::SetClosedAfter { family: f.id, closed_after_ns: *closed_after_ns })
                    .collect(),
                _ => vec![Edit::ReplaceTable(def.clone())],
            };
            cell.apply(edits)?;
            let windows = Arc::new(cell.state().compaction_windows.clone());
            let closed_after = Arc::new(cell.state().closed_after.clone());
            self.install(|sv| {
                sv.windows = windows;
                sv.closed_after = closed_after;
            });
            def
        };
        self.install_table(&def);
        Ok(def)
    }

    /// The compaction settings `family` has of its own (unset fields follow the database's
    /// [`CompactionOptions`](crate::CompactionOptions)).
    pub fn family_compaction(&self, family: FamilyId) -> FamilyCompaction {
        let sv = self.current();
        FamilyCompaction {
            window_ns: sv.windows.get(&family).copied(),
            closed_after_ns: sv.closed_after.get(&family).copied(),
        }
    }

    /// Drops a table and deletes its data.
    pub fn drop_table(&self, table: &str) -> Result<()> {
        self.check_writable()?;
        let _w = self.inner.writes.lock();
        let def = {
            let mut cell = self.inner.versions.lock_manifest();
            let def = cell.state().table_by_name(table).ok_or_else(|| unknown_table(table))?.clone();
            cell.apply(vec![Edit::DropTable(def.id)])?;
            def
        };
        self.install(|sv| {
            let mut tables = (*sv.tables).clone();
            tables.remove(&def.name);
            sv.tables = Arc::new(tables);
            for f in &def.families {
                if let Some(fv) = sv.families.remove(&f.id) {
                    fv.files.iter().for_each(|file| file.mark_obsolete());
                }
            }
            sv.tombstones = Arc::new(sv.tombstones.iter().filter(|t| t.table != def.id).cloned().collect());
        });
        Ok(())
    }

    /// Every table, by name.
    pub fn tables(&self) -> Vec<TableDef> {
        self.current().tables.values().cloned().collect()
    }

    /// The table named `name`.
    pub fn table_def(&self, name: &str) -> Result<TableDef> {
        self.current().table(name).cloned().ok_or_else(|| unknown_table(name))
    }

    /// Deletes every cell of the selected series in `range` (of one family, or of all), written
    /// before this call. Later writes to the same cells are kept.
    pub fn delete(&self, table: &str, family: Option<&str>, selector: SeriesSelector, range: TimeRange) -> Result<()> {
        self.check_writable()?;
        if range.is_empty() {
            return Err(
                InvalidInput::Impossible(format!("empty time range: from {} >= to {}", range.from, range.to)).into()
            );
        }
        let mut w = self.inner.writes.lock();
        let def = self.current().table(table).cloned().ok_or_else(|| unknown_table(table))?;
        let family_id: Option<FamilyId> = match family {
            None => None,
            Some(name) => Some(
                def.family(name)
                    .ok_or_else(|| InvalidInput::UnknownFamily {
                        table: table.into(),
                        family: name.into(),
                        known: known_families(&def),
                    })?
                    .id,
            ),
        };
        let seq = w.last_seq() + 1;
        {
            // Installed under the manifest lock, so that a flush or compaction that reads the
            // tombstone list and the tombstone id mark under that lock sees them agree.
            let mut cell = self.inner.versions.lock_manifest();
            let id = cell.state().next_tombstone_id;
            let tombstone = Tombstone { id, table: def.id, family: family_id, selector, range, seq };
            cell.apply(vec![Edit::AddTombstone(tombstone.clone()), Edit::LastSeq(seq)])?;
            self.install(|sv| {
                let mut t = (*sv.tombstones).clone();
                t.push(tombstone);
                sv.tombstones = Arc::new(t);
            });
        }
        w.assign(seq);
        Ok(())
    }

    /// Persists table definitions (dynamic columns) and installs them. Caller holds the write lock.
    pub(super) fn commit_tables(&self, edits: Vec<Edit>) -> Result<()> {
        let defs: Vec<TableDef> = edits
            .iter()
            .filter_map(|e| match e {
                Edit::ReplaceTable(d) => Some(d.clone()),
                _ => None,
            })
            .collect();
        {
            let mut cell = self.inner.versions.lock_manifest();
            if let Err(e) = cell.apply(edits) {
                self.manifest_failed(&cell, &e);
                return Err(e.into());
            }
        }
        for def in &defs {
            self.install_table(def);
        }
        Ok(())
    }

    fn install_table(&self, def: &TableDef) {
        self.install(|sv| {
            let mut tables = (*sv.tables).clone();
            tables.insert(def.name.clone(), def.clone());
            sv.tables = Arc::new(tables);
            for f in &def.families {
                sv.families.entry(f.id).or_insert_with(|| FamilyVersion::new(def.id, f.id));
            }
        });
    }
}
