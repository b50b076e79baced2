//! `isobar sql`: SQL through the server's Arrow Flight SQL front end, with the same `--addr`,
//! token and TLS options as every client command and the same `--format` output.
//!
//! Three ways in: a statement as the argument (one-shot), statements on standard input when it
//! is not a terminal (run in order, stopping at the first error), and an interactive shell on a
//! terminal ([`shell`]). Statements end at `;` ([`statements`]); answers stream to standard
//! output batch by batch as they arrive ([`flight`]).

pub mod flight;
pub mod shell;
pub mod statements;

use std::io::{IsTerminal, Read};

use clap::Args;

use super::CliError;
use super::args::OutputFormat;
use crate::client::ClientOptions;

/// `isobar sql [STATEMENT]`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "\
Without STATEMENT, statements are read from standard input (ending at `;`), or typed into an
interactive shell on a terminal: multi-line input ends at `;`, history is kept in
~/.isobar_sql_history, \\q quits, \\? helps.

Relations: schema `public` has one relation per table (series, ts, \"family.column\"); a schema
per table has one relation per family with plain column names (see docs/sql.md).

Examples:
  isobar sql \"SELECT series, max(temp) FROM weather.env GROUP BY series\"
  isobar sql --format csv \"SELECT * FROM weather.env WHERE ts >= now() - INTERVAL '1 hour'\"
  echo \"SHOW TABLES;\" | isobar sql
  ISOBAR_TOKEN=$(cat token) isobar --addr https://db:50051 --tls-ca ca.pem sql")]
pub struct SqlArgs {
    /// The statement to run (omit for standard input or the interactive shell).
    #[arg(value_name = "STATEMENT")]
    pub statement: Option<String>,
}

/// Runs `isobar sql`.
pub async fn run(args: &SqlArgs, addr: &str, options: &ClientOptions, format: OutputFormat) -> Result<(), CliError> {
    let mut client = flight::SqlClient::connect(addr, options).await?;
    if let Some(statement) = &args.statement {
        return client.run(statement, format).await.map(drop);
    }
    if std::io::stdin().is_terminal() {
        return shell::run(&mut client, format).await;
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|source| CliError::Io { path: "<standard input>".into(), source })?;
    let mut splitter = statements::Splitter::default();
    let mut all = splitter.push(&input);
    all.extend(splitter.finish());
    for statement in all {
        client.run(&statement, format).await?;
    }
    Ok(())
}
