//! `isobar export`: Parquet export on the server.

use std::path::PathBuf;

use clap::Args;
use isobar_proto::v1 as pb;

use super::CliError;
use super::args::{ColumnsArgs, OutputFormat, RangeArgs, SelectorArgs};
use super::output::{Cell, listing, print_all};
use super::progress::Progress;
use crate::client::Client;

/// Arguments of `isobar export`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "\
The files are written by the server, under its export directory (server.export_dir).

Examples:
  isobar export weather --all --from 2024-05-01 --to 2024-06-01 --dest may-2024
  isobar export trucks --prefix truck_00 -c gps.* --dest gps --progress
Then: duckdb -c \"select count(*) from '<export_dir>/may-2024/*.parquet'\"")]
pub struct ExportArgs {
    /// Table name.
    pub table: String,
    /// Which series.
    #[command(flatten)]
    pub selector: SelectorArgs,
    /// Which times.
    #[command(flatten)]
    pub range: RangeArgs,
    /// Which columns.
    #[command(flatten)]
    pub columns: ColumnsArgs,
    /// Destination directory, relative to the server's export directory.
    #[arg(long, value_name = "DIR")]
    pub dest: PathBuf,
    /// At most this many rows per Parquet file (the last file of a day may hold fewer; 0: the
    /// server's choice).
    #[arg(long, default_value_t = 0)]
    pub max_rows_per_file: u64,
    /// Show progress while the export runs.
    #[arg(long)]
    pub progress: bool,
}

impl ExportArgs {
    /// The wire request; the destination must be a relative path without `..`.
    pub fn request(&self) -> Result<pb::ExportRequest, CliError> {
        use std::path::Component;
        let bad = |reason| CliError::Argument { arg: "--dest", reason };
        if !self.dest.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) {
            return Err(bad("must be a relative path inside the export directory, without .."));
        }
        let destination = self.dest.to_str().ok_or(bad("must be valid UTF-8"))?.to_owned();
        Ok(pb::ExportRequest {
            table: self.table.clone(),
            selector: Some(self.selector.to_proto()),
            range: Some(self.range.to_proto()),
            columns: self.columns.columns.clone(),
            destination,
            format: pb::ExportFormat::Parquet.into(),
            max_rows_per_file: self.max_rows_per_file,
        })
    }
}

/// Runs `isobar export`.
pub async fn run(args: &ExportArgs, client: &mut Client, format: OutputFormat) -> Result<(), CliError> {
    let request = args.request()?;
    let response = if args.progress {
        let mut stream = client.admin.export_with_progress(request).await?.into_inner();
        let mut progress = Progress::new(format!("export {}", args.table), "rows", None);
        let mut done = None;
        while let Some(event) = stream.message().await? {
            match event.event {
                Some(pb::export_event::Event::Progress(p)) => progress.set(p.rows),
                Some(pb::export_event::Event::Done(r)) => done = Some(r),
                None => {}
            }
        }
        let done = done.ok_or(CliError::Argument { arg: "--progress", reason: "the server ended without a result" })?;
        progress.finish(done.rows);
        done
    } else {
        client.admin.export(request).await?.into_inner()
    };
    let rows: Vec<Vec<Cell>> = response
        .files
        .iter()
        .map(|f| vec![Cell::Text(f.path.clone()), Cell::Count(f.rows), Cell::Count(f.bytes)])
        .collect();
    let batch = listing(&["file", "rows", "bytes"], &rows)?;
    print_all(format, &batch.schema(), &[batch])?;
    eprintln!("exported {} rows in {} files, {} bytes", response.rows, response.files.len(), response.bytes);
    Ok(())
}
