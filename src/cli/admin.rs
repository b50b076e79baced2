//! `isobar admin flush|resume|compact|stats|verify`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Subcommand;
use isobar_proto::v1 as pb;
use isobar_storage::sst::{BlockCache, SstReader};

use super::CliError;
use super::args::{OutputFormat, RangeArgs};
use super::output::{Cell, listing, print_all};
use crate::client::Client;

/// `isobar admin ...`.
#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum AdminCommand {
    /// Flush memtables to SSTables now.
    #[command(after_help = "Examples:\n  isobar admin flush\n  isobar admin flush --table trucks")]
    Flush {
        /// Only this table (default: all).
        #[arg(long)]
        table: Option<String>,
    },
    /// Take writes again after a WAL failure or a full disk, now, without a restart (the
    /// server also retries by itself with back-off). Free space first; exits non-zero with
    /// the reason while the cause persists.
    #[command(after_help = "Example:\n  isobar admin resume")]
    Resume,
    /// Compact a table's files now.
    #[command(after_help = "\
Examples:
  isobar admin compact trucks
  isobar admin compact trucks --family gps --from 2024-05-01 --to 2024-05-02")]
    Compact {
        /// Table name.
        table: String,
        /// Only this family (default: all).
        #[arg(long)]
        family: Option<String>,
        /// Only files overlapping this time range.
        #[command(flatten)]
        range: RangeArgs,
    },
    /// Show series, points, files and bytes per table and family.
    #[command(after_help = "Examples:\n  isobar admin stats\n  isobar admin stats --table weather --format json")]
    Stats {
        /// Only this table (default: all).
        #[arg(long)]
        table: Option<String>,
    },
    /// Check every SSTable of a data directory: every block's checksum, decoding and
    /// statistics. Offline: it takes the directory's LOCK and refuses while a server has the
    /// database open (stop it, or use `isobar snapshot create` + `isobar snapshot verify`).
    #[command(after_help = "Example:\n  isobar admin verify --data-dir ./isobar-data")]
    Verify {
        /// The data directory.
        #[arg(long, default_value = "./isobar-data", value_name = "DIR")]
        data_dir: PathBuf,
    },
}

impl AdminCommand {
    /// The wire request of `compact`, if this is one.
    pub fn compact_request(&self) -> Result<Option<pb::CompactRequest>, CliError> {
        Ok(match self {
            AdminCommand::Compact { table, family, range } => Some(pb::CompactRequest {
                table: table.clone(),
                family: family.clone(),
                range: Some(range.to_proto()?),
            }),
            _ => None,
        })
    }
}

/// Runs `isobar admin flush|compact|stats` against the server.
pub async fn run(command: &AdminCommand, client: &mut Client, format: OutputFormat) -> Result<(), CliError> {
    match command {
        AdminCommand::Flush { table } => {
            let request = pb::FlushRequest { table: table.clone().unwrap_or_default() };
            let r = client.admin.flush(request).await?.into_inner();
            eprintln!("flushed {} families: {} files, {} bytes", r.families_flushed, r.files_written, r.bytes_written);
            Ok(())
        }
        AdminCommand::Resume => {
            let r = client.admin.resume_writes(pb::ResumeWritesRequest {}).await?.into_inner();
            let said = match r.outcome.as_str() {
                "not_needed" => "writes were not refused: nothing to resume",
                "flushes_retried" => "failing flushes retried: writes are taken",
                "wal_restarted" => "memtables flushed and the WAL restarted: writes are taken",
                other => other,
            };
            eprintln!("{said}");
            Ok(())
        }
        AdminCommand::Compact { .. } => {
            let request =
                command.compact_request()?.ok_or(CliError::Argument { arg: "compact", reason: "no request" })?;
            let r = client.admin.compact(request).await?.into_inner();
            eprintln!(
                "compacted {} files ({} bytes) into {} files ({} bytes)",
                r.files_in, r.bytes_in, r.files_out, r.bytes_out
            );
            Ok(())
        }
        AdminCommand::Stats { table } => {
            let request = pb::StatsRequest { table: table.clone().unwrap_or_default() };
            let r = client.admin.stats(request).await?.into_inner();
            let rows: Vec<Vec<Cell>> = r
                .tables
                .iter()
                .flat_map(|t| {
                    t.families.iter().map(|f| {
                        vec![
                            Cell::Text(t.table.clone()),
                            Cell::Text(f.family.clone()),
                            Cell::Count(f.series),
                            Cell::Count(f.rows),
                            Cell::Count(f.files),
                            Cell::Count(f.bytes),
                            Cell::Count(f.memtable_bytes),
                            Cell::Count(f.windows),
                            Cell::Count(f.pending_compaction_bytes),
                        ]
                    })
                })
                .collect();
            let columns = [
                "table",
                "family",
                "series",
                "file_rows",
                "files",
                "file_bytes",
                "memtable_bytes",
                "windows",
                "pending_compaction_bytes",
            ];
            let batch = listing(&columns, &rows)?;
            print_all(format, &batch.schema(), &[batch])?;
            if format == OutputFormat::Table {
                println!(
                    "WAL: {} bytes on disk; memtables: {} bytes; last sequence: {}",
                    r.wal_bytes, r.memtable_bytes, r.last_sequence
                );
            }
            Ok(())
        }
        AdminCommand::Verify { data_dir } => verify(data_dir, format),
    }
}

/// `isobar admin verify`: opens and checks every SSTable under `<data_dir>/sst`, offline, holding
/// the directory's LOCK so that no compaction removes a file under it (see [`super::data_lock`]).
pub fn verify(data_dir: &Path, format: OutputFormat) -> Result<(), CliError> {
    let _lock = super::data_lock::lock_data_dir(data_dir)?;
    let dir = data_dir.join("sst");
    let io = |source| CliError::Io { path: dir.clone(), source };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sst"))
        .collect();
    files.sort();
    let cache = Arc::new(BlockCache::new(8 << 20));
    let mut rows = Vec::new();
    let mut damaged = 0;
    for (i, path) in files.iter().enumerate() {
        let (status, detail, pages, file_rows) = match SstReader::open(path, i as u64, cache.clone()) {
            Err(e) => ("damaged", e.to_string(), 0, 0),
            Ok(reader) => {
                let report = reader.verify();
                let detail = report.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                (if report.is_ok() { "ok" } else { "damaged" }, detail, report.pages, report.rows)
            }
        };
        if status != "ok" {
            damaged += 1;
        }
        rows.push(vec![
            Cell::Text(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
            Cell::Text(status.into()),
            Cell::Count(pages),
            Cell::Count(file_rows),
            Cell::Text(detail),
        ]);
    }
    let batch = listing(&["file", "status", "pages", "rows", "problems"], &rows)?;
    print_all(format, &batch.schema(), &[batch])?;
    if damaged > 0 {
        return Err(CliError::Damaged { files: damaged, checked: files.len() });
    }
    eprintln!("{} SSTables checked under {}: all sound", files.len(), dir.display());
    Ok(())
}
