//! Running an import so that it accounts for every row.
//!
//! - A file that fits in one request (`--rows-per-request`, default 10,000 rows) is sent as one
//!   request, which the server applies atomically: all or nothing.
//! - A larger regular file is checked whole before anything is sent (a bad row past
//!   `--max-errors` stops the import with nothing written); the checked requests are kept in
//!   memory up to 256 MiB encoded (about 6 M rows of a few numbers), so such a file is parsed
//!   once, and a larger one is read a second time to send it. Only the server
//!   can then refuse a request (a full disk, a changed table); the import stops and says exactly
//!   how many rows were stored and from which line to resume (`--from-line`, the row of a
//!   Parquet file; rows stored again are harmless, writes are upserts).
//! - Standard input is read once: the first request is checked before anything is sent; a bad
//!   row later stops the import with the same exact report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use isobar_proto::v1 as pb;
use isobar_storage::TableDef;

use super::options::{ImportArgs, ImportOptions};
use super::report::{Rejects, Tally};
use super::rows::{Chunk, Importer};
use super::source::{Records, open_records};
use crate::cli::CliError;
use crate::cli::progress::Progress;
use crate::cli::sender::Sender;
use crate::client::Client;

/// What an import stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Rows stored (distinct series and timestamp).
    pub rows: u64,
    /// Cells with a value stored.
    pub points: u64,
    /// Distinct series.
    pub series: u64,
    /// Rows that repeated an earlier (series, ts) and were merged into it.
    pub duplicates: u64,
    /// Bad rows skipped under --max-errors.
    pub rejected: u64,
    /// Requests sent.
    pub requests: u64,
    /// Rows the server reported as already past the table's TTL (stored, never visible).
    pub expired: u64,
}

impl Summary {
    /// The one-line summary printed after an import.
    pub fn line(&self, path: &Path, table: &str, args: &ImportArgs, skipped_columns: usize) -> String {
        let mut line = format!(
            "imported {} rows ({} points, {} series) from {} into table {table} in {} requests",
            self.rows,
            self.points,
            self.series,
            path.display(),
            self.requests
        );
        if self.duplicates > 0 {
            line.push_str(&format!("; {} duplicate rows (same series and ts) merged, the last wins", self.duplicates));
        }
        if self.rejected > 0 {
            let into = args.reject_file.as_ref().map(|p| format!(", listed in {}", p.display())).unwrap_or_default();
            line.push_str(&format!("; {} bad rows skipped{into}", self.rejected));
        }
        if self.expired > 0 {
            line.push_str(&format!(
                "; {} of them were already past the table's TTL and will not be visible to reads",
                self.expired
            ));
        }
        if skipped_columns > 0 {
            line.push_str(&format!("; {skipped_columns} columns not mapped were skipped"));
        }
        line
    }
}

/// Imports `path` into `table`; `rows_per_request` rows per request.
pub async fn import(
    args: &ImportArgs,
    path: &Path,
    table: &str,
    rows_per_request: usize,
    client: &Client,
    mut sender: Sender,
) -> Result<(Summary, usize), CliError> {
    let csv_error = |source| CliError::Csv { path: path.to_owned(), source: Box::new(source) };
    let options = ImportOptions::from_args(args).map_err(csv_error)?;
    let describe = pb::DescribeTableRequest { table: table.to_owned() };
    // A caller with `add` but not `view` on the table (a field device) may not describe it:
    // the import then goes on without the schema, so the header must carry the types, and the
    // server still checks every value against the table.
    let info = match client.admin.clone().describe_table(describe).await {
        Ok(response) => response.into_inner().table,
        Err(status) if status.code() == tonic::Code::PermissionDenied => None,
        Err(status) => return Err(status.into()),
    };
    let table_def = info.and_then(|info| isobar_wire::table::table_info_to_def(info).ok());
    let open = |tdef: Option<&TableDef>| -> Result<Importer<Box<dyn Records>>, CliError> {
        let records = open_records(path, &options).map_err(csv_error)?;
        Importer::from_records(records, table, &options, tdef, rows_per_request).map_err(csv_error)
    };
    let nothing = |source| CliError::NothingWritten { path: path.to_owned(), source: Box::new(source) };
    let mut rejects = Rejects::new(args.max_errors, args.reject_file.as_deref()).map_err(csv_error)?;
    let is_stdin = path == Path::new("-");
    let mut importer = open(table_def.as_ref())?;
    let skipped_columns = importer.plan().skipped.len();
    let mut first = importer.next_chunk(&mut |e| rejects.reject(e)).map_err(nothing)?;
    let mut second = match &first {
        Some(_) => importer.next_chunk(&mut |e| rejects.reject(e)).map_err(nothing)?,
        None => None,
    };
    let mut progress = Progress::new(format!("import {}", path.display()), "rows", None);
    let mut sent: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    let tally: Tally;
    if second.is_some() && !is_stdin {
        // Check the whole file before sending any of it, keeping the checked requests while
        // they fit in KEEP_CHECKED_BYTES so that the file is parsed once.
        let mut kept = Kept::default();
        kept.push([first.take(), second.take()].into_iter().flatten());
        while let Some(chunk) = importer.next_chunk(&mut |e| rejects.reject(e)).map_err(nothing)? {
            kept.push(std::iter::once(chunk));
        }
        rejects.finish().map_err(csv_error)?;
        if let Some(chunks) = kept.chunks {
            for chunk in chunks {
                send(&mut sender, chunk, &mut sent, &mut progress, path).await?;
            }
            tally = importer.take_tally();
        } else {
            let mut silent = Rejects::silent(args.max_errors);
            let mut importer = open(table_def.as_ref())?;
            while let Some(chunk) = importer.next_chunk(&mut |e| silent.reject(e)).map_err(csv_error)? {
                send(&mut sender, chunk, &mut sent, &mut progress, path).await?;
            }
            tally = importer.take_tally();
        }
    } else {
        let mut pending = [first.take(), second.take()];
        for chunk in pending.iter_mut().filter_map(Option::take) {
            send(&mut sender, chunk, &mut sent, &mut progress, path).await?;
        }
        loop {
            match importer.next_chunk(&mut |e| rejects.reject(e)) {
                Ok(Some(chunk)) => send(&mut sender, chunk, &mut sent, &mut progress, path).await?,
                Ok(None) => break,
                Err(e) => {
                    // Rows before the failing one that are not yet sent are not stored either.
                    let after_sent = sent.values().map(|(last, _)| last + 1).max().unwrap_or(0);
                    let _ = sender.finish(&mut progress).await;
                    let resume = sender.failed_tag().map_or(after_sent, |tag| tag.min(after_sent));
                    return Err(partial(path, &sender, &sent, resume, csv_error(e)));
                }
            }
        }
        rejects.finish().map_err(csv_error)?;
        tally = importer.take_tally();
    }
    if let Err(e) = sender.finish(&mut progress).await {
        let resume = sender.failed_tag().unwrap_or(0);
        return Err(partial(path, &sender, &sent, resume, e));
    }
    progress.finish(tally.rows);
    let summary = Summary {
        rows: tally.rows,
        points: tally.points,
        series: tally.series(),
        duplicates: tally.duplicates(),
        rejected: rejects.count(),
        requests: sender.acked().len() as u64,
        expired: sender.acked().iter().map(|(_, r)| r.expired_rows).sum(),
    };
    Ok((summary, skipped_columns))
}

/// Most bytes of encoded requests an import keeps from its check pass; a larger file is read
/// a second time to send it, so memory stays bounded whatever the file's size.
const KEEP_CHECKED_BYTES: usize = 256 << 20;

/// The checked requests of a file, while they fit in [`KEEP_CHECKED_BYTES`].
struct Kept {
    /// `None` once the budget is exceeded.
    chunks: Option<Vec<Chunk>>,
    bytes: usize,
}

impl Default for Kept {
    fn default() -> Self {
        Self { chunks: Some(Vec::new()), bytes: 0 }
    }
}

impl Kept {
    fn push(&mut self, chunks: impl IntoIterator<Item = Chunk>) {
        for chunk in chunks {
            let Some(kept) = &mut self.chunks else { return };
            self.bytes += prost::Message::encoded_len(&chunk.request);
            if self.bytes > KEEP_CHECKED_BYTES {
                self.chunks = None;
                return;
            }
            kept.push(chunk);
        }
    }
}

/// Sends one chunk tagged by its first line; remembers its last line and row count.
async fn send(
    sender: &mut Sender,
    chunk: Chunk,
    sent: &mut BTreeMap<u64, (u64, u64)>,
    progress: &mut Progress,
    path: &Path,
) -> Result<(), CliError> {
    sent.insert(chunk.first_line, (chunk.last_line, chunk.rows));
    if let Err(e) = sender.send_tagged(chunk.request, chunk.first_line, progress).await {
        let resume = sender.failed_tag().unwrap_or(chunk.first_line);
        return Err(partial(path, sender, sent, resume, e));
    }
    Ok(())
}

/// The error of an import that stopped after storing some rows (or none).
fn partial(path: &Path, sender: &Sender, sent: &BTreeMap<u64, (u64, u64)>, resume: u64, cause: CliError) -> CliError {
    let stored: u64 = sender.acked().iter().filter_map(|(tag, _)| sent.get(tag)).map(|(_, rows)| rows).sum();
    if stored == 0 {
        return match cause {
            CliError::Csv { path, source } => CliError::NothingWritten { path, source },
            other => other,
        };
    }
    CliError::PartialImport { path: PathBuf::from(path), stored, resume, cause: Box::new(cause) }
}
