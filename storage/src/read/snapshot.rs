//! [`Snapshot`]: a consistent point-in-time view for reads.
//!
//! A snapshot pins a [`SuperVersion`] (so its files stay on disk) and a sequence number (so writes
//! that land later are invisible even in the memtables it shares with the live database). Every
//! read of a snapshot sees the same data, which is what export and multi-step queries need.

use std::sync::Arc;

use super::merge::{filter_rows, merge_runs};
use crate::error::{InvalidInput, Result};
use crate::manifest::Tombstone;
use crate::run::Run;
use crate::schema::{ColumnId, FamilyDef, TableDef, marked_column, with_null_markers};
use crate::selector::{SeriesSelector, TimeRange};
use crate::version::{FamilyVersion, SuperVersion};

/// A consistent, read-only view of the database at one moment.
#[derive(Clone, Debug)]
pub struct Snapshot {
    sv: Arc<SuperVersion>,
    seq: u64,
    now_ns: i64,
}

impl Snapshot {
    /// A view of `sv` that sees the writes up to `seq` and decides TTL by the wall-clock time
    /// `now_ns`.
    pub(crate) fn new(sv: Arc<SuperVersion>, seq: u64, now_ns: i64) -> Self {
        Self { sv, seq, now_ns }
    }

    /// The sequence number this snapshot reads at.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The wall-clock time (ns since the epoch) used for TTL decisions.
    pub fn now_ns(&self) -> i64 {
        self.now_ns
    }

    /// The state of `family` in this snapshot's version: memtables and SSTables.
    pub(crate) fn family_version(&self, family: crate::schema::FamilyId) -> Option<&FamilyVersion> {
        self.sv.families.get(&family)
    }

    /// The family's state and `range` narrowed by its TTL; `None` when the family has no state
    /// or nothing of `range` is visible. The common start of every per-series read.
    pub(crate) fn family_in_range(
        &self,
        table: &TableDef,
        family: &FamilyDef,
        range: TimeRange,
    ) -> Option<(&FamilyVersion, TimeRange)> {
        let fv = self.family_version(family.id)?;
        let range = self.visible_range(table, family, range);
        (!range.is_empty()).then_some((fv, range))
    }

    /// The table named `name`.
    pub fn table(&self, name: &str) -> Result<&TableDef> {
        self.sv.table(name).ok_or_else(|| crate::catalog::unknown_table(name))
    }

    /// All tables.
    pub fn tables(&self) -> Vec<TableDef> {
        self.sv.tables.values().cloned().collect()
    }

    /// `range` narrowed by the family's TTL: rows older than `now - ttl` are invisible.
    pub fn visible_range(&self, table: &TableDef, family: &FamilyDef, range: TimeRange) -> TimeRange {
        match table.ttl_of(family) {
            Some(ttl) => TimeRange { from: range.from.max(self.now_ns.saturating_sub(ttl)), to: range.to },
            None => range,
        }
    }

    /// True when a memtable or file of `family` holds explicit nulls (cells of null-marker
    /// columns, see [`crate::schema::null_marker`]): rows whose every value may be null. Callers
    /// that assume a row has a value somewhere (aggregate push-down) check this first.
    pub fn holds_null_markers(&self, family: &FamilyDef) -> bool {
        let Some(fv) = self.family_version(family.id) else { return false };
        let in_files = fv.files.iter().any(|f| f.reader.info().columns.iter().any(|c| marked_column(c.id).is_some()));
        in_files
            || std::iter::once(&fv.active).chain(fv.frozen.iter().map(|f| &f.mem)).any(|m| !m.null_markers().is_empty())
    }

    /// Tombstones that apply to `family` of `table`.
    pub fn tombstones(&self, table: &TableDef, family: &FamilyDef) -> Vec<Tombstone> {
        self.sv
            .tombstones
            .iter()
            .filter(|t| t.table == table.id && t.family.is_none_or(|f| f == family.id))
            .cloned()
            .collect()
    }

    /// Keys of the series of `family` that `selector` matches, in order (memtables and files).
    pub fn series_keys(&self, family: &FamilyDef, selector: &SeriesSelector) -> Vec<Arc<str>> {
        let Some(fv) = self.sv.families.get(&family.id) else { return Vec::new() };
        let mut keys: Vec<Arc<str>> = Vec::new();
        if let Some(k) = selector.exact() {
            return vec![Arc::from(k)];
        }
        for mem in std::iter::once(&fv.active).chain(fv.frozen.iter().map(|f| &f.mem)) {
            keys.extend(mem.series_keys().into_iter().filter(|k| selector.matches(k)));
        }
        for file in &fv.files {
            keys.extend(file.reader.series(selector).map(|e| e.key.clone()));
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// The merged rows of one series of one family: last write wins per cell, tombstones and TTL
    /// applied, only `columns` (ascending ids) decoded, only chunks overlapping `range` read.
    pub fn read_series(
        &self,
        table: &TableDef,
        family: &FamilyDef,
        series: &str,
        range: TimeRange,
        columns: &[ColumnId],
    ) -> Result<Option<Run>> {
        // The same sources the query crate's push-down reads chunk by chunk ([`Self::series_sources`]:
        // TTL-narrowed range, matching tombstones, memtable rows already filtered); here every
        // file is decoded and all of it merged.
        let Some(mut sources) = self.series_sources(table, family, series, range, columns)? else { return Ok(None) };
        let mut runs = std::mem::take(&mut sources.memtables);
        let stored = with_null_markers(columns);
        for source in &sources.files {
            let read = source.file.reader.read_present(&source.entry, sources.range, &stored).inspect_err(|e| {
                if matches!(e, crate::sst::Error::Corrupt { .. }) {
                    source.file.mark_bad(e.to_string());
                }
            });
            if let Some(run) = read? {
                let clean = sources.tombstones.is_empty();
                runs.push(if clean { run } else { filter_rows(run, |ts, seq| !sources.is_deleted(ts, seq)) });
            }
        }
        let types = |id: ColumnId| family.stored_type(id);
        // The projection drops the null markers: they have done their work in the merge.
        Ok(merge_runs(runs, &types).map(|r| r.project(columns)))
    }
}

pub(crate) fn unknown_column(table: &TableDef, family: &FamilyDef, column: &str) -> InvalidInput {
    InvalidInput::UnknownColumn { table: table.name.clone(), family: family.name.clone(), column: column.to_string() }
}
