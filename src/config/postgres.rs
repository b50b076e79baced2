//! `[postgres]`: the PostgreSQL wire-protocol front end (psql, psycopg, SQLAlchemy, Grafana),
//! off by default; see docs/postgres.md.
//!
//! ```toml
//! [postgres]
//! enabled = false                # serve the PostgreSQL protocol
//! listen = "127.0.0.1:5432"      # PostgreSQL's port; database "isobar", password = an Isobar token
//! ```
//!
//! Connections count against `[connections]` like every listener's. With `[tls]` set, clients
//! must use TLS (`sslmode=require` or `verify-full`) before a password is sent; without it,
//! the front end with authentication on may only listen on loopback, so that a token never
//! crosses a network in clear.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::{AuthConfig, ConfigError, TlsConfig};

/// `[postgres]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// Serve the PostgreSQL protocol (default false).
    pub enabled: bool,
    /// Listen address (default `127.0.0.1:5432`).
    pub listen: SocketAddr,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self { enabled: false, listen: SocketAddr::from(([127, 0, 0, 1], 5432)) }
    }
}

impl PostgresConfig {
    /// Applies `ISOBAR_POSTGRES_<KEY>`; `false` when `key` names no key of the section.
    pub(super) fn apply_var(&mut self, var: &str, key: &str, value: &str) -> Result<bool, ConfigError> {
        match key {
            "ENABLED" => self.enabled = super::env::parse(var, value, "true or false")?,
            "LISTEN" => self.listen = super::env::parse(var, value, "a socket address such as 127.0.0.1:5432")?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Checks `[postgres]`: with authentication on and no TLS, only a loopback address.
pub(super) fn validate(c: &PostgresConfig, auth: &AuthConfig, tls: &TlsConfig) -> Result<(), ConfigError> {
    if c.enabled && auth.enabled && tls.cert.is_none() && !c.listen.ip().is_loopback() {
        return Err(ConfigError::Invalid {
            key: "postgres.listen",
            value: c.listen.to_string(),
            reason: "must be a loopback address while [tls] is unset: PostgreSQL clients send the token as a \
                     cleartext password; set tls.cert and tls.key to listen beyond this machine",
        });
    }
    Ok(())
}
