//! The command line: `isobar <command>`. Parsing lives in one module per command group; each
//! command body is a small `run` function. Client commands build their wire request from the
//! arguments (`request()` methods, tested here) and will send it to `--addr`.

pub mod admin;
pub mod args;
pub mod csv;
pub mod export;
pub mod inspect;
pub mod read;
pub mod serve;
pub mod table;
pub mod time;
pub mod write;

#[cfg(test)]
mod tests;

use clap::{Parser, Subcommand};

use crate::config::ConfigError;
use args::OutputFormat;

/// Isobar: a wide-column time-series store.
#[derive(Parser, Clone, Debug, PartialEq)]
#[command(name = "isobar", version, about, propagate_version = true)]
#[command(after_help = "\
Examples:
  isobar serve
  isobar table create weather --family env:temp_c=f64,rh=f64
  isobar write --table weather --file readings.csv
  isobar scan weather --series station=KSEA --from now-1d
  isobar agg weather --all --from now-7d --bucket 1h --fn avg:env.temp_c")]
pub struct Cli {
    /// Server address for client commands.
    #[arg(long, global = true, default_value = "http://127.0.0.1:50051", value_name = "URL")]
    pub addr: String,
    /// Output format of client commands.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Every subcommand.
#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum Command {
    /// Run the server.
    Serve(serve::ServeArgs),
    /// Create, list, describe and drop tables.
    #[command(subcommand)]
    Table(table::TableCommand),
    /// Write data: import a CSV file or generate load.
    Write(write::WriteArgs),
    /// Read raw rows of series in a time range.
    Scan(read::ScanArgs),
    /// Aggregate per time bucket (avg, min, max, ...).
    Agg(read::AggArgs),
    /// Read the latest point of each series.
    Latest(read::LatestArgs),
    /// Export rows to Parquet files on the server.
    Export(export::ExportArgs),
    /// Maintenance: flush, compact, stats, verify.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Dump an SSTable file.
    Inspect(inspect::InspectArgs),
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The log level is not a valid `tracing` filter.
    #[error("log.level \"{level}\" is not a valid filter (e.g. info or info,isobar_storage=debug): {source}")]
    LogLevel {
        /// The level in force.
        level: String,
        /// The parser's error.
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    /// Logging could not be installed.
    #[error("cannot install logging: {source}")]
    LoggingInit {
        /// The subscriber's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An argument that parsed but cannot be used.
    #[error("{arg}: {reason}")]
    Argument {
        /// The flag.
        arg: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A CSV file that cannot be imported.
    #[error("{path}: {source}")]
    Csv {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong, and where.
        #[source]
        source: csv::CsvError,
    },
    /// The command's arguments are fine but its body is not connected yet.
    #[error("`isobar {command}` is not available in this build yet: it waits for {waiting_for}")]
    NotWired {
        /// The command.
        command: &'static str,
        /// The component it needs.
        waiting_for: &'static str,
    },
}

/// Runs the parsed command line.
pub fn run(cli: &Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Table(command) => table::run(command),
        Command::Write(args) => write::run(args),
        Command::Scan(args) => read::run_scan(args),
        Command::Agg(args) => read::run_agg(args),
        Command::Latest(args) => read::run_latest(args),
        Command::Export(args) => export::run(args),
        Command::Admin(command) => admin::run(command),
        Command::Inspect(args) => inspect::run(args),
    }
}
