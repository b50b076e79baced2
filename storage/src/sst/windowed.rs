//! Writing merged runs into SSTables split at time-window boundaries (used by flush and by
//! compaction), so that every file belongs to exactly one compaction window.
//!
//! Each output is written to `<id>.sst.tmp`, fsynced, and renamed to `<id>.sst` at
//! [`WindowedWriter::finish`]; the directory is fsynced once. Files only become part of the
//! database through the caller's manifest edit; until then a crash leaves orphans that the next
//! open deletes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::files::{sst_path, tmp_path};
use super::{ColumnSchema, SstInfo, SstWriter, SstWriterOptions};
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::manifest::{FileId, FileMeta};
use crate::run::Run;
use crate::schema::{ColumnId, ColumnType, FamilyDef, FamilyId, marked_column};

struct Open {
    id: u64,
    final_path: PathBuf,
    writer: SstWriter,
}

/// A finished output file, not yet renamed into place.
struct Done {
    id: u64,
    final_path: PathBuf,
    info: SstInfo,
}

/// Start of the compaction window of width `window_ns` that holds `ts` (the rule every flush,
/// merge and compaction policy splits and groups files by).
pub(crate) fn window_start(ts: i64, window_ns: i64) -> i64 {
    ts.div_euclid(window_ns).saturating_mul(window_ns)
}

/// The columns of a new file of `family`: its columns, then the null markers in `markers` of
/// those columns (named `<column>#null`; ids ascend, markers sort after every column).
pub(crate) fn stored_columns(family: &FamilyDef, markers: &[ColumnId]) -> Vec<ColumnSchema> {
    let mut columns: Vec<ColumnSchema> =
        family.columns.iter().map(|c| ColumnSchema { id: c.id, name: c.name.clone(), ty: c.ty }).collect();
    let mut markers: Vec<ColumnId> = markers.to_vec();
    markers.sort_unstable();
    markers.dedup();
    for marker in markers {
        let Some(column) = marked_column(marker).and_then(|c| family.column_by_id(c)) else { continue };
        columns.push(ColumnSchema { id: marker, name: format!("{}#null", column.name), ty: ColumnType::Bool });
    }
    columns
}

/// Where and how a [`WindowedWriter`] writes its files.
pub(crate) struct OutputTarget<'a> {
    /// The file system of the database.
    pub fs: Fs,
    /// The database directory (files go to its `sst/`).
    pub dir: &'a Path,
    /// Page size and compression of new files.
    pub sst: SstWriterOptions,
    /// Width of the family's compaction window, in nanoseconds.
    pub window_ns: i64,
    /// Size past which an output rolls to a new file.
    pub max_file_bytes: u64,
    /// Hands out the id of each new file (the manifest's file-id counter).
    pub next_id: &'a dyn Fn() -> FileId,
}

/// Routes rows to one SSTable per time window, rolling to a new file past a size limit.
pub(crate) struct WindowedWriter<'a> {
    fs: Fs,
    dir: &'a Path,
    next_id: &'a dyn Fn() -> FileId,
    family: FamilyId,
    columns: Vec<ColumnSchema>,
    opts: SstWriterOptions,
    window_ns: i64,
    max_file_bytes: u64,
    open: BTreeMap<i64, Open>,
    done: Vec<Done>,
    tombstone_mark: u64,
}

impl<'a> WindowedWriter<'a> {
    /// A writer for `family` into `target`; `tombstone_mark` records that every tombstone with
    /// a smaller id was applied to the rows written.
    /// `markers` are the null-marker columns ([`crate::schema::null_marker`]) the rows may hold:
    /// the files get a column for each, and none for markers never written.
    pub(crate) fn new(target: OutputTarget<'a>, family: &FamilyDef, markers: &[ColumnId], tombstone_mark: u64) -> Self {
        Self {
            fs: target.fs,
            dir: target.dir,
            next_id: target.next_id,
            family: family.id,
            columns: stored_columns(family, markers),
            opts: target.sst,
            window_ns: target.window_ns,
            max_file_bytes: target.max_file_bytes,
            open: BTreeMap::new(),
            done: Vec::new(),
            tombstone_mark,
        }
    }

    /// Appends a run; runs come in ascending series order.
    pub(crate) fn append(&mut self, run: &Run) -> Result<()> {
        let mut start = 0;
        while let Some((first, rest)) = run.ts.get(start..).and_then(<[i64]>::split_first) {
            let window = window_start(*first, self.window_ns);
            let end_ts = window.saturating_add(self.window_ns);
            let len = 1 + rest.partition_point(|t| *t < end_ts);
            let part = run.slice(start, len);
            self.writer_for(window)?.append(&part)?;
            start += len;
        }
        Ok(())
    }

    fn writer_for(&mut self, window: i64) -> Result<&mut SstWriter> {
        let full = self.open.get(&window).is_some_and(|o| o.writer.bytes_written() >= self.max_file_bytes);
        if full && let Some(open) = self.open.remove(&window) {
            self.close(open)?;
        }
        if let std::collections::btree_map::Entry::Vacant(slot) = self.open.entry(window) {
            let id = (self.next_id)();
            let final_path = sst_path(self.dir, id);
            let fs = self.fs.clone();
            let writer =
                SstWriter::create_in(fs, &tmp_path(&final_path), self.family, self.columns.clone(), self.opts.clone())?;
            slot.insert(Open { id, final_path, writer });
        }
        self.open.get_mut(&window).map(|o| &mut o.writer).ok_or(Error::Closed)
    }

    /// Finishes one file; a file that fails to finish is deleted.
    fn close(&mut self, open: Open) -> Result<()> {
        let tmp = open.writer.path().to_path_buf();
        match open.writer.finish() {
            Ok(info) => {
                self.done.push(Done { id: open.id, final_path: open.final_path, info });
                Ok(())
            }
            Err(e) => {
                let _ = self.fs.remove_file(&tmp);
                Err(e.into())
            }
        }
    }

    /// Finishes every file, renames them into place and returns their manifest entries. On an
    /// error every file written so far is deleted again (renamed or not), so that a flush retried
    /// on a full disk does not leave its failed attempts behind.
    pub(crate) fn finish(mut self) -> Result<Vec<FileMeta>> {
        let mut renamed = Vec::new();
        let result = self.finish_steps(&mut renamed);
        if result.is_err() {
            for path in &renamed {
                let _ = self.fs.remove_file(path);
            }
            self.discard();
        }
        result
    }

    fn finish_steps(&mut self, renamed: &mut Vec<PathBuf>) -> Result<Vec<FileMeta>> {
        for (_, open) in std::mem::take(&mut self.open) {
            self.close(open)?;
        }
        let fs = self.fs.clone();
        let mut out = Vec::new();
        let mut dir: Option<PathBuf> = None;
        for done in std::mem::take(&mut self.done) {
            let tmp = tmp_path(&done.final_path);
            if done.info.rows == 0 {
                let _ = fs.remove_file(&tmp);
                continue;
            }
            if let Err(e) = fs.rename(&tmp, &done.final_path) {
                let _ = fs.remove_file(&tmp);
                return Err(Error::io(&done.final_path, e));
            }
            renamed.push(done.final_path.clone());
            dir = done.final_path.parent().map(Path::to_path_buf);
            let info = done.info;
            out.push(FileMeta {
                id: done.id,
                family: self.family,
                size: info.size,
                rows: info.rows,
                series: info.series,
                min_ts: info.min_ts,
                max_ts: info.max_ts,
                min_seq: info.min_seq,
                max_seq: info.max_seq,
                level: 0,
                tombstone_mark: self.tombstone_mark,
            });
        }
        if let Some(dir) = dir {
            crate::fs::sync_dir_in(&*fs, &dir)?;
        }
        Ok(out)
    }

    /// Deletes every file written so far (after an error or when the result is not wanted).
    pub(crate) fn abandon(mut self) {
        self.discard();
    }

    fn discard(&mut self) {
        for (_, open) in std::mem::take(&mut self.open) {
            let _ = open.writer.abandon();
        }
        for done in std::mem::take(&mut self.done) {
            let _ = self.fs.remove_file(&tmp_path(&done.final_path));
        }
    }
}
