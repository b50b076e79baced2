//! `isobar inspect FILE.sst`: dumps an SSTable without a server: file facts, schema, the series
//! index with every chunk and its statistics, optionally the first rows, and a full check.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampNanosecondArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use clap::Args;
use isobar_storage::sst::{BlockCache, ColumnStats, SstReader, ValueStats};
use isobar_storage::{SeriesSelector, TimeRange};

use super::CliError;
use super::args::OutputFormat;
use super::output::{Cell, listing, print_all};

/// Arguments of `isobar inspect`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "\
Examples:
  isobar inspect isobar-data/sst/00000000000000000042.sst
  isobar inspect 00000000000000000042.sst --series --rows 20
  isobar inspect 00000000000000000042.sst --verify")]
pub struct InspectArgs {
    /// The SSTable file.
    pub file: PathBuf,
    /// List the series index: every chunk (page, rows, time range) with its column statistics.
    #[arg(long)]
    pub series: bool,
    /// Also print the first N rows of each series.
    #[arg(long, value_name = "N")]
    pub rows: Option<u64>,
    /// Read and check every block (checksums, decoding, statistics).
    #[arg(long)]
    pub verify: bool,
}

/// Runs `isobar inspect`.
pub fn run(args: &InspectArgs, format: OutputFormat) -> Result<(), CliError> {
    let sst_error = |source| CliError::Sst { path: args.file.clone(), source };
    let reader = SstReader::open(&args.file, 0, Arc::new(BlockCache::new(16 << 20))).map_err(sst_error)?;
    let info = reader.info();
    let facts = [
        ("format_version", info.format_version.to_string()),
        ("family_id", info.family.to_string()),
        ("bytes", info.size.to_string()),
        ("rows", info.rows.to_string()),
        ("series", info.series.to_string()),
        ("pages", info.pages.to_string()),
        ("min_ts", info.min_ts.to_string()),
        ("max_ts", info.max_ts.to_string()),
        ("seq", format!("{}..={}", info.min_seq, info.max_seq)),
        ("created_ms", info.created_ms.to_string()),
        ("filter_bits", reader.filter_bits().to_string()),
    ];
    let rows: Vec<Vec<Cell>> =
        facts.iter().map(|(k, v)| vec![Cell::Text((*k).into()), Cell::Text(v.clone())]).collect();
    let batch = listing(&["property", "value"], &rows)?;
    print_all(format, &batch.schema(), &[batch])?;

    let columns: Vec<Vec<Cell>> = info
        .columns
        .iter()
        .map(|c| vec![Cell::Count(u64::from(c.id)), Cell::Text(c.name.clone()), Cell::Text(c.ty.to_string())])
        .collect();
    let batch = listing(&["column_id", "column", "type"], &columns)?;
    print_all(format, &batch.schema(), &[batch])?;

    if args.series {
        let mut rows = Vec::new();
        for entry in reader.series(&SeriesSelector::All) {
            for (i, chunk) in reader.chunks(&entry).iter().enumerate() {
                for (column, stats) in info.columns.iter().zip(&chunk.columns) {
                    rows.push(vec![
                        Cell::Text(entry.key.to_string()),
                        Cell::Count(i as u64),
                        Cell::Count(u64::from(chunk.page)),
                        Cell::Count(u64::from(chunk.rows)),
                        Cell::Int(Some(chunk.min_ts)),
                        Cell::Int(Some(chunk.max_ts)),
                        Cell::Text(column.name.clone()),
                        Cell::Text(stats_text(stats)),
                    ]);
                }
            }
        }
        let names = ["series", "chunk", "page", "rows", "min_ts", "max_ts", "column", "stats"];
        let batch = listing(&names, &rows)?;
        print_all(format, &batch.schema(), &[batch])?;
    }

    if let Some(n) = args.rows {
        let ids: Vec<_> = info.columns.iter().map(|c| c.id).collect();
        for entry in reader.series(&SeriesSelector::All) {
            let Some(run) = reader.read(&entry, TimeRange::ALL, &ids).map_err(sst_error)? else { continue };
            let take = run.ts.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            let mut fields = vec![
                Field::new("series", DataType::Utf8, false),
                Field::new("ts", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), false),
                Field::new("seq", DataType::UInt64, false),
            ];
            let mut arrays: Vec<ArrayRef> = vec![
                Arc::new(StringArray::from(vec![entry.key.to_string(); take])),
                Arc::new(TimestampNanosecondArray::from(run.ts[..take].to_vec()).with_timezone("UTC")),
                Arc::new(UInt64Array::from(run.seq[..take].to_vec())),
            ];
            for (id, array) in &run.columns {
                let name = info.columns.iter().find(|c| c.id == *id).map_or_else(|| id.to_string(), |c| c.name.clone());
                fields.push(Field::new(name, array.data_type().clone(), true));
                arrays.push(array.slice(0, take));
            }
            let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?;
            print_all(format, &batch.schema(), &[batch])?;
        }
    }

    if args.verify {
        let report = reader.verify();
        for problem in &report.problems {
            eprintln!("problem: {problem}");
        }
        eprintln!(
            "verified {} pages, {} blocks, {} bytes, {} rows: {}",
            report.pages,
            report.blocks,
            report.bytes,
            report.rows,
            if report.is_ok() { "sound" } else { "DAMAGED" }
        );
        if !report.is_ok() {
            return Err(CliError::Damaged { files: 1, checked: 1 });
        }
    }
    Ok(())
}

/// Statistics of one column of one chunk, as text.
fn stats_text(stats: &ColumnStats) -> String {
    let values = match &stats.values {
        ValueStats::None => String::new(),
        ValueStats::F64 { min, max, sum } => format!(" min={min} max={max} sum={sum}"),
        ValueStats::I64 { min, max, sum } => format!(" min={min} max={max} sum={sum}"),
        ValueStats::Bool { trues } => format!(" trues={trues}"),
    };
    format!("non_null={}{values}", stats.non_null)
}
