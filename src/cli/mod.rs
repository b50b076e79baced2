//! The command line: `isobar <command>`. Parsing lives in one module per command group; each
//! command body is a small `run` function. Client commands build their wire request from the
//! arguments (`request()` methods, tested here), send it to `--addr` with
//! [`crate::client::Client`] and print the answer through [`output`]. `serve`, `inspect`,
//! `admin verify` and `write --dry-run` need no server.

pub mod access;
pub mod admin;
pub mod alter;
pub mod args;
pub mod auth;
pub mod data_lock;
pub mod delete;
pub mod export;
pub mod health;
pub mod import;
pub mod inspect;
pub mod log_format;
pub mod output;
pub mod progress;
pub mod read;
pub mod sender;
pub mod serve;
pub mod snapshot;
pub mod sql;
pub mod table;
pub mod time;
pub mod write;

#[cfg(test)]
mod tests;

use clap::{Parser, Subcommand};

use crate::config::ConfigError;
use args::OutputFormat;

/// The default of `--addr`: a server started with `isobar serve` and no configuration.
pub const DEFAULT_ADDR: &str = "http://127.0.0.1:50051";

/// The environment variable that sets `--addr` when the flag is not given.
pub const ADDR_ENV: &str = "ISOBAR_ADDR";

/// A server address: `http://…` or `https://…` as given; a bare `HOST:PORT` is taken as
/// `http://HOST:PORT`, since that is what a user who copies the server's listen address means.
pub fn parse_addr(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("the server address is empty: give http://HOST:PORT, https://HOST:PORT or HOST:PORT".into());
    }
    if let Some((scheme, _)) = s.split_once("://") {
        if scheme != "http" && scheme != "https" {
            return Err(format!("\"{s}\" has scheme {scheme}://; use http://HOST:PORT or https://HOST:PORT"));
        }
        return Ok(s.to_owned());
    }
    Ok(format!("http://{s}"))
}

/// Isobar: a wide-column time-series store.
#[derive(Parser, Clone, Debug, PartialEq)]
#[command(name = "isobar", version, about, propagate_version = true)]
#[command(after_help = "\
Examples:
  isobar serve
  isobar table create weather --family env:temp_c=f64,rh=f64
  isobar write --table weather --file readings.csv
  isobar scan weather --series station=KSEA --from now-1d
  isobar agg weather --all --from now-7d --bucket 1h --fn avg:env.temp_c
  isobar sql \"SELECT series, avg(temp_c) FROM weather.env GROUP BY series\"
  isobar delete weather --series station=KSEA --from 2024-05-01 --to 2024-05-02
  isobar table alter weather --add-column env.wind:f64 --ttl env=90d
  isobar snapshot create --name nightly
  isobar restore ./isobar-data/snapshots/nightly --data-dir ./restored
  isobar health
  ISOBAR_TOKEN=$(cat token) isobar --addr https://db:50051 --tls-ca ca.pem table list

Client commands send the bearer token from --token-file, else $ISOBAR_TOKEN (never a flag value).
The server address comes from --addr, else $ISOBAR_ADDR, else http://127.0.0.1:50051; HOST:PORT
without a scheme means http://HOST:PORT.")]
pub struct Cli {
    /// Server address for client commands: a URL, or HOST:PORT for http://HOST:PORT.
    #[arg(long, global = true, env = ADDR_ENV, default_value = DEFAULT_ADDR, value_name = "URL",
          value_parser = parse_addr, hide_env_values = true)]
    pub addr: String,
    /// Output format of client commands.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// File holding the bearer token for client commands (default: $ISOBAR_TOKEN).
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,
    /// CA certificate (PEM) that signed the server's certificate; for https:// addresses.
    #[arg(long, global = true, value_name = "FILE")]
    pub tls_ca: Option<std::path::PathBuf>,
    /// Client certificate (PEM), for servers that require one (with --tls-key).
    #[arg(long, global = true, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, global = true, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
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
    /// Run SQL through Arrow Flight SQL: one statement, standard input, or an interactive shell.
    Sql(sql::SqlArgs),
    /// Read the latest point of each series.
    Latest(read::LatestArgs),
    /// Export rows to Parquet files: on the server (--dest) or on this machine (--to-local).
    Export(export::ExportArgs),
    /// Delete the rows of some series in a time range (a range tombstone; cannot be undone).
    #[command(after_help = "\
Times take the same forms as scan's --from/--to. An open end deletes to the beginning or the end
of time. With --all, or with an open end, the command asks for confirmation on a terminal (type
the table name for --all, y otherwise); when standard input is not a terminal it refuses unless
--yes is given.

Examples:
  isobar delete weather --series station=KSEA --from 2024-05-01 --to 2024-05-02
  isobar delete weather --series s1 --series s2 --from now-1h --to now
  isobar delete trucks --prefix truck_00 --from 2024-01-01 --to 2024-02-01 --family diag
  isobar delete trucks --all --to now-365d --yes")]
    Delete(delete::DeleteArgs),
    /// Maintenance: flush, compact, stats, verify.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Dump an SSTable file.
    Inspect(inspect::InspectArgs),
    /// Authentication helpers: create tokens for `[[auth.tokens]]`.
    #[command(subcommand, after_help = "Examples:\n  isobar auth hash-token --generate --name ingest-agent")]
    Auth(auth::AuthCommand),
    /// Users of the access catalog: create, disable, enable, set-password, delete, list, describe.
    #[command(subcommand, after_help = "Examples:\n  isobar user create alice\n  isobar user list")]
    User(access::UserCommand),
    /// Groups of users: create, delete, add-member, remove-member, list.
    #[command(
        subcommand,
        after_help = "Examples:\n  isobar group create field-techs\n  isobar group add-member field-techs alice"
    )]
    Group(access::GroupCommand),
    /// Grant permissions on a table (or '*') to a user or a group.
    Grant(access::GrantArgs),
    /// Revoke permissions on a table (or '*') from a user or a group.
    Revoke(access::GrantArgs),
    /// Tokens of users: issue (the secret is printed once), revoke.
    #[command(
        subcommand,
        after_help = "Examples:\n  isobar token issue alice laptop\n  isobar token revoke alice laptop\nThe secret is printed once on standard output: redirect it into a file (mode 600)."
    )]
    Token(access::TokenCommand),
    /// Who the server takes the caller for, and what it may do.
    #[command(after_help = "Examples:\n  isobar whoami\n  isobar --token-file alice.token whoami")]
    Whoami,
    /// Recent audit entries: access changes and refused requests.
    Audit(access::AuditArgs),
    /// Online backups on the server: create, list, delete, verify snapshots.
    #[command(
        subcommand,
        after_help = "Examples:\n  isobar snapshot create --name nightly\n  isobar snapshot list --verify"
    )]
    Snapshot(snapshot::SnapshotCommand),
    /// Restore a snapshot into a new data directory (offline).
    Restore(snapshot::RestoreArgs),
    /// Check that the server answers SERVING (exit code 0) for container and Kubernetes probes.
    Health(health::HealthArgs),
    /// The edge forwarder: collect readings, queue them on disk, stream them exactly once.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  isobar agent run --config deploy/agent.toml\n  \
                            isobar agent status --queue-dir isobar-agent-queue")]
    Agent(isobar_agent::cli::AgentCommand),
}

impl CliError {
    /// True when the failure is already in the log (see [`CliError::Logged`]).
    pub fn is_logged(&self) -> bool {
        matches!(self, CliError::Logged(_))
    }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `isobar agent` failed.
    #[error(transparent)]
    Agent {
        /// The agent's error.
        #[from]
        source: isobar_agent::run::RunError,
    },
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
    /// A failure already written to the log in the configured format (`isobar serve` after its
    /// logging started), so that `main` does not print it again as plain text.
    #[error("{0}")]
    Logged(Box<CliError>),
    /// Logging could not be installed.
    #[error("cannot install logging: {source}")]
    LoggingInit {
        /// The subscriber's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A local time in `--from`/`--to` that no zone or more than one instant matches.
    #[error(transparent)]
    Time(#[from] time::LocalTimeError),
    /// An argument that parsed but cannot be used.
    #[error("{arg}: {reason}")]
    Argument {
        /// The flag.
        arg: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A file that cannot be imported.
    #[error("{path}: {source}")]
    Csv {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong, and where (boxed: the error is large and rare).
        #[source]
        source: Box<import::ImportError>,
    },
    /// An import refused before anything was sent.
    #[error("{path}: {source}; nothing was written")]
    NothingWritten {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong, and where.
        #[source]
        source: Box<import::ImportError>,
    },
    /// An import that stopped after the server stored some of its rows.
    #[error(
        "{cause}\n{stored} rows of {path} were stored before the import stopped; fix the cause and resume with \
         --from-line {resume} (rows stored again are harmless: writes are upserts)",
        path = path.display()
    )]
    PartialImport {
        /// The file.
        path: std::path::PathBuf,
        /// Rows the server acknowledged.
        stored: u64,
        /// The first line not known to be stored.
        resume: u64,
        /// Why it stopped.
        cause: Box<CliError>,
    },
    /// `serve` on an address reachable from other hosts without `--insecure`.
    #[error(
        "refusing to listen on {addr}: it is not a loopback address and authentication is off; \
         enable [auth] with tokens (see docs/security.md), listen on 127.0.0.1, or pass --insecure \
         to let anyone who can reach the port read, write and drop every table"
    )]
    Insecure {
        /// The listen address.
        addr: std::net::SocketAddr,
    },
    /// `serve` with the metrics endpoint reachable from other hosts, no `[auth]`, and neither
    /// `metrics.allow_anonymous` nor `--insecure`.
    #[error(
        "refusing to serve metrics on {addr}: it is not a loopback address and authentication is off, so \
         anyone who can reach it would read the server's counters; enable [auth] (scrapes then need a token), \
         set metrics.listen to 127.0.0.1:9470, or allow it explicitly with metrics.allow_anonymous = true \
         (ISOBAR_METRICS_ALLOW_ANONYMOUS=true) or --insecure"
    )]
    InsecureMetrics {
        /// `metrics.listen`.
        addr: std::net::SocketAddr,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {source}")]
    Runtime {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The server failed.
    #[error(transparent)]
    Server(Box<crate::server::ServerError>),
    /// A call to the server failed.
    #[error(transparent)]
    Client(Box<crate::client::ClientError>),
    /// `isobar export --to-local` could not plan or write its files.
    #[error(transparent)]
    LocalExport(Box<export::local::LocalExportError>),
    /// The Flight SQL client failed outside a server status (a transport or protocol error).
    #[error("Flight SQL: {0}")]
    Flight(String),
    /// An answer could not be printed.
    #[error("cannot print the answer: {0}")]
    Output(#[from] arrow_schema::ArrowError),
    /// An SSTable could not be opened or read.
    #[error("{path}: {source}")]
    Sst {
        /// The file.
        path: std::path::PathBuf,
        /// The reader's error.
        #[source]
        source: isobar_storage::sst::Error,
    },
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: std::path::PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A snapshot could not be restored.
    #[error("cannot restore {snapshot}: {source}")]
    Restore {
        /// The snapshot directory.
        snapshot: std::path::PathBuf,
        /// The engine's error (names the file concerned).
        #[source]
        source: Box<isobar_storage::Error>,
    },
    /// A destructive command that was not confirmed; nothing was changed.
    #[error("{0}")]
    NotConfirmed(String),
    /// A snapshot listing found damage.
    #[error("{0}")]
    Snapshot(String),
    /// `isobar health`: the server is not serving, or did not answer.
    #[error("unhealthy: {0}")]
    Unhealthy(String),
    /// An offline command found the data directory in use (its `LOCK` is held by a server).
    #[error(
        "{} is in use: a running server holds its LOCK, and its compactions may remove files while they are \
         checked; stop the server and run this again, or check the live database through the server with \
         `isobar snapshot create NAME` then `isobar snapshot verify NAME`",
        dir.display()
    )]
    DataDirInUse {
        /// The data directory.
        dir: std::path::PathBuf,
    },
    /// `admin verify` or `inspect --verify` found damage.
    #[error("{files} of {checked} SSTables have problems (listed above)")]
    Damaged {
        /// Damaged files.
        files: usize,
        /// Files checked.
        checked: usize,
    },
}

impl From<tonic::Status> for CliError {
    fn from(status: tonic::Status) -> Self {
        CliError::Client(Box::new(status.into()))
    }
}

impl From<crate::client::ClientError> for CliError {
    fn from(e: crate::client::ClientError) -> Self {
        CliError::Client(Box::new(e))
    }
}

impl From<crate::server::ServerError> for CliError {
    fn from(e: crate::server::ServerError) -> Self {
        CliError::Server(Box::new(e))
    }
}

/// Runs the parsed command line.
pub fn run(cli: &Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Inspect(args) => inspect::run(args, cli.format),
        Command::Auth(command) => auth::run(command),
        Command::Agent(command) => {
            if matches!(command, isobar_agent::cli::AgentCommand::Run { .. }) {
                let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
                let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
            }
            isobar_agent::cli::run(command).map_err(|source| CliError::Agent { source })
        }
        Command::Admin(admin::AdminCommand::Verify { data_dir }) => admin::verify(data_dir, cli.format),
        Command::Write(args) if args.dry_run => write::dry_run(args),
        Command::Restore(args) => snapshot::restore(args),
        _ => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|source| CliError::Runtime { source })?;
            runtime.block_on(run_client(cli))
        }
    }
}

/// Runs a command that talks to the server at `--addr`; a transport failure caused by a TLS
/// mismatch (`http://` against a TLS port or `https://` against a plain one) is reported as such.
async fn run_client(cli: &Cli) -> Result<(), CliError> {
    match run_client_command(cli).await {
        Err(CliError::Client(error)) => {
            Err(CliError::Client(Box::new(crate::client::mismatch::explain(&cli.addr, *error).await)))
        }
        other => other,
    }
}

/// [`run_client`] without the mismatch explanation.
async fn run_client_command(cli: &Cli) -> Result<(), CliError> {
    let mut options = crate::client::ClientOptions::from_sources(
        cli.token_file.as_deref(),
        std::env::var(crate::client::TOKEN_ENV).ok(),
    )?;
    options.tls_ca = cli.tls_ca.clone();
    options.tls_cert = cli.tls_cert.clone();
    options.tls_key = cli.tls_key.clone();
    if let Command::Health(args) = &cli.command {
        return health::run(args, &cli.addr, &options).await;
    }
    if let Command::Sql(args) = &cli.command {
        return sql::run(args, &cli.addr, &options, cli.format).await;
    }
    let mut client = crate::client::Client::connect_with(&cli.addr, &options).await?;
    let format = cli.format;
    match &cli.command {
        Command::Table(command) => table::run(command, &mut client, format).await,
        Command::Write(args) => write::run(args, &client).await,
        Command::Scan(args) => read::run_scan(args, &mut client, format).await,
        Command::Agg(args) => read::run_agg(args, &mut client, format).await,
        Command::Latest(args) => read::run_latest(args, &mut client, format).await,
        Command::Export(args) => export::run(args, &mut client, format).await,
        Command::Delete(args) => delete::run(args, &mut client).await,
        Command::Admin(command) => admin::run(command, &mut client, format).await,
        Command::Snapshot(command) => snapshot::run(command, &mut client, format).await,
        Command::User(command) => access::run_user(command, &mut client, format).await,
        Command::Group(command) => access::run_group(command, &mut client, format).await,
        Command::Grant(args) => access::run_grant(args, false, &mut client).await,
        Command::Revoke(args) => access::run_grant(args, true, &mut client).await,
        Command::Token(command) => access::run_token(command, &mut client).await,
        Command::Whoami => access::run_whoami(&mut client, format).await,
        Command::Audit(args) => access::run_audit(args, &mut client, format).await,
        Command::Serve(_)
        | Command::Inspect(_)
        | Command::Auth(_)
        | Command::Restore(_)
        | Command::Health(_)
        | Command::Sql(_)
        | Command::Agent(_) => Ok(()),
    }
}
