//! Permission checks inside the handlers: the table a request names, against the caller that
//! [`super::call`] put into the request extensions and the permission [`Rpc::permission`] says
//! the method needs. A refusal is `PERMISSION_DENIED` naming the table and the permission, and
//! a warning in the log (with the call's span: rpc, peer, principal).

use std::collections::BTreeSet;

use isobar_proto::v1::WriteRequest;
use isobar_query::service::ReadCall;
use tonic::{Request, Status};

use super::call::CallAuth;
use super::rpc::Rpc;
use crate::auth::audit::now_ms;
use crate::auth::{AuthError, Permission, Principal};

/// The call's authentication (fails closed when the call did not pass the authentication layer).
pub fn call_auth(extensions: &tonic::Extensions) -> Result<&CallAuth, Status> {
    extensions
        .get::<CallAuth>()
        .ok_or_else(|| Status::internal("the call was not authenticated (the server's auth layer is missing)"))
}

/// The caller as the live catalog has it now: the principal resolved when the call started,
/// re-resolved when the catalog changed since (a revoked token or a disabled user is then
/// `UNAUTHENTICATED`, changed grants apply), and refused once its token expired.
pub fn caller(extensions: &tonic::Extensions) -> Result<Principal, Status> {
    let call = call_auth(extensions)?;
    current(call).map_err(|error| {
        let who = call.principal.name.as_str();
        let action = call.rpc.map(|r| r.to_string()).unwrap_or_default();
        call.auth.refused(who, &action, "", &format!("unauthenticated: {error}"), call.peer.map(|p| p.ip()));
        Status::unauthenticated(error.to_string())
    })
}

fn current(call: &CallAuth) -> Result<Principal, AuthError> {
    let Some(identity) = &call.identity else {
        return Ok(call.principal.clone());
    };
    if call.auth.generation() == call.generation {
        crate::auth::check_usable(identity, now_ms())?;
        return Ok(call.principal.clone());
    }
    call.auth.resolve(&identity.hash).map(|fresh| fresh.principal.clone())
}

/// Checks that the caller may call `rpc` on `table`.
pub fn authorize<T>(request: &Request<T>, rpc: Rpc, table: &str) -> Result<(), Status> {
    require(request.extensions(), rpc, table)
}

/// Checks that the caller holds every permission `rpc` needs on `table`, and names the table in
/// the call's span (so the call's "call finished" line says which table it touched).
fn require(extensions: &tonic::Extensions, rpc: Rpc, table: &str) -> Result<(), Status> {
    tracing::Span::current().record("table", table);
    let principal = caller(extensions)?;
    for needed in rpc.permissions() {
        if let Err(error) = principal.require(table, *needed) {
            return Err(denied(extensions, &rpc.to_string(), table, error));
        }
    }
    Ok(())
}

/// Checks that the caller holds `needed` on `table`, for front ends whose permission depends on
/// the command rather than the method (Flight SQL: `action` names the command in the audit
/// log); a refusal is logged and audited like [`authorize`]'s.
pub fn require_permission(
    extensions: &tonic::Extensions,
    needed: Permission,
    table: &str,
    action: &str,
) -> Result<(), Status> {
    tracing::Span::current().record("table", table);
    let principal = caller(extensions)?;
    principal.require(table, needed).map_err(|error| denied(extensions, action, table, error))
}

/// The status of a refusal, logged and audited.
pub fn denied(extensions: &tonic::Extensions, action: &str, table: &str, error: impl std::fmt::Display) -> Status {
    tracing::warn!(%error, "call refused: permission denied");
    if let Some(call) = extensions.get::<CallAuth>() {
        let peer = call.peer.map(|p| p.ip());
        call.auth.refused(&call.principal.name, action, table, &format!("denied: {error}"), peer);
    }
    Status::permission_denied(error.to_string())
}

/// The check of `Scan`, `Aggregate` and `Latest` calls: the permission [`Rpc::permission`]
/// gives the method, on the table the request names.
#[derive(Debug)]
pub struct QueryGuard;

impl isobar_query::service::ReadGuard for QueryGuard {
    fn check(&self, extensions: &tonic::Extensions, call: ReadCall, table: &str) -> Result<(), Status> {
        let rpc = match call {
            ReadCall::Scan => Rpc::Scan,
            ReadCall::Aggregate => Rpc::Aggregate,
            ReadCall::Latest => Rpc::Latest,
        };
        require(extensions, rpc, table)
    }
}

/// The check of `Write` and `WriteStream` messages: write permission on every table a message
/// names, all checked before any of it is applied.
#[derive(Debug)]
pub struct IngestGuard;

impl isobar_ingest::WriteGuard for IngestGuard {
    fn check(&self, extensions: &tonic::Extensions, request: &WriteRequest) -> Result<(), Status> {
        let tables: BTreeSet<&str> = request
            .batches
            .iter()
            .map(|b| b.table.as_str())
            .chain(request.rows.iter().map(|r| r.table.as_str()))
            .collect();
        for table in &tables {
            require(extensions, Rpc::Write, table)?;
        }
        // The call's span: every table and the rows of the request (the last message's, for a stream).
        let span = tracing::Span::current();
        if tables.len() > 1 {
            span.record("table", tables.iter().copied().collect::<Vec<_>>().join(",").as_str());
        }
        let rows = request.batches.iter().map(|b| b.ts.len()).sum::<usize>() + request.rows.len();
        span.record("rows", rows as u64);
        Ok(())
    }

    fn check_resume(&self, extensions: &tonic::Extensions) -> Result<(), Status> {
        let principal = caller(extensions)?;
        if principal.writes_somewhere() {
            return Ok(());
        }
        tracing::warn!(principal = %principal.name, "call refused: Resume needs write permission on some table");
        Err(Status::permission_denied(format!(
            "token {:?} may not resume producers: it needs the add permission on \"*\" or on some table",
            principal.name
        )))
    }

    /// Producers belong to the authenticated principal; with authentication off every caller is
    /// the one anonymous identity and ids stay as they are (marks of older data are found).
    fn producer_owner(&self, extensions: &tonic::Extensions) -> Result<Option<String>, Status> {
        let auth = extensions
            .get::<CallAuth>()
            .ok_or_else(|| Status::internal("the call was not authenticated (the server's auth layer is missing)"))?;
        Ok((!auth.anonymous).then(|| auth.principal.name.clone()))
    }
}
