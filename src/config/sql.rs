//! `[sql]`: the bounds of SQL queries (Flight SQL, `isobar sql`, later PostgreSQL), handed to
//! [`isobar_sql::SqlEngine`] as [`isobar_sql::SqlOptions`].
//!
//! ```toml
//! [sql]
//! memory_limit = "256MiB"        # operator memory per query (hash tables, sorts, joins); past it RESOURCE_EXHAUSTED
//! timeout = "1m"                 # longest a query may run, streaming included; past it DEADLINE_EXCEEDED
//! max_concurrent_queries = 16    # queries executing at once; one more is refused with RESOURCE_EXHAUSTED
//! max_prepared_statements = 1024 # open prepared statements (Flight SQL), all clients; past it the least recently used is closed
//! ```
//!
//! A query over the cap is refused at once rather than queued: a client that gets
//! `RESOURCE_EXHAUSTED` backs off and retries, where a queue would hide the overload until every
//! waiting client timed out.

use serde::{Deserialize, Serialize};

use super::{ByteSize, ConfigError, DurationValue};

/// `[sql]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqlConfig {
    /// Operator memory one query may hold (default 256 MiB); operators do not spill to disk.
    pub memory_limit: ByteSize,
    /// Longest a query may run, from planning to its last batch (default 60 s).
    pub timeout: DurationValue,
    /// Queries executing at once (default 16); one more is refused with `RESOURCE_EXHAUSTED`.
    pub max_concurrent_queries: usize,
    /// Prepared statements open at once across all clients (default 1024); creating one more
    /// closes the least recently used (its client gets `NOT_FOUND` and prepares again).
    pub max_prepared_statements: usize,
}

impl Default for SqlConfig {
    fn default() -> Self {
        let options = isobar_sql::SqlOptions::default();
        Self {
            memory_limit: ByteSize(options.memory_limit_bytes as u64),
            timeout: DurationValue(options.timeout),
            max_concurrent_queries: options.max_concurrent_queries,
            max_prepared_statements: 1024,
        }
    }
}

impl SqlConfig {
    /// The options of the server's [`isobar_sql::SqlEngine`].
    pub fn options(&self) -> isobar_sql::SqlOptions {
        isobar_sql::SqlOptions {
            memory_limit_bytes: usize::try_from(self.memory_limit.0).unwrap_or(usize::MAX),
            timeout: self.timeout.0,
            max_concurrent_queries: self.max_concurrent_queries,
        }
    }

    /// Applies `ISOBAR_SQL_<KEY>`; `false` when `key` names no key of the section.
    pub(super) fn apply_var(&mut self, var: &str, key: &str, value: &str) -> Result<bool, ConfigError> {
        match key {
            "MEMORY_LIMIT" => self.memory_limit = super::env::parse_value(var, value)?,
            "TIMEOUT" => self.timeout = super::env::parse_value(var, value)?,
            "MAX_CONCURRENT_QUERIES" => {
                self.max_concurrent_queries = super::env::parse(var, value, "a non-negative whole number")?;
            }
            "MAX_PREPARED_STATEMENTS" => {
                self.max_prepared_statements = super::env::parse(var, value, "a non-negative whole number")?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Checks `[sql]`: every bound must be positive.
pub(super) fn validate(c: &SqlConfig) -> Result<(), ConfigError> {
    let invalid = |key, value: String| Err(ConfigError::Invalid { key, value, reason: "must be positive" });
    if c.memory_limit.0 == 0 {
        return invalid("sql.memory_limit", c.memory_limit.to_string());
    }
    if c.timeout.0.is_zero() {
        return invalid("sql.timeout", c.timeout.to_string());
    }
    if c.max_concurrent_queries == 0 {
        return invalid("sql.max_concurrent_queries", "0".into());
    }
    if c.max_prepared_statements == 0 {
        return invalid("sql.max_prepared_statements", "0".into());
    }
    Ok(())
}
