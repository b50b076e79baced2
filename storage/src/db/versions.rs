//! The version set: the current [`SuperVersion`] and the manifest with the state it describes.
//!
//! Readers take [`VersionSet::current`] (an `Arc` clone under a read lock held for the clone
//! only). Every structural change goes through here: the manifest edit is applied under the
//! manifest lock ([`VersionSet::lock_manifest`]), then the new version is swapped in with
//! [`VersionSet::install`]. Lock order: the manifest lock before the version slot; the slot is
//! never held while taking another lock.

use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard, RwLock};

use crate::manifest::{Edit, Manifest, ManifestState};
use crate::schema::{FamilyId, TableId};
use crate::version::SuperVersion;

/// The current version and the manifest, owned together.
#[derive(Debug)]
pub(super) struct VersionSet {
    current: RwLock<Arc<SuperVersion>>,
    manifest: Mutex<ManifestCell>,
}

/// The manifest and the state it describes, changed together under the manifest lock.
#[derive(Debug)]
pub(super) struct ManifestCell {
    manifest: Manifest,
    state: ManifestState,
}

impl VersionSet {
    /// A version set starting at `sv`, described by `state` and persisted by `manifest`.
    pub(super) fn new(sv: SuperVersion, manifest: Manifest, state: ManifestState) -> Self {
        Self { current: RwLock::new(Arc::new(sv)), manifest: Mutex::new(ManifestCell { manifest, state }) }
    }

    /// The current version (catalog, memtables, files).
    pub(super) fn current(&self) -> Arc<SuperVersion> {
        self.current.read().clone()
    }

    /// Replaces the current version with `f` applied to a copy of it.
    pub(super) fn install(&self, f: impl FnOnce(&mut SuperVersion)) {
        let mut slot = self.current.write();
        let mut next = SuperVersion::clone(&slot);
        f(&mut next);
        *slot = Arc::new(next);
    }

    /// Takes the manifest lock (after the write lock, if that is taken at all).
    pub(super) fn lock_manifest(&self) -> MutexGuard<'_, ManifestCell> {
        self.manifest.lock()
    }

    /// A new file id (taking the manifest lock for the moment it needs).
    pub(super) fn allocate_file_id(&self) -> u64 {
        self.manifest.lock().state.allocate_file_id()
    }

    /// The tombstones of `family` in force now, and the tombstone id mark that goes with them
    /// (read under the manifest lock, where tombstones are installed, so the two agree).
    pub(super) fn tombstones_for(&self, table: TableId, family: FamilyId) -> (Vec<crate::manifest::Tombstone>, u64) {
        let cell = self.manifest.lock();
        let sv = self.current();
        let list = sv
            .tombstones
            .iter()
            .filter(|t| t.table == table && t.family.is_none_or(|f| f == family))
            .cloned()
            .collect();
        (list, cell.state.next_tombstone_id)
    }
}

impl ManifestCell {
    /// The state the manifest describes.
    pub(super) fn state(&self) -> &ManifestState {
        &self.state
    }

    /// Writes `edits` to the manifest and applies them to the state.
    pub(super) fn apply(&mut self, edits: Vec<Edit>) -> Result<(), crate::manifest::Error> {
        self.manifest.apply(&mut self.state, edits)
    }

    /// True once a failed sync left the manifest's state on disk unknown.
    pub(super) fn is_poisoned(&self) -> bool {
        self.manifest.is_poisoned()
    }
}
