//! `ISOBAR_<SECTION>_<KEY>` environment overrides.

use std::str::FromStr;

use isobar_storage::WalRecovery;

use super::{Config, ConfigError, ValueError};

use super::env_names;

/// An `ISOBAR_*` variable that names no config key; ignored with a warning under
/// `ISOBAR_UNKNOWN_ENV=warn` (else the configuration is refused, see [`ConfigError::UnknownEnv`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvWarning {
    /// The variable's name.
    pub var: String,
}

impl std::fmt::Display for EnvWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "environment variable {} names no config key and is ignored (keys look like ISOBAR_SERVER_LISTEN)",
            self.var
        )
    }
}

/// Parses `value` of variable `var`.
pub(super) fn parse<T: FromStr>(var: &str, value: &str, expected: &'static str) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Env {
        var: var.to_owned(),
        value: value.to_owned(),
        source: ValueError { expected },
    })
}

/// Parses `value` of `var` with the type's own `FromStr` (whose error says what it expects).
pub(super) fn parse_value<T: FromStr<Err = ValueError>>(var: &str, value: &str) -> Result<T, ConfigError> {
    value.parse().map_err(|source| ConfigError::Env { var: var.to_owned(), value: value.to_owned(), source })
}

const INT: &str = "a whole number";
const BOOL: &str = "true or false";
const COUNT: &str = "a non-negative whole number";

impl Config {
    /// Applies every `ISOBAR_*` pair of `vars`; returns the names that are no key.
    pub(super) fn apply_env(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Vec<EnvWarning>, ConfigError> {
        let mut vars: Vec<(String, String)> = vars.into_iter().filter(|(k, _)| k.starts_with("ISOBAR_")).collect();
        // Deterministic order, so that the first bad variable reported is always the same.
        vars.sort();
        let warn_only = vars.iter().any(|(k, v)| k == "ISOBAR_UNKNOWN_ENV" && v.trim() == "warn");
        let mut warnings = Vec::new();
        for (var, value) in vars {
            if env_names::is_allowed_non_key(&var) {
                continue;
            }
            if !self.apply_var(&var, &value)? {
                if !warn_only {
                    let suggestion = env_names::suggestion(&var);
                    return Err(ConfigError::UnknownEnv { var, suggestion });
                }
                warnings.push(EnvWarning { var });
            }
        }
        Ok(warnings)
    }

    /// True when `var` names a config key (probed on a copy: the value is never kept).
    pub(super) fn names_key(&self, var: &str) -> bool {
        !matches!(self.clone().apply_var(var, ""), Ok(false))
    }

    /// Applies one variable; `false` when it names no key.
    fn apply_var(&mut self, var: &str, value: &str) -> Result<bool, ConfigError> {
        let Some(rest) = var.strip_prefix("ISOBAR_") else {
            return Ok(false);
        };
        let Some((section, key)) = rest.split_once('_') else {
            return Ok(false);
        };
        let (srv, st, log, lp) = (&mut self.server, &mut self.storage, &mut self.log, &mut self.line_protocol);
        match (section, key) {
            ("SERVER", "LISTEN") => {
                srv.listen = parse(var, value, "a socket address such as 127.0.0.1:50051")?;
            }
            ("SERVER", "DATA_DIR") => srv.data_dir = value.into(),
            ("SERVER", "EXPORT_DIR") => srv.export_dir = Some(value.into()),
            ("SERVER", "SNAPSHOT_DIR") => srv.snapshot_dir = Some(value.into()),
            ("SERVER", "EXPORT_MAX_BYTES") => srv.export_max_bytes = parse_value(var, value)?,
            ("SERVER", "MAX_MESSAGE_BYTES") => srv.max_message_bytes = parse_value(var, value)?,
            ("SERVER", "MAX_ROWS_PER_REQUEST") => {
                srv.max_rows_per_request = parse(var, value, COUNT)?;
            }
            ("SERVER", "MAX_INFLIGHT_WRITE_BYTES") => {
                srv.max_inflight_write_bytes = parse_value(var, value)?;
            }
            ("SERVER", "SHUTDOWN_TIMEOUT") => srv.shutdown_timeout = parse_value(var, value)?,
            ("SERVER", "SHUTDOWN_FLUSH_TIMEOUT") => srv.shutdown_flush_timeout = parse_value(var, value)?,
            ("STORAGE", "SYNC") => st.sync = parse_value(var, value)?,
            ("STORAGE", "WAL_SEGMENT_SIZE") => st.wal_segment_size = parse_value(var, value)?,
            ("STORAGE", "WAL_RECOVERY") => {
                st.wal_recovery = match value.trim() {
                    "strict" => WalRecovery::Strict,
                    "skip_corrupt" => WalRecovery::SkipCorrupt,
                    _ => return Err(env_error(var, value, "strict or skip_corrupt")),
                };
            }
            ("STORAGE", "MEMTABLE_SIZE") => st.memtable_size = parse_value(var, value)?,
            ("STORAGE", "MEMTABLE_BUDGET") => st.memtable_budget = parse_value(var, value)?,
            ("STORAGE", "WRITE_STALL_TIMEOUT") => st.write_stall_timeout = parse_value(var, value)?,
            ("STORAGE", "BLOCK_CACHE_SIZE") => st.block_cache_size = parse_value(var, value)?,
            ("STORAGE", "ZSTD_LEVEL") => st.zstd_level = parse(var, value, INT)?,
            ("STORAGE", "ROWS_PER_PAGE") => st.rows_per_page = parse(var, value, COUNT)?,
            ("STORAGE", "MAX_SERIES_KEY_LEN") => st.max_series_key_len = parse(var, value, COUNT)?,
            ("STORAGE", "MAX_STRING_LEN") => st.max_string_len = parse_value(var, value)?,
            ("STORAGE", "MAX_ROWS_PER_BATCH") => st.max_rows_per_batch = parse(var, value, COUNT)?,
            ("STORAGE", "MAX_COLUMNS_PER_TABLE") => st.max_columns_per_table = parse(var, value, COUNT)?,
            ("STORAGE", "MAX_NEW_COLUMNS_PER_REQUEST") => {
                st.max_new_columns_per_request = parse(var, value, COUNT)?;
            }
            ("STORAGE", "COMPACTION_WINDOW") => st.compaction.window = parse_value(var, value)?,
            ("STORAGE", "COMPACTION_CLOSED_AFTER") => st.compaction.closed_after = parse_value(var, value)?,
            ("STORAGE", "MAX_SERIES_PER_REQUEST") => st.max_series_per_request = parse(var, value, COUNT)?,
            ("STORAGE", "MAX_CELLS_PER_REQUEST") => st.max_cells_per_request = parse(var, value, COUNT)?,
            ("STORAGE", "MAX_PRODUCERS_PER_OWNER") => st.max_producers_per_owner = parse(var, value, COUNT)?,
            ("STORAGE", "MIN_TS") => st.min_ts = parse(var, value, INT)?,
            ("STORAGE", "MAX_TS") => st.max_ts = parse(var, value, INT)?,
            ("STORAGE", "PRODUCER_STATE_TTL") => st.producer_state_ttl = parse_value(var, value)?,
            ("STORAGE", "MAX_PRODUCERS") => st.max_producers = parse(var, value, COUNT)?,
            ("METRICS", "ENABLED") => self.metrics.enabled = parse(var, value, "true or false")?,
            ("METRICS", "ALLOW_ANONYMOUS") => self.metrics.allow_anonymous = parse(var, value, BOOL)?,
            ("METRICS", "TABLE_LABELS") => self.metrics.table_labels = parse(var, value, BOOL)?,
            ("METRICS", "LISTEN") => {
                self.metrics.listen = parse(var, value, "a socket address such as 127.0.0.1:9470")?;
            }
            ("LINE", "PROTOCOL_ENABLED") => lp.enabled = parse(var, value, BOOL)?,
            ("LINE", "PROTOCOL_LISTEN") => {
                lp.listen = parse(var, value, "a socket address such as 127.0.0.1:8086")?;
            }
            ("LINE", "PROTOCOL_FAMILY") => lp.family = value.to_owned(),
            ("LINE", "PROTOCOL_CREATE_TABLES") => lp.create_tables = parse(var, value, BOOL)?,
            ("LINE", "PROTOCOL_MAX_BODY_BYTES") => lp.max_body_bytes = parse_value(var, value)?,
            ("LINE", "PROTOCOL_ALLOW_TOKEN_IN_URL") => lp.allow_token_in_url = parse(var, value, BOOL)?,
            ("OTLP", "ENABLED") => self.otlp.enabled = parse(var, value, BOOL)?,
            ("OTLP", "FAMILY") => self.otlp.family = value.to_owned(),
            ("OTLP", "CREATE_TABLES") => self.otlp.create_tables = parse(var, value, BOOL)?,
            ("CONNECTIONS", key) => return self.connections.apply_var(var, key, value),
            ("SQL", key) => return self.sql.apply_var(var, key, value),
            ("POSTGRES", key) => return self.postgres.apply_var(var, key, value),
            ("LOG", "LEVEL") => log.level = value.to_owned(),
            ("LOG", "FORMAT") => log.format = parse_value(var, value)?,
            ("LOG", "COLOR") => log.color = parse_value(var, value)?,
            ("AUTH", "ENABLED") => self.auth.enabled = parse(var, value, "true or false")?,
            ("AUTH", "BOOTSTRAP_TOKEN_FILE") => self.auth.bootstrap_token_file = value.into(),
            ("AUTH", "MAX_FAILED_AUTH_PER_MINUTE") => {
                self.auth.max_failed_auth_per_minute = parse(var, value, "a whole number (0: no limit)")?;
            }
            ("TLS", "CERT") => self.tls.cert = Some(value.into()),
            ("TLS", "KEY") => self.tls.key = Some(value.into()),
            ("TLS", "CLIENT_CA") => self.tls.client_ca = Some(value.into()),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl super::ConnectionsConfig {
    /// Applies `ISOBAR_CONNECTIONS_<KEY>`; `false` when `key` names no key of the section.
    fn apply_var(&mut self, var: &str, key: &str, value: &str) -> Result<bool, ConfigError> {
        match key {
            "MAX_PER_LISTENER" => self.max_per_listener = parse(var, value, COUNT)?,
            "MAX_PER_PEER" => self.max_per_peer = parse(var, value, COUNT)?,
            "HEADER_READ_TIMEOUT" => self.header_read_timeout = parse_value(var, value)?,
            "BODY_READ_TIMEOUT" => self.body_read_timeout = parse_value(var, value)?,
            "IDLE_TIMEOUT" => self.idle_timeout = parse_value(var, value)?,
            "GRPC_KEEPALIVE_INTERVAL" => self.grpc_keepalive_interval = parse_value(var, value)?,
            "GRPC_KEEPALIVE_TIMEOUT" => self.grpc_keepalive_timeout = parse_value(var, value)?,
            "GRPC_MAX_CONCURRENT_STREAMS" => self.grpc_max_concurrent_streams = parse(var, value, COUNT)?,
            "TCP_KEEPALIVE" => self.tcp_keepalive = parse_value(var, value)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// An error for `var=value` that expected `expected`.
fn env_error(var: &str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::Env { var: var.to_owned(), value: value.to_owned(), source: ValueError { expected } }
}
