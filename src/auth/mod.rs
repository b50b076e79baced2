//! Authentication and permissions, independent of any network front end.
//!
//! A client presents a **secret** (a bearer token). The server stores only the SHA-256 of each
//! secret. Identities come from two places: `[[auth.tokens]]` in the config file (immutable at
//! run time) and the **access catalog** ([`catalog`]): users, groups, memberships, tokens and
//! grants, changed by administrators while the server runs and stored in the database.
//! [`Authenticator::authenticate`] hashes the presented secret, finds the identity in the live
//! index ([`live`]) and returns its [`Principal`] with its **effective grants** (its own plus
//! its groups'); each request handler then calls [`Principal::require`] with the table it
//! touches and the permission its operation needs.
//!
//! ```text
//! secret ─► SHA-256 ─► live index (file tokens + catalog tokens) ─► Principal (own + groups' grants)
//!                        ▲ swapped whole on every catalog change          │
//! handler: principal.require("weather", Permission::Add)? ◄────────────────┘
//! ```
//!
//! Permissions, per table or `*` (every table, including tables created later):
//!
//! - `view`: scan, aggregate, latest, list/describe tables, stats.
//! - `add`: write rows (`Write`, `WriteStream`, `ProducerStream`, line protocol, OTLP).
//! - `change`: create and alter tables.
//! - `delete`: range deletes; dropping a table needs `change` **and** `delete` (it removes the
//!   schema and the data).
//! - `admin`: implies every permission on the same tables; on `*` also users, groups, grants,
//!   tokens, flush, compaction, export and snapshots.
//!
//! `read` and `write`, the names of the config file's grants, stay accepted there with the
//! meaning they always had: `read` = `view`, `write` = `add` + `delete` (write and range-delete,
//! not drop). In code, [`Permission::Read`] and [`Permission::Write`] are aliases of
//! [`Permission::View`] and [`Permission::Add`].
//! With authentication disabled every caller is [`Principal::anonymous`], which may do anything.
//! Which permission each gRPC method needs is decided in one place, `server::rpc`.

pub mod audit;
mod authenticator;
pub mod bootstrap;
pub mod catalog;
pub mod legacy;
pub mod live;
pub mod names;
pub mod password;
pub mod ratelimit;
pub mod store;
mod token;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use authenticator::{Authenticator, check_usable};
pub use token::{TokenHash, TokenHashError, generate_secret, hash_secret};

/// The name under which grants cover every table.
pub const ALL_TABLES: &str = "*";

/// The principal's name when authentication is off.
pub const ANONYMOUS: &str = "anonymous";

/// What a caller may do to a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Scan, aggregate, latest, list/describe, stats.
    View,
    /// Write rows.
    Add,
    /// Create and alter tables.
    Change,
    /// Range deletes (and, with `change`, dropping the table).
    Delete,
    /// Everything on the same tables; on `*` also access management, flush, compaction,
    /// export and snapshots.
    Admin,
}

/// A permission name that is none of the known ones.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown permission {got:?}: expected one of view, add, change, delete, admin (or read, write in the config file)"
)]
pub struct UnknownPermission {
    /// The name given.
    pub got: String,
}

#[allow(non_upper_case_globals)]
impl Permission {
    /// The older name of [`Permission::View`], kept for callers written against it.
    pub const Read: Permission = Permission::View;
    /// The older name of [`Permission::Add`] (ingest), kept for callers written against it.
    pub const Write: Permission = Permission::Add;

    /// Every permission, weakest first.
    pub const ALL: [Permission; 5] =
        [Permission::View, Permission::Add, Permission::Change, Permission::Delete, Permission::Admin];

    /// Whether holding `self` allows an operation needing `needed` (admin implies everything).
    pub fn allows(self, needed: Permission) -> bool {
        self == needed || self == Permission::Admin
    }

    /// The name used in the API, the CLI and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::View => "view",
            Permission::Add => "add",
            Permission::Change => "change",
            Permission::Delete => "delete",
            Permission::Admin => "admin",
        }
    }

    /// The permission named `name` (`read` is accepted for `view`; `write`, which means two
    /// permissions, only in the config file, see [`legacy`]).
    pub fn parse(name: &str) -> Result<Permission, UnknownPermission> {
        match name {
            "view" | "read" => Ok(Permission::View),
            "add" => Ok(Permission::Add),
            "change" => Ok(Permission::Change),
            "delete" => Ok(Permission::Delete),
            "admin" => Ok(Permission::Admin),
            other => Err(UnknownPermission { got: other.to_owned() }),
        }
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Permission::parse(&name).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for Permission {
    type Err = UnknownPermission;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::parse(s)
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
    /// The token is known but its expiry has passed.
    #[error("the token has expired: issue a new one with `isobar token issue`")]
    Expired,
    /// The token's user is disabled.
    #[error("the user of this token is disabled")]
    Disabled,
    /// Too many failed authentications from this address.
    #[error("too many failed authentications from this address: retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the next attempt is accepted.
        retry_after_secs: u64,
    },
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

/// An authenticated caller: its name and its effective grants (own plus its groups').
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The file token's name or the catalog user's name (what logs show; never the secret).
    pub name: String,
    /// What it may do, per table or `*`; shared with the live index, so a request's copy of
    /// its caller costs a name and a reference count, whatever the number of grants.
    pub grants: std::sync::Arc<Grants>,
}

impl Principal {
    /// The caller when authentication is disabled: every permission on every table.
    pub fn anonymous() -> Self {
        let grants = Grants::from([(ALL_TABLES.into(), vec![Permission::Admin])]);
        Self { name: ANONYMOUS.into(), grants: std::sync::Arc::new(grants) }
    }

    /// Whether this principal holds `needed` on `table` (directly, through `*`, or implied by admin).
    pub fn allows(&self, table: &str, needed: Permission) -> bool {
        [table, ALL_TABLES].iter().filter_map(|t| self.grants.get(*t)).flatten().any(|held| held.allows(needed))
    }

    /// Whether this principal may write to at least one table: what `Ingest/Resume` needs (it
    /// reveals only how far a producer got, which only a writer has a use for).
    pub fn writes_somewhere(&self) -> bool {
        self.grants.values().flatten().any(|held| held.allows(Permission::Add))
    }

    /// Whether this principal may read at least one table: what `Stats` without a table needs
    /// (its answer is about the tables the caller may read, so a caller reading none gets none).
    pub fn reads_somewhere(&self) -> bool {
        self.grants.values().flatten().any(|held| held.allows(Permission::View))
    }

    /// Whether this principal may manage access (users, groups, grants, tokens): admin on `*`.
    pub fn is_admin(&self) -> bool {
        self.allows(ALL_TABLES, Permission::Admin)
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
