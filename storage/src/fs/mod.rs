//! The engine's file-system layer: every file the engine creates, writes, syncs, renames, links,
//! deletes, reads or locks goes through a [`FileSystem`] (the offline checkpoint functions too:
//! [`verify_checkpoint_in`](crate::verify_checkpoint_in), [`restore_checkpoint_in`](crate::restore_checkpoint_in)).
//!
//! The default is [`OsFs`] (plain `std::fs`); tests put a [`FaultFs`] in
//! [`Options::fs`](crate::Options::fs) to make chosen calls fail, write short or return corrupt
//! bytes (see `docs/faults.md` for what the engine does about each), or a [`PowerLossFs`] to
//! cut the power: every file loses what was written since its last sync. The trait is deliberately
//! small: only the operations the engine uses, at the granularity it uses them. Calls are
//! dynamically dispatched once per system call (one WAL group-commit `write`, one `fdatasync`, one
//! 1 MiB SSTable buffer, one block read), never per value.
//!
//! Every durable change follows one pattern: write a temporary file, `fsync` it, rename it into
//! place, `fsync` the directory (so the rename itself survives power loss).
//! [`write_atomic_in`] is that pattern in one call.

mod fault;
mod handle;
mod os;
mod power_loss;
mod traits;

use std::io;
use std::path::Path;

pub use fault::{FaultFs, FaultKind, FaultRule, Op, RuleId, Trigger};
pub use handle::Fs;
pub use os::OsFs;
pub use power_loss::PowerLossFs;
pub use traits::{FileSystem, Lock, ReadAt, WritableFile};

pub use crate::error::is_disk_full;

use crate::error::{Error, Result};

/// An [`std::io::Write`] over a [`WritableFile`], for `BufWriter`: each buffer flush is one
/// `write_all` call.
#[derive(Debug)]
pub struct FileWriter(pub Box<dyn WritableFile>);

impl io::Write for FileWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(buf).map(|()| buf.len())
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `fsync`s a directory of the OS file system so that renames and creations inside it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    sync_dir_in(&OsFs, dir)
}

/// `fsync`s `dir` through `fs`.
pub fn sync_dir_in(fs: &dyn FileSystem, dir: &Path) -> Result<()> {
    fs.sync_dir(dir).map_err(|e| Error::io(dir, e))
}

/// Writes `bytes` to `path` atomically on the OS file system (see [`write_atomic_in`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_in(&OsFs, path, bytes)
}

/// Writes `bytes` to `path` atomically through `fs`: temporary file, `fsync`, rename, directory
/// `fsync`. On failure the temporary file is removed and `path` is untouched.
pub fn write_atomic_in(fs: &dyn FileSystem, path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let written = fs.create(&tmp).and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()));
    if let Err(e) = written {
        let _ = fs.remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    if let Err(e) = fs.rename(&tmp, path) {
        let _ = fs.remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    sync_dir_in(fs, path.parent().unwrap_or(Path::new(".")))
}

/// Makes the file at `path` durable through `fs` (opened for writing, not truncated, `fsync`ed):
/// for a file made by [`FileSystem::copy`], which does not sync.
pub fn sync_file_in(fs: &dyn FileSystem, path: &Path) -> Result<()> {
    fs.open_write(path).and_then(|mut f| f.sync_all()).map_err(|e| Error::io(path, e))
}

/// Creates `dir` and its parents if missing, on the OS file system.
pub fn create_dir_all(dir: &Path) -> Result<()> {
    create_dir_all_in(&OsFs, dir)
}

/// Creates `dir` and its parents if missing, through `fs`.
pub fn create_dir_all_in(fs: &dyn FileSystem, dir: &Path) -> Result<()> {
    fs.create_dir_all(dir).map_err(|e| Error::io(dir, e))
}
