//! The access-management RPCs of `Admin`: `ChangeAccess`, `IssueToken`, `DescribeAccess`,
//! `ListAuditEntries` (admin on `*`) and `WhoAmI` (any identity).
//!
//! Requests are converted to one [`Change`] here (passwords hashed with Argon2id, new token
//! secrets generated and hashed), then applied by the [`AccessStore`] on the blocking pool
//! (hashing and the manifest `fsync` are blocking work). Refusals map to statuses: a bad name,
//! permission or value is `INVALID_ARGUMENT`, an unknown user/group/token `NOT_FOUND`, a taken
//! name `ALREADY_EXISTS`, a file-defined identity or the last admin `FAILED_PRECONDITION`.

use std::sync::Arc;

use isobar_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::guard::{authorize, call_auth, caller};
use super::rpc::Rpc;
use crate::auth::catalog::{AccessError, Catalog, Change, Subject};
use crate::auth::store::{AccessStore, StoreError};
use crate::auth::{ALL_TABLES, Grants, Permission, generate_secret, hash_secret, password};

/// The status of a refused change.
fn status(error: StoreError) -> Status {
    match error {
        StoreError::Access(e @ AccessError::Invalid(_)) => Status::invalid_argument(e.to_string()),
        StoreError::Access(e @ AccessError::NotFound { .. }) => Status::not_found(e.to_string()),
        StoreError::Access(e @ AccessError::Exists { .. }) => Status::already_exists(e.to_string()),
        StoreError::Access(e @ (AccessError::FileDefined { .. } | AccessError::LastAdmin { .. })) => {
            Status::failed_precondition(e.to_string())
        }
        StoreError::Decode(e) => Status::internal(e.to_string()),
        StoreError::Storage(e) => Status::from(isobar_wire::status::ApiError::from(e)),
    }
}

fn parse_permissions(names: &[String]) -> Result<Vec<Permission>, Status> {
    names.iter().map(|n| Permission::parse(n).map_err(|e| Status::invalid_argument(e.to_string()))).collect()
}

fn subject(s: Option<pb::AccessSubject>) -> Result<Subject, Status> {
    match s.and_then(|s| s.kind) {
        Some(pb::access_subject::Kind::User(name)) => Ok(Subject::User(name)),
        Some(pb::access_subject::Kind::Group(name)) => Ok(Subject::Group(name)),
        None => Err(Status::invalid_argument("a grant needs a subject: a user or a group")),
    }
}

fn hash(password: Option<String>) -> Result<Option<String>, Status> {
    password.map(|p| password::hash_password(&p).map_err(|e| Status::invalid_argument(e.to_string()))).transpose()
}

/// The change a request asks for (blocking: hashes passwords).
fn change_of(request: pb::ChangeAccessRequest) -> Result<Change, Status> {
    use pb::change_access_request::Change as C;
    let change = request.change.ok_or_else(|| Status::invalid_argument("the request names no change"))?;
    Ok(match change {
        C::CreateUser(u) => Change::CreateUser { name: u.name, password_hash: hash(u.password)?, disabled: u.disabled },
        C::SetUserEnabled(u) => Change::SetUserEnabled { name: u.name, enabled: u.enabled },
        C::SetPassword(u) => Change::SetPassword { name: u.name, password_hash: hash(u.password)? },
        C::DeleteUser(name) => Change::DeleteUser { name },
        C::CreateGroup(name) => Change::CreateGroup { name },
        C::DeleteGroup(name) => Change::DeleteGroup { name },
        C::AddMember(m) => Change::AddMember { group: m.group, user: m.user },
        C::RemoveMember(m) => Change::RemoveMember { group: m.group, user: m.user },
        C::Grant(g) => Change::Grant {
            subject: subject(g.subject)?,
            permissions: parse_permissions(&g.permissions)?,
            table: g.table,
        },
        C::Revoke(g) => Change::Revoke {
            subject: subject(g.subject)?,
            permissions: parse_permissions(&g.permissions)?,
            table: g.table,
        },
        C::RevokeToken(t) => Change::RevokeToken { user: t.user, name: t.name },
    })
}

fn who_and_peer<T>(request: &Request<T>) -> Result<(String, String), Status> {
    let call = call_auth(request.extensions())?;
    Ok((call.principal.name.clone(), call.peer.map(|p| p.to_string()).unwrap_or_default()))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, Status> + Send + 'static) -> Result<T, Status> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Status::internal(format!("access task failed: {e}")))?
}

/// `ChangeAccess`.
pub async fn change(
    store: Arc<AccessStore>,
    request: Request<pb::ChangeAccessRequest>,
) -> Result<Response<pb::ChangeAccessResponse>, Status> {
    authorize(&request, Rpc::ChangeAccess, ALL_TABLES)?;
    let (who, peer) = who_and_peer(&request)?;
    let request = request.into_inner();
    blocking(move || {
        let change = change_of(request)?;
        let generation = store.change(&who, &peer, &change).map_err(status)?;
        Ok(Response::new(pb::ChangeAccessResponse { generation }))
    })
    .await
}

/// `IssueToken`: the secret is generated here and returned once; only its hash is stored.
pub async fn issue_token(
    store: Arc<AccessStore>,
    request: Request<pb::IssueTokenRequest>,
) -> Result<Response<pb::IssueTokenResponse>, Status> {
    authorize(&request, Rpc::IssueToken, ALL_TABLES)?;
    let (who, peer) = who_and_peer(&request)?;
    let request = request.into_inner();
    blocking(move || {
        let secret =
            generate_secret().map_err(|e| Status::unavailable(format!("no random secret from the OS: {e}")))?;
        let change = Change::AddToken {
            user: request.user,
            name: request.name,
            sha256: Some(hash_secret(&secret)),
            expires_ms: request.expires_at_ms,
        };
        let generation = store.change(&who, &peer, &change).map_err(status)?;
        Ok(Response::new(pb::IssueTokenResponse { secret, generation }))
    })
    .await
}

fn table_grants(grants: &Grants) -> Vec<pb::TableGrant> {
    grants
        .iter()
        .map(|(table, perms)| pb::TableGrant {
            table: table.clone(),
            permissions: perms.iter().map(|p| p.as_str().to_owned()).collect(),
        })
        .collect()
}

/// The `DescribeAccess` answer for `catalog` and the config file's tokens.
fn describe(store: &AccessStore, catalog: &Catalog, generation: u64) -> pb::DescribeAccessResponse {
    let mut users: Vec<pb::UserInfo> = store
        .authenticator()
        .file_tokens()
        .iter()
        .map(|t| pb::UserInfo {
            name: t.name.clone(),
            enabled: true,
            file_defined: true,
            grants: table_grants(&t.grants),
            effective_grants: table_grants(&t.grants),
            ..Default::default()
        })
        .collect();
    users.extend(catalog.users.iter().map(|(name, u)| {
        pb::UserInfo {
            name: name.clone(),
            enabled: u.enabled,
            has_password: u.password.is_some(),
            file_defined: false,
            groups: catalog.groups_of(name).into_iter().map(str::to_owned).collect(),
            grants: table_grants(&u.grants),
            tokens: u
                .tokens
                .iter()
                .map(|(n, t)| pb::TokenInfo {
                    name: n.clone(),
                    created_ms: t.created_ms,
                    expires_at_ms: t.expires_ms,
                    last_used_ms: t.last_used_ms,
                })
                .collect(),
            created_ms: u.created_ms,
            effective_grants: table_grants(&catalog.effective_grants(name)),
        }
    }));
    users.sort_by(|a, b| a.name.cmp(&b.name));
    let groups = catalog
        .groups
        .iter()
        .map(|(name, g)| pb::GroupInfo {
            name: name.clone(),
            members: g.members.iter().cloned().collect(),
            grants: table_grants(&g.grants),
        })
        .collect();
    pb::DescribeAccessResponse { users, groups, generation }
}

/// `DescribeAccess`.
pub fn describe_access(
    store: &AccessStore,
    request: &Request<pb::DescribeAccessRequest>,
) -> Result<Response<pb::DescribeAccessResponse>, Status> {
    authorize(request, Rpc::DescribeAccess, ALL_TABLES)?;
    let (catalog, generation) = store.snapshot();
    Ok(Response::new(describe(store, &catalog, generation)))
}

/// `ListAuditEntries`.
pub fn list_audit(
    store: &AccessStore,
    request: &Request<pb::ListAuditEntriesRequest>,
) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
    authorize(request, Rpc::ListAuditEntries, ALL_TABLES)?;
    let limit = match request.get_ref().limit {
        0 => 100,
        n => n as usize,
    };
    let entries = store
        .authenticator()
        .audit()
        .recent(limit)
        .into_iter()
        .map(|e| pb::AuditEntry {
            at_ms: e.at_ms,
            who: e.who,
            action: e.action,
            target: e.target,
            outcome: e.outcome,
            peer: e.peer,
        })
        .collect();
    Ok(Response::new(pb::ListAuditEntriesResponse { entries }))
}

/// `WhoAmI`: any caller the authentication layer let in.
pub fn who_am_i(request: &Request<pb::WhoAmIRequest>) -> Result<Response<pb::WhoAmIResponse>, Status> {
    let principal = caller(request.extensions())?;
    let call = call_auth(request.extensions())?;
    let identity = call.identity.as_ref();
    Ok(Response::new(pb::WhoAmIResponse {
        name: principal.name.clone(),
        file_defined: identity.is_some_and(|i| i.user.is_none()),
        anonymous: call.anonymous,
        groups: identity.map(|i| i.groups.clone()).unwrap_or_default(),
        effective_grants: table_grants(&principal.grants),
        token: identity.map(|i| i.token.clone()).unwrap_or_default(),
        token_expires_at_ms: identity.and_then(|i| i.expires_ms),
    }))
}
