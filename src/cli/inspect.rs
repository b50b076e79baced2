//! `isobar inspect FILE.sst`: dumps an SSTable without a server.

use std::path::PathBuf;

use clap::Args;

use super::CliError;

/// Arguments of `isobar inspect`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "\
Examples:
  isobar inspect isobar-data/tables/3/families/7/000042.sst
  isobar inspect 000042.sst --series --rows 20 --format json")]
pub struct InspectArgs {
    /// The SSTable file.
    pub file: PathBuf,
    /// List the series index (keys, row counts, time ranges).
    #[arg(long)]
    pub series: bool,
    /// Also print the first N rows.
    #[arg(long, value_name = "N")]
    pub rows: Option<u64>,
}

/// Runs `isobar inspect`.
pub fn run(_args: &InspectArgs) -> Result<(), CliError> {
    Err(CliError::NotWired { command: "inspect", waiting_for: "the storage engine's SSTable reader" })
}
