//! The compaction executor: a function from input files to output files and the manifest edit
//! that swaps them.
//!
//! [`merge`] reads every series of the inputs, merges the rows with last-write-wins per cell (the
//! same [`merge_runs`] the read path uses), drops rows covered by tombstones and rows past the
//! TTL, and writes per-window outputs. It changes nothing the database can see: the result is a
//! [`Merged`] whose [`Merged::edits`] the caller (`db/`) applies to the manifest and installs in
//! a new version. Until that edit the outputs are orphans (deleted at the next open) and the
//! inputs are untouched, so a failed or killed compaction leaves the store exactly as it was.
//! Inputs are deleted from disk when the last reader that holds them lets go.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::error::Result;
use crate::manifest::{Edit, FileMeta, Tombstone};
use crate::read::merge::{filter_rows, merge_runs};
use crate::run::Run;
use crate::schema::{ColumnId, FamilyDef, FamilyId, marked_column, with_null_markers};
use crate::selector::{SeriesSelector, TimeRange};
use crate::sst::{OutputTarget, WindowedWriter};
use crate::version::SstFile;

/// What one merge did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MergeOutcome {
    /// Files read.
    pub inputs: usize,
    /// Files written.
    pub outputs: usize,
    /// Bytes of the inputs.
    pub bytes_read: u64,
    /// Bytes of the outputs.
    pub bytes_written: u64,
}

/// Everything one merge reads: the files, the deletes and TTL to apply, and where to write.
pub(crate) struct MergeInput<'a> {
    /// The family, with its columns.
    pub family: &'a FamilyDef,
    /// The files to merge (contiguous in sequence order within their window).
    pub inputs: Vec<Arc<SstFile>>,
    /// Tombstones in force for the family.
    pub tombstones: &'a [Tombstone],
    /// The tombstone id mark that goes with `tombstones` (recorded in every output).
    pub tombstone_mark: u64,
    /// Rows older than this (ns since the epoch) are past the TTL and dropped.
    pub ttl_horizon: Option<i64>,
    /// Bytes per second the merge may read (`None`: unlimited).
    pub rate_limit_bytes_per_sec: Option<u64>,
    /// Where the outputs go.
    pub output: OutputTarget<'a>,
}

/// The result of a merge (or of dropping expired files): which files go, which come.
#[derive(Debug)]
pub(crate) struct Merged {
    /// The family whose files change.
    pub family: FamilyId,
    /// Files removed.
    pub inputs: Vec<Arc<SstFile>>,
    /// Files written, renamed into place, not yet in the manifest.
    pub outputs: Vec<FileMeta>,
}

impl Merged {
    /// Removes `inputs` without writing anything (files whose rows are all past the TTL).
    pub(crate) fn dropping(family: FamilyId, inputs: Vec<Arc<SstFile>>) -> Self {
        Self { family, inputs, outputs: Vec::new() }
    }

    /// The manifest edit that swaps inputs for outputs.
    pub(crate) fn edits(&self) -> Vec<Edit> {
        let family = self.family;
        let mut edits: Vec<Edit> = self.inputs.iter().map(|f| Edit::RemoveFile { family, id: f.meta.id }).collect();
        edits.extend(self.outputs.iter().cloned().map(Edit::AddFile));
        edits
    }

    /// Counts and bytes of inputs and outputs.
    pub(crate) fn outcome(&self) -> MergeOutcome {
        MergeOutcome {
            inputs: self.inputs.len(),
            outputs: self.outputs.len(),
            bytes_read: self.inputs.iter().map(|f| f.meta.size).sum(),
            bytes_written: self.outputs.iter().map(|m| m.size).sum(),
        }
    }
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

/// Merges the input files into new per-window files. On an error every output written so far
/// is deleted and the inputs are untouched.
pub(crate) fn merge(input: MergeInput<'_>) -> Result<Merged> {
    let MergeInput { family: fam, inputs, tombstones, tombstone_mark, ttl_horizon, rate_limit_bytes_per_sec, output } =
        input;
    let range = TimeRange { from: ttl_horizon.unwrap_or(i64::MIN), to: i64::MAX };
    let real_ids: Vec<ColumnId> = fam.columns.iter().map(|c| c.id).collect();
    let column_ids = with_null_markers(&real_ids);
    // The outputs keep the null markers the inputs hold (and get no column for the others).
    let markers: Vec<ColumnId> = inputs
        .iter()
        .flat_map(|f| f.reader.info().columns.iter().map(|c| c.id))
        .filter(|id| marked_column(*id).is_some())
        .collect();
    let types = |id: ColumnId| fam.stored_type(id);
    let mut keys: Vec<Arc<str>> =
        inputs.iter().flat_map(|f| f.reader.series(&SeriesSelector::All).map(|e| e.key)).collect();
    keys.sort_unstable();
    keys.dedup();

    let mut out = WindowedWriter::new(output, fam, &markers, tombstone_mark);
    let mut limiter = RateLimiter { bytes_per_sec: rate_limit_bytes_per_sec, started: Instant::now(), consumed: 0 };
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
                    if let Some(run) = file.reader.read_present(&entry, range, &column_ids)? {
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
    Ok(Merged { family: fam.id, inputs, outputs })
}
