//! `isobar export --to-local DIR`: the rows streamed from the server (`Query/Scan`, so `view` on
//! the table is enough) and written as Parquet here, by the server's own writer
//! ([`isobar_query::export::ExportWriter`]): same partitions, names and file sizes.
//!
//! 1. DIR is checked (missing, empty, or with `--overwrite` holding only a previous export)
//!    before anything is read.
//! 2. `DescribeTable` gives the table, and the export is planned from it as the server plans
//!    one ([`isobar_query::export::groups`]), so clashing names are refused before a row moves.
//! 3. One scan per group (one, or one per family with `--naming family`) streams the rows;
//!    each scan reads one snapshot of the server.
//! 4. With `--partition auto` the first rows are held until the export is known to be small
//!    (the scans end within [`SMALL_EXPORT_CELLS`]: no partitions) or not (then two
//!    one-row-per-series scans, oldest and newest first, give the first and last times and the
//!    span decides): [`auto_partition`], the server's rule.
//! 5. A blocking thread writes the files, fed through a small channel (so a slow disk slows
//!    the stream instead of filling memory); a failure on either side removes what was written.

use std::collections::VecDeque;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use arrow_array::{Array, RecordBatch};
use isobar_proto::v1 as pb;
use isobar_proto::v1::ArrowBatch;
use isobar_query::export::{
    ExportGroup, ExportPlan, ExportWriter, Extent, Partition, SMALL_EXPORT_CELLS, auto_partition, check_destination,
    groups,
};
use isobar_query::{Error as ExportError, ExportQuery, ExportSummary};
use tokio::sync::mpsc;
use tonic::Streaming;

use super::ExportArgs;
use crate::cli::CliError;
use crate::cli::progress::Progress;
use crate::client::{ArrowReader, Client, collect};

/// Rows per scan batch asked of the server.
const BATCH_ROWS: u32 = 65_536;

/// Batches between the stream and the writer thread.
const CHANNEL_BATCHES: usize = 4;

/// Why a local export failed (besides the server's statuses, which stay [`CliError::Client`]).
#[derive(Debug, thiserror::Error)]
pub enum LocalExportError {
    /// The export could not be planned or its files written (names the path concerned).
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The server's description of the table cannot be used.
    #[error("the server's description of table {table} cannot be read: {source}")]
    Describe {
        /// The table.
        table: String,
        /// What is wrong with it.
        #[source]
        source: isobar_wire::table::TableError,
    },
    /// The writer thread stopped abnormally; what it wrote may remain in the directory.
    #[error("the export's writer thread failed: {0}")]
    Writer(String),
}

impl From<LocalExportError> for CliError {
    fn from(e: LocalExportError) -> Self {
        CliError::LocalExport(Box::new(e))
    }
}

/// A message to the writer thread.
enum Message {
    /// Rows of group `.0`.
    Batch(usize, RecordBatch),
    /// Every row was sent: finish the files.
    Done,
}

/// The scans of an export's groups, one after the other.
struct Scans<'a> {
    client: &'a mut Client,
    base: pb::ScanRequest,
    columns: Vec<Vec<String>>,
    next_group: usize,
    current: Option<(usize, Streaming<ArrowBatch>, ArrowReader)>,
    ready: VecDeque<(usize, RecordBatch)>,
}

impl Scans<'_> {
    /// The next non-empty batch and its group; `None` after the last scan ended.
    async fn next(&mut self) -> Result<Option<(usize, RecordBatch)>, CliError> {
        loop {
            if let Some(ready) = self.ready.pop_front() {
                return Ok(Some(ready));
            }
            let Some((group, stream, reader)) = &mut self.current else {
                let group = self.next_group;
                let Some(columns) = self.columns.get(group) else { return Ok(None) };
                self.next_group += 1;
                if columns.is_empty() {
                    continue; // a table without columns: nothing to scan
                }
                let request = pb::ScanRequest { columns: columns.clone(), ..self.base.clone() };
                let stream = self.client.query.scan(request).await?.into_inner();
                self.current = Some((group, stream, ArrowReader::new()));
                continue;
            };
            match stream.message().await? {
                Some(message) => {
                    let group = *group;
                    let batches = reader.push(message)?;
                    self.ready.extend(batches.into_iter().filter(|b| b.num_rows() > 0).map(|b| (group, b)));
                }
                None => self.current = None,
            }
        }
    }
}

/// The batch positions of the columns of each family among a group's `columns`
/// (`family.column`, after `series` and `ts`).
fn families_of(columns: &[String]) -> Vec<Vec<usize>> {
    let mut out: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, column) in columns.iter().enumerate() {
        let family = column.split_once('.').map_or(column.as_str(), |(f, _)| f);
        match out.iter_mut().find(|(f, _)| *f == family) {
            Some((_, at)) => at.push(i + 2),
            None => out.push((family, vec![i + 2])),
        }
    }
    out.into_iter().map(|(_, at)| at).collect()
}

/// Adds `batch` (`series`, `ts`, columns) to `extent` as the server's estimate counts: per
/// family, its rows (those with a value in one of its columns) times its columns plus two.
fn measure(extent: &mut Extent, batch: &RecordBatch, families: &[Vec<usize>]) {
    let Some(ts) = batch.columns().get(1).and_then(|c| c.as_primitive_opt::<TimestampNanosecondType>()) else {
        return;
    };
    let values = ts.values();
    let (Some(first), Some(last)) = (values.iter().min(), values.iter().max()) else { return };
    for at in families {
        let columns: Vec<_> = at.iter().filter_map(|i| batch.columns().get(*i)).collect();
        let rows = (0..batch.num_rows()).filter(|r| columns.iter().any(|c| c.is_valid(*r))).count();
        extent.add(*first, *last, rows as u64, at.len() as u64 + 2);
    }
}

/// The first and last times of the export, from the oldest and the newest row of each series.
async fn span(client: &mut Client, base: &pb::ScanRequest, columns: Vec<String>) -> Result<Extent, CliError> {
    let mut extent = Extent::default();
    for order in [pb::Order::Asc, pb::Order::Desc] {
        let request =
            pb::ScanRequest { columns: columns.clone(), limit_per_series: 1, order: order.into(), ..base.clone() };
        let (_, batches) = collect(client.query.scan(request).await?.into_inner()).await?;
        let families = families_of(&columns);
        for b in &batches {
            measure(&mut extent, b, &families);
        }
    }
    Ok(extent)
}

/// [`auto_partition`] of the export `scans` read: the batches read until the export is known to
/// be small (the scans ended) or not (then [`span`] asks for the first and last times), and the
/// partition. The batches are returned, to be written.
async fn choose_partition(
    scans: &mut Scans<'_>,
    planned: &[ExportGroup],
    base: &pb::ScanRequest,
) -> Result<(Partition, Vec<(usize, RecordBatch)>), CliError> {
    let families: Vec<Vec<Vec<usize>>> = planned.iter().map(|g| families_of(&g.columns)).collect();
    let mut extent = Extent::default();
    let mut held = Vec::new();
    while let Some((group, batch)) = scans.next().await? {
        measure(&mut extent, &batch, families.get(group).map_or(&[][..], Vec::as_slice));
        held.push((group, batch));
        if extent.cells > SMALL_EXPORT_CELLS {
            let every_column = planned.iter().flat_map(|g| g.columns.clone()).collect();
            let cells = extent.cells;
            extent = span(scans.client, base, every_column).await?;
            extent.cells = cells;
            break;
        }
    }
    Ok((auto_partition(&extent), held))
}

/// Runs a local export of `args` into `dir`.
pub async fn run(args: &ExportArgs, client: &mut Client, dir: &Path) -> Result<ExportSummary, CliError> {
    let q: ExportQuery = args.query()?;
    if q.range.is_empty() {
        let error = ExportError::EmptyRange { from: q.range.from, to: q.range.to };
        return Err(LocalExportError::from(error).into());
    }
    check_destination(dir, q.overwrite).map_err(LocalExportError::from)?;
    let described = client.admin.describe_table(pb::DescribeTableRequest { table: q.table.clone() }).await?;
    let info = described.into_inner().table.unwrap_or_default();
    let table = isobar_wire::table::table_info_to_def(info)
        .map_err(|source| LocalExportError::Describe { table: q.table.clone(), source })?;
    let planned = groups(&table, &q.columns, q.naming).map_err(LocalExportError::from)?;
    let base = pb::ScanRequest {
        table: q.table.clone(),
        selector: Some(args.selector.to_proto()),
        range: Some(args.range.to_proto()?),
        batch_rows: BATCH_ROWS,
        ..pb::ScanRequest::default()
    };
    let mut scans = Scans {
        client,
        base: base.clone(),
        columns: planned.iter().map(|g| g.columns.clone()).collect(),
        next_group: 0,
        current: None,
        ready: VecDeque::new(),
    };

    let (partition, held) = match q.partition.fixed() {
        Some(p) => (p, Vec::new()),
        None => choose_partition(&mut scans, &planned, &base).await?,
    };
    let plan = ExportPlan::new(&table, &q, partition).map_err(LocalExportError::from)?;

    let (tx, mut rx) = mpsc::channel::<Message>(CHANNEL_BATCHES);
    let (dest, overwrite) = (dir.to_path_buf(), q.overwrite);
    let writer = tokio::task::spawn_blocking(move || write(&dest, &plan, overwrite, &mut rx));
    let mut progress = args.progress.then(|| Progress::new(format!("export {}", q.table), "rows", None));
    let mut sent = 0u64;
    let fed: Result<(), CliError> = async {
        let mut send = async |group: usize, batch: RecordBatch| -> bool {
            sent += batch.num_rows() as u64;
            if let Some(p) = progress.as_mut() {
                p.set(sent);
            }
            tx.send(Message::Batch(group, batch)).await.is_ok()
        };
        for (group, batch) in held {
            if !send(group, batch).await {
                return Ok(()); // the writer stopped: its error says why
            }
        }
        while let Some((group, batch)) = scans.next().await? {
            if !send(group, batch).await {
                return Ok(());
            }
        }
        let _ = tx.send(Message::Done).await;
        Ok(())
    }
    .await;
    drop(tx);
    let written = writer.await.map_err(|e| LocalExportError::Writer(e.to_string()))?;
    let summary = match (fed, written) {
        (_, Err(error)) => return Err(LocalExportError::from(*error).into()),
        (Err(error), Ok(_)) => return Err(error),
        (Ok(()), Ok(Some(summary))) => summary,
        (Ok(()), Ok(None)) => {
            return Err(LocalExportError::Writer("it stopped before the last batch".into()).into());
        }
    };
    if let Some(p) = progress {
        p.finish(summary.rows);
    }
    Ok(summary)
}

/// The writer thread: writes what arrives until [`Message::Done`] (then the summary) or until
/// the channel closes first (the stream failed: what was written is removed, `None`).
fn write(
    dest: &Path,
    plan: &ExportPlan,
    overwrite: bool,
    rx: &mut mpsc::Receiver<Message>,
) -> Result<Option<ExportSummary>, Box<ExportError>> {
    let mut writer = ExportWriter::create(dest, plan, overwrite)?;
    while let Some(message) = rx.blocking_recv() {
        match message {
            Message::Batch(group, batch) => {
                if let Err(error) = writer.write(group, &batch) {
                    // Removing what was written is best effort: the write's error is the news.
                    let _ = writer.abort();
                    return Err(Box::new(error));
                }
            }
            Message::Done => return Ok(Some(writer.finish()?)),
        }
    }
    writer.abort()?;
    Ok(None)
}
