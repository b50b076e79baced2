//! [`PowerLossFs`]: a test layer that models a power cut, losing every byte written to a file
//! since that file's last `fdatasync`/`fsync`.
//!
//! It tracks, per path, how long the file is and how much of it is durable (its length at its
//! last sync). [`PowerLossFs::cut`] then freezes the layer (every later call fails with `EIO`,
//! as a machine without power does nothing more) and cuts every tracked file on the real disk
//! back to its durable length: a file created and never synced ends empty. A rename carries the
//! durable length to the new name (the engine syncs a file before it renames it and the
//! directory after). What the model leaves out: a deletion or rename that the directory's
//! `fsync` had not yet made durable is kept, not undone (the engine never relies on an
//! un-synced deletion), and writes are lost whole per file, not torn at a sector.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use super::handle::Fs;
use super::traits::{FileSystem, Lock, ReadAt, WritableFile};

/// Lengths of one file.
#[derive(Clone, Copy, Debug, Default)]
struct Lengths {
    /// Bytes written so far (the furthest write).
    written: u64,
    /// Bytes that survive a power cut.
    durable: u64,
}

#[derive(Debug, Default)]
struct Tracked {
    files: HashMap<PathBuf, Lengths>,
}

/// A [`FileSystem`] over another that can simulate a power cut (see the module).
pub struct PowerLossFs {
    inner: Fs,
    tracked: Arc<Mutex<Tracked>>,
    frozen: Arc<AtomicBool>,
}

impl fmt::Debug for PowerLossFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PowerLossFs").field("frozen", &self.frozen.load(Ordering::Relaxed)).finish()
    }
}

/// What a call on a frozen layer returns.
fn powered_off(path: &Path) -> io::Error {
    io::Error::other(format!("the power is off (simulated power cut; {})", path.display()))
}

impl PowerLossFs {
    /// A power-loss layer over the OS file system.
    pub fn new() -> Arc<PowerLossFs> {
        Arc::new(PowerLossFs {
            inner: Fs::os(),
            tracked: Arc::new(Mutex::new(Tracked::default())),
            frozen: Arc::new(AtomicBool::new(false)),
        })
    }

    /// A handle for [`Options::fs`](crate::Options::fs) sharing this instance.
    pub fn handle(self: &Arc<Self>) -> Fs {
        Fs::new(Arc::clone(self) as Arc<dyn FileSystem>)
    }

    /// Cuts the power: from now on every call fails, and every file written through this layer
    /// is cut back on disk to what its last sync made durable. Returns the bytes lost.
    pub fn cut(&self) -> io::Result<u64> {
        self.frozen.store(true, Ordering::SeqCst);
        let tracked = self.tracked.lock();
        let mut lost = 0;
        for (path, len) in &tracked.files {
            let Ok(file) = std::fs::OpenOptions::new().write(true).open(path) else { continue };
            let on_disk = file.metadata()?.len();
            if on_disk > len.durable {
                lost += on_disk - len.durable;
                file.set_len(len.durable)?;
            }
        }
        Ok(lost)
    }

    fn check(&self, path: &Path) -> io::Result<()> {
        if self.frozen.load(Ordering::SeqCst) { Err(powered_off(path)) } else { Ok(()) }
    }

    /// Tracks `path` from now on, opened for writing with `existing` bytes already durable.
    fn writer(&self, path: &Path, inner: Box<dyn WritableFile>, existing: u64) -> Box<dyn WritableFile> {
        self.tracked.lock().files.insert(path.to_path_buf(), Lengths { written: existing, durable: existing });
        Box::new(PowerLossWriter {
            inner,
            path: path.to_path_buf(),
            pos: 0,
            tracked: Arc::clone(&self.tracked),
            frozen: Arc::clone(&self.frozen),
        })
    }
}

/// A file open for writing through a [`PowerLossFs`].
#[derive(Debug)]
struct PowerLossWriter {
    inner: Box<dyn WritableFile>,
    path: PathBuf,
    pos: u64,
    tracked: Arc<Mutex<Tracked>>,
    frozen: Arc<AtomicBool>,
}

impl PowerLossWriter {
    fn check(&self) -> io::Result<()> {
        if self.frozen.load(Ordering::SeqCst) { Err(powered_off(&self.path)) } else { Ok(()) }
    }

    fn update(&self, f: impl FnOnce(&mut Lengths)) {
        if let Some(len) = self.tracked.lock().files.get_mut(&self.path) {
            f(len);
        }
    }
}

impl WritableFile for PowerLossWriter {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.check()?;
        self.inner.write_all(buf)?;
        self.pos += buf.len() as u64;
        let end = self.pos;
        self.update(|l| l.written = l.written.max(end));
        Ok(())
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.check()?;
        self.inner.sync_data()?;
        self.update(|l| l.durable = l.written);
        Ok(())
    }
    fn sync_all(&mut self) -> io::Result<()> {
        self.check()?;
        self.inner.sync_all()?;
        self.update(|l| l.durable = l.written);
        Ok(())
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.check()?;
        self.inner.set_len(len)?;
        self.update(|l| {
            l.written = len;
            l.durable = l.durable.min(len);
        });
        Ok(())
    }
    fn seek_to(&mut self, pos: u64) -> io::Result<()> {
        self.check()?;
        self.inner.seek_to(pos)?;
        self.pos = pos;
        Ok(())
    }
}

impl FileSystem for PowerLossFs {
    fn create(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        self.check(path)?;
        let inner = self.inner.create(path)?;
        Ok(self.writer(path, inner, 0))
    }
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        self.check(path)?;
        let inner = self.inner.create_new(path)?;
        Ok(self.writer(path, inner, 0))
    }
    fn open_write(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        self.check(path)?;
        let inner = self.inner.open_write(path)?;
        // A file reopened for writing: what it held is durable unless this layer wrote it.
        let known = self.tracked.lock().files.get(path).copied();
        let existing = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let writer = self.writer(path, inner, existing);
        if let Some(known) = known {
            self.tracked.lock().files.insert(path.to_path_buf(), known);
        }
        Ok(writer)
    }
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn ReadAt>> {
        self.check(path)?;
        self.inner.open_read(path)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.check(path)?;
        self.inner.read(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.check(to)?;
        self.inner.rename(from, to)?;
        let mut tracked = self.tracked.lock();
        match tracked.files.remove(from) {
            Some(len) => tracked.files.insert(to.to_path_buf(), len),
            None => tracked.files.remove(to),
        };
        Ok(())
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.check(path)?;
        self.inner.remove_file(path)?;
        self.tracked.lock().files.remove(path);
        Ok(())
    }
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        self.check(path)?;
        self.inner.remove_dir_all(path)?;
        self.tracked.lock().files.retain(|p, _| !p.starts_with(path));
        Ok(())
    }
    fn hard_link(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.check(to)?;
        self.inner.hard_link(from, to)
    }
    fn copy(&self, from: &Path, to: &Path) -> io::Result<u64> {
        self.check(to)?;
        let n = self.inner.copy(from, to)?;
        // A copy is not synced: all of it is at risk until the engine syncs it.
        self.tracked.lock().files.insert(to.to_path_buf(), Lengths { written: n, durable: 0 });
        Ok(n)
    }
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        self.check(dir)?;
        self.inner.read_dir(dir)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.check(dir)?;
        self.inner.create_dir_all(dir)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.check(dir)?;
        self.inner.sync_dir(dir)
    }
    fn is_dir(&self, path: &Path) -> io::Result<bool> {
        self.check(path)?;
        self.inner.is_dir(path)
    }
    fn lock(&self, path: &Path) -> io::Result<Box<dyn Lock>> {
        // The `LOCK` file stays empty: nothing to lose in a cut.
        self.check(path)?;
        self.inner.lock(path)
    }
}
