//! One change to the access catalog, checked completely before it is applied: a refused change
//! leaves the catalog as it was.
//!
//! Rules beyond names and existence:
//! - a user may not take the name of a config-file token (the two would share logs and
//!   producer marks);
//! - a change that would leave no enabled user with `admin` on `*` is refused when the catalog
//!   had one before and no config-file token holds admin on `*` (deleting, disabling,
//!   removing from a group or revoking the last admin locks everyone out of user management);
//! - a token's expiry must lie in the future.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Catalog, Group, Subject, TokenRecord, User, check_table};
use crate::auth::names::{NameKind, check_name};
use crate::auth::{Permission, TokenHash};

/// A change, as the API asks for it (passwords already hashed, token secrets already hashed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// A new user (enabled unless `disabled`), optionally with a password.
    CreateUser {
        /// Its name.
        name: String,
        /// Argon2id hash of its password.
        #[serde(skip_serializing)]
        password_hash: Option<String>,
        /// Created disabled.
        disabled: bool,
    },
    /// Enables or disables a user.
    SetUserEnabled {
        /// The user.
        name: String,
        /// The new state.
        enabled: bool,
    },
    /// Sets (or with `None` removes) a user's password.
    SetPassword {
        /// The user.
        name: String,
        /// Argon2id hash.
        #[serde(skip_serializing)]
        password_hash: Option<String>,
    },
    /// Deletes a user with its tokens, grants and memberships.
    DeleteUser {
        /// The user.
        name: String,
    },
    /// A new, empty group.
    CreateGroup {
        /// Its name.
        name: String,
    },
    /// Deletes a group (its members stay users).
    DeleteGroup {
        /// The group.
        name: String,
    },
    /// Adds a user to a group.
    AddMember {
        /// The group.
        group: String,
        /// The user.
        user: String,
    },
    /// Removes a user from a group.
    RemoveMember {
        /// The group.
        group: String,
        /// The user.
        user: String,
    },
    /// Adds permissions on a table (or `*`).
    Grant {
        /// To whom.
        subject: Subject,
        /// Table or `*`.
        table: String,
        /// What.
        permissions: Vec<Permission>,
    },
    /// Removes permissions on a table (or `*`); none listed removes all on that table.
    Revoke {
        /// From whom.
        subject: Subject,
        /// Table or `*`.
        table: String,
        /// What (empty: everything on `table`).
        permissions: Vec<Permission>,
    },
    /// A new token of a user.
    AddToken {
        /// The user.
        user: String,
        /// The token's name, unique per user.
        name: String,
        /// SHA-256 of its secret.
        #[serde(skip_serializing)]
        sha256: Option<TokenHash>,
        /// Expiry, Unix ms.
        expires_ms: Option<i64>,
    },
    /// Revokes (deletes) a token of a user.
    RevokeToken {
        /// The user.
        user: String,
        /// The token.
        name: String,
    },
}

impl Change {
    /// A short name for logs and the audit log, e.g. `create_user`.
    pub fn action(&self) -> &'static str {
        match self {
            Change::CreateUser { .. } => "create_user",
            Change::SetUserEnabled { enabled: true, .. } => "enable_user",
            Change::SetUserEnabled { enabled: false, .. } => "disable_user",
            Change::SetPassword { .. } => "set_password",
            Change::DeleteUser { .. } => "delete_user",
            Change::CreateGroup { .. } => "create_group",
            Change::DeleteGroup { .. } => "delete_group",
            Change::AddMember { .. } => "add_member",
            Change::RemoveMember { .. } => "remove_member",
            Change::Grant { .. } => "grant",
            Change::Revoke { .. } => "revoke",
            Change::AddToken { .. } => "issue_token",
            Change::RevokeToken { .. } => "revoke_token",
        }
    }

    /// What the change is about, for the audit log (never a secret or a hash).
    pub fn target(&self) -> String {
        let perms = |p: &[Permission]| p.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",");
        match self {
            Change::CreateUser { name, .. }
            | Change::SetUserEnabled { name, .. }
            | Change::SetPassword { name, .. }
            | Change::DeleteUser { name } => format!("user {name:?}"),
            Change::CreateGroup { name } | Change::DeleteGroup { name } => format!("group {name:?}"),
            Change::AddMember { group, user } | Change::RemoveMember { group, user } => {
                format!("user {user:?} in group {group:?}")
            }
            Change::Grant { subject, table, permissions } | Change::Revoke { subject, table, permissions } => {
                format!("{subject} on {table:?}: [{}]", perms(permissions))
            }
            Change::AddToken { user, name, .. } | Change::RevokeToken { user, name } => {
                format!("token {name:?} of user {user:?}")
            }
        }
    }
}

/// Why a change was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// A name, table or value breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// The user, group or token does not exist.
    #[error("{kind} {name:?} does not exist")]
    NotFound {
        /// What.
        kind: NameKind,
        /// Its name.
        name: String,
    },
    /// The name is taken.
    #[error("{kind} {name:?} already exists")]
    Exists {
        /// What.
        kind: NameKind,
        /// Its name.
        name: String,
    },
    /// Names a config-file token: those are defined in the file and cannot be changed here.
    #[error("{name:?} is a token defined in the config file ([[auth.tokens]]): it cannot be changed at run time")]
    FileDefined {
        /// The name.
        name: String,
    },
    /// The change would leave nobody able to manage access.
    #[error("refused: {action} would leave no enabled user with admin on \"*\"; grant admin to another user first")]
    LastAdmin {
        /// What was asked.
        action: &'static str,
    },
}

/// What a change is checked against besides the catalog.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Now, Unix ms (creation times; expiry must be later).
    pub now_ms: i64,
    /// Names of the config-file tokens.
    pub file_names: BTreeSet<String>,
    /// Whether a config-file token holds admin on `*` (then the last-admin rule does not bind).
    pub file_admin: bool,
}

/// Applies `change` to `catalog`, or refuses it and changes nothing.
pub fn apply(catalog: &mut Catalog, change: &Change, ctx: &Context) -> Result<(), AccessError> {
    let mut next = catalog.clone();
    apply_to(&mut next, change, ctx)?;
    if !ctx.file_admin && !catalog.admins().is_empty() && next.admins().is_empty() {
        return Err(AccessError::LastAdmin { action: change.action() });
    }
    *catalog = next;
    Ok(())
}

fn invalid(reason: String) -> AccessError {
    AccessError::Invalid(reason)
}

fn name_ok(kind: NameKind, name: &str) -> Result<(), AccessError> {
    check_name(kind, name).map_err(invalid)
}

fn user_mut<'a>(c: &'a mut Catalog, name: &str) -> Result<&'a mut User, AccessError> {
    c.users.get_mut(name).ok_or_else(|| AccessError::NotFound { kind: NameKind::User, name: name.to_owned() })
}

fn group_mut<'a>(c: &'a mut Catalog, name: &str) -> Result<&'a mut Group, AccessError> {
    c.groups.get_mut(name).ok_or_else(|| AccessError::NotFound { kind: NameKind::Group, name: name.to_owned() })
}

fn grants_of<'a>(c: &'a mut Catalog, subject: &Subject) -> Result<&'a mut crate::auth::Grants, AccessError> {
    match subject {
        Subject::User(name) => user_mut(c, name).map(|u| &mut u.grants),
        Subject::Group(name) => group_mut(c, name).map(|g| &mut g.grants),
    }
}

fn apply_to(c: &mut Catalog, change: &Change, ctx: &Context) -> Result<(), AccessError> {
    match change {
        Change::CreateUser { name, password_hash, disabled } => {
            name_ok(NameKind::User, name)?;
            if ctx.file_names.contains(name) {
                return Err(AccessError::FileDefined { name: name.clone() });
            }
            if c.users.contains_key(name) {
                return Err(AccessError::Exists { kind: NameKind::User, name: name.clone() });
            }
            let user = User {
                enabled: !disabled,
                password: password_hash.clone(),
                created_ms: ctx.now_ms,
                grants: Default::default(),
                tokens: Default::default(),
            };
            c.users.insert(name.clone(), user);
        }
        Change::SetUserEnabled { name, enabled } => user_mut(c, name)?.enabled = *enabled,
        Change::SetPassword { name, password_hash } => user_mut(c, name)?.password = password_hash.clone(),
        Change::DeleteUser { name } => {
            if c.users.remove(name).is_none() {
                return Err(AccessError::NotFound { kind: NameKind::User, name: name.clone() });
            }
            c.groups.values_mut().for_each(|g| {
                g.members.remove(name);
            });
        }
        Change::CreateGroup { name } => {
            name_ok(NameKind::Group, name)?;
            if c.groups.contains_key(name) {
                return Err(AccessError::Exists { kind: NameKind::Group, name: name.clone() });
            }
            c.groups.insert(
                name.clone(),
                Group { created_ms: ctx.now_ms, members: Default::default(), grants: Default::default() },
            );
        }
        Change::DeleteGroup { name } => {
            if c.groups.remove(name).is_none() {
                return Err(AccessError::NotFound { kind: NameKind::Group, name: name.clone() });
            }
        }
        Change::AddMember { group, user } => {
            if !c.users.contains_key(user) {
                return Err(AccessError::NotFound { kind: NameKind::User, name: user.clone() });
            }
            if !group_mut(c, group)?.members.insert(user.clone()) {
                return Err(invalid(format!("user {user:?} is already a member of group {group:?}")));
            }
        }
        Change::RemoveMember { group, user } => {
            if !group_mut(c, group)?.members.remove(user) {
                return Err(invalid(format!("user {user:?} is not a member of group {group:?}")));
            }
        }
        Change::Grant { subject, table, permissions } => {
            check_table(table).map_err(invalid)?;
            if permissions.is_empty() {
                return Err(invalid("a grant needs at least one permission (view, add, change, delete, admin)".into()));
            }
            let held = grants_of(c, subject)?.entry(table.clone()).or_default();
            held.extend(permissions.iter().copied());
            held.sort();
            held.dedup();
        }
        Change::Revoke { subject, table, permissions } => {
            check_table(table).map_err(invalid)?;
            let grants = grants_of(c, subject)?;
            let Some(held) = grants.get_mut(table) else {
                return Err(invalid(format!("{subject} holds no grant on {table:?}")));
            };
            if permissions.is_empty() {
                held.clear();
            } else {
                held.retain(|p| !permissions.contains(p));
            }
            if held.is_empty() {
                grants.remove(table);
            }
        }
        Change::AddToken { user, name, sha256, expires_ms } => {
            name_ok(NameKind::Token, name)?;
            let Some(sha256) = sha256 else {
                return Err(invalid("a token needs its secret's hash".into()));
            };
            if let Some(at) = expires_ms
                && *at <= ctx.now_ms
            {
                return Err(invalid(format!("the expiry {at} (Unix ms) is not in the future")));
            }
            let in_use = c.users.values().flat_map(|u| u.tokens.values()).any(|t| t.sha256.ct_eq(sha256));
            if in_use {
                return Err(invalid("another token has the same secret".into()));
            }
            let u = user_mut(c, user)?;
            if u.tokens.contains_key(name) {
                return Err(AccessError::Exists { kind: NameKind::Token, name: name.clone() });
            }
            let record =
                TokenRecord { sha256: *sha256, created_ms: ctx.now_ms, expires_ms: *expires_ms, last_used_ms: None };
            u.tokens.insert(name.clone(), record);
        }
        Change::RevokeToken { user, name } => {
            if user_mut(c, user)?.tokens.remove(name).is_none() {
                return Err(AccessError::NotFound { kind: NameKind::Token, name: name.clone() });
            }
        }
    }
    Ok(())
}
