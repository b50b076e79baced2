//! The data directory's `LOCK`, taken by offline commands that read a data directory
//! (`isobar admin verify --data-dir`), so that they never race a running server.
//!
//! The engine holds `<data_dir>/LOCK` (an advisory `flock`, `std::fs::File::try_lock`) for as
//! long as a database is open. A file check that runs beside it can see an SSTable vanish
//! mid-read when compaction removes it, and would report it as damaged: a false alarm an
//! operator acts on. Holding the same lock makes the check wait for nothing and race nothing; a
//! held lock is refused with what to do instead.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use super::CliError;

/// The held lock; released when dropped.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Takes `<data_dir>/LOCK`, failing with [`CliError::DataDirInUse`] while a server (or another
/// process with the database open) holds it. A missing data directory is an I/O error naming it.
pub fn lock_data_dir(data_dir: &Path) -> Result<DataDirLock, CliError> {
    let path: PathBuf = data_dir.join("LOCK");
    if !data_dir.is_dir() {
        let source = std::io::Error::new(std::io::ErrorKind::NotFound, "no such data directory");
        return Err(CliError::Io { path: data_dir.to_path_buf(), source });
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| CliError::Io { path: path.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(CliError::DataDirInUse { dir: data_dir.to_path_buf() }),
        Err(TryLockError::Error(source)) => Err(CliError::Io { path, source }),
    }
}
