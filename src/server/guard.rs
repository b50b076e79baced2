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
use crate::auth::{AuthError, Permission, Principal};

/// The caller of a call (fails closed when the call did not pass the authentication layer).
pub fn caller(extensions: &tonic::Extensions) -> Result<&Principal, Status> {
    extensions
        .get::<CallAuth>()
        .map(|c| &c.principal)
        .ok_or_else(|| Status::internal("the call was not authenticated (the server's auth layer is missing)"))
}

/// Checks that the caller may call `rpc` on `table`.
pub fn authorize<T>(request: &Request<T>, rpc: Rpc, table: &str) -> Result<(), Status> {
    require(request.extensions(), rpc.permission(), table)
}

/// Checks that the caller holds `needed` on `table` (for front ends whose permission depends
/// on the command, such as Flight SQL).
pub fn require(extensions: &tonic::Extensions, needed: Permission, table: &str) -> Result<(), Status> {
    caller(extensions)?.require(table, needed).map_err(denied)
}

/// The status of a refusal, logged.
fn denied(error: AuthError) -> Status {
    tracing::warn!(%error, "call refused: permission denied");
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
        require(extensions, rpc.permission(), table)
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
        for table in tables {
            require(extensions, Rpc::Write.permission(), table)?;
        }
        Ok(())
    }

    fn check_resume(&self, extensions: &tonic::Extensions) -> Result<(), Status> {
        let principal = caller(extensions)?;
        if principal.writes_somewhere() {
            return Ok(());
        }
        tracing::warn!(principal = %principal.name, "call refused: Resume needs write permission on some table");
        Err(Status::permission_denied(format!(
            "token {:?} may not resume producers: it needs write permission on \"*\" or on some table",
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
