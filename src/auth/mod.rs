//! Authentication and permissions, independent of any network front end.
//!
//! A client presents a **secret** (a bearer token). The server stores only the SHA-256 of each
//! secret, with a name and **grants**: per table name, or `*` for every table, a set of
//! [`Permission`]s. [`Authenticator::authenticate`] hashes the presented secret, compares it with
//! every configured hash in constant time and returns the matching [`Principal`]; each request
//! handler then calls [`Principal::require`] with the table it touches and the permission its
//! operation needs.
//!
//! ```text
//! secret ─► SHA-256 ─► constant-time compare with every [[auth.tokens]] sha256 ─► Principal
//!                                                                                  │
//! handler: principal.require("weather", Permission::Write)? ◄───────────────────────┘
//! ```
//!
//! Permissions, and what they imply:
//!
//! - `read`: scan, aggregate, latest, export, list/describe tables, stats.
//! - `write`: ingest (`Write`, `WriteStream`) and `Delete`. Write does **not** imply read: an
//!   ingest agent that can only append cannot read other writers' data back.
//! - `admin`: create, alter and drop tables, flush, compact, snapshots. Admin **implies read and
//!   write** on the same tables: whoever may drop a table may as well read and write it.
//!
//! A grant on `*` covers every table, including tables created later. Grants add up: `*` =
//! `["read"]` plus `weather` = `["write"]` lets the token read everything and write `weather`.
//! With authentication disabled every caller is [`Principal::anonymous`], which may do anything.
//! Which permission each gRPC method needs is decided in one place, `server::rpc`.

mod authenticator;
pub mod bootstrap;
mod token;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use authenticator::Authenticator;
pub use token::{TokenHash, TokenHashError, generate_secret, hash_secret};

/// The name under which grants cover every table.
pub const ALL_TABLES: &str = "*";

/// What a caller may do to a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Scan, aggregate, latest, export, list/describe, stats.
    Read,
    /// Ingest and delete.
    Write,
    /// Create, alter, drop, flush, compact, snapshots; implies read and write.
    Admin,
}

impl Permission {
    /// Whether holding `self` allows an operation needing `needed` (admin implies read and write).
    pub fn allows(self, needed: Permission) -> bool {
        self == needed || self == Permission::Admin
    }

    /// The name used in the config and in messages: `read`, `write` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Write => "write",
            Permission::Admin => "admin",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Permissions per table name (or [`ALL_TABLES`]).
pub type Grants = BTreeMap<String, Vec<Permission>>;

/// Why a call is not allowed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credentials were presented although authentication is enabled.
    #[error("authentication required: send the header `authorization: Bearer <token>`")]
    Missing,
    /// The credentials are not in the expected form.
    #[error("malformed credentials: {reason}")]
    Malformed {
        /// What is wrong (never the secret itself).
        reason: &'static str,
    },
    /// The token matches no configured token.
    #[error("unknown or revoked token")]
    Unknown,
    /// The token is valid but lacks a permission.
    #[error("token \"{principal}\" lacks the {needed} permission on table \"{table}\"")]
    Denied {
        /// The token's name.
        principal: String,
        /// The table.
        table: String,
        /// The permission the operation needs.
        needed: Permission,
    },
}

/// An authenticated caller: a token's name and its grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The token's configured name (what logs show; never the secret).
    pub name: String,
    /// What it may do, per table or `*`.
    pub grants: Grants,
}

impl Principal {
    /// The caller when authentication is disabled: every permission on every table.
    pub fn anonymous() -> Self {
        Self { name: "anonymous".into(), grants: Grants::from([(ALL_TABLES.into(), vec![Permission::Admin])]) }
    }

    /// Whether this principal holds `needed` on `table` (directly, through `*`, or implied by admin).
    pub fn allows(&self, table: &str, needed: Permission) -> bool {
        [table, ALL_TABLES].iter().filter_map(|t| self.grants.get(*t)).flatten().any(|held| held.allows(needed))
    }

    /// Whether this principal may write to at least one table: what `Ingest/Resume` needs (it
    /// reveals only how far a producer got, which only a writer has a use for).
    pub fn writes_somewhere(&self) -> bool {
        self.grants.values().flatten().any(|held| held.allows(Permission::Write))
    }

    /// Whether this principal may read at least one table: what `Stats` without a table needs
    /// (its answer is about the tables the caller may read, so a caller reading none gets none).
    pub fn reads_somewhere(&self) -> bool {
        self.grants.values().flatten().any(|held| held.allows(Permission::Read))
    }

    /// `Ok` when this principal holds `needed` on `table`, else [`AuthError::Denied`].
    pub fn require(&self, table: &str, needed: Permission) -> Result<(), AuthError> {
        if self.allows(table, needed) {
            Ok(())
        } else {
            Err(AuthError::Denied { principal: self.name.clone(), table: table.to_owned(), needed })
        }
    }
}
