//! `isobar export`: Parquet files written by the server under its export directory (`--dest`),
//! or streamed to this machine and written here (`--to-local`, [`local`]). Both write the same
//! layout with the same code ([`isobar_query::export`]): partitions, column names and file
//! sizes as the flags say.

pub mod local;

use std::path::PathBuf;

use clap::{ArgGroup, Args, ValueEnum};
use isobar_proto::v1 as pb;
use isobar_query::ExportQuery;
use isobar_query::export::{MIN_TARGET_FILE_BYTES, Naming, Partition, Partitioning};
use isobar_storage::TimeRange;

use super::CliError;
use super::args::{ColumnsArgs, OutputFormat, RangeArgs, SelectorArgs};
use super::output::{Cell, listing, print_all};
use super::progress::Progress;
use crate::client::Client;

/// `--partition`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum PartitionArg {
    /// Chosen from the data: none when small or within a day, day up to 31 days, month up to
    /// two years, year beyond.
    #[default]
    Auto,
    /// No directories: DIR/part-N.parquet.
    None,
    /// DIR/date=YYYY-MM-DD/.
    Day,
    /// DIR/month=YYYY-MM/.
    Month,
    /// DIR/year=YYYY/.
    Year,
}

impl From<PartitionArg> for Partitioning {
    fn from(p: PartitionArg) -> Self {
        match p {
            PartitionArg::Auto => Partitioning::Auto,
            PartitionArg::None => Partitioning::None,
            PartitionArg::Day => Partitioning::Day,
            PartitionArg::Month => Partitioning::Month,
            PartitionArg::Year => Partitioning::Year,
        }
    }
}

impl PartitionArg {
    fn to_proto(self) -> pb::ExportPartition {
        match self {
            PartitionArg::Auto => pb::ExportPartition::Auto,
            PartitionArg::None => pb::ExportPartition::None,
            PartitionArg::Day => pb::ExportPartition::Day,
            PartitionArg::Month => pb::ExportPartition::Month,
            PartitionArg::Year => pb::ExportPartition::Year,
        }
    }
}

/// `--naming`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum NamingArg {
    /// family.column (quote it in SQL: "obs.temp").
    #[default]
    Dotted,
    /// family_column (plain SQL identifiers).
    Underscore,
    /// One set of files per family in DIR/<family>/, columns under their bare names.
    Family,
}

impl From<NamingArg> for Naming {
    fn from(n: NamingArg) -> Self {
        match n {
            NamingArg::Dotted => Naming::Dotted,
            NamingArg::Underscore => Naming::Underscore,
            NamingArg::Family => Naming::Family,
        }
    }
}

impl NamingArg {
    fn to_proto(self) -> pb::ExportColumnNaming {
        match self {
            NamingArg::Dotted => pb::ExportColumnNaming::Dotted,
            NamingArg::Underscore => pb::ExportColumnNaming::Underscore,
            NamingArg::Family => pb::ExportColumnNaming::Family,
        }
    }
}

/// `--target-file-size`: a byte size of at least 64 KiB.
fn parse_file_size(s: &str) -> Result<u64, String> {
    let size = s.parse::<crate::config::ByteSize>().map_err(|e| format!("\"{s}\" is not {}", e.expected))?.0;
    if size < MIN_TARGET_FILE_BYTES {
        return Err(format!("{size} bytes is below the smallest target, 64KiB"));
    }
    Ok(size)
}

/// Arguments of `isobar export`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(group(ArgGroup::new("destination").required(true).args(["dest", "to_local"])))]
#[command(after_help = "\
With --dest the server writes the files under its export directory (server.export_dir; needs
admin on the table). With --to-local the rows are streamed here and written into DIR on this
machine (needs only view on the table). Both write the same layout:

  DIR/[<family>/][date=YYYY-MM-DD/ | month=YYYY-MM/ | year=YYYY/]part-N.parquet

--partition auto (the default) looks at the data the export holds: no partitions when it is
small (at most 4 Mi cells, rows times columns) or spans less than a day, by day up to 31 days,
by month up to two years, by year beyond. A file ends and the next part-N starts once it reaches
--target-file-size (default 128MiB) or holds --max-rows-per-file rows. A destination must be
empty; --overwrite replaces a previous export there (and refuses if it holds anything else).

Examples:
  isobar export weather --all --from 2024-05-01 --to 2024-06-01 --dest may-2024
  isobar export weather --all --to-local ./weather --naming underscore
  isobar export trucks --prefix truck_00 -c gps.* --dest gps --partition month --overwrite
  isobar export trucks --all --to-local ./trucks --naming family --target-file-size 256MiB -v
Then: duckdb -c \"select count(*) from read_parquet('weather/**/*.parquet', hive_partitioning=true)\"")]
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
    /// Destination directory on the server, relative to its export directory.
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,
    /// Write the files on this machine, into DIR (streamed from the server).
    #[arg(long, value_name = "DIR")]
    pub to_local: Option<PathBuf>,
    /// Directories by UTC period.
    #[arg(long, value_enum, default_value_t = PartitionArg::Auto)]
    pub partition: PartitionArg,
    /// Column names in the files.
    #[arg(long, value_enum, default_value_t = NamingArg::Dotted)]
    pub naming: NamingArg,
    /// Start the next file once one reaches about SIZE (e.g. 64MiB, 1GiB; at least 64KiB;
    /// default 128MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_file_size)]
    pub target_file_size: Option<u64>,
    /// At most this many rows per Parquet file (0: the default, 8 Mi).
    #[arg(long, default_value_t = 0)]
    pub max_rows_per_file: u64,
    /// Replace the previous export in the destination (only what an export writes: anything
    /// else there refuses the export and is left alone).
    #[arg(long)]
    pub overwrite: bool,
    /// Show progress while the export runs.
    #[arg(long)]
    pub progress: bool,
    /// List every file written (path, rows, bytes) instead of a one-line summary.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

impl ExportArgs {
    /// The wire request of a server export; the destination must be a relative path without
    /// `..`.
    pub fn request(&self) -> Result<pb::ExportRequest, CliError> {
        use std::path::Component;
        let bad = |reason| CliError::Argument { arg: "--dest", reason };
        let dest = self.dest.as_ref().ok_or(bad("is needed for an export on the server (or use --to-local DIR)"))?;
        if !dest.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) {
            return Err(bad("must be a relative path inside the export directory, without .."));
        }
        let destination = dest.to_str().ok_or(bad("must be valid UTF-8"))?.to_owned();
        Ok(pb::ExportRequest {
            table: self.table.clone(),
            selector: Some(self.selector.to_proto()),
            range: Some(self.range.to_proto()?),
            columns: self.columns.columns.clone(),
            destination,
            format: pb::ExportFormat::Parquet.into(),
            max_rows_per_file: self.max_rows_per_file,
            partition: self.partition.to_proto().into(),
            target_file_size_bytes: self.target_file_size.unwrap_or(0),
            overwrite: self.overwrite,
            column_naming: self.naming.to_proto().into(),
        })
    }

    /// The export query of a local export (the same defaults as the server's).
    pub fn query(&self) -> Result<ExportQuery, CliError> {
        let mut q = ExportQuery::new(&self.table);
        q.selector = self.selector.selector();
        let (from, to) = self.range.bounds()?;
        q.range = TimeRange::new(from.unwrap_or(i64::MIN), to.unwrap_or(i64::MAX));
        q.columns = self.columns.columns.clone();
        if self.max_rows_per_file > 0 {
            q.file_rows = self.max_rows_per_file;
        }
        if let Some(bytes) = self.target_file_size {
            q.target_file_bytes = bytes;
        }
        q.partition = self.partition.into();
        q.naming = self.naming.into();
        q.overwrite = self.overwrite;
        Ok(q)
    }
}

/// What an export wrote, for printing: where, how, and each file.
struct Written {
    dest: String,
    /// Under the server's export directory (else on this machine).
    on_server: bool,
    partition: Option<Partition>,
    rows: u64,
    bytes: u64,
    files: Vec<(String, u64, u64)>,
}

/// `exported R rows to F files (B bytes) in DEST`.
fn summary_line(w: &Written) -> String {
    let files = w.files.len();
    let plural = if files == 1 { "" } else { "s" };
    let place = if w.on_server { " (in the server's export directory)" } else { "" };
    format!("exported {} rows to {files} file{plural} ({} bytes) in {}{place}", w.rows, w.bytes, w.dest)
}

/// Prints `w`: the summary line (a one-row listing in csv and json), or with `verbose` every
/// file, the summary going to standard error.
fn report(w: &Written, format: OutputFormat, verbose: bool) -> Result<(), CliError> {
    if verbose {
        let rows: Vec<Vec<Cell>> = w
            .files
            .iter()
            .map(|(path, rows, bytes)| vec![Cell::Text(path.clone()), Cell::Count(*rows), Cell::Count(*bytes)])
            .collect();
        let batch = listing(&["file", "rows", "bytes"], &rows)?;
        print_all(format, &batch.schema(), &[batch])?;
        eprintln!("{}", summary_line(w));
        return Ok(());
    }
    if format == OutputFormat::Table {
        println!("{}", summary_line(w));
        return Ok(());
    }
    let partition = w.partition.map(Partition::name).unwrap_or("unknown").to_owned();
    let row = vec![
        Cell::Text(w.dest.clone()),
        Cell::Text(partition),
        Cell::Count(w.files.len() as u64),
        Cell::Count(w.rows),
        Cell::Count(w.bytes),
    ];
    let batch = listing(&["dest", "partition", "files", "rows", "bytes"], &[row])?;
    print_all(format, &batch.schema(), &[batch])?;
    Ok(())
}

/// The resolved partitioning of a wire answer (`None` from a server that predates it).
fn partition_from_proto(value: i32) -> Option<Partition> {
    match pb::ExportPartition::try_from(value) {
        Ok(pb::ExportPartition::None) => Some(Partition::None),
        Ok(pb::ExportPartition::Day) => Some(Partition::Day),
        Ok(pb::ExportPartition::Month) => Some(Partition::Month),
        Ok(pb::ExportPartition::Year) => Some(Partition::Year),
        _ => None,
    }
}

/// Runs `isobar export`.
pub async fn run(args: &ExportArgs, client: &mut Client, format: OutputFormat) -> Result<(), CliError> {
    if let Some(dir) = &args.to_local {
        let summary = local::run(args, client, dir).await?;
        let written = Written {
            dest: dir.display().to_string(),
            on_server: false,
            partition: Some(summary.partition),
            rows: summary.rows,
            bytes: summary.bytes,
            files: summary.files.iter().map(|f| (f.path.display().to_string(), f.rows, f.bytes)).collect(),
        };
        return report(&written, format, args.verbose);
    }
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
    let dest = args.dest.as_ref().map(|d| d.display().to_string()).unwrap_or_default();
    let written = Written {
        dest,
        on_server: true,
        partition: partition_from_proto(response.partition),
        rows: response.rows,
        bytes: response.bytes,
        files: response.files.into_iter().map(|f| (f.path, f.rows, f.bytes)).collect(),
    };
    report(&written, format, args.verbose)
}
