//! `isobar admin flush|compact|stats|verify`.

use std::path::PathBuf;

use clap::Subcommand;
use isobar_proto::v1 as pb;

use super::CliError;
use super::args::RangeArgs;

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
    /// Check every SSTable, manifest and WAL checksum of a data directory (offline; safe while
    /// the server runs, since it only reads immutable files).
    #[command(after_help = "Example:\n  isobar admin verify --data-dir ./isobar-data")]
    Verify {
        /// The data directory.
        #[arg(long, default_value = "./isobar-data", value_name = "DIR")]
        data_dir: PathBuf,
    },
}

impl AdminCommand {
    /// The command's name in messages.
    fn name(&self) -> &'static str {
        match self {
            AdminCommand::Flush { .. } => "admin flush",
            AdminCommand::Compact { .. } => "admin compact",
            AdminCommand::Stats { .. } => "admin stats",
            AdminCommand::Verify { .. } => "admin verify",
        }
    }

    /// The wire request of `compact`, if this is one.
    pub fn compact_request(&self) -> Option<pb::CompactRequest> {
        match self {
            AdminCommand::Compact { table, family, range } => {
                Some(pb::CompactRequest { table: table.clone(), family: family.clone(), range: Some(range.to_proto()) })
            }
            _ => None,
        }
    }
}

/// Runs `isobar admin ...`.
pub fn run(command: &AdminCommand) -> Result<(), CliError> {
    let waiting_for = match command {
        AdminCommand::Verify { .. } => "the storage engine's file readers",
        _ => "the Admin service",
    };
    Err(CliError::NotWired { command: command.name(), waiting_for })
}
