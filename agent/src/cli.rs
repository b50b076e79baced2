//! `isobar agent` subcommands: `run` and `status`.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use crate::config::AgentConfig;
use crate::metrics::Status;
use crate::run::RunError;

/// `isobar agent ...`.
#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum AgentCommand {
    /// Run the edge forwarder: sources -> on-disk queue -> exactly-once stream to the server.
    #[command(after_help = "Example:\n  isobar agent run --config deploy/agent.toml")]
    Run {
        /// The agent's TOML file (see deploy/agent.toml).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Print the running (or last) agent's counters from its queue directory.
    #[command(after_help = "Example:\n  isobar agent status --queue-dir isobar-agent-queue --output json")]
    Status {
        /// The agent's queue directory.
        #[arg(long, value_name = "DIR")]
        queue_dir: PathBuf,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
        output: StatusFormat,
    },
}

/// How `status` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// Aligned `key value` lines.
    Table,
    /// The status file's JSON.
    Json,
}

/// Runs an agent command.
pub fn run(command: &AgentCommand) -> Result<(), RunError> {
    match command {
        AgentCommand::Run { config } => crate::run::run(AgentConfig::load(config)?),
        AgentCommand::Status { queue_dir, output } => {
            let status = Status::load(queue_dir)?.checked(queue_dir);
            match output {
                StatusFormat::Table => print!("{}", status.table()),
                StatusFormat::Json => println!("{}", serde_json::to_string_pretty(&status).unwrap_or_default()),
            }
            Ok(())
        }
    }
}
