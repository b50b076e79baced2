//! The compaction executor: merge input files into new ones and install them atomically.
//!
//! Reads every series of the inputs, merges the rows with last-write-wins per cell (the same
//! [`merge_runs`] the read path uses), drops rows covered by tombstones and rows past the TTL,
//! writes per-window outputs, then swaps inputs for outputs with one manifest edit. Until that
//! edit the outputs are orphans (deleted at the next open) and the inputs are untouched, so a
//! failed or killed compaction leaves the store exactly as it was. Inputs are deleted from disk
//! when the last reader that holds them lets go.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::output::WindowedWriter;
use crate::db::Db;
use crate::db::version::SstFile;
use crate::error::Result;
use crate::manifest::{Edit, FileId, FileMeta};
use crate::read::merge::{filter_rows, merge_runs};
use crate::read::snapshot::now_ns;
use crate::run::Run;
use crate::schema::{ColumnId, FamilyId};
use crate::selector::{SeriesSelector, TimeRange};

/// What one merge did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeOutcome {
    /// Files read.
    pub inputs: usize,
    /// Files written.
    pub outputs: usize,
    /// Bytes of the inputs.
    pub bytes_read: u64,
    /// Bytes of the outputs.
    pub bytes_written: u64,
}

/// Paces reads to a byte rate (a token bucket refilled continuously).
struct RateLimiter {
    bytes_per_sec: Option<u64>,
    started: Instant,
    consumed: u64,
}

impl RateLimiter {
    fn consume(&mut self, bytes: u64) {
        self.consumed += bytes;
        if let Some(rate) = self.bytes_per_sec.filter(|r| *r > 0) {
            let due = Duration::from_secs_f64(self.consumed as f64 / rate as f64);
            let elapsed = self.started.elapsed();
            if due > elapsed {
                std::thread::sleep(due - elapsed);
            }
        }
    }
}

impl Db {
    /// Merges the files `ids` of `family` (which must be contiguous in sequence order within
    /// their window) and installs the result. Files no longer in the family are skipped.
    pub(crate) fn merge_files(&self, family: FamilyId, ids: &[FileId]) -> Result<MergeOutcome> {
        let sv = self.current();
        let Some(fv) = sv.families.get(&family) else { return Ok(MergeOutcome::default()) };
        let Some(table) = sv.table_by_id(fv.table).cloned() else { return Ok(MergeOutcome::default()) };
        let Some(fam) = table.family_by_id(family).cloned() else { return Ok(MergeOutcome::default()) };
        let inputs: Vec<Arc<SstFile>> = fv.files.iter().filter(|f| ids.contains(&f.meta.id)).cloned().collect();
        if inputs.is_empty() {
            return Ok(MergeOutcome::default());
        }
        let _running = crate::db::RunningMerge::enter(&self.inner.counters.compactions_running);
        let (tombstones, mark) = self.tombstones_for(table.id, family);
        let horizon = table.ttl_of(&fam).map(|ttl| now_ns().saturating_sub(ttl));
        let range = TimeRange { from: horizon.unwrap_or(i64::MIN), to: i64::MAX };
        let column_ids: Vec<ColumnId> = fam.columns.iter().map(|c| c.id).collect();
        let types = |id: ColumnId| fam.column_by_id(id).map(|c| c.ty);
        let mut keys: Vec<Arc<str>> =
            inputs.iter().flat_map(|f| f.reader.series(&SeriesSelector::All).map(|e| e.key)).collect();
        keys.sort_unstable();
        keys.dedup();

        let mut out = WindowedWriter::new(self, &fam, mark);
        let copts = self.compaction_options(family);
        let mut limiter =
            RateLimiter { bytes_per_sec: copts.rate_limit_bytes_per_sec, started: Instant::now(), consumed: 0 };
        let bytes_per_row: Vec<f64> = inputs.iter().map(|f| f.meta.size as f64 / f.meta.rows.max(1) as f64).collect();
        let group = rayon::current_num_threads().max(1) * 8;
        for chunk in keys.chunks(group) {
            let merged: Result<Vec<(Option<Run>, u64)>> = chunk
                .par_iter()
                .map(|key| {
                    let mut runs = Vec::with_capacity(inputs.len());
                    let mut bytes = 0.0;
                    for (file, per_row) in inputs.iter().zip(&bytes_per_row) {
                        let Some(entry) = file.reader.get(key) else { continue };
                        bytes += entry.rows as f64 * per_row;
                        if let Some(run) = file.reader.read(&entry, range, &column_ids)? {
                            runs.push(if tombstones.is_empty() {
                                run
                            } else {
                                filter_rows(run, |ts, seq| !tombstones.iter().any(|t| t.covers(key, ts, seq)))
                            });
                        }
                    }
                    Ok((merge_runs(runs, &types), bytes as u64))
                })
                .collect();
            let merged = match merged {
                Ok(m) => m,
                Err(e) => {
                    out.abandon();
                    return Err(e);
                }
            };
            for (run, bytes) in merged {
                if let Some(run) = run
                    && let Err(e) = out.append(&run)
                {
                    out.abandon();
                    return Err(e);
                }
                limiter.consume(bytes);
            }
        }
        let outputs = out.finish()?;
        self.install_merge(family, &inputs, outputs)
    }

    /// Swaps `inputs` for `outputs` in the manifest and the current version.
    pub(crate) fn install_merge(
        &self,
        family: FamilyId,
        inputs: &[Arc<SstFile>],
        outputs: Vec<FileMeta>,
    ) -> Result<MergeOutcome> {
        let mut edits: Vec<Edit> = inputs.iter().map(|f| Edit::RemoveFile { family, id: f.meta.id }).collect();
        edits.extend(outputs.iter().cloned().map(Edit::AddFile));
        self.commit_files(edits, &outputs)?;
        let files = self.open_files(&outputs)?;
        let removed: Vec<FileId> = inputs.iter().map(|f| f.meta.id).collect();
        self.install(|sv| {
            if let Some(f) = sv.families.get_mut(&family) {
                f.files.retain(|x| !removed.contains(&x.meta.id));
                f.files.extend(files);
            }
        });
        for f in inputs {
            f.mark_obsolete();
        }
        let outcome = MergeOutcome {
            inputs: inputs.len(),
            outputs: outputs.len(),
            bytes_read: inputs.iter().map(|f| f.meta.size).sum(),
            bytes_written: outputs.iter().map(|m| m.size).sum(),
        };
        self.inner.window_files.store(self.max_window_files(), Ordering::Relaxed);
        let c = &self.inner.counters;
        c.compactions.fetch_add(1, Ordering::Relaxed);
        c.compaction_bytes_read.fetch_add(outcome.bytes_read, Ordering::Relaxed);
        c.compaction_bytes_written.fetch_add(outcome.bytes_written, Ordering::Relaxed);
        self.inner.progress.1.notify_all();
        Ok(outcome)
    }
}
