//! [`FaultFs`]: a [`FileSystem`] that passes calls to another one and injects faults by rule —
//! for tests of what the engine does when the disk misbehaves.
//!
//! A [`FaultRule`] names an [`Op`], a substring of the path (`"wal/"`, `".sst"`, `"MANIFEST"`,
//! `"CURRENT"`, or `""` for every file), a [`Trigger`] (the Nth matching call, every call from the
//! Nth, every call, or each call with probability `p` drawn from a seeded generator, so a failing
//! run can be replayed) and a [`FaultKind`]: an OS error (`EIO`, `ENOSPC`), a short write (the
//! first `k` bytes reach the file, then the error), or corrupt bytes returned by a read (the file
//! itself is untouched). Rules apply from the moment they are added and go away with
//! [`FaultFs::remove`] or [`FaultFs::clear`] ("space freed").
//!
//! Always compiled (not behind a cargo feature): it is a few hundred lines with no dependency,
//! and integration tests of the engine and of the crates above it can use it without feature
//! plumbing. It is for tests; the default [`Options::fs`](crate::Options::fs) is [`OsFs`](super::os::OsFs).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::handle::Fs;
use super::traits::{FileSystem, Lock, ReadAt, WritableFile};

/// `EIO` on Linux.
const EIO: i32 = 5;
/// `ENOSPC` on Linux.
const ENOSPC: i32 = 28;

/// A file-system operation a rule can target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `create`, `create_new` and `open_write`: opening a file for writing.
    Open,
    /// A `write_all` to a file open for writing.
    Write,
    /// `fdatasync` of a file.
    SyncData,
    /// `fsync` of a file.
    SyncAll,
    /// `set_len` of a file open for writing.
    SetLen,
    /// `open_read`: opening a file for positional reads.
    OpenRead,
    /// A positional read, or a whole-file `read`. The fault kind may corrupt the bytes.
    Read,
    /// `rename`; the path matched is the target.
    Rename,
    /// `remove_file` and `remove_dir_all`.
    Remove,
    /// `hard_link` and `copy`; the path matched is the target.
    Link,
    /// `read_dir`.
    ReadDir,
    /// `create_dir_all`.
    CreateDir,
    /// `fsync` of a directory.
    SyncDir,
    /// `is_dir`: asking whether a path is a directory.
    Stat,
    /// `lock`: creating the `LOCK` file and taking its `flock`.
    Lock,
}

/// Which of the calls that match a rule fail.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trigger {
    /// Only the Nth matching call (1-based).
    Nth(u64),
    /// The Nth matching call and every later one (a full disk stays full).
    From(u64),
    /// Each matching call with probability `p`, from a generator seeded with `seed`.
    Probability {
        /// Chance of failing, 0.0 to 1.0.
        p: f64,
        /// Seed of the generator (same seed, same calls fail).
        seed: u64,
    },
}

/// What a triggered rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Fail with `EIO` without doing anything.
    Eio,
    /// Fail with `ENOSPC` without doing anything.
    NoSpace,
    /// For [`Op::Write`]: write only the first `written` bytes, then fail with `ENOSPC`
    /// (other ops: fail with `ENOSPC`).
    ShortWrite {
        /// Bytes that reach the file.
        written: usize,
    },
    /// For [`Op::Read`]: flip every bit of the byte at `at` (clamped to the buffer) of what the
    /// read returns; the file is not changed (other ops: fail with `EIO`).
    CorruptRead {
        /// Offset within the returned buffer.
        at: usize,
    },
}

/// One fault to inject.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    /// The operation.
    pub op: Op,
    /// A substring the path must contain (`""` matches every path).
    pub path_contains: String,
    /// Which matching calls fail.
    pub trigger: Trigger,
    /// What happens then.
    pub kind: FaultKind,
}

impl FaultRule {
    /// A rule for `op` on paths containing `path_contains`.
    pub fn new(op: Op, path_contains: &str, trigger: Trigger, kind: FaultKind) -> Self {
        Self { op, path_contains: path_contains.to_string(), trigger, kind }
    }
}

/// Identifies a rule added to a [`FaultFs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RuleId(u64);

#[derive(Debug)]
struct Active {
    id: RuleId,
    rule: FaultRule,
    /// Matching calls seen.
    calls: u64,
    /// Times it fired.
    fired: u64,
    rng: u64,
}

#[derive(Debug, Default)]
struct Rules {
    next_id: u64,
    active: Vec<Active>,
    /// Times each removed rule fired, so counts survive `clear`.
    fired_removed: Vec<(RuleId, u64)>,
}

/// A [`FileSystem`] that injects the faults of its rules into calls to an inner one.
pub struct FaultFs {
    inner: Fs,
    rules: Arc<Mutex<Rules>>,
}

impl fmt::Debug for FaultFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultFs").field("rules", &self.rules.lock().active.len()).finish()
    }
}

impl FaultFs {
    /// A fault-injecting layer over the OS file system, with no rules yet.
    pub fn new() -> Arc<FaultFs> {
        Self::over(Fs::os())
    }

    /// A fault-injecting layer over `inner`.
    pub fn over(inner: Fs) -> Arc<FaultFs> {
        Arc::new(FaultFs { inner, rules: Arc::new(Mutex::new(Rules::default())) })
    }

    /// A handle for [`Options::fs`](crate::Options::fs) sharing this instance.
    pub fn handle(self: &Arc<Self>) -> Fs {
        Fs::new(Arc::clone(self) as Arc<dyn FileSystem>)
    }

    /// Adds a rule; it applies to calls from now on.
    pub fn add(&self, rule: FaultRule) -> RuleId {
        let mut rules = self.rules.lock();
        rules.next_id += 1;
        let id = RuleId(rules.next_id);
        let rng = match rule.trigger {
            Trigger::Probability { seed, .. } => seed,
            _ => 0,
        };
        rules.active.push(Active { id, rule, calls: 0, fired: 0, rng });
        id
    }

    /// Removes one rule.
    pub fn remove(&self, id: RuleId) {
        let mut rules = self.rules.lock();
        if let Some(i) = rules.active.iter().position(|a| a.id == id) {
            let a = rules.active.remove(i);
            rules.fired_removed.push((a.id, a.fired));
        }
    }

    /// Removes every rule: the disk works again.
    pub fn clear(&self) {
        let mut rules = self.rules.lock();
        let removed: Vec<(RuleId, u64)> = rules.active.drain(..).map(|a| (a.id, a.fired)).collect();
        rules.fired_removed.extend(removed);
    }

    /// How many times rule `id` has fired (also after it was removed).
    pub fn fired(&self, id: RuleId) -> u64 {
        let rules = self.rules.lock();
        rules
            .active
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.fired)
            .or_else(|| rules.fired_removed.iter().find(|(r, _)| *r == id).map(|(_, n)| *n))
            .unwrap_or(0)
    }

    /// Rule decision for one call.
    fn check(&self, op: Op, path: &Path) -> Option<FaultKind> {
        check(&self.rules, op, path)
    }
}

/// Counts the call against every matching rule; returns the fault of the first that fires.
fn check(rules: &Mutex<Rules>, op: Op, path: &Path) -> Option<FaultKind> {
    let mut rules = rules.lock();
    if rules.active.is_empty() {
        return None;
    }
    let text = path.to_string_lossy();
    let mut hit = None;
    for a in rules.active.iter_mut() {
        if a.rule.op != op || !text.contains(a.rule.path_contains.as_str()) {
            continue;
        }
        a.calls += 1;
        let fire = match a.rule.trigger {
            Trigger::Nth(n) => a.calls == n,
            Trigger::From(n) => a.calls >= n,
            Trigger::Probability { p, .. } => unit(next_random(&mut a.rng)) < p,
        };
        if fire && hit.is_none() {
            a.fired += 1;
            hit = Some(a.rule.kind);
        }
    }
    hit
}

/// splitmix64: a small, well-mixed generator; enough to pick calls reproducibly.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform number in `[0, 1)` from 64 random bits.
fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// The error a fault returns for an operation that is not a write (or read) it can shape.
fn error_of(kind: FaultKind, op: Op, path: &Path) -> io::Error {
    let errno = match kind {
        FaultKind::NoSpace | FaultKind::ShortWrite { .. } => ENOSPC,
        FaultKind::Eio | FaultKind::CorruptRead { .. } => EIO,
    };
    let os = io::Error::from_raw_os_error(errno);
    io::Error::new(os.kind(), format!("{os} (injected on {op:?} of {})", path.display()))
}

/// Fails with the fault's error when a rule fires.
fn gate(rules: &Mutex<Rules>, op: Op, path: &Path) -> io::Result<()> {
    match check(rules, op, path) {
        Some(kind) => Err(error_of(kind, op, path)),
        None => Ok(()),
    }
}

/// A file open for writing through a [`FaultFs`].
#[derive(Debug)]
struct FaultWriter {
    inner: Box<dyn WritableFile>,
    path: PathBuf,
    rules: Arc<Mutex<Rules>>,
}

impl WritableFile for FaultWriter {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match check(&self.rules, Op::Write, &self.path) {
            None => self.inner.write_all(buf),
            Some(FaultKind::ShortWrite { written }) => {
                let part = buf.get(..written.min(buf.len())).unwrap_or_default();
                self.inner.write_all(part)?;
                Err(error_of(FaultKind::ShortWrite { written }, Op::Write, &self.path))
            }
            Some(kind) => Err(error_of(kind, Op::Write, &self.path)),
        }
    }
    fn sync_data(&mut self) -> io::Result<()> {
        gate(&self.rules, Op::SyncData, &self.path)?;
        self.inner.sync_data()
    }
    fn sync_all(&mut self) -> io::Result<()> {
        gate(&self.rules, Op::SyncAll, &self.path)?;
        self.inner.sync_all()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        gate(&self.rules, Op::SetLen, &self.path)?;
        self.inner.set_len(len)
    }
    fn seek_to(&mut self, pos: u64) -> io::Result<()> {
        self.inner.seek_to(pos)
    }
}

/// A file open for reads through a [`FaultFs`].
#[derive(Debug)]
struct FaultReader {
    inner: Box<dyn ReadAt>,
    path: PathBuf,
    rules: Arc<Mutex<Rules>>,
}

/// Applies a read fault to bytes already read.
fn shape_read(kind: Option<FaultKind>, buf: &mut [u8], path: &Path) -> io::Result<()> {
    match kind {
        None => Ok(()),
        Some(FaultKind::CorruptRead { at }) => {
            if let Some(b) = buf.get_mut(at.min(buf.len().saturating_sub(1))) {
                *b ^= 0xFF;
            }
            Ok(())
        }
        Some(kind) => Err(error_of(kind, Op::Read, path)),
    }
}

impl ReadAt for FaultReader {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let kind = check(&self.rules, Op::Read, &self.path);
        if kind.is_some_and(|k| !matches!(k, FaultKind::CorruptRead { .. })) {
            return shape_read(kind, buf, &self.path);
        }
        self.inner.read_exact_at(buf, offset)?;
        shape_read(kind, buf, &self.path)
    }
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
}

impl FaultFs {
    fn writer(&self, path: &Path, inner: Box<dyn WritableFile>) -> Box<dyn WritableFile> {
        Box::new(FaultWriter { inner, path: path.to_path_buf(), rules: Arc::clone(&self.rules) })
    }
}

impl FileSystem for FaultFs {
    fn create(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        gate(&self.rules, Op::Open, path)?;
        Ok(self.writer(path, self.inner.create(path)?))
    }
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        gate(&self.rules, Op::Open, path)?;
        Ok(self.writer(path, self.inner.create_new(path)?))
    }
    fn open_write(&self, path: &Path) -> io::Result<Box<dyn WritableFile>> {
        gate(&self.rules, Op::Open, path)?;
        Ok(self.writer(path, self.inner.open_write(path)?))
    }
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn ReadAt>> {
        gate(&self.rules, Op::OpenRead, path)?;
        let inner = self.inner.open_read(path)?;
        Ok(Box::new(FaultReader { inner, path: path.to_path_buf(), rules: Arc::clone(&self.rules) }))
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let kind = self.check(Op::Read, path);
        if kind.is_some_and(|k| !matches!(k, FaultKind::CorruptRead { .. })) {
            return shape_read(kind, &mut [], path).map(|()| Vec::new());
        }
        let mut bytes = self.inner.read(path)?;
        shape_read(kind, &mut bytes, path)?;
        Ok(bytes)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        gate(&self.rules, Op::Rename, to)?;
        self.inner.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        gate(&self.rules, Op::Remove, path)?;
        self.inner.remove_file(path)
    }
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        gate(&self.rules, Op::Remove, path)?;
        self.inner.remove_dir_all(path)
    }
    fn hard_link(&self, from: &Path, to: &Path) -> io::Result<()> {
        gate(&self.rules, Op::Link, to)?;
        self.inner.hard_link(from, to)
    }
    fn copy(&self, from: &Path, to: &Path) -> io::Result<u64> {
        gate(&self.rules, Op::Link, to)?;
        self.inner.copy(from, to)
    }
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        gate(&self.rules, Op::ReadDir, dir)?;
        self.inner.read_dir(dir)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        gate(&self.rules, Op::CreateDir, dir)?;
        self.inner.create_dir_all(dir)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        gate(&self.rules, Op::SyncDir, dir)?;
        self.inner.sync_dir(dir)
    }
    fn is_dir(&self, path: &Path) -> io::Result<bool> {
        gate(&self.rules, Op::Stat, path)?;
        self.inner.is_dir(path)
    }
    fn lock(&self, path: &Path) -> io::Result<Box<dyn Lock>> {
        gate(&self.rules, Op::Lock, path)?;
        self.inner.lock(path)
    }
}
