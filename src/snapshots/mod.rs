//! The snapshot directory: named online snapshots of the served database, made with
//! [`isobar_storage::Db::checkpoint`], listed, verified and deleted by name.
//!
//! ```text
//! <snapshot_dir>/                       config `server.snapshot_dir`, default <data_dir>/snapshots
//!   20261121T043000.125Z/               one snapshot: a database directory of its own
//!     CHECKPOINT                        JSON listing: every file with size and CRC-32C
//!     CURRENT, MANIFEST-000001          catalog and file set
//!     sst/*.sst                         hard links to the database's immutable SSTables
//!   .nightly.partial/                   a snapshot being written (or left by a crash); ignored
//! ```
//!
//! Names are checked by [`validate_snapshot_name`] before any path is built from them, so a name
//! can never reach outside the snapshot directory. The snapshot directory should be on the same
//! file system as the data directory: SSTables are then hard-linked (instant, no extra space
//! until compaction replaces the originals). On another file system they are copied, with a
//! warning in the log and `copied > 0` in the answer.

mod name;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use isobar_storage::CHECKPOINT_FILE;
use isobar_storage::{CheckpointInfo, Db, verify_checkpoint};

pub use name::{MAX_SNAPSHOT_NAME_LEN, default_snapshot_name, utc_text, validate_snapshot_name};

/// Why a snapshot operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The name breaks the snapshot name rule; nothing was touched.
    #[error("invalid snapshot name \"{name}\": {reason}; names match [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}")]
    InvalidName {
        /// The name, escaped and shortened for display.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No snapshot by that name.
    #[error("snapshot \"{name}\" does not exist in {dir}")]
    NotFound {
        /// Snapshot name.
        name: String,
        /// The snapshot directory.
        dir: PathBuf,
    },
    /// A snapshot by that name exists already.
    #[error("snapshot \"{name}\" already exists in {dir}; choose another name or delete it first")]
    Exists {
        /// Snapshot name.
        name: String,
        /// The snapshot directory.
        dir: PathBuf,
    },
    /// The engine failed to write, read or verify the snapshot.
    #[error("snapshot \"{name}\": {source}")]
    Storage {
        /// Snapshot name.
        name: String,
        /// The engine's error (names the file concerned).
        #[source]
        source: Box<isobar_storage::Error>,
    },
    /// The snapshot directory could not be read or changed.
    #[error("snapshot directory {path}: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// One snapshot as [`SnapshotStore::list`] reports it.
#[derive(Clone, Debug)]
pub struct SnapshotEntry {
    /// Its name.
    pub name: String,
    /// Its listing, when readable.
    pub info: Option<CheckpointInfo>,
    /// `Some(true)` when verified sound, `Some(false)` when damaged, `None` when not checked.
    pub verified: Option<bool>,
    /// What is wrong, when something is.
    pub problem: Option<String>,
}

/// The snapshot directory of one server.
#[derive(Debug)]
pub struct SnapshotStore {
    dir: PathBuf,
    /// Serialises creations (two creations of one name would share a work directory).
    creating: Mutex<()>,
}

impl SnapshotStore {
    /// The store rooted at `dir` (created on the first snapshot).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir, creating: Mutex::new(()) }
    }

    /// The snapshot directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of the snapshot `name`, after checking the name.
    pub fn path_of(&self, name: &str) -> Result<PathBuf, SnapshotError> {
        validate_snapshot_name(name)?;
        Ok(self.dir.join(name))
    }

    /// Takes a snapshot of `db` named `name` (default: the current UTC time). Blocks: call it
    /// off the async workers.
    pub fn create(&self, db: &Db, name: Option<&str>) -> Result<(String, CheckpointInfo), SnapshotError> {
        let name = name.map_or_else(default_snapshot_name, str::to_owned);
        let path = self.path_of(&name)?;
        let _one_at_a_time = self.creating.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if path.exists() {
            return Err(SnapshotError::Exists { name, dir: self.dir.clone() });
        }
        std::fs::create_dir_all(&self.dir).map_err(|source| SnapshotError::Io { path: self.dir.clone(), source })?;
        let info = db
            .checkpoint(&path)
            .map_err(|source| SnapshotError::Storage { name: name.clone(), source: Box::new(source) })?;
        Ok((name, info))
    }

    /// Every snapshot, ordered by name; with `verify`, each is checked file by file.
    pub fn list(&self, verify: bool) -> Result<Vec<SnapshotEntry>, SnapshotError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(SnapshotError::Io { path: self.dir.clone(), source }),
        };
        let mut names: Vec<String> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| SnapshotError::Io { path: self.dir.clone(), source })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && validate_snapshot_name(&name).is_ok() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names.into_iter().map(|name| self.entry(name, verify)).collect())
    }

    /// The list entry of `name`.
    fn entry(&self, name: String, verify: bool) -> SnapshotEntry {
        let path = self.dir.join(&name);
        if verify {
            return match verify_checkpoint(&path) {
                Ok(info) => SnapshotEntry { name, info: Some(info), verified: Some(true), problem: None },
                Err(e) => {
                    let info = read_listing(&path);
                    SnapshotEntry { name, info, verified: Some(false), problem: Some(e.to_string()) }
                }
            };
        }
        match read_listing(&path) {
            Some(info) => SnapshotEntry { name, info: Some(info), verified: None, problem: None },
            None => SnapshotEntry {
                name,
                info: None,
                verified: None,
                problem: Some(format!("{CHECKPOINT_FILE} listing missing or unreadable")),
            },
        }
    }

    /// Checks every file of snapshot `name` against its listing.
    pub fn verify(&self, name: &str) -> Result<CheckpointInfo, SnapshotError> {
        let path = self.existing(name)?;
        verify_checkpoint(&path)
            .map_err(|source| SnapshotError::Storage { name: name.to_owned(), source: Box::new(source) })
    }

    /// Deletes snapshot `name`; answers the bytes of its files.
    pub fn delete(&self, name: &str) -> Result<u64, SnapshotError> {
        let path = self.existing(name)?;
        let bytes = read_listing(&path).map_or(0, |i| i.bytes());
        std::fs::remove_dir_all(&path).map_err(|source| SnapshotError::Io { path: path.clone(), source })?;
        tracing::info!(snapshot = name, bytes, "snapshot deleted");
        Ok(bytes)
    }

    /// The directory of an existing snapshot `name`.
    fn existing(&self, name: &str) -> Result<PathBuf, SnapshotError> {
        let path = self.path_of(name)?;
        if !path.is_dir() {
            return Err(SnapshotError::NotFound { name: name.to_owned(), dir: self.dir.clone() });
        }
        Ok(path)
    }
}

/// The listing of the snapshot at `path`, without checking files.
fn read_listing(path: &Path) -> Option<CheckpointInfo> {
    let bytes = std::fs::read(path.join(CHECKPOINT_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}
