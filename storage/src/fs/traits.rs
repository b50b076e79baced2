//! The traits every file-system implementation provides: [`FileSystem`] and the files it opens.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

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

/// A held exclusive lock on a file (the data directory's `LOCK`); dropping it releases the lock.
pub trait Lock: Send + Sync + fmt::Debug {}

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
    /// True when `path` is a directory (false for a file; an error when it is missing).
    fn is_dir(&self, path: &Path) -> io::Result<bool>;
    /// Creates `path` if missing (never truncating it) and takes an exclusive lock on it without
    /// waiting (`flock`); fails with [`io::ErrorKind::WouldBlock`] when another holder has it.
    fn lock(&self, path: &Path) -> io::Result<Box<dyn Lock>>;
}
