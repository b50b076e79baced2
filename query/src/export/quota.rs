//! [`Quota`]: the byte budget of one export, shared by its workers, and [`QuotaFile`], the file
//! a Parquet writer writes through so that every byte is counted as it is written (not after a
//! file is finished, when a single huge file would already be on disk).
//!
//! A write that would pass the limit writes nothing, marks the quota exceeded and fails; the
//! export then stops and removes its partial files (`super::export_snapshot`).

use std::fs::File;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Bytes one export may still write.
#[derive(Debug)]
pub(crate) struct Quota {
    limit: Option<u64>,
    used: AtomicU64,
    exceeded: AtomicBool,
}

impl Quota {
    /// A budget of `limit` bytes (`None`: unlimited).
    pub(crate) fn new(limit: Option<u64>) -> Self {
        Self { limit, used: AtomicU64::new(0), exceeded: AtomicBool::new(false) }
    }

    /// Takes `n` bytes from the budget, or marks it exceeded and takes nothing.
    fn take(&self, n: u64) -> io::Result<()> {
        let Some(limit) = self.limit else { return Ok(()) };
        if self.exceeded.load(Ordering::Relaxed) {
            // Another worker passed the limit: every worker stops at its next write.
            return Err(io::Error::other(format!("export byte quota of {limit} bytes exceeded")));
        }
        let before = self.used.fetch_add(n, Ordering::Relaxed);
        if before.saturating_add(n) > limit {
            self.used.fetch_sub(n, Ordering::Relaxed);
            self.exceeded.store(true, Ordering::Relaxed);
            return Err(io::Error::other(format!("export byte quota of {limit} bytes exceeded")));
        }
        Ok(())
    }

    /// The limit, when a write was refused for passing it.
    pub(crate) fn exceeded(&self) -> Option<u64> {
        self.limit.filter(|_| self.exceeded.load(Ordering::Relaxed))
    }
}

/// A file whose writes are charged to a [`Quota`].
pub(crate) struct QuotaFile {
    file: File,
    quota: Arc<Quota>,
}

impl QuotaFile {
    /// Writes to `file` charge `quota`.
    pub(crate) fn new(file: File, quota: Arc<Quota>) -> Self {
        Self { file, quota }
    }

    /// The file, once the writer is done with it.
    pub(crate) fn into_file(self) -> File {
        self.file
    }
}

impl Write for QuotaFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.quota.take(buf.len() as u64)?;
        let written = self.file.write(buf)?;
        // Give back what the OS did not take (the caller writes it again).
        if self.quota.limit.is_some() && written < buf.len() {
            self.quota.used.fetch_sub((buf.len() - written) as u64, Ordering::Relaxed);
        }
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_past_the_limit_fail_and_mark_the_quota() {
        let dir = tempfile::tempdir().expect("tempdir");
        let quota = Arc::new(Quota::new(Some(10)));
        let mut f = QuotaFile::new(File::create(dir.path().join("a")).expect("create"), Arc::clone(&quota));
        f.write_all(&[0; 8]).expect("within the quota");
        assert_eq!(quota.exceeded(), None);
        assert!(f.write_all(&[0; 3]).is_err(), "8 + 3 > 10");
        assert_eq!(quota.exceeded(), Some(10));
        assert_eq!(f.into_file().metadata().expect("stat").len(), 8, "the refused write wrote nothing");
    }

    #[test]
    fn no_limit_never_refuses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let quota = Arc::new(Quota::new(None));
        let mut f = QuotaFile::new(File::create(dir.path().join("a")).expect("create"), Arc::clone(&quota));
        f.write_all(&[0; 1000]).expect("unlimited");
        assert_eq!(quota.exceeded(), None);
    }
}
