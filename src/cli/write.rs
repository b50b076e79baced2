//! `isobar write`: file import (CSV, JSON Lines, Parquet) or generated load.

use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, ValueEnum};
use isobar_ingest::convert::{batch_to_request, request_rows};
use isobar_proto::v1 as pb;

use super::CliError;
use super::import::{ImportArgs, ImportOptions, Importer, open_records};
use super::progress::Progress;
use super::sender::Sender;
use crate::client::Client;

/// Built-in data generators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Generator {
    /// Truck telematics: table `iot`, families `readings` (latitude, longitude, elevation,
    /// velocity, heading, grade, fuel_consumption) and `diagnostics` (load, fuel_state, status);
    /// 1,000 trucks x one row every 10 s from 2024-01-01 at scale 1.
    Iot,
    /// Weather stations: table `weather`, family `weather` (temperature, humidity, pressure,
    /// wind_speed, wind_dir, precipitation); 500 stations x one row per minute at scale 1.
    Weather,
}

/// Arguments of `isobar write`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(group(ArgGroup::new("source").required(true).args(["file", "generate"])))]
#[command(after_help = "\
CSV import (--file): a header line, then one row per line. The header names the series column
(`series`), the timestamp column (`ts`) and columns as <family>.<column>, optionally with
:<type> (f64, i64, bool, string; else the table's type), so `isobar scan --format csv` output
imports back. Other files are read with flags: --skip-lines, --map 'Src Col=family.column'
(with any --map, unmapped columns are skipped), --series KEY or --series '{station}-{id}',
--ts-column or --date-column + --time-column, --ts-format (strftime), --tz (IANA zone or
offset; local times a DST change skips or repeats are refused), --ts-unit for integers (without
it an integer implausible as nanoseconds is refused), --null-values. Hour-ending 24:00 is the
midnight ending the day. An empty field is null (not written). Errors name the line and column.

JSON Lines (.jsonl, .ndjson) and Parquet (.parquet) files import with the same flags; the format
comes from the name, or from --file-format csv|jsonl|parquet (standard input is csv unless given;
--format is the global output format of client commands, not the file's).
JSON Lines: one object per line, the keys of the first object are the header; values are numbers,
strings, booleans or null (null is an empty field); a nested value, or a key the first object
lacks (without --map), is refused with its line. Parquet: the columns are the header, timestamp
columns are instants (no --ts-format needed), nulls are empty fields, errors name the row; the
files of `isobar export` (series, ts, family.column) import back with no flags. See docs/import.md.

Examples:
  isobar write --table weather --file readings.csv
  isobar write --table weather --file - < readings.csv      # read standard input
  isobar write --table weather --file readings.csv --dry-run  # check the file only
  isobar write --table weather --file epoch.csv --ts-unit s
  isobar write --table tmy3 --file 723170TYA.CSV --skip-lines 1 --series 723170 \\
    --date-column 'Date (MM/DD/YYYY)' --time-column 'Time (HH:MM)' \\
    --ts-format '%m/%d/%Y %H:%M' --tz Etc/GMT+5 --map 'Dry-bulb (C)=met.temp_c' --null-values -9900
  isobar write --table weather --file readings.jsonl --series '{station}' --ts-column time \\
    --map temp=env.temp_c --map rh=env.rh      # lines such as {\"station\":\"KSEA\",\"time\":...,\"temp\":11.5}
  zcat log.ndjson.gz | isobar write --table weather --file - --file-format jsonl
  isobar write --table weather --file export/part-0.parquet   # a file of `isobar export`, as is
  isobar write --table weather --file frame.parquet --series '{station}' --ts-column time \\
    --map temp=env.temp_c
  isobar write --generate iot --scale 0.1 --duration 1h     # creates table `iot` if missing
  isobar write --generate weather --scale 0.5 --seed 7     # table `weather`, 2 days of minutes

A progress bar is drawn on standard error when it is a terminal. A write the server refuses as
busy (RESOURCE_EXHAUSTED) is retried after the server's hint, up to 10 times.")]
pub struct WriteArgs {
    /// Target table (required with --file; the generators use their own table).
    #[arg(long, short = 't')]
    pub table: Option<String>,
    /// File to import (CSV, JSON Lines or Parquet: see --file-format); `-` reads standard input.
    #[arg(long, value_name = "FILE", requires = "table")]
    pub file: Option<PathBuf>,
    /// Generate synthetic data instead of reading a file.
    #[arg(long, value_enum)]
    pub generate: Option<Generator>,
    /// Size of the generated fleet relative to the generator's base size (> 0).
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    pub scale: f64,
    /// Length of generated history from 2024-01-01T00:00:00Z (default: the workload's, 12 h
    /// for iot and 2 days for weather).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<crate::config::DurationValue>,
    /// Seed of the generators' random numbers (default: the workload's; same seed, same data).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Rows per write request.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub rows_per_request: u64,
    /// Only read and check the file, print what would be written, and exit (no server).
    #[arg(long, requires = "file")]
    pub dry_run: bool,
    /// Write requests in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: u64,
    /// How to read the file.
    #[command(flatten)]
    pub import: ImportArgs,
}

/// A positive, finite scale factor.
fn parse_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("\"{s}\" is not a positive number such as 0.5, 1 or 10")),
    }
}

/// Runs `isobar write --dry-run`: reads and checks the file, writes nothing.
pub fn dry_run(args: &WriteArgs) -> Result<(), CliError> {
    let (Some(path), Some(table)) = (&args.file, &args.table) else {
        return Err(CliError::Argument { arg: "--dry-run", reason: "needs --file and --table" });
    };
    let options = ImportOptions::from_args(&args.import)
        .map_err(|source| CliError::Csv { path: path.clone(), source: Box::new(source) })?;
    let summary = check_csv(path, table, args.rows_per_request, &options)?;
    println!(
        "{}: {} rows, {} points, {} series ({} series batches) in {} requests (not written: --dry-run)",
        path.display(),
        summary.rows,
        summary.points,
        summary.series,
        summary.batches,
        summary.requests
    );
    Ok(())
}

/// Runs `isobar write`: imports the file or generates the workload.
pub async fn run(args: &WriteArgs, client: &Client) -> Result<(), CliError> {
    let mut sender = Sender::new(client, args.concurrency as usize);
    if let Some(kind) = args.generate {
        let spec = workload_spec(args, kind);
        let create = pb::CreateTableRequest {
            table: Some(isobar_wire::table::table_spec_to_proto(spec.table_spec())),
            if_not_exists: true,
        };
        client.admin.clone().create_table(create).await?;
        let per_request = usize::try_from(args.rows_per_request).unwrap_or(usize::MAX);
        let ts_per_batch = (per_request / spec.series.max(1)).max(1);
        let mut progress = Progress::new(format!("write {}", spec.kind), "rows", Some(spec.rows()));
        let generator = isobar_workload::Generator::new(spec.clone()).ts_per_batch(ts_per_batch);
        for batch in generator {
            sender.send(batch_to_request(batch), &mut progress).await?;
        }
        let totals = sender.finish(&mut progress).await?;
        progress.finish(totals.rows);
        eprintln!("wrote {} points in {} requests to table {}", totals.points, totals.requests, spec.kind);
        return Ok(());
    }
    let (Some(path), Some(table)) = (&args.file, &args.table) else {
        return Err(CliError::Argument { arg: "--file", reason: "give --file and --table, or --generate" });
    };
    import_file(args, path, table, client, sender).await
}

/// Imports one file and prints the summary.
async fn import_file(
    args: &WriteArgs,
    path: &Path,
    table: &str,
    client: &Client,
    sender: Sender,
) -> Result<(), CliError> {
    let rows_per_request = usize::try_from(args.rows_per_request).unwrap_or(usize::MAX);
    let (summary, skipped_columns) =
        super::import::run::import(&args.import, path, table, rows_per_request, client, sender).await?;
    eprintln!("{}", summary.line(path, table, &args.import, skipped_columns));
    Ok(())
}

/// The workload `kind` sized by the arguments.
fn workload_spec(args: &WriteArgs, kind: Generator) -> isobar_workload::Spec {
    let mut spec = match kind {
        Generator::Iot => isobar_workload::Spec::iot(),
        Generator::Weather => isobar_workload::Spec::weather(),
    }
    .scale(args.scale);
    if let Some(seed) = args.seed {
        spec = spec.seed(seed);
    }
    if let Some(d) = args.duration {
        let interval = u128::try_from(spec.interval_ns).unwrap_or(1).max(1);
        spec = spec.timestamps(usize::try_from(d.0.as_nanos() / interval).unwrap_or(usize::MAX).max(1));
    }
    spec
}

/// What a file would write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CsvSummary {
    /// Rows.
    pub rows: usize,
    /// Non-null cells.
    pub points: usize,
    /// Distinct series keys.
    pub series: usize,
    /// Series batches over all requests.
    pub batches: usize,
    /// Write requests.
    pub requests: usize,
}

/// Reads the whole file at `path` (`-`: standard input; any format) and converts it as `write`
/// would; the header (or, for Parquet, the file's column types) must give every type (no server
/// is asked).
pub fn check_csv(
    path: &Path,
    table: &str,
    rows_per_request: u64,
    options: &ImportOptions,
) -> Result<CsvSummary, CliError> {
    let csv_error = |source| CliError::Csv { path: path.to_owned(), source: Box::new(source) };
    let records = open_records(path, options).map_err(csv_error)?;
    let rows_per_request = usize::try_from(rows_per_request).unwrap_or(usize::MAX);
    let mut importer = Importer::from_records(records, table, options, None, rows_per_request).map_err(csv_error)?;
    let mut summary = CsvSummary::default();
    while let Some(chunk) = importer.next_chunk(&mut Err).map_err(csv_error)? {
        summary.requests += 1;
        summary.rows += request_rows(&chunk.request);
        summary.batches += chunk.request.batches.len();
        summary.points += usize::try_from(chunk.points).unwrap_or(usize::MAX);
    }
    summary.series = usize::try_from(importer.series()).unwrap_or(usize::MAX);
    Ok(summary)
}
