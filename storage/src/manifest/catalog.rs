//! Catalog edits of [`ManifestState`]: creating, redefining and dropping tables, with the
//! checks a table definition must pass (valid names, unique ids and names, family ids not used by
//! another table, no column changing type).

use std::collections::{BTreeMap, BTreeSet};

use crate::names::{NameKind, validate_name};
use crate::schema::{FamilyDef, FamilyId, TableDef, TableId};

use super::error::{EditError, IdKind};
use super::state::{ManifestState, bump};

impl ManifestState {
    pub(super) fn create_table(&mut self, def: &TableDef) -> Result<(), EditError> {
        if self.tables.contains_key(&def.id) {
            return Err(EditError::TableIdInUse { table: def.id });
        }
        self.check_table(def, None)?;
        let next_table = bump(self.next_table_id, def.id, IdKind::Table)?;
        let next_family = self.bumped_family_counter(def)?;
        for family in &def.families {
            self.files.insert(family.id, BTreeMap::new());
        }
        self.tables.insert(def.id, def.clone());
        self.next_table_id = next_table;
        self.next_family_id = next_family;
        Ok(())
    }

    pub(super) fn replace_table(&mut self, def: &TableDef) -> Result<(), EditError> {
        let old = self.tables.get(&def.id).ok_or(EditError::UnknownTable { table: def.id })?;
        self.check_table(def, Some(old))?;
        let next_family = self.bumped_family_counter(def)?;
        let dropped: Vec<FamilyId> =
            old.families.iter().map(|f| f.id).filter(|id| def.family_by_id(*id).is_none()).collect();
        for family in &dropped {
            self.files.remove(family);
            self.flushed_seq.remove(family);
            self.compaction_windows.remove(family);
            self.closed_after.remove(family);
        }
        self.tombstones.retain(|_, t| t.family.is_none_or(|f| !dropped.contains(&f)));
        for family in &def.families {
            self.files.entry(family.id).or_default();
        }
        self.tables.insert(def.id, def.clone());
        self.next_family_id = next_family;
        Ok(())
    }

    pub(super) fn drop_table(&mut self, table: TableId) -> Result<(), EditError> {
        let def = self.tables.remove(&table).ok_or(EditError::UnknownTable { table })?;
        for family in &def.families {
            self.files.remove(&family.id);
            self.flushed_seq.remove(&family.id);
            self.compaction_windows.remove(&family.id);
            self.closed_after.remove(&family.id);
        }
        self.tombstones.retain(|_, t| t.table != table);
        Ok(())
    }

    /// Checks names, uniqueness within the table, family ids against other tables and, for a
    /// redefinition, that no existing column changes type.
    fn check_table(&self, def: &TableDef, old: Option<&TableDef>) -> Result<(), EditError> {
        let bad_name = |reason| EditError::BadName { table: def.id, reason: Box::new(reason) };
        validate_name(NameKind::Table, &def.name).map_err(bad_name)?;
        if def.families.is_empty() {
            return Err(EditError::NoFamilies { table: def.id });
        }
        if let Some(other) = self.tables.values().find(|t| t.name == def.name && t.id != def.id) {
            return Err(EditError::TableNameInUse { name: def.name.clone(), table: other.id });
        }
        let mut ids = BTreeSet::new();
        let mut names = BTreeSet::new();
        for family in &def.families {
            validate_name(NameKind::Family, &family.name).map_err(bad_name)?;
            if !ids.insert(family.id) {
                return Err(EditError::FamilyIdInUse { family: family.id, owner: def.id });
            }
            if !names.insert(family.name.as_str()) {
                let name = family.name.clone();
                return Err(EditError::DuplicateFamilyName { table: def.id, name });
            }
            if let Some((owner, _)) = self.family(family.id).filter(|(t, _)| t.id != def.id) {
                return Err(EditError::FamilyIdInUse { family: family.id, owner: owner.id });
            }
            check_columns(def.id, family, old.and_then(|o| o.family_by_id(family.id)))?;
        }
        Ok(())
    }

    fn bumped_family_counter(&self, def: &TableDef) -> Result<FamilyId, EditError> {
        def.families.iter().try_fold(self.next_family_id, |n, f| bump(n, f.id, IdKind::Family))
    }
}

fn check_columns(table: TableId, family: &FamilyDef, old: Option<&FamilyDef>) -> Result<(), EditError> {
    let mut ids = BTreeSet::new();
    let mut names = BTreeSet::new();
    for column in &family.columns {
        validate_name(NameKind::Column, &column.name)
            .map_err(|reason| EditError::BadName { table, reason: Box::new(reason) })?;
        if !ids.insert(column.id) || !names.insert(column.name.as_str()) {
            let (column, name) = (column.id, column.name.clone());
            return Err(EditError::DuplicateColumn { family: family.id, column, name });
        }
        if let Some(before) = old.and_then(|o| o.column_by_id(column.id))
            && before.ty != column.ty
        {
            return Err(EditError::ColumnTypeChanged {
                family: family.id,
                column: column.id,
                old: before.ty,
                new: column.ty,
            });
        }
    }
    Ok(())
}
