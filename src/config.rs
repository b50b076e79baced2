//! The server's configuration: one TOML file plus `ISOBAR_*` environment variables.
//!
//! Precedence, lowest first: built-in defaults, the file (`isobar serve --config FILE`), the
//! environment, then command-line flags of `serve`. A key in the file that Isobar does not know
//! is an error naming it (a typo must not silently fall back to a default); so is an `ISOBAR_*`
//! variable that names no key, with the closest key as a suggestion (`env_names.rs`; the
//! client's and the test harness's variables are allowed; `ISOBAR_UNKNOWN_ENV=warn` warns instead).
//!
//! Every key `key` of section `[section]` is overridden by `ISOBAR_<SECTION>_<KEY>` in upper
//! case, e.g. `ISOBAR_SERVER_LISTEN=0.0.0.0:50051`, `ISOBAR_STORAGE_SYNC=interval:100ms`,
//! `ISOBAR_LOG_FORMAT=json`. `ISOBAR_CONFIG` names the file when `--config` is not given.
//!
//! The file, with every key at its default:
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:50051"        # gRPC address
//! data_dir = "./isobar-data"        # the database directory (created if missing)
//! # export_dir = "./exports"        # Export destinations are relative to it; default <data_dir>/export
//! # snapshot_dir = "./snapshots"    # CreateSnapshot writes here; default <data_dir>/snapshots (same file system!)
//! export_max_bytes = "10GiB"        # most bytes one Export may write; past it: RESOURCE_EXHAUSTED, files removed
//! max_message_bytes = "64MiB"       # largest gRPC message accepted or sent
//! max_rows_per_request = 1000000    # most rows (timestamps + rows) in one write request
//! max_inflight_write_bytes = "256MiB" # requests being decoded/written at once; past it: RESOURCE_EXHAUSTED
//! shutdown_timeout = "30s"          # how long shutdown waits for running calls (streams and exports are cancelled at once)
//! shutdown_flush_timeout = "30s"    # how long shutdown may flush memtables before closing ("0s": no flush)
//!
//! [storage]                         # mirrors isobar_storage::Options
//! sync = "always"                   # "always" | "none" | "interval:100ms" | { interval_ms = 100 }
//! wal_segment_size = "64MiB"
//! wal_recovery = "strict"           # "strict" | "skip_corrupt"
//! memtable_size = "32MiB"           # per family, then frozen and flushed
//! memtable_budget = "256MiB"        # all memtables; past it writes wait, then fail (back-pressure)
//! write_stall_timeout = "5s"
//! block_cache_size = "64MiB"
//! zstd_level = 3                    # 1..=22
//! rows_per_page = 8192
//! max_series_key_len = 1024         # bytes
//! max_string_len = "64KiB"
//! max_rows_per_batch = 1000000
//! max_columns_per_table = 4096
//! max_new_columns_per_request = 1024
//! max_series_per_request = 100000   # distinct series in one write request (gRPC, line protocol, OTLP)
//! max_cells_per_request = 10000000  # present values in one write request
//! min_ts = -2208988800000000000     # 1900-01-01T00:00:00Z, in ns
//! max_ts = 9223372036854775806
//! producer_state_ttl = "7d"         # idempotent producers idle this long are forgotten (docs/producers.md)
//! max_producers = 100000            # producers tracked; past it the least recently active are forgotten
//! max_producers_per_owner = 1000    # producers of one token; a write creating one more is refused
//!
//! [storage.compaction]              # time-window compaction; per table: `isobar table alter`
//! window = "1d"                     # width of a time window (files are grouped by window)
//! closed_after = "1h"               # a window not the newest is closed this long after its newest row
//!
//! [metrics]
//! enabled = true                    # serve Prometheus metrics over HTTP
//! listen = "127.0.0.1:9470"         # GET /metrics there (use 0.0.0.0:9470 for a remote Prometheus)
//! allow_anonymous = false           # true: scrapes need no token (auth on) / may listen beyond loopback (auth off)
//! table_labels = false              # true: per-table/family series (discloses table names)
//!
//! [line_protocol]                   # InfluxDB line protocol over HTTP (/write, /api/v2/write)
//! enabled = false                   # off unless asked for
//! listen = "127.0.0.1:8086"         # HTTP address (InfluxDB's port)
//! family = "fields"                 # the column family every field goes to
//! create_tables = true              # a new measurement creates its table (dynamic columns)
//! max_body_bytes = "32MiB"          # largest body, after gzip decompression; past it: 413
//! allow_token_in_url = false        # true: accept the v1 token as ?p= (proxies log URLs)
//!
//! [otlp]                            # OpenTelemetry metrics: MetricsService/Export on the gRPC port
//! enabled = false                   # off unless asked for
//! family = "metrics"                # the column family of each metric table's `value` column
//! create_tables = true              # a new metric creates its table (dynamic columns)
//!
//! [log]
//! level = "info"                    # a tracing filter, e.g. "info,isobar_storage=debug"
//! format = "human"                  # "human" | "json"
//! color = "auto"                    # "auto" (only on a terminal, unless NO_COLOR is set) | "always" | "never"
//!
//! [auth]                            # bearer tokens; see docs/security.md
//! enabled = false                   # true: every call needs `authorization: Bearer <secret>`
//! # [[auth.tokens]]                 # one entry per token; `isobar auth hash-token` prints one
//! # name = "dashboard"              # unique, shown in logs
//! # sha256 = "<64 hex digits>"      # SHA-256 of the secret; the secret itself is never stored
//! # grants = { "*" = ["read"], weather = ["read", "write"] }  # table or "*": read | write | admin,
//! #                                 # or view | add | change | delete (read = view, write = add + delete)
//! max_failed_auth_per_minute = 10   # per client IP; past it every attempt is refused for the minute
//!
//! [postgres]                        # the PostgreSQL protocol (psql, Grafana, psycopg); docs/postgres.md
//! enabled = false                   # off unless asked for
//! listen = "127.0.0.1:5432"         # database "isobar"; the password is an Isobar token
//!
//! [connections]                     # every listener (gRPC, line protocol, metrics, PostgreSQL); docs/security.md
//! max_per_listener = 4096           # open connections per listener; past it: closed on accept
//! max_per_peer = 256                # open connections per client IP on one listener
//! header_read_timeout = "10s"       # HTTP listeners: the request head within this
//! body_read_timeout = "1m"          # HTTP listeners: the request body within this
//! idle_timeout = "5m"               # no request in progress this long: the connection is closed
//! grpc_keepalive_interval = "1m"    # gRPC: HTTP/2 PING after this much silence
//! grpc_keepalive_timeout = "20s"    # gRPC: a PING unanswered this long closes the connection
//! grpc_max_concurrent_streams = 256 # gRPC: open calls per connection
//! tcp_keepalive = "1m"              # TCP keep-alive probes after this much silence
//!
//! [tls]                             # TLS is on when cert and key are set
//! # cert = "/etc/isobar/server.pem" # PEM certificate chain, leaf first
//! # key = "/etc/isobar/server.key"  # PEM private key
//! # client_ca = "/etc/isobar/ca.pem" # require client certificates signed by this CA
//! ```
//!
//! `[auth]` and `[tls]` are described in [`security`]; tokens can only be defined in the file
//! (`ISOBAR_AUTH_ENABLED`, `ISOBAR_TLS_CERT`, `ISOBAR_TLS_KEY` and `ISOBAR_TLS_CLIENT_CA` exist).

pub mod connections;
mod env;
pub mod env_names;
pub mod log_level;
pub mod origin;
pub mod postgres;
mod print;
pub mod security;
pub mod sql;
mod values;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use isobar_storage::{Limits, Options, WalRecovery};
use serde::{Deserialize, Serialize};

pub use connections::ConnectionsConfig;
pub use env::EnvWarning;
pub use postgres::PostgresConfig;
pub use security::{AuthConfig, TlsConfig, TokenConfig};
pub use sql::SqlConfig;
pub use values::{ByteSize, DurationValue, LogColor, LogFormat, SyncSetting, ValueError};

/// The whole configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[server]`: network and limits of the gRPC front end.
    pub server: ServerConfig,
    /// `[storage]`: the engine's options.
    pub storage: StorageConfig,
    /// `[metrics]`: the Prometheus endpoint.
    pub metrics: MetricsConfig,
    /// `[log]`: logging.
    pub log: LogConfig,
    /// `[auth]`: bearer tokens and their grants.
    pub auth: AuthConfig,
    /// `[tls]`: the server's certificate.
    pub tls: TlsConfig,
    /// `[line_protocol]`: the InfluxDB line-protocol HTTP endpoint.
    pub line_protocol: LineProtocolConfig,
    /// `[otlp]`: OpenTelemetry metrics over gRPC.
    pub otlp: OtlpConfig,
    /// `[connections]`: connection caps and timeouts of every listener.
    pub connections: ConnectionsConfig,
    /// `[sql]`: the bounds of SQL queries.
    pub sql: SqlConfig,
    /// `[postgres]`: the PostgreSQL wire-protocol front end.
    pub postgres: PostgresConfig,
}

/// `[otlp]`: OTLP metrics (`opentelemetry.proto.collector.metrics.v1.MetricsService/Export`) on
/// the gRPC port, off by default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpConfig {
    /// Serve `MetricsService/Export` (default false).
    pub enabled: bool,
    /// Column family of the `value` column (default `metrics`).
    pub family: String,
    /// Create the table of a new metric, with dynamic columns (default true).
    pub create_tables: bool,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        Self { enabled: false, family: "metrics".into(), create_tables: true }
    }
}

/// `[line_protocol]`: InfluxDB line protocol over HTTP, off by default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LineProtocolConfig {
    /// Serve `/write`, `/api/v2/write`, `/ping` and `/health` (default false).
    pub enabled: bool,
    /// HTTP listen address (default `127.0.0.1:8086`).
    pub listen: SocketAddr,
    /// Column family of every field (default `fields`).
    pub family: String,
    /// Create the table of a new measurement, with dynamic columns (default true).
    pub create_tables: bool,
    /// Largest request body after decompression (default 32 MiB); larger bodies get 413.
    pub max_body_bytes: ByteSize,
    /// Accept the v1 token in the URL (`/write?p=<secret>`), where proxies and access logs keep
    /// it (default false: such a request is refused with 400 naming this key).
    pub allow_token_in_url: bool,
}

impl Default for LineProtocolConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 8086)),
            family: "fields".into(),
            create_tables: true,
            max_body_bytes: ByteSize(32 << 20),
            allow_token_in_url: false,
        }
    }
}

/// `[server]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// gRPC listen address (default `127.0.0.1:50051`).
    pub listen: SocketAddr,
    /// Database directory (default `./isobar-data`).
    pub data_dir: PathBuf,
    /// Root of export destinations (default `<data_dir>/export`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_dir: Option<PathBuf>,
    /// Where `CreateSnapshot` writes snapshots (default `<data_dir>/snapshots`). Keep it on the
    /// data directory's file system: SSTables are then hard-linked, otherwise copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_dir: Option<PathBuf>,
    /// The most bytes one `Export` may write, counted while it writes (default 10 GiB). Exports
    /// land on a disk the server shares with its data; past the quota the export stops, removes
    /// its partial files and answers `RESOURCE_EXHAUSTED` naming this key.
    pub export_max_bytes: ByteSize,
    /// Largest gRPC message accepted or sent (default 64 MiB).
    pub max_message_bytes: ByteSize,
    /// Most rows in one write request (default 1,000,000).
    pub max_rows_per_request: usize,
    /// Bytes of write requests being decoded and written at once; past it, writes are refused
    /// with `RESOURCE_EXHAUSTED` (default 256 MiB).
    pub max_inflight_write_bytes: ByteSize,
    /// How long a shutdown waits for running unary calls before cancelling them with
    /// `UNAVAILABLE` (default 30 s); streams and exports are cancelled at once.
    pub shutdown_timeout: DurationValue,
    /// How long a shutdown may spend flushing the memtables, so that the next start replays
    /// little WAL (default 30 s; zero skips the flush). Past it the database closes anyway.
    pub shutdown_flush_timeout: DurationValue,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from("./isobar-data"),
            export_dir: None,
            snapshot_dir: None,
            export_max_bytes: ByteSize(10 << 30),
            max_message_bytes: ByteSize(64 << 20),
            max_rows_per_request: 1_000_000,
            max_inflight_write_bytes: ByteSize(256 << 20),
            shutdown_timeout: DurationValue(std::time::Duration::from_secs(30)),
            shutdown_flush_timeout: DurationValue(std::time::Duration::from_secs(30)),
        }
    }
}

impl ServerConfig {
    /// The export root: `export_dir`, else `<data_dir>/export`.
    pub fn export_root(&self) -> PathBuf {
        self.export_dir.clone().unwrap_or_else(|| self.data_dir.join("export"))
    }

    /// The snapshot directory: `snapshot_dir`, else `<data_dir>/snapshots`.
    pub fn snapshot_root(&self) -> PathBuf {
        self.snapshot_dir.clone().unwrap_or_else(|| self.data_dir.join("snapshots"))
    }
}

/// `[storage]`: the fields of [`isobar_storage::Options`] and its [`Limits`], flattened.
/// Defaults are the engine's own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// WAL durability.
    pub sync: SyncSetting,
    /// WAL segment size.
    pub wal_segment_size: ByteSize,
    /// Handling of a corrupt WAL record that is not at the tail.
    pub wal_recovery: WalRecovery,
    /// Size at which a family's memtable is flushed.
    pub memtable_size: ByteSize,
    /// Memory for all memtables together.
    pub memtable_budget: ByteSize,
    /// Longest a write waits for memtable memory.
    pub write_stall_timeout: DurationValue,
    /// Decoded-block cache size.
    pub block_cache_size: ByteSize,
    /// zstd level for SSTable blocks (1..=22).
    pub zstd_level: i32,
    /// Rows per SSTable page.
    pub rows_per_page: usize,
    /// Longest series key in bytes.
    pub max_series_key_len: usize,
    /// Longest string value.
    pub max_string_len: ByteSize,
    /// Most rows in one engine write batch.
    pub max_rows_per_batch: usize,
    /// Most columns in one table, over all its families.
    pub max_columns_per_table: usize,
    /// Most new columns one write may add.
    pub max_new_columns_per_request: usize,
    /// Most distinct series in one write request (gRPC, line protocol, OTLP).
    pub max_series_per_request: usize,
    /// Most cells (present values) in one write request.
    pub max_cells_per_request: u64,
    /// Smallest accepted timestamp (ns since the epoch).
    pub min_ts: i64,
    /// Largest accepted timestamp (ns since the epoch).
    pub max_ts: i64,
    /// How long an idle idempotent producer's state is kept.
    pub producer_state_ttl: DurationValue,
    /// Most idempotent producers tracked at once.
    pub max_producers: usize,
    /// Most idempotent producers of one identity (token); a write creating one more is refused.
    pub max_producers_per_owner: usize,
    /// `[storage.compaction]`: the database-wide compaction defaults.
    pub compaction: CompactionConfig,
}

/// `[storage.compaction]`: the compaction settings a table uses unless `AlterTable`
/// (`isobar table alter --compaction-window/--closed-after`) gives one of its families its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompactionConfig {
    /// Width of a time window (default 1 day).
    pub window: DurationValue,
    /// A window that is not the newest is closed (merged into as few files as possible) this
    /// long after its newest row, by wall clock (default 1 hour).
    pub closed_after: DurationValue,
}

impl Default for CompactionConfig {
    fn default() -> Self {
        let engine = isobar_storage::CompactionOptions::default();
        Self { window: DurationValue(engine.window), closed_after: DurationValue(engine.closed_after) }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self::from_options(&Options::default())
    }
}

impl StorageConfig {
    /// The config that yields `options`.
    pub fn from_options(options: &Options) -> Self {
        let size = |n: usize| ByteSize(n as u64);
        Self {
            sync: SyncSetting(options.sync),
            wal_segment_size: ByteSize(options.wal_segment_size),
            wal_recovery: options.wal_recovery,
            memtable_size: size(options.memtable_size),
            memtable_budget: size(options.memtable_budget),
            write_stall_timeout: DurationValue(options.write_stall_timeout),
            block_cache_size: size(options.block_cache_size),
            zstd_level: options.zstd_level,
            rows_per_page: options.rows_per_page,
            max_series_key_len: options.limits.max_series_key_len,
            max_string_len: size(options.limits.max_string_len),
            max_rows_per_batch: options.limits.max_rows_per_batch,
            max_columns_per_table: options.limits.max_columns_per_table,
            max_new_columns_per_request: options.limits.max_new_columns_per_request,
            max_series_per_request: options.limits.max_series_per_request,
            max_cells_per_request: options.limits.max_cells_per_request,
            min_ts: options.limits.min_ts,
            max_ts: options.limits.max_ts,
            producer_state_ttl: DurationValue(options.producer_state_ttl),
            max_producers: options.max_producers,
            compaction: CompactionConfig {
                window: DurationValue(options.compaction.window),
                closed_after: DurationValue(options.compaction.closed_after),
            },
            max_producers_per_owner: options.max_producers_per_owner,
        }
    }

    /// The engine options this config describes.
    pub fn to_options(&self) -> Options {
        Options {
            sync: self.sync.0,
            wal_segment_size: self.wal_segment_size.0,
            wal_recovery: self.wal_recovery,
            memtable_size: self.memtable_size.as_usize(),
            memtable_budget: self.memtable_budget.as_usize(),
            write_stall_timeout: self.write_stall_timeout.0,
            block_cache_size: self.block_cache_size.as_usize(),
            zstd_level: self.zstd_level,
            rows_per_page: self.rows_per_page,
            limits: Limits {
                max_series_key_len: self.max_series_key_len,
                max_string_len: self.max_string_len.as_usize(),
                max_rows_per_batch: self.max_rows_per_batch,
                max_columns_per_table: self.max_columns_per_table,
                max_new_columns_per_request: self.max_new_columns_per_request,
                max_series_per_request: self.max_series_per_request,
                max_cells_per_request: self.max_cells_per_request,
                min_ts: self.min_ts,
                max_ts: self.max_ts,
            },
            compaction: isobar_storage::CompactionOptions {
                window: self.compaction.window.0,
                closed_after: self.compaction.closed_after.0,
                ..isobar_storage::CompactionOptions::default()
            },
            producer_state_ttl: self.producer_state_ttl.0,
            max_producers: self.max_producers,
            max_producers_per_owner: self.max_producers_per_owner,
            ..Options::default()
        }
    }
}

/// `[metrics]`: the Prometheus text endpoint on its own HTTP port.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `GET /metrics` (default true).
    pub enabled: bool,
    /// HTTP listen address of the endpoint (default `127.0.0.1:9470`).
    pub listen: SocketAddr,
    /// Serve scrapes without a token (default false). With `[auth]` on, a scrape otherwise needs
    /// `Authorization: Bearer <secret>` of any configured token; with `[auth]` off, a `listen`
    /// address other than loopback is refused at start unless this is true (or `--insecure`).
    pub allow_anonymous: bool,
    /// Label per-family metrics with `table` and `family` (default false: one aggregate series
    /// labelled `table="*",family="*"`, so the endpoint discloses no schema names).
    pub table_labels: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 9470)),
            allow_anonymous: false,
            table_labels: false,
        }
    }
}

/// `[log]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A level or a list of levels and `target=level` directives such as
    /// `info,isobar_storage=debug` (default `info`; checked by [`log_level::check`]).
    /// `RUST_LOG` is not read; use `ISOBAR_LOG_LEVEL`.
    pub level: String,
    /// Line format (default human).
    pub format: LogFormat,
    /// ANSI colours in human-readable lines (default auto: only when standard error is a
    /// terminal, so log files and pipes get plain text).
    pub color: LogColor,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { level: "info".into(), format: LogFormat::Human, color: LogColor::Auto }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration (syntax, unknown key, wrong type).
    #[error("config file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's error, with line, column and key.
        #[source]
        source: toml::de::Error,
    },
    /// An `ISOBAR_*` variable with a value its key does not accept.
    #[error("environment variable {var}=\"{value}\": {source}")]
    Env {
        /// The variable.
        var: String,
        /// Its value.
        value: String,
        /// What was expected.
        #[source]
        source: ValueError,
    },
    /// An `ISOBAR_*` variable that names no config key and is not one of the client's or the
    /// test harness's ([`env_names::NOT_KEYS`]): most likely a misspelling, which must not fall
    /// back to a default silently. `ISOBAR_UNKNOWN_ENV=warn` turns it into a warning.
    #[error(
        "environment variable {var} names no config key{}; keys look like ISOBAR_SERVER_LISTEN (see deploy/isobar.toml); \
         set ISOBAR_UNKNOWN_ENV=warn to only warn",
        suggestion.as_ref().map(|s| format!(" (did you mean {s}?)")).unwrap_or_default()
    )]
    UnknownEnv {
        /// The variable.
        var: String,
        /// The closest key's variable, when one is close.
        suggestion: Option<String>,
    },
    /// A value that parses but is out of range or contradicts another.
    #[error("config key {key} = {value}: {reason}")]
    Invalid {
        /// `section.key`.
        key: &'static str,
        /// The value in force.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An [`ConfigError::Invalid`] value and where it was set (what [`Config::load`] returns).
    #[error("{origin}: {source}")]
    Located {
        /// The variable, file and line, or the default.
        origin: origin::Origin,
        /// The error.
        source: Box<ConfigError>,
    },
}

impl ConfigError {
    /// The key of an out-of-range value ([`ConfigError::Invalid`], located or not).
    pub fn invalid_key(&self) -> Option<&'static str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            ConfigError::Located { source, .. } => source.invalid_key(),
            _ => None,
        }
    }
}

impl Config {
    /// Parses a config file's text (`path` is only used in errors).
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|source| ConfigError::Parse { path: path.to_owned(), source })
    }

    /// Loads defaults, then `file` if given, then the process environment; validates the result.
    /// Returns the warnings about `ISOBAR_*` variables that name no key, for the caller to log.
    pub fn load(file: Option<&Path>) -> Result<(Self, Vec<EnvWarning>), ConfigError> {
        Self::load_with(
            file,
            std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// [`Config::load`] with the environment given as `(name, value)` pairs.
    pub fn load_with(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Self, Vec<EnvWarning>), ConfigError> {
        let text = match file {
            None => None,
            Some(path) => Some(
                std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?,
            ),
        };
        let mut config = match (file, &text) {
            (Some(path), Some(text)) => Config::from_toml(text, path)?,
            _ => Config::default(),
        };
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let warnings = config.apply_env(vars.clone())?;
        config.validate().map_err(|error| match error {
            ConfigError::Invalid { key, .. } => {
                let origin = origin::find(key, &vars, file.zip(text.as_deref()));
                ConfigError::Located { origin, source: Box::new(error) }
            }
            other => other,
        })?;
        Ok((config, warnings))
    }

    /// Checks ranges and relations that the types alone do not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, value: String, reason| Err(ConfigError::Invalid { key, value, reason });
        if let Err(reason) = log_level::check(&self.log.level) {
            return invalid("log.level", self.log.level.clone(), reason);
        }
        let s = &self.storage;
        if !(1..=22).contains(&s.zstd_level) {
            return invalid("storage.zstd_level", s.zstd_level.to_string(), "must be 1 to 22");
        }
        if s.memtable_size > s.memtable_budget {
            return invalid(
                "storage.memtable_size",
                s.memtable_size.to_string(),
                "must not exceed storage.memtable_budget",
            );
        }
        if s.memtable_size.0 == 0 {
            return invalid("storage.memtable_size", s.memtable_size.to_string(), "must be positive");
        }
        if s.rows_per_page == 0 {
            return invalid("storage.rows_per_page", "0".into(), "must be positive");
        }
        if s.compaction.window.0.is_zero() {
            return invalid("storage.compaction.window", s.compaction.window.to_string(), "must be positive");
        }
        if s.max_producers == 0 {
            return invalid("storage.max_producers", "0".into(), "must be positive");
        }
        if s.max_producers_per_owner == 0 {
            return invalid("storage.max_producers_per_owner", "0".into(), "must be positive");
        }
        if s.max_series_per_request == 0 {
            return invalid("storage.max_series_per_request", "0".into(), "must be positive");
        }
        if s.max_cells_per_request == 0 {
            return invalid("storage.max_cells_per_request", "0".into(), "must be positive");
        }
        if s.min_ts >= s.max_ts {
            return invalid("storage.min_ts", s.min_ts.to_string(), "must be less than storage.max_ts");
        }
        if self.server.max_message_bytes.0 < 1024 {
            return invalid(
                "server.max_message_bytes",
                self.server.max_message_bytes.to_string(),
                "must be at least 1KiB",
            );
        }
        if self.server.max_rows_per_request == 0 {
            return invalid("server.max_rows_per_request", "0".into(), "must be positive");
        }
        if isobar_storage::validate_name(isobar_storage::NameKind::Family, &self.line_protocol.family).is_err() {
            return invalid(
                "line_protocol.family",
                self.line_protocol.family.clone(),
                "must be a family name matching [A-Za-z_][A-Za-z0-9_]{0,127}",
            );
        }
        if isobar_storage::validate_name(isobar_storage::NameKind::Family, &self.otlp.family).is_err() {
            return invalid(
                "otlp.family",
                self.otlp.family.clone(),
                "must be a family name matching [A-Za-z_][A-Za-z0-9_]{0,127}",
            );
        }
        if self.line_protocol.max_body_bytes.0 < 1024 {
            return invalid(
                "line_protocol.max_body_bytes",
                self.line_protocol.max_body_bytes.to_string(),
                "must be at least 1KiB",
            );
        }
        if self.log.level.trim().is_empty() {
            return invalid("log.level", String::new(), "must name a level such as info");
        }
        connections::validate(&self.connections)?;
        sql::validate(&self.sql)?;
        postgres::validate(&self.postgres, &self.auth, &self.tls)?;
        security::validate(&self.auth, &self.tls)
    }

    /// The effective configuration as TOML (what `isobar serve --print-config` prints): every
    /// key, those that are unset as comment lines saying what is in force (see `config/print.rs`).
    /// It loads back to the same configuration.
    pub fn to_toml(&self) -> String {
        self.print_toml()
    }

    /// The bounds of the server's SQL engine, from `[sql]`.
    pub fn sql_options(&self) -> isobar_sql::SqlOptions {
        self.sql.options()
    }
}
