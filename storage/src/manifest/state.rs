//! The state a manifest describes, and the pure, validating application of edits to it.
//!
//! [`ManifestState::apply`] checks an edit completely before changing anything, so a refused edit
//! leaves the state as it was. The id counters (`next_*`) only ever grow: every id an edit
//! carries pushes its counter past it, and [`Edit::NextIds`] (written at the end of every
//! snapshot) keeps the ids of dropped objects used after the records that created them are gone.

use std::collections::{BTreeMap, BTreeSet};

use crate::producer::{ProducerMark, check_producer_id};
use crate::schema::{FamilyDef, FamilyId, TableDef, TableId};

use super::access::AccessCatalog;
use super::edit::{Edit, FileId, FileMeta, Tombstone};
use super::error::{EditError, Error, IdKind};

/// The catalog, the SSTable files of every family, flushed sequence numbers, range deletes and id
/// counters, as recorded by the manifest.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ManifestState {
    /// Live tables by id.
    pub tables: BTreeMap<TableId, TableDef>,
    /// Live files of every live family (a family without files maps to an empty map).
    pub files: BTreeMap<FamilyId, BTreeMap<FileId, FileMeta>>,
    /// Highest sequence number flushed to SSTables, per family that has flushed.
    pub flushed_seq: BTreeMap<FamilyId, u64>,
    /// Live range deletes by id.
    pub tombstones: BTreeMap<u64, Tombstone>,
    /// Lowest table id never used.
    pub next_table_id: TableId,
    /// Lowest family id never used.
    pub next_family_id: FamilyId,
    /// Lowest file id never used.
    pub next_file_id: FileId,
    /// Lowest tombstone id never used.
    pub next_tombstone_id: u64,
    /// Highest sequence number ever assigned, as last recorded.
    pub last_seq: u64,
    /// Compaction window widths (ns) of families that do not use the database default.
    pub compaction_windows: BTreeMap<FamilyId, i64>,
    /// `closed_after` times (ns) of families that do not use the database default.
    pub closed_after: BTreeMap<FamilyId, i64>,
    /// Idempotent producers' marks by id.
    pub producers: BTreeMap<String, ProducerMark>,
    /// The producer table is complete for WAL records up to this sequence number.
    pub producers_as_of: u64,
    /// The access catalog in force (none until the server first stores one).
    pub access: Option<AccessCatalog>,
}

/// Producer marks per snapshot edit.
const PRODUCERS_PER_EDIT: usize = 1000;

impl ManifestState {
    /// Applies one edit, or refuses it with [`Error::InvalidEdit`] and changes nothing.
    pub fn apply(&mut self, edit: &Edit) -> Result<(), Error> {
        self.apply_checked(edit).map_err(|reason| Error::invalid(edit.kind(), reason))
    }

    /// Edits that rebuild this state when applied, in order, to an empty state.
    pub fn snapshot_edits(&self) -> Vec<Edit> {
        let mut edits: Vec<Edit> = self.tables.values().cloned().map(Edit::CreateTable).collect();
        edits.extend(self.files.values().flat_map(|f| f.values().cloned().map(Edit::AddFile)));
        edits.extend(self.flushed_seq.iter().map(|(&family, &seq)| Edit::FlushedSeq { family, seq }));
        edits.extend(self.tombstones.values().cloned().map(Edit::AddTombstone));
        edits.extend(
            self.compaction_windows
                .iter()
                .map(|(&family, &w)| Edit::SetCompactionWindow { family, window_ns: Some(w) }),
        );
        edits.extend(
            self.closed_after.iter().map(|(&family, &t)| Edit::SetClosedAfter { family, closed_after_ns: Some(t) }),
        );
        let marks: Vec<ProducerMark> = self.producers.values().cloned().collect();
        for chunk in marks.chunks(PRODUCERS_PER_EDIT) {
            edits.push(Edit::Producers { as_of_seq: self.producers_as_of, set: chunk.to_vec(), forget: Vec::new() });
        }
        if marks.is_empty() && self.producers_as_of > 0 {
            edits.push(Edit::Producers { as_of_seq: self.producers_as_of, set: Vec::new(), forget: Vec::new() });
        }
        edits.extend(self.access.iter().cloned().map(Edit::SetAccessCatalog));
        edits.push(Edit::LastSeq(self.last_seq));
        edits.push(Edit::NextIds {
            table: self.next_table_id,
            family: self.next_family_id,
            file: self.next_file_id,
            tombstone: self.next_tombstone_id,
        });
        edits
    }

    /// The live table named `name`.
    pub fn table_by_name(&self, name: &str) -> Option<&TableDef> {
        self.tables.values().find(|t| t.name == name)
    }

    /// The live family with id `family` and the table it belongs to.
    pub fn family(&self, family: FamilyId) -> Option<(&TableDef, &FamilyDef)> {
        self.tables.values().find_map(|t| t.family_by_id(family).map(|f| (t, f)))
    }

    /// Ids of every live SSTable file of every family.
    pub fn live_file_ids(&self) -> BTreeSet<FileId> {
        self.files.values().flat_map(|f| f.keys().copied()).collect()
    }

    /// Takes the next file id and raises the counter in memory. The reservation becomes durable
    /// with the first applied edit that carries the id (or with the next snapshot).
    pub fn allocate_file_id(&mut self) -> FileId {
        let id = self.next_file_id;
        self.next_file_id = id.saturating_add(1);
        id
    }

    /// Takes the next table id, like [`Self::allocate_file_id`].
    pub fn allocate_table_id(&mut self) -> TableId {
        let id = self.next_table_id;
        self.next_table_id = id.saturating_add(1);
        id
    }

    /// Takes the next family id, like [`Self::allocate_file_id`].
    pub fn allocate_family_id(&mut self) -> FamilyId {
        let id = self.next_family_id;
        self.next_family_id = id.saturating_add(1);
        id
    }

    /// Takes the next tombstone id, like [`Self::allocate_file_id`].
    pub fn allocate_tombstone_id(&mut self) -> u64 {
        let id = self.next_tombstone_id;
        self.next_tombstone_id = id.saturating_add(1);
        id
    }

    fn apply_checked(&mut self, edit: &Edit) -> Result<(), EditError> {
        match edit {
            Edit::Header { .. } => Err(EditError::HeaderNotAllowed),
            Edit::CreateTable(def) => self.create_table(def),
            Edit::ReplaceTable(def) => self.replace_table(def),
            Edit::DropTable(table) => self.drop_table(*table),
            Edit::AddFile(meta) => self.add_file(meta),
            Edit::RemoveFile { family, id } => {
                let files = self.files.get_mut(family).ok_or(EditError::UnknownFamily { family: *family })?;
                files.remove(id).map(|_| ()).ok_or(EditError::UnknownFile { family: *family, id: *id })
            }
            Edit::FlushedSeq { family, seq } => {
                if !self.files.contains_key(family) {
                    return Err(EditError::UnknownFamily { family: *family });
                }
                let current = self.flushed_seq.get(family).copied().unwrap_or(0);
                if *seq < current {
                    return Err(EditError::SeqBackwards { family: Some(*family), current, got: *seq });
                }
                self.flushed_seq.insert(*family, *seq);
                Ok(())
            }
            Edit::AddTombstone(t) => self.add_tombstone(t),
            Edit::RemoveTombstone(id) => {
                self.tombstones.remove(id).map(|_| ()).ok_or(EditError::UnknownTombstone { id: *id })
            }
            Edit::LastSeq(seq) => {
                if *seq < self.last_seq {
                    let current = self.last_seq;
                    return Err(EditError::SeqBackwards { family: None, current, got: *seq });
                }
                self.last_seq = *seq;
                Ok(())
            }
            Edit::SetCompactionWindow { family, window_ns } => {
                if !self.files.contains_key(family) {
                    return Err(EditError::UnknownFamily { family: *family });
                }
                match window_ns {
                    Some(w) if *w <= 0 => Err(EditError::BadWindow { family: *family, window_ns: *w }),
                    Some(w) => {
                        self.compaction_windows.insert(*family, *w);
                        Ok(())
                    }
                    None => {
                        self.compaction_windows.remove(family);
                        Ok(())
                    }
                }
            }
            Edit::SetClosedAfter { family, closed_after_ns } => {
                if !self.files.contains_key(family) {
                    return Err(EditError::UnknownFamily { family: *family });
                }
                match closed_after_ns {
                    Some(t) if *t < 0 => Err(EditError::BadClosedAfter { family: *family, closed_after_ns: *t }),
                    Some(t) => {
                        self.closed_after.insert(*family, *t);
                        Ok(())
                    }
                    None => {
                        self.closed_after.remove(family);
                        Ok(())
                    }
                }
            }
            Edit::Producers { as_of_seq, set, forget } => self.apply_producers(*as_of_seq, set, forget),
            Edit::SetAccessCatalog(catalog) => self.set_access(catalog),
            Edit::NextIds { table, family, file, tombstone } => {
                self.next_table_id = self.next_table_id.max(*table);
                self.next_family_id = self.next_family_id.max(*family);
                self.next_file_id = self.next_file_id.max(*file);
                self.next_tombstone_id = self.next_tombstone_id.max(*tombstone);
                Ok(())
            }
        }
    }

    /// Installs `catalog` when its checksum holds and its generation is above the one in force
    /// (a snapshot replays only the latest generation onto an empty state, so gaps are allowed).
    fn set_access(&mut self, catalog: &AccessCatalog) -> Result<(), EditError> {
        catalog.check().map_err(|reason| EditError::BadAccessCatalog { generation: catalog.generation, reason })?;
        let current = self.access.as_ref().map_or(0, |a| a.generation);
        if catalog.generation <= current {
            return Err(EditError::AccessGeneration { current, got: catalog.generation });
        }
        self.access = Some(catalog.clone());
        Ok(())
    }

    fn add_file(&mut self, meta: &FileMeta) -> Result<(), EditError> {
        if !self.files.contains_key(&meta.family) {
            return Err(EditError::UnknownFamily { family: meta.family });
        }
        if let Some((&family, _)) = self.files.iter().find(|(_, f)| f.contains_key(&meta.id)) {
            return Err(EditError::FileIdInUse { id: meta.id, family });
        }
        if meta.rows > 0 && (meta.min_ts > meta.max_ts || meta.min_seq > meta.max_seq) {
            return Err(EditError::FileBounds {
                id: meta.id,
                min_ts: meta.min_ts,
                max_ts: meta.max_ts,
                min_seq: meta.min_seq,
                max_seq: meta.max_seq,
            });
        }
        let next = bump64(self.next_file_id, meta.id, IdKind::File)?;
        if let Some(files) = self.files.get_mut(&meta.family) {
            files.insert(meta.id, meta.clone());
        }
        self.next_file_id = next;
        Ok(())
    }

    fn apply_producers(&mut self, as_of: u64, set: &[ProducerMark], forget: &[String]) -> Result<(), EditError> {
        for m in set {
            let bad = |reason| EditError::BadProducerMark { id: m.id.clone(), applied_seq: m.applied_seq, reason };
            check_producer_id(&m.id).map_err(bad)?;
            if m.applied_seq == 0 {
                return Err(bad("the applied seq is 0"));
            }
            if let Some(current) = self.producers.get(&m.id)
                && current.applied_seq > m.applied_seq
                && !forget.contains(&m.id)
            {
                return Err(EditError::ProducerSeqBackwards {
                    id: m.id.clone(),
                    current: current.applied_seq,
                    got: m.applied_seq,
                });
            }
        }
        for id in forget {
            self.producers.remove(id);
        }
        for m in set {
            self.producers.insert(m.id.clone(), m.clone());
        }
        self.producers_as_of = self.producers_as_of.max(as_of);
        Ok(())
    }

    fn add_tombstone(&mut self, t: &Tombstone) -> Result<(), EditError> {
        let def = self.tables.get(&t.table).ok_or(EditError::UnknownTable { table: t.table })?;
        if let Some(family) = t.family
            && def.family_by_id(family).is_none()
        {
            return Err(EditError::FamilyNotInTable { table: t.table, family });
        }
        if self.tombstones.contains_key(&t.id) {
            return Err(EditError::TombstoneIdInUse { id: t.id });
        }
        let next = bump64(self.next_tombstone_id, t.id, IdKind::Tombstone)?;
        self.tombstones.insert(t.id, t.clone());
        self.next_tombstone_id = next;
        Ok(())
    }
}

/// The table or family counter `next` raised past `id`; an error when `id` is `u32::MAX`.
pub(super) fn bump(next: u32, id: u32, kind: IdKind) -> Result<u32, EditError> {
    id.checked_add(1).map(|past| next.max(past)).ok_or(EditError::IdOverflow { kind, id: id.into() })
}

/// The file or tombstone counter `next` raised past `id`; an error when `id` is `u64::MAX`.
fn bump64(next: u64, id: u64, kind: IdKind) -> Result<u64, EditError> {
    id.checked_add(1).map(|past| next.max(past)).ok_or(EditError::IdOverflow { kind, id })
}
