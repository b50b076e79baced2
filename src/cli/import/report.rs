//! What an import did, counted the way a person checks it: rows and points as stored (a row
//! repeated in the file is one row, its repeated cells one point: writes are upserts), distinct
//! series, duplicates merged; and the rows skipped under `--max-errors`, each with its line and
//! reason in the `--reject-file`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::ImportError;

/// Counts of the rows read, with duplicates of `(series, ts)` merged.
#[derive(Debug, Default)]
pub struct Tally {
    /// Per series: per timestamp, which value columns (by index, up to 128) were set.
    seen: HashMap<String, HashMap<i64, u128>>,
    /// Rows read (including duplicates).
    pub rows_read: u64,
    /// Distinct `(series, ts)`.
    pub rows: u64,
    /// Distinct cells with a value.
    pub points: u64,
}

impl Tally {
    /// Counts a row of `series` at `ts` whose value columns with these indexes are set.
    pub fn add(&mut self, series: &str, ts: i64, columns: impl Iterator<Item = usize>) {
        self.rows_read += 1;
        let mut mask = 0u128;
        let mut wide = 0u64;
        for i in columns {
            match u32::try_from(i).ok().and_then(|i| 1u128.checked_shl(i)) {
                Some(bit) => mask |= bit,
                None => wide += 1,
            }
        }
        let per_ts = match self.seen.get_mut(series) {
            Some(m) => m,
            None => self.seen.entry(series.to_owned()).or_default(),
        };
        let old = per_ts.entry(ts).or_insert_with(|| {
            self.rows += 1;
            0
        });
        self.points += u64::from((mask & !*old).count_ones()) + wide;
        *old |= mask;
    }

    /// Distinct series keys.
    pub fn series(&self) -> u64 {
        self.seen.len() as u64
    }

    /// Rows that repeated an earlier `(series, ts)`.
    pub fn duplicates(&self) -> u64 {
        self.rows_read - self.rows
    }
}

/// Bad rows: how many may be skipped, and where they are recorded.
pub struct Rejects {
    max: u64,
    count: u64,
    path: Option<PathBuf>,
    writer: Option<csv::Writer<std::fs::File>>,
}

impl Rejects {
    /// Up to `max` bad rows are skipped; each is written to `reject_file` (created anew) as
    /// `line,reason`.
    pub fn new(max: u64, reject_file: Option<&Path>) -> Result<Self, ImportError> {
        let writer = match reject_file {
            Some(path) => {
                let mut w = csv::Writer::from_path(path)
                    .map_err(|e| ImportError::RejectFile { path: path.to_owned(), message: e.to_string() })?;
                w.write_record(["line", "reason"])
                    .map_err(|e| ImportError::RejectFile { path: path.to_owned(), message: e.to_string() })?;
                Some(w)
            }
            None => None,
        };
        Ok(Self { max, count: 0, path: reject_file.map(Path::to_owned), writer })
    }

    /// The same limit without recording (for a second pass over rows already recorded).
    pub fn silent(max: u64) -> Self {
        Self { max, count: 0, path: None, writer: None }
    }

    /// Skips a bad row, or stops the import: errors that are not about one row always stop it,
    /// and so does the bad row after `max`.
    pub fn reject(&mut self, error: ImportError) -> Result<(), ImportError> {
        let Some(line) = error.row_line() else { return Err(error) };
        if self.count >= self.max {
            if self.max == 0 {
                return Err(error);
            }
            return Err(ImportError::TooManyErrors { max: self.max, last: Box::new(error) });
        }
        self.count += 1;
        if let (Some(writer), Some(path)) = (&mut self.writer, &self.path) {
            writer
                .write_record([line.to_string(), error.to_string()])
                .map_err(|e| ImportError::RejectFile { path: path.clone(), message: e.to_string() })?;
        }
        Ok(())
    }

    /// Rows skipped.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Flushes the reject file.
    pub fn finish(&mut self) -> Result<(), ImportError> {
        if let (Some(writer), Some(path)) = (&mut self.writer, &self.path) {
            writer.flush().map_err(|e| ImportError::RejectFile { path: path.clone(), message: e.to_string() })?;
        }
        Ok(())
    }
}
