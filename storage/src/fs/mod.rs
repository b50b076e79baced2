//! The engine's file-system layer: every file the engine creates, writes, syncs, renames, links,
//! deletes or reads goes through a [`FileSystem`].
//!
//! The default is [`OsFs`] (plain `std::fs`); tests put a [`FaultFs`] in
//! [`Options::fs`](crate::Options::fs) to make chosen calls fail, write short or return corrupt
//! bytes (see `docs/faults.md` for what the engine does about each). The trait is deliberately
//! small: only the operations the engine uses, at the granularity it uses them. Calls are
//! dynamically dispatched once per system call (one WAL group-commit `write`, one `fdatasync`, one
//! 1 MiB SSTable buffer, one block read), never per value.
//!
//! Every durable change follows one pattern: write a temporary file, `fsync` it, rename it into
//! place, `fsync` the directory (so the rename itself survives power loss).
//! [`write_atomic_in`] is that pattern in one call.

mod fault;
mod os;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

pub use fault::{FaultFs, FaultKind, FaultRule, Op, RuleId, Trigger};
pub use os::OsFs;

pub use crate::error::is_disk_full;

use crate::error::{Error, Result};

/// A file open for writing: the engine writes whole buffers, syncs, and sometimes cuts a file back.
pub trait WritableFile: Send + Sync + fmt::Debug {
    /// Writes all of `buf` at the current position (like [`std::io::Write::write_all`]).
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    /// `fdatasync(2)`: makes the written data durable.
    fn sync_data(&mut self) -> io::Result<()>;
    /// `fsync(2)`: makes the data and the metadata (size) durable.
    fn sync_all(&mut self) -> io::Result<()>;
    /// Truncates or extends the file to `len` bytes (the position does not move).
    fn set_len(&mut self, len: u64) -> io::Result<()>;
    /// Moves the write position to `pos` bytes from the start.
    fn seek_to(&mut self, pos: u64) -> io::Result<()>;
}

/// A file open for positional reads, shared by concurrent readers.
pub trait ReadAt: Send + Sync + fmt::Debug {
    /// Fills `buf` from `offset`; fails with `UnexpectedEof` past the end.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// The file's size in bytes.
    fn len(&self) -> io::Result<u64>;
    /// True when the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        self.len().map(|n| n == 0)
    }
}

/// The file-system operations the engine performs. Implementations must be `Send + Sync`; the
/// engine calls them from its writer, flush and compaction threads and from readers.
pub trait FileSystem: Send + Sync + fmt::Debug {
    /// Creates `path` for writing, truncating it if it exists.
    fn create(&self, path: &Path) -> io::Result<Box<dyn WritableFile>>;
    /// Creates `path` for writing; fails if it exists.
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn WritableFile>>;
    /// Opens the existing `path` for writing, positioned at its start.
    fn open_write(&self, path: &Path) -> io::Result<Box<dyn WritableFile>>;
    /// Opens `path` for positional reads.
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn ReadAt>>;
    /// Reads the whole of `path`.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Renames `from` to `to`, replacing `to`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Deletes the file `path`.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Deletes the directory `path` and everything in it.
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Makes `to` a hard link to `from`.
    fn hard_link(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Copies the contents of `from` to a new file `to` (not synced); returns the bytes copied.
    fn copy(&self, from: &Path, to: &Path) -> io::Result<u64>;
    /// The entries of `dir` that are regular files or directories, as full paths, unsorted.
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>>;
    /// Creates `dir` and its missing parents.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// `fsync`s the directory `dir`, making creations, renames and deletions in it durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// A shared handle to a [`FileSystem`]; the type of [`Options::fs`](crate::Options::fs).
///
/// `Default` is the process-wide [`OsFs`]. Two handles are equal when they share one instance,
/// so `Options::default() == Options::default()` holds.
#[derive(Clone)]
pub struct Fs(Arc<dyn FileSystem>);

static OS: LazyLock<Fs> = LazyLock::new(|| Fs(Arc::new(OsFs)));

impl Fs {
    /// The operating system's file system (the default).
    pub fn os() -> Fs {
        OS.clone()
    }

    /// Wraps `fs`; keep a clone of the `Arc` to control it (e.g. a [`FaultFs`]) while the engine
    /// uses it.
    pub fn new(fs: Arc<dyn FileSystem>) -> Fs {
        Fs(fs)
    }
}

impl Default for Fs {
    fn default() -> Self {
        Fs::os()
    }
}

impl std::ops::Deref for Fs {
    type Target = dyn FileSystem;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for Fs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl PartialEq for Fs {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.0), Arc::as_ptr(&other.0))
    }
}

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

/// Creates `dir` and its parents if missing, on the OS file system.
pub fn create_dir_all(dir: &Path) -> Result<()> {
    create_dir_all_in(&OsFs, dir)
}

/// Creates `dir` and its parents if missing, through `fs`.
pub fn create_dir_all_in(fs: &dyn FileSystem, dir: &Path) -> Result<()> {
    fs.create_dir_all(dir).map_err(|e| Error::io(dir, e))
}
