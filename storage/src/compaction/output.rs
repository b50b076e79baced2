//! Writing merged runs into SSTables split at time-window boundaries (used by flush and by
//! compaction), so that every file belongs to exactly one window.
//!
//! Each output is written to `<id>.sst.tmp`, fsynced, and renamed to `<id>.sst` at
//! [`WindowedWriter::finish`]; the directory is fsynced once. Files only become part of the
//! database through the caller's manifest edit; until then a crash leaves orphans that the next
//! open deletes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::window_start;
use crate::error::{Error, Result};
use crate::manifest::FileMeta;
use crate::run::Run;
use crate::schema::FamilyId;
use crate::sst::{ColumnSchema, SstWriter, SstWriterOptions};

struct Open {
    id: u64,
    final_path: PathBuf,
    writer: SstWriter,
}

/// A finished output file, not yet renamed into place.
struct Done {
    id: u64,
    final_path: PathBuf,
    info: crate::sst::SstInfo,
}

/// Routes rows to one SSTable per time window, rolling to a new file past a size limit.
pub struct WindowedWriter<'a> {
    family: FamilyId,
    columns: Vec<ColumnSchema>,
    opts: SstWriterOptions,
    window_ns: i64,
    max_file_bytes: u64,
    path_of: &'a dyn Fn(u64) -> PathBuf,
    allocate: &'a dyn Fn() -> u64,
    open: BTreeMap<i64, Open>,
    done: Vec<Done>,
    tombstone_mark: u64,
}

impl<'a> WindowedWriter<'a> {
    /// A writer for `family`; `allocate` hands out file ids, `path_of` names their files.
    pub fn new(
        family: FamilyId,
        columns: Vec<ColumnSchema>,
        opts: SstWriterOptions,
        window_ns: i64,
        max_file_bytes: u64,
        allocate: &'a dyn Fn() -> u64,
        path_of: &'a dyn Fn(u64) -> PathBuf,
    ) -> Self {
        Self {
            family,
            columns,
            opts,
            window_ns: window_ns.max(1),
            max_file_bytes,
            path_of,
            allocate,
            open: BTreeMap::new(),
            done: Vec::new(),
            tombstone_mark: 0,
        }
    }

    /// Records that every tombstone with an id below `mark` was applied to the rows written.
    pub fn with_tombstone_mark(mut self, mark: u64) -> Self {
        self.tombstone_mark = mark;
        self
    }

    /// Appends a run; runs come in ascending series order.
    pub fn append(&mut self, run: &Run) -> Result<()> {
        let mut start = 0;
        while start < run.len() {
            let window = window_start(run.ts[start], self.window_ns);
            let end_ts = window.saturating_add(self.window_ns);
            let end = start + run.ts[start..].partition_point(|t| *t < end_ts);
            let part = run.slice(start, end - start);
            self.writer_for(window)?.append(&part)?;
            start = end;
        }
        Ok(())
    }

    fn writer_for(&mut self, window: i64) -> Result<&mut SstWriter> {
        let full = self.open.get(&window).is_some_and(|o| o.writer.bytes_written() >= self.max_file_bytes);
        if full && let Some(open) = self.open.remove(&window) {
            self.close(open)?;
        }
        if let std::collections::btree_map::Entry::Vacant(slot) = self.open.entry(window) {
            let id = (self.allocate)();
            let final_path = (self.path_of)(id);
            let writer =
                SstWriter::create(&tmp_path(&final_path), self.family, self.columns.clone(), self.opts.clone())?;
            slot.insert(Open { id, final_path, writer });
        }
        self.open.get_mut(&window).map(|o| &mut o.writer).ok_or(Error::Closed)
    }

    fn close(&mut self, open: Open) -> Result<()> {
        let info = open.writer.finish()?;
        self.done.push(Done { id: open.id, final_path: open.final_path, info });
        Ok(())
    }

    /// Finishes every file, renames them into place and returns their manifest entries.
    pub fn finish(mut self) -> Result<Vec<FileMeta>> {
        for (_, open) in std::mem::take(&mut self.open) {
            self.close(open)?;
        }
        let mut out = Vec::new();
        let mut dir: Option<PathBuf> = None;
        for done in std::mem::take(&mut self.done) {
            let tmp = tmp_path(&done.final_path);
            if done.info.rows == 0 {
                let _ = std::fs::remove_file(&tmp);
                continue;
            }
            std::fs::rename(&tmp, &done.final_path).map_err(|e| Error::io(&done.final_path, e))?;
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
            crate::fs::sync_dir(&dir)?;
        }
        Ok(out)
    }

    /// Deletes every file written so far (after an error or when the result is not wanted).
    pub fn abandon(self) {
        for (_, open) in self.open {
            let _ = open.writer.abandon();
        }
        for done in self.done {
            let _ = std::fs::remove_file(tmp_path(&done.final_path));
        }
    }
}

fn tmp_path(final_path: &Path) -> PathBuf {
    final_path.with_extension("sst.tmp")
}
