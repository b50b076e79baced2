//! The agent's TOML configuration (`isobar agent run --config agent.toml`). Every key has a
//! default; `deploy/agent.toml` documents them all and is parsed by a test. Secrets (the bearer
//! token) come from an environment variable or a file, never from the file itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

use crate::queue::{FullPolicy, QueueOptions};

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// Where and how to send.
    pub server: ServerConfig,
    /// Who this producer is.
    pub producer: ProducerConfig,
    /// The on-disk queue.
    pub queue: QueueConfig,
    /// How readings are cut into records.
    pub batch: BatchConfig,
    /// Reconnect delays.
    pub backoff: BackoffConfig,
    /// The sources, `[[source]]` tables.
    pub source: Vec<SourceConfig>,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// gRPC URL of `isobar serve`.
    pub url: String,
    /// Name of an environment variable holding the bearer token ("" = none).
    pub token_env: String,
    /// File holding the bearer token (trailing whitespace ignored).
    pub token_file: Option<PathBuf>,
    /// gRPC request compression: `none` or `zstd`.
    pub compression: Compression,
    /// Records sent ahead of their acknowledgement.
    pub window: usize,
    /// Give up on a connection attempt after this long.
    pub connect_timeout_ms: u64,
    /// Largest gRPC message sent or received.
    pub max_message_bytes: usize,
    /// PEM CA certificate(s) that signed the server's certificate; required by an `https://` url.
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate, for servers that require one (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:50051".into(),
            token_env: String::new(),
            token_file: None,
            compression: Compression::None,
            window: 32,
            connect_timeout_ms: 5000,
            max_message_bytes: 64 << 20,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// Request compression.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// Uncompressed.
    #[default]
    None,
    /// zstd (gRPC `grpc-encoding: zstd`).
    Zstd,
}

/// `[producer]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProducerConfig {
    /// Producer id; empty = derived on first start from the host name, the queue directory and
    /// the creation time, then kept in `<queue dir>/producer_id`.
    pub id: String,
}

/// `[queue]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Queue directory.
    pub dir: PathBuf,
    /// Bound on the queue's bytes on disk.
    pub max_bytes: u64,
    /// Segment size.
    pub segment_bytes: u64,
    /// `block` or `drop_oldest`.
    pub full_policy: FullPolicy,
    /// Fsync each record before it counts as queued.
    pub fsync: bool,
}

impl Default for QueueConfig {
    fn default() -> Self {
        let q = QueueOptions::default();
        Self {
            dir: PathBuf::from("isobar-agent-queue"),
            max_bytes: q.max_bytes,
            segment_bytes: q.segment_bytes,
            full_policy: q.policy,
            fsync: q.fsync,
        }
    }
}

impl QueueConfig {
    /// The queue's options.
    pub fn options(&self) -> QueueOptions {
        QueueOptions {
            max_bytes: self.max_bytes,
            segment_bytes: self.segment_bytes,
            policy: self.full_policy,
            fsync: self.fsync,
        }
    }
}

/// `[batch]`: a record is closed at whichever limit comes first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchConfig {
    /// Rows per record.
    pub max_rows: usize,
    /// Approximate encoded bytes per record.
    pub max_bytes: usize,
    /// Oldest reading's wait before its record is closed.
    pub max_delay_ms: u64,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self { max_rows: 10_000, max_bytes: 4 << 20, max_delay_ms: 200 }
    }
}

/// `[backoff]`: delay before reconnect attempt n is `min(max, initial * 2^n)`, randomised by
/// +- `jitter` (a fraction).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackoffConfig {
    /// First delay.
    pub initial_ms: u64,
    /// Largest delay.
    pub max_ms: u64,
    /// Random spread, 0..=1.
    pub jitter: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self { initial_ms: 100, max_ms: 30_000, jitter: 0.2 }
    }
}

/// How values of JSON / CSV sources become cells (shared by several sources).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct FieldMapping {
    /// Family of every column whose name has no `family.` prefix.
    pub family: String,
    /// Name of the timestamp field / column ("" = arrival time).
    pub ts_field: String,
    /// Unit of a numeric timestamp: `s`, `ms`, `us` or `ns`.
    pub ts_unit: TsUnit,
    /// Column types that are not f64 / bool / string by their look: `{ status = "i64" }`.
    pub types: BTreeMap<String, ValueType>,
    /// Fields that are not written.
    pub ignore: Vec<String>,
}

impl Default for FieldMapping {
    fn default() -> Self {
        Self {
            family: "data".into(),
            ts_field: "ts".into(),
            ts_unit: TsUnit::Ns,
            types: BTreeMap::new(),
            ignore: Vec::new(),
        }
    }
}

/// Timestamp unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TsUnit {
    /// Seconds (fractions allowed).
    S,
    /// Milliseconds.
    Ms,
    /// Microseconds.
    Us,
    /// Nanoseconds.
    #[default]
    Ns,
}

/// A forced column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// 64-bit float.
    F64,
    /// 64-bit integer.
    I64,
    /// Boolean.
    Bool,
    /// String.
    String,
}

/// A tailed file (`type = "csv"`: a header row names the columns; `type = "jsonl"`: one JSON
/// object per line).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TailConfig {
    /// Unique name (default: the path).
    #[serde(default)]
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Target table.
    pub table: String,
    /// Column or field holding the series key ("" = use `series`).
    #[serde(default)]
    pub series_field: String,
    /// Fixed series key when `series_field` is empty.
    #[serde(default)]
    pub series: String,
    /// Value mapping.
    #[serde(flatten)]
    pub mapping: FieldMapping,
    /// Poll interval for new lines.
    #[serde(default = "default_poll")]
    pub poll_ms: u64,
}

/// One `[[source]]`, selected by `type`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceConfig {
    /// The built-in generators.
    Generator {
        /// Unique name (default `generator`).
        #[serde(default = "default_generator_name")]
        name: String,
        /// `iot` or `weather`.
        workload: String,
        /// Series count (default: the workload's).
        series: Option<usize>,
        /// Samples per series (default: the workload's).
        timestamps: Option<usize>,
        /// Seed (default: the workload's).
        seed: Option<u64>,
        /// Rows per second, 0 = as fast as the queue takes them.
        #[serde(default)]
        rate: u64,
        /// Timestamps per generated batch.
        #[serde(default = "default_ts_per_batch")]
        ts_per_batch: usize,
        /// Create the workload's table on the server when missing.
        #[serde(default = "default_true")]
        create_table: bool,
    },
    /// A tailed CSV file with a header row.
    Csv(TailConfig),
    /// A tailed JSON-lines file, one object per line.
    Jsonl(TailConfig),
    /// InfluxDB line protocol on stdin, a TCP or a UDP port.
    LineProtocol {
        /// Unique name (default `line_protocol`).
        #[serde(default = "default_lp_name")]
        name: String,
        /// `stdin`, `tcp://127.0.0.1:8094`, `udp://127.0.0.1:8094` or `http://127.0.0.1:8186`
        /// (InfluxDB's write API, acknowledged once queued).
        listen: String,
        /// Family of every field.
        #[serde(default = "default_lp_family")]
        family: String,
        /// Timestamp precision: `s`, `ms`, `us` or `ns`.
        #[serde(default)]
        precision: TsUnit,
        /// Exposure and resource limits of a TCP / UDP listener.
        #[serde(flatten)]
        limits: ListenLimits,
    },
    /// An MQTT 3.1.1 broker subscription.
    Mqtt {
        /// Unique name (default `mqtt`).
        #[serde(default = "default_mqtt_name")]
        name: String,
        /// Broker address `host:port`.
        broker: String,
        /// Topic filters to subscribe to (`+` and `#` wildcards).
        topics: Vec<String>,
        /// Prefix removed from a topic before mapping it as `<table>/<series...>`.
        #[serde(default)]
        strip_prefix: String,
        /// 0 or 1.
        #[serde(default)]
        qos: u8,
        /// Client id (default `isobar-agent-<producer id>`).
        #[serde(default)]
        client_id: String,
        /// Value mapping of the JSON payload.
        #[serde(flatten)]
        mapping: FieldMapping,
    },
}

/// Limits of the line-protocol TCP / UDP listener. Whoever reaches the port writes with the
/// agent's token, so the listener is loopback-only unless `allow_remote` is set, and no client
/// can hold more than `max_connections` threads or `max_line_bytes` of memory per connection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct ListenLimits {
    /// Accept a listen address that is not loopback (logged as a warning at start).
    pub allow_remote: bool,
    /// Concurrent TCP connections; a connection past it is closed at once and counted.
    pub max_connections: usize,
    /// Longest line in bytes (without its newline); a longer line is dropped and counted, and
    /// no more than this is ever buffered for one line.
    pub max_line_bytes: usize,
    /// A TCP connection that sends nothing for this long is closed (over HTTP: the longest wait
    /// for a request's head).
    pub idle_timeout_ms: u64,
    /// Largest HTTP request body, after gzip decoding (`http://` listeners only); a larger
    /// request is refused with 413.
    pub max_body_bytes: usize,
}

impl Default for ListenLimits {
    fn default() -> Self {
        Self {
            allow_remote: false,
            max_connections: 64,
            max_line_bytes: 1 << 20,
            idle_timeout_ms: 60_000,
            max_body_bytes: 8 << 20,
        }
    }
}

fn default_generator_name() -> String {
    "generator".into()
}
fn default_lp_name() -> String {
    "line_protocol".into()
}
fn default_mqtt_name() -> String {
    "mqtt".into()
}
fn default_lp_family() -> String {
    "fields".into()
}
fn default_ts_per_batch() -> usize {
    10
}
fn default_poll() -> u64 {
    200
}
fn default_true() -> bool {
    true
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A TLS file of `[server]` cannot be read.
    #[error("cannot read {key} file {path}: {source}")]
    TlsFile {
        /// The config key (`server.tls_ca`, ...).
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file cannot be read.
    #[error("cannot read agent config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("agent config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A value that parsed but cannot be used.
    #[error("agent config: {0}")]
    Invalid(String),
}

impl AgentConfig {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        Self::parse(&text).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse { path: path.into(), message },
            other => other,
        })
    }

    /// Parses and checks TOML text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: Self =
            toml::from_str(text).map_err(|e| ConfigError::Parse { path: PathBuf::new(), message: e.to_string() })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.server.window == 0 {
            return bad("server.window must be at least 1".into());
        }
        if self.batch.max_rows == 0 || self.batch.max_bytes == 0 {
            return bad("batch.max_rows and batch.max_bytes must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.backoff.jitter) {
            return bad(format!("backoff.jitter {} is not within 0..=1", self.backoff.jitter));
        }
        let server = &self.server;
        let https = server.url.starts_with("https://");
        if https && server.tls_ca.is_none() {
            return bad(format!(
                "server.url {} is https://: set server.tls_ca to the CA certificate (PEM) that signed the \
                 server's certificate",
                server.url
            ));
        }
        if !https && (server.tls_ca.is_some() || server.tls_cert.is_some() || server.tls_key.is_some()) {
            return bad(format!(
                "server.tls_ca, tls_cert and tls_key need an https:// server.url (it is {})",
                server.url
            ));
        }
        if server.tls_cert.is_some() != server.tls_key.is_some() {
            return bad("server.tls_cert and server.tls_key go together".into());
        }
        if self.queue.segment_bytes > self.queue.max_bytes {
            return bad("queue.segment_bytes must not exceed queue.max_bytes".into());
        }
        let mut names = std::collections::BTreeSet::new();
        for s in &self.source {
            if !names.insert(s.name()) {
                return bad(format!("two sources are named {:?}: give each a unique name", s.name()));
            }
            if let SourceConfig::Mqtt { qos, .. } = s
                && *qos > 1
            {
                return bad(format!("source {:?}: qos must be 0 or 1", s.name()));
            }
            if let SourceConfig::LineProtocol { listen, limits, .. } = s {
                crate::source::listen::check(listen, limits)
                    .map_err(|m| ConfigError::Invalid(format!("source {:?}: {m}", s.name())))?;
            }
        }
        Ok(())
    }

    /// The TLS settings of an `https://` server url, their files read now (so that a missing
    /// file fails the start instead of every reconnect); `None` for `http://`.
    pub fn tls(&self) -> Result<Option<ClientTlsConfig>, ConfigError> {
        let server = &self.server;
        let Some(ca) = &server.tls_ca else {
            return Ok(None);
        };
        let read = |key: &'static str, path: &PathBuf| {
            std::fs::read(path).map_err(|source| ConfigError::TlsFile { key, path: path.clone(), source })
        };
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read("server.tls_ca", ca)?));
        if let (Some(cert), Some(key)) = (&server.tls_cert, &server.tls_key) {
            tls = tls.identity(Identity::from_pem(read("server.tls_cert", cert)?, read("server.tls_key", key)?));
        }
        Ok(Some(tls))
    }

    /// The bearer token from `token_env` or `token_file`, if configured.
    pub fn token(&self) -> Result<Option<String>, ConfigError> {
        if !self.server.token_env.is_empty() {
            let value = std::env::var(&self.server.token_env).map_err(|_| {
                ConfigError::Invalid(format!("server.token_env names {:?}, which is not set", self.server.token_env))
            })?;
            return Ok(Some(value.trim().to_string()));
        }
        if let Some(path) = &self.server.token_file {
            let text =
                std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
            return Ok(Some(text.trim().to_string()));
        }
        Ok(None)
    }
}

impl SourceConfig {
    /// The source's unique name (checkpoints are stored under it).
    pub fn name(&self) -> String {
        match self {
            Self::Generator { name, .. } | Self::LineProtocol { name, .. } | Self::Mqtt { name, .. } => name.clone(),
            Self::Csv(tail) | Self::Jsonl(tail) => {
                if tail.name.is_empty() {
                    tail.path.display().to_string()
                } else {
                    tail.name.clone()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_example_parses_with_every_source_kind() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/agent.toml");
        let config = AgentConfig::load(&path).expect("deploy/agent.toml parses");
        assert_eq!(config.server.url, ServerConfig::default().url);
        assert_eq!(config.queue.full_policy, FullPolicy::Block);
        let kinds: Vec<_> = config.source.iter().map(std::mem::discriminant).collect();
        assert_eq!(kinds.len(), 5, "one example per source kind");
    }

    #[test]
    fn tls_settings_must_fit_the_url() {
        let err = AgentConfig::parse("[server]\nurl = \"https://db:50051\"\n").expect_err("no CA");
        assert!(err.to_string().contains("server.tls_ca"), "{err}");
        let err = AgentConfig::parse("[server]\ntls_ca = \"ca.pem\"\n").expect_err("http:// with a CA");
        assert!(err.to_string().contains("https://"), "{err}");
        let text = "[server]\nurl = \"https://db:50051\"\ntls_ca = \"ca.pem\"\ntls_cert = \"c.pem\"\n";
        assert!(AgentConfig::parse(text).expect_err("cert without key").to_string().contains("go together"));
        let config = AgentConfig::parse("[server]\nurl = \"https://db:50051\"\ntls_ca = \"/nonexistent/ca.pem\"\n")
            .expect("valid");
        let err = config.tls().expect_err("missing CA file").to_string();
        assert!(err.contains("server.tls_ca") && err.contains("/nonexistent/ca.pem"), "{err}");
        assert!(AgentConfig::default().tls().expect("plain").is_none());
    }

    #[test]
    fn empty_file_is_all_defaults() {
        assert_eq!(AgentConfig::parse("").expect("parses"), AgentConfig::default());
    }

    #[test]
    fn unknown_key_and_duplicate_names_are_rejected() {
        assert!(AgentConfig::parse("[queue]\nmax_byte = 1\n").is_err());
        let two = "[[source]]\ntype = \"generator\"\nworkload = \"iot\"\n[[source]]\ntype = \"generator\"\nworkload = \"iot\"\n";
        let err = AgentConfig::parse(two).expect_err("same name twice");
        assert!(err.to_string().contains("unique"), "{err}");
    }

    fn lp_source(extra: &str) -> Result<AgentConfig, ConfigError> {
        AgentConfig::parse(&format!("[[source]]\ntype = \"line_protocol\"\n{extra}\n"))
    }

    #[test]
    fn line_protocol_listener_defaults_are_loopback_and_bounded() {
        let config = lp_source("listen = \"tcp://127.0.0.1:8094\"").expect("loopback parses");
        let SourceConfig::LineProtocol { limits, .. } = &config.source[0] else { panic!("not line protocol") };
        assert_eq!(limits, &ListenLimits::default());
        assert!(!limits.allow_remote);
        assert_eq!((limits.max_connections, limits.max_line_bytes, limits.idle_timeout_ms), (64, 1 << 20, 60_000));
    }

    #[test]
    fn non_loopback_listener_needs_allow_remote() {
        for listen in ["tcp://0.0.0.0:8094", "udp://0.0.0.0:8094", "tcp://[::]:8094"] {
            let err = lp_source(&format!("listen = \"{listen}\"")).expect_err("wildcard refused");
            assert!(err.to_string().contains("allow_remote = true"), "{err}");
        }
        let ok = lp_source("listen = \"tcp://0.0.0.0:8094\"\nallow_remote = true").expect("asked for explicitly");
        let SourceConfig::LineProtocol { limits, .. } = &ok.source[0] else { panic!("not line protocol") };
        assert!(limits.allow_remote);
        let err = lp_source("listen = \"tcp://127.0.0.1:8094\"\nmax_connections = 0").expect_err("zero cap");
        assert!(err.to_string().contains("max_connections"), "{err}");
    }
}
