//! `isobar write`: CSV import or generated load.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, ValueEnum};
use isobar_ingest::convert::request_rows;
use isobar_proto::v1::column;

use super::CliError;
use super::csv::{CsvError, CsvReader};

/// Built-in data generators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Generator {
    /// Vehicle telematics: table `trucks`, families `gps` (lat, lon, speed, heading) and `diag`
    /// (fuel, load, engine_ok, status); 100 trucks x 1 row every 10 s per unit of scale.
    Iot,
    /// Weather stations: table `weather`, family `env` (temp_c, rh, pressure_hpa, wind_ms,
    /// raining); 50 stations x 1 row per minute per unit of scale.
    Weather,
}

/// Arguments of `isobar write`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(group(ArgGroup::new("source").required(true).args(["file", "generate"])))]
#[command(after_help = "\
CSV format (--file): the first line is a header
  series,ts,<family>.<column>:<type>,...
with <type> one of f64, i64, bool, string. Each other line is a row: series key, timestamp
(ns since the epoch or RFC 3339), one field per column; an empty field is null (not written);
quote fields containing commas with \"...\".

Examples:
  isobar write --table weather --file readings.csv
  isobar write --table weather --file - < readings.csv      # read standard input
  isobar write --table weather --file readings.csv --dry-run  # check the file only
  isobar write --generate iot --scale 2 --duration 1h       # creates table `trucks` if missing
  isobar write --generate weather --scale 0.5 --seed 7")]
pub struct WriteArgs {
    /// Target table (required with --file; the generators use their own table).
    #[arg(long, short = 't')]
    pub table: Option<String>,
    /// CSV file to import; `-` reads standard input.
    #[arg(long, value_name = "FILE", requires = "table")]
    pub file: Option<PathBuf>,
    /// Generate synthetic data instead of reading a file.
    #[arg(long, value_enum)]
    pub generate: Option<Generator>,
    /// Size of the generated fleet relative to the generator's base size (> 0).
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    pub scale: f64,
    /// Length of generated history, ending now.
    #[arg(long, default_value = "1h", value_name = "DURATION")]
    pub duration: crate::config::DurationValue,
    /// Seed of the generators' random numbers (same seed, same data).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Rows per write request.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub rows_per_request: u64,
    /// Only read and check the CSV file, print what would be written, and exit (no server).
    #[arg(long, requires = "file")]
    pub dry_run: bool,
    /// Write requests in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: u64,
}

/// A positive, finite scale factor.
fn parse_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("\"{s}\" is not a positive number such as 0.5, 1 or 10")),
    }
}

/// Runs `isobar write`.
pub fn run(args: &WriteArgs) -> Result<(), CliError> {
    if let (true, Some(path), Some(table)) = (args.dry_run, &args.file, &args.table) {
        let summary = check_csv(path, table, args.rows_per_request)?;
        println!(
            "{}: {} rows, {} points, {} series batches in {} requests (not written: --dry-run)",
            path.display(),
            summary.rows,
            summary.points,
            summary.batches,
            summary.requests
        );
        return Ok(());
    }
    Err(CliError::NotWired { command: "write", waiting_for: "the Ingest service" })
}

/// What a CSV file would write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CsvSummary {
    /// Rows.
    pub rows: usize,
    /// Non-null cells.
    pub points: usize,
    /// Series batches over all requests.
    pub batches: usize,
    /// Write requests.
    pub requests: usize,
}

/// Reads the whole CSV file at `path` (`-`: standard input) and converts it as `write` would.
pub fn check_csv(path: &Path, table: &str, rows_per_request: u64) -> Result<CsvSummary, CliError> {
    let csv_error = |source| CliError::Csv { path: path.to_owned(), source };
    let input: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(path).map_err(|source| csv_error(CsvError::Io { line: 0, source }))?;
        Box::new(BufReader::new(file))
    };
    let rows_per_request = usize::try_from(rows_per_request).unwrap_or(usize::MAX);
    let mut reader = CsvReader::new(input, table, rows_per_request).map_err(csv_error)?;
    let mut summary = CsvSummary::default();
    while let Some(request) = reader.next_request().map_err(csv_error)? {
        summary.requests += 1;
        summary.rows += request_rows(&request);
        summary.batches += request.batches.len();
        summary.points += request
            .batches
            .iter()
            .flat_map(|b| &b.columns)
            .map(|c| match &c.values {
                Some(v) => values_len(v) - unset_bits(&c.validity, values_len(v)),
                None => 0,
            })
            .sum::<usize>();
    }
    Ok(summary)
}

/// Value slots of a column.
fn values_len(values: &column::Values) -> usize {
    match values {
        column::Values::F64Values(v) => v.values.len(),
        column::Values::I64Values(v) => v.values.len(),
        column::Values::BoolValues(v) => v.values.len(),
        column::Values::StringValues(v) => v.values.len(),
    }
}

/// Rows a validity bitmap marks absent (0 for an empty bitmap).
fn unset_bits(validity: &[u8], rows: usize) -> usize {
    if validity.is_empty() {
        return 0;
    }
    let set: usize = validity.iter().map(|b| b.count_ones() as usize).sum();
    rows.saturating_sub(set)
}
