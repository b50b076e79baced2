//! `[auth]` and `[tls]`: tokens with their grants, and the server's certificate.
//!
//! ```toml
//! [auth]
//! enabled = true
//! bootstrap_token_file = ""                  # or "admin.token": a generated first admin token
//!
//! [[auth.tokens]]
//! name = "ingest-agent"                      # shown in logs; never the secret
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! grants = { weather = ["write"] }
//!
//! [[auth.tokens]]
//! name = "dashboard"
//! sha256 = "..."
//! grants = { "*" = ["read"], weather = ["read", "write"] }
//!
//! [tls]
//! cert = "/etc/isobar/server.pem"            # PEM chain, leaf first
//! key = "/etc/isobar/server.key"             # PEM private key
//! client_ca = "/etc/isobar/clients-ca.pem"   # optional: require client certificates it signed
//! ```

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::auth::{ALL_TABLES, Grants, TokenHash};

/// `[auth]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Whether calls must carry a bearer token (default false).
    pub enabled: bool,
    /// First start without tokens (the container image): with `enabled` and no `[[auth.tokens]]`,
    /// the server generates an admin token, writes its secret to this file (mode 0600; a
    /// relative path is inside `server.data_dir`) and logs the path, never the secret; later
    /// starts read it back. Unused once a token is configured. Empty (the default): off.
    pub bootstrap_token_file: PathBuf,
    /// Failed authentications one client IP address may make per minute before every further
    /// attempt from it is refused for the rest of that minute (default 10; 0: no limit).
    pub max_failed_auth_per_minute: u32,
    /// `[[auth.tokens]]`: the accepted tokens.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<TokenConfig>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            bootstrap_token_file: PathBuf::new(),
            max_failed_auth_per_minute: 10,
            tokens: Vec::new(),
        }
    }
}

/// One `[[auth.tokens]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// A unique name, shown in logs.
    pub name: String,
    /// SHA-256 of the secret, 64 hex digits.
    pub sha256: TokenHash,
    /// Permissions per table name or `*`: `read` (= `view`), `write` (= `add` + `delete`, what
    /// it always allowed), `admin`, or the new names `view`, `add`, `change`, `delete`.
    #[serde(default, deserialize_with = "crate::auth::legacy::deserialize_config_grants")]
    pub grants: Grants,
}

/// `[tls]`: TLS is on when `cert` and `key` are set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain of the server, leaf first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// PEM private key of `cert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    /// PEM CA certificates; when set, clients must present a certificate signed by one of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ca: Option<PathBuf>,
}

impl TlsConfig {
    /// Whether the server speaks TLS.
    pub fn enabled(&self) -> bool {
        self.cert.is_some()
    }
}

/// Whether `name` may appear as a grant's table: `*` or a valid table name.
fn grant_table_is_valid(name: &str) -> bool {
    name == ALL_TABLES || isobar_storage::validate_name(isobar_storage::NameKind::Table, name).is_ok()
}

/// Checks `[auth]` and `[tls]`.
pub(super) fn validate(auth: &AuthConfig, tls: &TlsConfig) -> Result<(), ConfigError> {
    let invalid = |key, value: String, reason| Err(ConfigError::Invalid { key, value, reason });
    let mut names = BTreeSet::new();
    let mut hashes = BTreeSet::new();
    for token in &auth.tokens {
        if token.name.trim().is_empty() {
            return invalid("auth.tokens.name", token.name.clone(), "must not be empty");
        }
        if !names.insert(token.name.as_str()) {
            return invalid("auth.tokens.name", token.name.clone(), "is used by two tokens; names must be unique");
        }
        if !hashes.insert(token.sha256.to_string()) {
            return invalid("auth.tokens.sha256", token.name.clone(), "two tokens have the same secret");
        }
        if let Some(table) = token.grants.keys().find(|t| !grant_table_is_valid(t)) {
            return invalid(
                "auth.tokens.grants",
                format!("{table:?} (token {})", token.name),
                "grant keys must be \"*\" or a table name ([A-Za-z_][A-Za-z0-9_]{0,127})",
            );
        }
    }
    match (&tls.cert, &tls.key) {
        (Some(_), None) => invalid("tls.key", String::new(), "is required when tls.cert is set"),
        (None, Some(_)) => invalid("tls.cert", String::new(), "is required when tls.key is set"),
        (None, None) if tls.client_ca.is_some() => {
            invalid("tls.client_ca", String::new(), "needs tls.cert and tls.key (client certificates need TLS)")
        }
        _ => Ok(()),
    }
}
