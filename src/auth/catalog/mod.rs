//! The access catalog: users, groups, memberships, tokens and grants, as the server keeps them
//! in the database (stored whole, as JSON text, in the engine's opaque
//! `manifest::AccessCatalog` blob; see `docs/architecture.md`).
//!
//! ```text
//! format 1 (JSON object, unknown fields refused):
//! {"users":{"alice":{"enabled":true,"password":"$argon2id$...","created_ms":1765000000000,
//!            "grants":{"weather":["view"]},
//!            "tokens":{"laptop":{"sha256":"<64 hex>","created_ms":...,"expires_ms":null,"last_used_ms":null}}}},
//!  "groups":{"field-techs":{"created_ms":...,"members":["alice"],"grants":{"weather":["add"]}}}}
//! ```
//!
//! Only hashes are stored: SHA-256 of token secrets (as in the config file), Argon2id of
//! passwords. [`change`] applies one change with every rule checked first; [`decode`] checks a
//! stored catalog the same way and never panics.

pub mod change;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::names::{NameKind, check_name};
use super::{ALL_TABLES, Grants, Permission, TokenHash};

pub use change::{AccessError, Change, Context, apply};

/// The format version of the serialised catalog.
pub const FORMAT: u32 = 1;

/// Users and groups.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Users by name.
    #[serde(default)]
    pub users: BTreeMap<String, User>,
    /// Groups by name.
    #[serde(default)]
    pub groups: BTreeMap<String, Group>,
}

/// A user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// A disabled user's tokens and password are refused (kept, so enabling restores them).
    pub enabled: bool,
    /// Argon2id PHC string, when the user has a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Creation time, Unix ms.
    pub created_ms: i64,
    /// The user's own grants.
    #[serde(default)]
    pub grants: Grants,
    /// Tokens by name.
    #[serde(default)]
    pub tokens: BTreeMap<String, TokenRecord>,
}

/// A token of a user: only its hash is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    /// SHA-256 of the secret.
    pub sha256: TokenHash,
    /// Issue time, Unix ms.
    pub created_ms: i64,
    /// After this (Unix ms) the token is refused.
    #[serde(default)]
    pub expires_ms: Option<i64>,
    /// Last successful use as of the latest catalog change (the live figure is kept in memory).
    #[serde(default)]
    pub last_used_ms: Option<i64>,
}

/// A group: its members get its grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Creation time, Unix ms.
    pub created_ms: i64,
    /// Member user names.
    #[serde(default)]
    pub members: BTreeSet<String>,
    /// The group's grants.
    #[serde(default)]
    pub grants: Grants,
}

/// Who a grant is given to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A user.
    User(String),
    /// A group (its members).
    Group(String),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::User(name) => write!(f, "user {name:?}"),
            Subject::Group(name) => write!(f, "group {name:?}"),
        }
    }
}

impl Catalog {
    /// The groups `user` is a member of.
    pub fn groups_of(&self, user: &str) -> Vec<&str> {
        self.groups.iter().filter(|(_, g)| g.members.contains(user)).map(|(n, _)| n.as_str()).collect()
    }

    /// `user`'s effective grants: its own plus those of every group it is in.
    pub fn effective_grants(&self, user: &str) -> Grants {
        let mut out = Grants::new();
        let own = self.users.get(user).map(|u| &u.grants);
        let groups = self.groups.values().filter(|g| g.members.contains(user)).map(|g| &g.grants);
        for grants in own.into_iter().chain(groups) {
            for (table, perms) in grants {
                let held = out.entry(table.clone()).or_default();
                held.extend(perms.iter().copied());
                held.sort();
                held.dedup();
            }
        }
        out
    }

    /// The enabled users holding admin on `*` (own or through a group).
    pub fn admins(&self) -> Vec<&str> {
        self.users
            .iter()
            .filter(|(name, u)| {
                u.enabled && self.effective_grants(name).get(ALL_TABLES).is_some_and(|p| p.contains(&Permission::Admin))
            })
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

/// Why a stored catalog could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Written by a newer (or unknown) format.
    #[error("access catalog format {got} is not supported (this build reads format {FORMAT})")]
    Format {
        /// The stored format.
        got: u32,
    },
    /// The text is not a catalog.
    #[error("access catalog (generation {generation}) does not parse: {source}")]
    Parse {
        /// Its generation.
        generation: u64,
        /// The parser's error (line and column).
        #[source]
        source: serde_json::Error,
    },
    /// It parses but breaks a rule (a bad name, a member that is no user, a bad hash).
    #[error("access catalog (generation {generation}) is invalid: {reason}")]
    Invalid {
        /// Its generation.
        generation: u64,
        /// The rule broken.
        reason: String,
    },
}

/// Serialises `catalog` (format [`FORMAT`]).
pub fn encode(catalog: &Catalog) -> String {
    // Serialising maps of strings and numbers cannot fail.
    serde_json::to_string(catalog).unwrap_or_else(|_| String::from("{}"))
}

/// Reads a stored catalog: the format must be [`FORMAT`] and every rule must hold.
pub fn decode(format: u32, generation: u64, data: &str) -> Result<Catalog, DecodeError> {
    if format != FORMAT {
        return Err(DecodeError::Format { got: format });
    }
    let catalog: Catalog = serde_json::from_str(data).map_err(|source| DecodeError::Parse { generation, source })?;
    validate(&catalog).map_err(|reason| DecodeError::Invalid { generation, reason })?;
    Ok(catalog)
}

/// Checks the rules every catalog keeps (names, members, hashes, unique token secrets).
pub fn validate(catalog: &Catalog) -> Result<(), String> {
    let mut secrets = BTreeSet::new();
    for (name, user) in &catalog.users {
        check_name(NameKind::User, name)?;
        check_grants(&user.grants)?;
        if let Some(hash) = &user.password
            && !super::password::is_argon2id(hash)
        {
            return Err(format!("user {name:?}: the password is not an Argon2id hash"));
        }
        for (token, record) in &user.tokens {
            check_name(NameKind::Token, token)?;
            if !secrets.insert(record.sha256.to_string()) {
                return Err(format!("user {name:?} token {token:?}: the same secret as another token"));
            }
        }
    }
    for (name, group) in &catalog.groups {
        check_name(NameKind::Group, name)?;
        check_grants(&group.grants)?;
        if let Some(member) = group.members.iter().find(|m| !catalog.users.contains_key(*m)) {
            return Err(format!("group {name:?}: member {member:?} is not a user"));
        }
    }
    Ok(())
}

/// Grant keys must be `*` or a table name.
pub fn check_table(table: &str) -> Result<(), String> {
    if table == ALL_TABLES {
        return Ok(());
    }
    isobar_storage::validate_name(isobar_storage::NameKind::Table, table)
        .map_err(|e| format!("{e}; a grant is on a table name or \"*\" (every table)"))
}

fn check_grants(grants: &Grants) -> Result<(), String> {
    grants.keys().try_for_each(|t| check_table(t))
}
