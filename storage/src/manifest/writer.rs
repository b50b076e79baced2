//! [`Manifest`]: opening (replay, torn-tail cut, stray-file cleanup), appending groups of edits,
//! and rotation to a new file that starts with a snapshot.

use std::path::{Path, PathBuf};

use super::edit::Edit;
use super::error::{CorruptReason, Error};
use super::files::{self, CURRENT_TMP};
use super::log::{self, read_manifest};
use super::state::ManifestState;
use crate::fs::{FileSystem, Fs, WritableFile};

/// Most edits in one snapshot record.
const SNAPSHOT_CHUNK: usize = 1000;

/// When the manifest rotates to a new file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManifestOptions {
    /// Rotate once the records appended since the file's snapshot exceed this many bytes (or the
    /// snapshot's own size, whichever is larger). Default 4 MiB.
    pub max_bytes: u64,
    /// Rotate once more than this many records were appended since the file's snapshot.
    /// Default 10,000.
    pub max_records: u64,
}

impl Default for ManifestOptions {
    fn default() -> Self {
        Self { max_bytes: 4 << 20, max_records: 10_000 }
    }
}

/// Where a simulated crash stops a rotation (tests only).
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CrashPoint {
    /// The new manifest is written and synced; `CURRENT` untouched.
    AfterNewManifest,
    /// `CURRENT.tmp` is written too, not yet renamed.
    BeforeRename,
    /// `CURRENT` names the new manifest; the old one is not deleted.
    AfterRename,
}

/// The live manifest file of a database, open for appending. Not thread-safe by itself: the
/// engine serialises structural changes with one mutex around it.
#[derive(Debug)]
pub struct Manifest {
    fs: Fs,
    dir: PathBuf,
    path: PathBuf,
    number: u64,
    file: Box<dyn WritableFile>,
    /// Bytes of valid records in the file; appends go here.
    len: u64,
    /// Bytes of the header and snapshot at the start of the file.
    base_len: u64,
    /// Records appended after the snapshot.
    appended_records: u64,
    options: ManifestOptions,
    poisoned: bool,
    #[cfg(test)]
    crash: Option<CrashPoint>,
}

impl Manifest {
    /// Opens the manifest of the database in `dir` with default options, creating `CURRENT` and
    /// `MANIFEST-000001` when the directory has none; returns it with the replayed state.
    pub fn create_or_open(dir: &Path) -> Result<(Manifest, ManifestState), Error> {
        Self::create_or_open_with(dir, ManifestOptions::default())
    }

    /// [`Self::create_or_open`] with explicit rotation thresholds.
    pub fn create_or_open_with(dir: &Path, options: ManifestOptions) -> Result<(Manifest, ManifestState), Error> {
        Self::create_or_open_in(Fs::os(), dir, options)
    }

    /// [`Self::create_or_open_with`] with every file operation going through `fs`.
    pub fn create_or_open_in(fs: Fs, dir: &Path, options: ManifestOptions) -> Result<(Manifest, ManifestState), Error> {
        fs.create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        // A CURRENT.tmp is left only by a crash before its rename: the old CURRENT is in force.
        files::remove_if_exists(&*fs, &dir.join(CURRENT_TMP))?;
        let number = match files::read_current(&*fs, dir)? {
            Some(number) => number,
            None => create_initial(&*fs, dir)?,
        };
        let path = dir.join(files::manifest_name(number));
        let bytes = match fs.read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::MissingManifest { current: dir.join(super::CURRENT), manifest: path });
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        let log = read_manifest(&path, &bytes)?;
        let mut state = ManifestState::default();
        for (offset, group) in &log.groups {
            for edit in group {
                state.apply(edit).map_err(|e| match e {
                    Error::InvalidEdit { reason, .. } => {
                        Error::Corrupt { file: path.clone(), offset: *offset, reason: CorruptReason::Rejected(reason) }
                    }
                    other => other,
                })?;
            }
        }
        let mut file = fs.open_write(&path).map_err(|e| Error::io(&path, e))?;
        if let Some(torn) = &log.torn {
            tracing::warn!(
                file = %path.display(),
                offset = torn.offset,
                reason = %torn.reason,
                "manifest: ignoring a torn last record (never acknowledged) and cutting it off"
            );
            file.set_len(log.valid_len).and_then(|()| file.sync_all()).map_err(|e| Error::io(&path, e))?;
        }
        file.seek_to(log.valid_len).map_err(|e| Error::io(&path, e))?;
        remove_strays(&*fs, dir, number)?;
        let manifest = Manifest {
            fs,
            dir: dir.to_path_buf(),
            path,
            number,
            file,
            len: log.valid_len,
            base_len: log.base_len,
            appended_records: log.appended_records,
            options,
            poisoned: false,
            #[cfg(test)]
            crash: None,
        };
        Ok((manifest, state))
    }

    /// Applies a group of edits atomically: validates them on a copy of `state` (a refused group
    /// changes nothing, in memory or on disk), appends them as one record, `fsync`s, then updates
    /// `state`. Rotates to a new file when this one has grown past the thresholds; a failed
    /// rotation is logged and retried on the next call, the edits being durable already.
    pub fn apply(&mut self, state: &mut ManifestState, edits: Vec<Edit>) -> Result<(), Error> {
        if self.poisoned {
            return Err(Error::Poisoned { path: self.path.clone() });
        }
        if edits.is_empty() {
            return Ok(());
        }
        let mut next = state.clone();
        for edit in &edits {
            next.apply(edit)?;
        }
        let record = log::encode_record(&edits)?;
        self.append(&record)?;
        *state = next;
        self.appended_records += 1;
        if self.should_rotate()
            && let Err(e) = self.rotate(state)
        {
            tracing::warn!(file = %self.path.display(), error = %e, "manifest rotation failed");
        }
        Ok(())
    }

    /// True after a failed `fsync` (or a failed undo of a failed write): the file's state on disk
    /// is unknown, every later [`apply`](Self::apply) fails, and only reopening recovers.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// The live manifest file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a new manifest holding a snapshot of `state` and switches to it now, whatever the
    /// thresholds say.
    pub fn rotate(&mut self, state: &ManifestState) -> Result<(), Error> {
        if self.poisoned {
            return Err(Error::Poisoned { path: self.path.clone() });
        }
        let Some(number) = self.number.checked_add(1) else {
            return Ok(());
        };
        let path = self.dir.join(files::manifest_name(number));
        let (file, len) = match write_manifest_file(&*self.fs, &self.dir, &path, &state.snapshot_edits()) {
            Ok(done) => done,
            Err(e) => {
                let _ = files::remove_if_exists(&*self.fs, &path);
                return Err(e);
            }
        };
        #[cfg(test)]
        if self.crash == Some(CrashPoint::AfterNewManifest) {
            return Ok(());
        }
        let switched = files::write_current_tmp(&*self.fs, &self.dir, number).and_then(|()| {
            #[cfg(test)]
            if self.crash == Some(CrashPoint::BeforeRename) {
                return Ok(());
            }
            files::install_current(&*self.fs, &self.dir)
        });
        if let Err(e) = switched {
            let _ = files::remove_if_exists(&*self.fs, &self.dir.join(CURRENT_TMP));
            let _ = files::remove_if_exists(&*self.fs, &path);
            return Err(e);
        }
        #[cfg(test)]
        if matches!(self.crash, Some(CrashPoint::BeforeRename | CrashPoint::AfterRename)) {
            return Ok(());
        }
        let old = std::mem::replace(&mut self.path, path);
        self.file = file;
        self.number = number;
        self.len = len;
        self.base_len = len;
        self.appended_records = 0;
        // CURRENT names the new file from here on. Until the directory is synced, power loss
        // may bring back the old CURRENT, so the old file is deleted only after the sync.
        if let Err(e) = files::sync_dir(&*self.fs, &self.dir) {
            self.poisoned = true;
            return Err(e);
        }
        if let Err(e) = files::remove_if_exists(&*self.fs, &old).and_then(|_| files::sync_dir(&*self.fs, &self.dir)) {
            tracing::warn!(file = %old.display(), error = %e, "manifest: old file not deleted");
        }
        Ok(())
    }

    /// Makes the next rotation stop at `point`, as a crash would (tests only).
    #[cfg(test)]
    pub(crate) fn crash_at(&mut self, point: CrashPoint) {
        self.crash = Some(point);
    }

    fn should_rotate(&self) -> bool {
        let appended_bytes = self.len.saturating_sub(self.base_len);
        self.appended_records > self.options.max_records || appended_bytes > self.options.max_bytes.max(self.base_len)
    }

    /// Appends one framed record and `fsync`s. A failed write is cut off again so that the next
    /// record does not follow garbage; when that or the `fsync` fails, the manifest is poisoned.
    fn append(&mut self, record: &[u8]) -> Result<(), Error> {
        if let Err(e) = self.file.write_all(record) {
            let len = self.len;
            let undo = self.file.set_len(len).and_then(|()| self.file.seek_to(len));
            if undo.is_err() {
                self.poisoned = true;
            }
            return Err(Error::io(&self.path, e));
        }
        if let Err(e) = self.file.sync_data() {
            self.poisoned = true;
            return Err(Error::io(&self.path, e));
        }
        self.len += record.len() as u64;
        Ok(())
    }
}

/// Creates `path` holding the header and `snapshot`, synced with its directory entry; returns it
/// open at its end, with its length.
fn write_manifest_file(
    fs: &dyn FileSystem,
    dir: &Path,
    path: &Path,
    snapshot: &[Edit],
) -> Result<(Box<dyn WritableFile>, u64), Error> {
    let chunks = snapshot.chunks(SNAPSHOT_CHUNK);
    let mut bytes = log::header_record(chunks.len() as u64)?;
    for chunk in chunks {
        bytes.extend_from_slice(&log::encode_record(chunk)?);
    }
    let mut file = fs.create(path).map_err(|e| Error::io(path, e))?;
    file.write_all(&bytes).and_then(|()| file.sync_all()).map_err(|e| Error::io(path, e))?;
    files::sync_dir(fs, dir)?;
    Ok((file, bytes.len() as u64))
}

/// Creates `MANIFEST-000001` and `CURRENT` for a directory without `CURRENT`. Refuses when
/// manifest files exist, unless the only one is an unfinished `MANIFEST-000001` left by a crash
/// during an earlier creation (no record after its header).
fn create_initial(fs: &dyn FileSystem, dir: &Path) -> Result<u64, Error> {
    let manifests = files::list_manifests(fs, dir)?;
    let unfinished = match manifests.as_slice() {
        [] => true,
        [(1, path)] => {
            let bytes = fs.read(path).map_err(|e| Error::io(path, e))?;
            let header = log::header_record(0)?;
            header.starts_with(&bytes) || read_manifest(path, &bytes).is_ok_and(|log| log.groups.is_empty())
        }
        _ => false,
    };
    if !unfinished {
        let manifests = manifests.into_iter().map(|(_, p)| p).collect();
        return Err(Error::MissingCurrent { dir: dir.to_path_buf(), manifests });
    }
    let path = dir.join(files::manifest_name(1));
    write_manifest_file(fs, dir, &path, &[])?;
    files::write_current_tmp(fs, dir, 1)?;
    files::install_current(fs, dir)?;
    files::sync_dir(fs, dir)?;
    Ok(1)
}

/// Deletes manifest files other than the live one: older ones left by a crash after `CURRENT`
/// was switched, newer ones by a crash before.
fn remove_strays(fs: &dyn FileSystem, dir: &Path, live: u64) -> Result<(), Error> {
    let mut removed = false;
    for (number, path) in files::list_manifests(fs, dir)? {
        if number != live {
            tracing::info!(file = %path.display(), "manifest: deleting a stray manifest file");
            removed |= files::remove_if_exists(fs, &path)?;
        }
    }
    if removed {
        files::sync_dir(fs, dir)?;
    }
    Ok(())
}
