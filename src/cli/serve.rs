//! `isobar serve`: loads the configuration, starts logging, then runs the server.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use tracing_subscriber::EnvFilter;

use super::CliError;
use crate::config::{Config, LogFormat};

/// Arguments of `isobar serve`.
#[derive(Args, Clone, Debug, PartialEq)]
#[command(after_help = "\
Examples:
  isobar serve                                   # ./isobar-data, gRPC on 127.0.0.1:50051
  isobar serve --config /etc/isobar/isobar.toml
  ISOBAR_STORAGE_SYNC=interval:100ms isobar serve --listen 0.0.0.0:50051
  isobar serve --config isobar.toml --print-config  # show the effective configuration
  isobar serve --listen 0.0.0.0:50051 --insecure   # reachable from other hosts, NO authentication

A listen address other than loopback needs [auth] enabled with tokens (and should have [tls]);
so does a metrics.listen other than loopback, unless metrics.allow_anonymous = true. See
docs/security.md.

SIGINT (Ctrl-C) or SIGTERM stop the server gracefully: it stops accepting calls, cancels streams
and exports with UNAVAILABLE, lets other running calls finish (up to server.shutdown_timeout,
then cancels them too), flushes the memtables (up to server.shutdown_flush_timeout), syncs the
WAL and exits 0; when the database cannot be closed cleanly it logs why and exits 1.")]
pub struct ServeArgs {
    /// Configuration file (TOML); default: $ISOBAR_CONFIG if set, else built-in defaults.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Listen address; overrides server.listen and ISOBAR_SERVER_LISTEN.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Data directory; overrides server.data_dir and ISOBAR_SERVER_DATA_DIR.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print the effective configuration as TOML and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Allow a listen address other than loopback with authentication off: anyone who can reach
    /// the port can read, write and drop every table.
    #[arg(long)]
    pub insecure: bool,
}

impl ServeArgs {
    /// The configuration in force: defaults < file < environment < these flags.
    pub fn config(&self) -> Result<(Config, Vec<crate::config::EnvWarning>), CliError> {
        let file = self.config.clone().or_else(|| std::env::var_os("ISOBAR_CONFIG").map(PathBuf::from));
        let (mut config, warnings) = Config::load(file.as_deref())?;
        if let Some(listen) = self.listen {
            config.server.listen = listen;
        }
        if let Some(dir) = &self.data_dir {
            config.server.data_dir = dir.clone();
        }
        config.validate()?;
        Ok((config, warnings))
    }
}

/// Runs `isobar serve` until SIGINT or SIGTERM.
pub fn run(args: &ServeArgs) -> Result<(), CliError> {
    let (config, warnings) = args.config()?;
    if args.print_config {
        print!("{}", config.to_toml());
        return Ok(());
    }
    let listen = config.server.listen;
    let grpc_exposure = exposure(listen, config.auth.enabled, config.tls.enabled(), args.insecure)?;
    // The line-protocol endpoint: the same policy; it speaks HTTPS when [tls] is set.
    let lp = &config.line_protocol;
    let lp_exposure = match lp.enabled {
        true => exposure(lp.listen, config.auth.enabled, config.tls.enabled(), args.insecure)?,
        false => Exposure::Safe,
    };
    if config.metrics.enabled {
        metrics_exposure(config.metrics.listen, config.auth.enabled, config.metrics.allow_anonymous || args.insecure)?;
    }
    init_logging(&config)?;
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    warn_exposure(grpc_exposure, listen);
    warn_exposure(lp_exposure, lp.listen);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("isobar-rpc")
        .build()
        .map_err(|source| CliError::Runtime { source })?;
    let served = runtime.block_on(async {
        let mut running = crate::server::start(&config).await?;
        tracing::info!(
            listen = %running.addr(),
            metrics = %running.metrics_addr().map_or_else(|| "off".to_owned(), |a| format!("http://{a}/metrics")),
            data_dir = %config.server.data_dir.display(),
            sync = %config.storage.sync,
            auth = config.auth.enabled,
            tls = config.tls.enabled(),
            "isobar is serving gRPC (Ingest, Query, Admin, health, reflection)"
        );
        if let Some(addr) = running.postgres_addr() {
            tracing::info!(
                listen = %addr,
                "isobar is serving the PostgreSQL protocol: psql \"host={} port={} dbname=isobar\"",
                addr.ip(),
                addr.port()
            );
        }
        if let Some(addr) = running.line_protocol_addr() {
            tracing::info!(listen = %addr, "isobar is serving InfluxDB line protocol over HTTP (/write, /api/v2/write)");
        }
        if let Some(stop) = running.take_stop() {
            tokio::spawn(async move {
                shutdown_signal().await;
                let _ = stop.send(());
            });
        }
        running.wait().await?;
        Ok(())
    });
    // Work a cancelled call left on the blocking pool (an export that was still writing) must
    // not keep the process alive after "server stopped": it is abandoned with the process.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    served.map_err(|error| {
        // The last line, in the log's format: a JSON log must not end with a plain-text line.
        tracing::error!(error = %error, "isobar serve failed (exit code 1): {error}");
        CliError::Logged(Box::new(error))
    })
}

/// How exposed a listen address leaves the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exposure {
    /// Loopback, or other hosts with authentication and TLS.
    Safe,
    /// Other hosts, authentication off (allowed by `--insecure`).
    NoAuth,
    /// Other hosts with authentication but without TLS: tokens travel in clear text.
    ClearText,
}

/// The `serve` policy: a non-loopback address needs authentication unless `insecure`.
pub fn exposure(listen: std::net::SocketAddr, auth: bool, tls: bool, insecure: bool) -> Result<Exposure, CliError> {
    if listen.ip().is_loopback() {
        return Ok(Exposure::Safe);
    }
    match (auth, tls) {
        (false, _) if !insecure => Err(CliError::Insecure { addr: listen }),
        (false, _) => Ok(Exposure::NoAuth),
        (true, false) => Ok(Exposure::ClearText),
        (true, true) => Ok(Exposure::Safe),
    }
}

/// The metrics endpoint's policy: beyond loopback it needs `[auth]` (scrapes then need a token)
/// or an explicit `allowed` (`metrics.allow_anonymous` or `--insecure`).
pub fn metrics_exposure(listen: std::net::SocketAddr, auth: bool, allowed: bool) -> Result<(), CliError> {
    match listen.ip().is_loopback() || auth || allowed {
        true => Ok(()),
        false => Err(CliError::InsecureMetrics { addr: listen }),
    }
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for SIGINT: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

/// Installs the global `tracing` subscriber described by `[log]`.
fn init_logging(config: &Config) -> Result<(), CliError> {
    let filter = EnvFilter::try_new(&config.log.level)
        .map_err(|source| CliError::LogLevel { level: config.log.level.clone(), source })?;
    // Colour codes only where a person reads a terminal: a log file or a pipe gets plain text.
    let no_color = std::env::var("NO_COLOR").ok();
    let ansi = config.log.color.enabled(std::io::stderr().is_terminal(), no_color.as_deref());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let installed = match config.log.format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder
            .with_ansi(false)
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(super::log_format::FlatJson)
            .try_init(),
    };
    installed.map_err(|source| CliError::LoggingInit { source })
}

/// Logs the loud warning an exposed listener deserves.
fn warn_exposure(exposure: Exposure, listen: std::net::SocketAddr) {
    match exposure {
        Exposure::Safe => {}
        Exposure::NoAuth => tracing::warn!(
            "INSECURE (--insecure): listening on {listen}, which is reachable from other hosts, with \
             authentication OFF; anyone who can connect can read, write and drop every table"
        ),
        Exposure::ClearText => tracing::warn!(
            "INSECURE: listening on {listen} without TLS; bearer tokens and data cross the network in clear \
             text and can be stolen by anyone on the path. Set [tls] cert and key"
        ),
    }
}
