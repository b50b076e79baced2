//! `isobar snapshot create|list|delete|verify` (client commands) and `isobar restore` (offline).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use isobar_proto::v1 as pb;
use isobar_storage::{Db, Options, restore_checkpoint};

use super::CliError;
use super::args::OutputFormat;
use super::output::{Cell, listing, print_all};
use crate::client::Client;
use crate::snapshots::utc_text;

/// `isobar snapshot ...`.
#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum SnapshotCommand {
    /// Take a consistent snapshot of the running server's database (ingest goes on).
    #[command(after_help = "\
The snapshot is written on the server, under server.snapshot_dir (default <data_dir>/snapshots).
It holds every write acknowledged before the command was sent, and each idempotent producer's
mark exactly as of the rows it holds.

Examples:
  isobar snapshot create
  isobar snapshot create --name before-upgrade")]
    Create {
        /// Snapshot name: A-Z a-z 0-9 _ - . (default: the current UTC time, e.g. 20261121T043000.125Z).
        #[arg(long)]
        name: Option<String>,
    },
    /// List the server's snapshots.
    #[command(after_help = "Examples:\n  isobar snapshot list\n  isobar snapshot list --verify --format json")]
    List {
        /// Also read every file of every snapshot and check its checksum.
        #[arg(long)]
        verify: bool,
    },
    /// Delete one snapshot.
    #[command(after_help = "Example:\n  isobar snapshot delete 20261121T043000.125Z")]
    Delete {
        /// Snapshot name.
        name: String,
    },
    /// Check every file of one snapshot against its checksummed listing.
    #[command(after_help = "Example:\n  isobar snapshot verify before-upgrade")]
    Verify {
        /// Snapshot name.
        name: String,
    },
}

/// `isobar restore`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "\
Runs offline (no server needed). Checks every file of the snapshot against its listing, copies it
into --data-dir (which must be missing or empty), opens the result as a database and closes it.
Then start a server on it: isobar serve --data-dir NEW

Example:
  isobar restore /var/lib/isobar/snapshots/before-upgrade --data-dir /var/lib/isobar-restored")]
pub struct RestoreArgs {
    /// The snapshot directory (a directory holding a CHECKPOINT listing).
    #[arg(value_name = "SNAPSHOT_DIR")]
    pub snapshot: PathBuf,
    /// The new data directory; must be missing or empty.
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

/// A snapshot as a row of the listing.
fn row(s: &pb::SnapshotInfo) -> Vec<Cell> {
    let verified = match s.verified {
        None => "-",
        Some(true) => "ok",
        Some(false) => "DAMAGED",
    };
    vec![
        Cell::Text(s.name.clone()),
        Cell::Text(if s.created_ns == 0 { String::new() } else { utc_text(s.created_ns) }),
        Cell::Count(s.sequence),
        Cell::Count(s.files),
        Cell::Count(s.bytes),
        Cell::Text(s.tables.join(",")),
        Cell::Text(verified.into()),
        Cell::Text(s.problem.clone()),
    ]
}

/// Prints snapshots as a listing.
fn print(snapshots: &[pb::SnapshotInfo], format: OutputFormat) -> Result<(), CliError> {
    let rows: Vec<Vec<Cell>> = snapshots.iter().map(row).collect();
    let columns = ["name", "created", "sequence", "files", "bytes", "tables", "verified", "problem"];
    let batch = listing(&columns, &rows)?;
    print_all(format, &batch.schema(), &[batch])?;
    Ok(())
}

/// Runs `isobar snapshot ...` against the server.
pub async fn run(command: &SnapshotCommand, client: &mut Client, format: OutputFormat) -> Result<(), CliError> {
    match command {
        SnapshotCommand::Create { name } => {
            let r = client.admin.create_snapshot(pb::CreateSnapshotRequest { name: name.clone() }).await?.into_inner();
            let s = r.snapshot.unwrap_or_default();
            print(std::slice::from_ref(&s), format)?;
            eprintln!(
                "snapshot {} written to {} in the server's snapshot directory: {} files, {} bytes ({} SSTables linked, {} copied)",
                s.name, r.path, s.files, s.bytes, r.linked, r.copied
            );
        }
        SnapshotCommand::List { verify } => {
            let r = client.admin.list_snapshots(pb::ListSnapshotsRequest { verify: *verify }).await?.into_inner();
            print(&r.snapshots, format)?;
            let damaged = r.snapshots.iter().filter(|s| s.verified == Some(false)).count();
            if damaged > 0 {
                return Err(CliError::Snapshot(format!("{damaged} of {} snapshots are damaged", r.snapshots.len())));
            }
        }
        SnapshotCommand::Delete { name } => {
            let r = client.admin.delete_snapshot(pb::DeleteSnapshotRequest { name: name.clone() }).await?.into_inner();
            eprintln!("snapshot {name} deleted ({} bytes listed)", r.bytes);
        }
        SnapshotCommand::Verify { name } => {
            let r = client.admin.verify_snapshot(pb::VerifySnapshotRequest { name: name.clone() }).await?.into_inner();
            let s = r.snapshot.unwrap_or_default();
            eprintln!("snapshot {name}: {} files, {} bytes, every checksum matches", s.files, s.bytes);
        }
    }
    Ok(())
}

/// `isobar restore SNAPSHOT_DIR --data-dir NEW`: verify, copy, open, close, report.
pub fn restore(args: &RestoreArgs) -> Result<(), CliError> {
    let info = restore_checkpoint(&args.snapshot, &args.data_dir)
        .map_err(|source| CliError::Restore { snapshot: args.snapshot.clone(), source: Box::new(source) })?;
    let opened = open_and_close(&args.data_dir)
        .map_err(|source| CliError::Restore { snapshot: args.snapshot.clone(), source: Box::new(source) })?;
    println!(
        "restored snapshot {} into {}: {} files, {} bytes, sequence {}, taken {}",
        args.snapshot.display(),
        args.data_dir.display(),
        info.files.len(),
        info.bytes(),
        info.last_seq,
        utc_text(info.created_ns)
    );
    println!("tables: {}", if opened.is_empty() { "(none)".to_owned() } else { opened.join(", ") });
    println!("start it with: isobar serve --data-dir {}", args.data_dir.display());
    Ok(())
}

/// Opens the restored database to prove it opens cleanly; answers its tables.
fn open_and_close(dir: &Path) -> isobar_storage::Result<Vec<String>> {
    let db = Db::open(dir, Options::default())?;
    let mut tables: Vec<String> = db.tables().into_iter().map(|t| t.name).collect();
    tables.sort();
    db.close()?;
    Ok(tables)
}
