//! Importing files with `isobar write --file`: CSV, JSON Lines and Parquet as people have them,
//! not only as Isobar writes them.
//!
//! The simplest file is the one `isobar scan --format csv` prints: a header `series,ts,` followed
//! by `family.column` names (types are taken from the table; `family.column:type` gives them in
//! the header, as `--dry-run` needs since it asks no server), then one row per line.
//!
//! ```text
//! series,ts,env.temp_c,env.rh,meta.note
//! station=KSEA,2024-05-01T00:00:00Z,11.5,80,
//! station=KSEA,2024-05-01T00:01:00Z,11.7,,"gusty, wet"
//! ```
//!
//! Real files are read with flags instead of being edited first: `--skip-lines` (lines above the
//! header), `--map 'Src Col=family.column[:type]'` or `--map-file` (with any mapping, unmapped
//! columns are skipped), `--series` (a constant or a `{column}` template), `--ts-column` or
//! `--date-column` + `--time-column`, `--ts-format` (strftime), `--tz` (IANA zone or offset,
//! DST-aware: local times skipped or repeated by a DST change are refused), `--ts-unit` for
//! integers, `--null-values` (missing-value markers such as `-9900` or `NA`) and `--delimiter`.
//! A UTF-8 byte-order mark is skipped. An empty field is null (not written), quoted or not.
//!
//! JSON Lines (one object per line, its keys the header) and Parquet (its columns the header;
//! timestamp columns are instants) are read with the same flags: each object or row becomes the
//! same record of text fields in the header's order that a CSV line is, so one implementation
//! maps every format ([`source`]).
//!
//! An import accounts for every row: see [`run`] for when it is all-or-nothing and what it says
//! when it stops part way.
//!
//! Modules: [`options`] (flags), [`source`] (a file of any format as a header and records),
//! [`header`] (which field goes where), [`timestamp`] (text to nanoseconds), [`rows`] (records
//! to write requests), [`report`] (counts, rejected rows), [`run`] (passes and sending),
//! [`error`] (what is wrong and where). Reading uses the `csv` crate, `serde_json` and the
//! `parquet` crate's Arrow reader; zones and strftime formats use `jiff`.

pub mod error;
pub mod header;
pub mod options;
pub mod report;
pub mod rows;
pub mod run;
pub mod source;
pub mod timestamp;

#[cfg(test)]
mod tests;

use std::io::Read;
use std::path::Path;

pub use error::{ImportError, Place};
pub use options::{ImportArgs, ImportOptions};
pub use rows::{Chunk, Importer};
pub use source::{FileFormat, Records, open_records};

/// The input: a file, or standard input for `-`.
pub fn open_input(path: &Path) -> Result<Box<dyn Read>, ImportError> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let file = std::fs::File::open(path).map_err(|source| ImportError::Io { line: 0, source })?;
    Ok(Box::new(file))
}
