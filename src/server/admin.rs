//! The tonic `Admin` service: tables, flush, compact, stats, export, deletes, snapshots and
//! resuming writes after a failure.
//!
//! Every call checks the caller's permission first (`Export` needs `admin` on its table: it
//! writes files on the server's disk, see `super::rpc`). The calls that only read the database
//! (`ListTables`, `DescribeTable`, `Stats`, `Export`, `ExportWithProgress`) are then answered by
//! the read model, [`isobar_query::service::admin`] and [`isobar_query::service::export`]; the calls that
//! change the database are answered here.
//!
//! Catalog changes fsync the manifest and flushes write files, so every engine call runs on the
//! blocking pool. `AlterTable` checks all its actions against a copy of the table before
//! applying any, so a request with one bad action changes nothing.

use std::path::PathBuf;
use std::sync::Arc;

use isobar_proto::v1 as pb;
use isobar_proto::v1::admin_server::Admin;
use isobar_query::service::{admin, export};
use isobar_storage::apply_change;
use isobar_storage::{Db, Error, InvalidInput, TableChange};
use isobar_wire::selector::{selector_from_proto, time_range_from_proto};
use isobar_wire::status::ApiError;
use isobar_wire::table::{column_specs_from_proto, family_spec_from_proto, table_def_to_info, table_spec_from_proto};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::guard::{authorize, caller};
use super::rpc::Rpc;

/// The grant name an empty table field (meaning every table) is checked against.
fn table_or_all(table: &str) -> &str {
    if table.is_empty() { crate::auth::ALL_TABLES } else { table }
}
use super::{access, snapshot};
use crate::auth::store::AccessStore;
use crate::snapshots::SnapshotStore;

/// The `isobar.v1.Admin` service over one database.
#[derive(Clone, Debug)]
pub struct AdminService {
    db: Db,
    export_root: PathBuf,
    /// The most bytes one export may write (`server.export_max_bytes`).
    export_max_bytes: u64,
    snapshots: Arc<SnapshotStore>,
    access: Arc<AccessStore>,
}

impl AdminService {
    /// A service for `db`; exports go under `export_root` (at most the default 10 GiB each, see
    /// [`AdminService::with_export_max_bytes`]), snapshots under `<data_dir>/snapshots` (see
    /// [`AdminService::with_snapshot_dir`]).
    pub fn new(db: Db, export_root: PathBuf, access: Arc<AccessStore>) -> Self {
        let snapshots = Arc::new(SnapshotStore::new(db.path().join("snapshots")));
        let export_max_bytes = crate::config::ServerConfig::default().export_max_bytes.0;
        Self { db, export_root, export_max_bytes, snapshots, access }
    }

    /// The same service with each export limited to `bytes` (`server.export_max_bytes`).
    pub fn with_export_max_bytes(self, bytes: u64) -> Self {
        Self { export_max_bytes: bytes, ..self }
    }

    /// The same service with snapshots under `dir` (`server.snapshot_dir`).
    pub fn with_snapshot_dir(self, dir: PathBuf) -> Self {
        Self { snapshots: Arc::new(SnapshotStore::new(dir)), ..self }
    }

    /// Runs `f` with the database on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, Status> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| ApiError::TaskFailed(e.to_string()))?
            .map_err(Status::from)
    }
}

/// A required field that is empty.
fn missing(field: &str, what: &str) -> ApiError {
    ApiError::Argument { field: field.into(), reason: format!("is required ({what})") }
}

/// The time range of a `Delete`: both ends must be set. An unset end means "open" elsewhere in
/// the API, but a delete that reaches to the end (or from the beginning) of time by omission is
/// too easy to send by mistake, so here it must be spelled out with `i64::MIN` / `i64::MAX`.
fn delete_range(range: Option<pb::TimeRange>) -> Result<isobar_storage::TimeRange, ApiError> {
    const HOW: &str = "a delete names both ends of its time range; for an open range send \
                       from_ns = -9223372036854775808 (i64::MIN, the beginning of time) or \
                       to_ns = 9223372036854775807 (i64::MAX, the end of time)";
    let range = range.ok_or_else(|| missing("range", HOW))?;
    if range.from_ns.is_none() {
        return Err(missing("range.from_ns", HOW));
    }
    if range.to_ns.is_none() {
        return Err(missing("range.to_ns", HOW));
    }
    Ok(time_range_from_proto(Some(range))?)
}

/// The engine change of one wire action of table `table`.
fn change_from_proto(table: &str, index: usize, action: pb::AlterTableAction) -> Result<TableChange, ApiError> {
    use pb::alter_table_action::Action;
    match action.action {
        None => Err(missing(
            &format!("actions[{index}]"),
            "set one of add_family, add_columns, set_ttl, set_dynamic_columns, set_compaction_window, \
             set_closed_after",
        )),
        Some(Action::AddFamily(f)) => Ok(TableChange::AddFamily(family_spec_from_proto(table, f)?)),
        Some(Action::AddColumns(c)) => {
            let columns = column_specs_from_proto(table, &c.family, c.columns)?;
            Ok(TableChange::AddColumns { family: c.family, columns })
        }
        Some(Action::SetTtl(t)) => Ok(TableChange::SetTtl { family: t.family, ttl_ns: t.ttl_ns }),
        Some(Action::SetDynamicColumns(on)) => Ok(TableChange::SetDynamicColumns(on)),
        Some(Action::SetCompactionWindow(w)) => {
            Ok(TableChange::SetCompactionWindow { family: w.family, window_ns: w.window_ns })
        }
        Some(Action::SetClosedAfter(c)) => {
            Ok(TableChange::SetClosedAfter { family: c.family, closed_after_ns: c.closed_after_ns })
        }
    }
}

#[tonic::async_trait]
impl Admin for AdminService {
    type ExportWithProgressStream = std::pin::Pin<Box<dyn Stream<Item = Result<pb::ExportEvent, Status>> + Send>>;

    async fn create_table(
        &self,
        request: Request<pb::CreateTableRequest>,
    ) -> Result<Response<pb::CreateTableResponse>, Status> {
        let name = request.get_ref().table.as_ref().map_or("", |t| t.name.as_str());
        authorize(&request, Rpc::CreateTable, name)?;
        let request = request.into_inner();
        let spec = request.table.ok_or_else(|| missing("table", "the table to create"))?;
        let spec = table_spec_from_proto(spec).map_err(ApiError::from)?;
        let if_not_exists = request.if_not_exists;
        let (def, created) = self
            .blocking(move |db| {
                let name = spec.name.clone();
                match db.create_table(spec) {
                    Ok(def) => Ok((def, true)),
                    Err(Error::Invalid(InvalidInput::TableExists { .. })) if if_not_exists => {
                        Ok((db.table_def(&name)?, false))
                    }
                    Err(e) => Err(e.into()),
                }
            })
            .await?;
        Ok(Response::new(pb::CreateTableResponse { table: Some(table_def_to_info(&def)), created }))
    }

    async fn alter_table(
        &self,
        request: Request<pb::AlterTableRequest>,
    ) -> Result<Response<pb::AlterTableResponse>, Status> {
        authorize(&request, Rpc::AlterTable, &request.get_ref().table)?;
        let request = request.into_inner();
        if request.actions.is_empty() {
            return Err(missing("actions", "at least one change").into());
        }
        let table = request.table;
        let changes = request
            .actions
            .into_iter()
            .enumerate()
            .map(|(i, a)| change_from_proto(&table, i, a))
            .collect::<Result<Vec<_>, _>>()?;
        let info = self
            .blocking(move |db| {
                // Check every change on a copy first: all or nothing.
                let mut draft = db.table_def(&table)?;
                for (i, change) in changes.iter().enumerate() {
                    draft = apply_change(&draft, change, isobar_storage::FamilyId::MAX / 2)
                        .map_err(|e| ApiError::Argument { field: format!("actions[{i}]"), reason: e.to_string() })?;
                }
                let mut def = None;
                for change in changes {
                    def = Some(db.alter_table(&table, change)?);
                }
                let def = def.ok_or_else(|| missing("actions", "at least one change"))?;
                Ok(admin::table_info(db, &def))
            })
            .await?;
        Ok(Response::new(pb::AlterTableResponse { table: Some(info) }))
    }

    async fn drop_table(
        &self,
        request: Request<pb::DropTableRequest>,
    ) -> Result<Response<pb::DropTableResponse>, Status> {
        authorize(&request, Rpc::DropTable, &request.get_ref().table)?;
        let request = request.into_inner();
        let dropped = self
            .blocking(move |db| match db.drop_table(&request.table) {
                Ok(()) => Ok(true),
                Err(Error::Invalid(InvalidInput::UnknownTable { .. })) if request.if_exists => Ok(false),
                Err(e) => Err(e.into()),
            })
            .await?;
        Ok(Response::new(pb::DropTableResponse { dropped }))
    }

    async fn list_tables(
        &self,
        request: Request<pb::ListTablesRequest>,
    ) -> Result<Response<pb::ListTablesResponse>, Status> {
        let caller = caller(request.extensions())?;
        let visible = |table: &str| caller.allows(table, crate::auth::Permission::View);
        Ok(Response::new(admin::list_tables(&self.db, visible)))
    }

    async fn describe_table(
        &self,
        request: Request<pb::DescribeTableRequest>,
    ) -> Result<Response<pb::DescribeTableResponse>, Status> {
        authorize(&request, Rpc::DescribeTable, &request.get_ref().table)?;
        Ok(Response::new(admin::describe_table(&self.db, &request.into_inner().table)?))
    }

    async fn flush(&self, request: Request<pb::FlushRequest>) -> Result<Response<pb::FlushResponse>, Status> {
        authorize(&request, Rpc::Flush, table_or_all(&request.get_ref().table))?;
        let table = request.into_inner().table;
        let response = self
            .blocking(move |db| {
                // Counters are database-wide: a background flush running meanwhile is counted too.
                let before = db.stats();
                if table.is_empty() {
                    db.flush()?;
                } else {
                    // Only this table's memtables: admin on one table must not flush them all.
                    db.flush_table(&table)?;
                }
                let after = db.stats();
                Ok(pb::FlushResponse {
                    families_flushed: after.flushes.saturating_sub(before.flushes),
                    files_written: after.flush_files.saturating_sub(before.flush_files),
                    bytes_written: after.flush_bytes.saturating_sub(before.flush_bytes),
                })
            })
            .await?;
        Ok(Response::new(response))
    }

    async fn compact(&self, request: Request<pb::CompactRequest>) -> Result<Response<pb::CompactResponse>, Status> {
        authorize(&request, Rpc::Compact, &request.get_ref().table)?;
        let request = request.into_inner();
        let range = match request.range {
            None => None,
            Some(r) => Some(time_range_from_proto(Some(r)).map_err(ApiError::from)?),
        };
        let report = self.blocking(move |db| Ok(db.compact(&request.table, request.family.as_deref(), range)?)).await?;
        Ok(Response::new(pb::CompactResponse {
            files_in: report.files_in as u64,
            files_out: report.files_out as u64,
            bytes_in: report.bytes_read,
            bytes_out: report.bytes_written,
        }))
    }

    async fn stats(&self, request: Request<pb::StatsRequest>) -> Result<Response<pb::StatsResponse>, Status> {
        let table = request.get_ref().table.clone();
        if !table.is_empty() {
            authorize(&request, Rpc::Stats, &table)?;
        }
        let caller = caller(request.extensions())?.clone();
        if !caller.reads_somewhere() {
            tracing::warn!(principal = %caller.name, "call refused: Stats needs the view permission on some table");
            return Err(Status::permission_denied(format!(
                "token {:?} may not read statistics: it needs the view permission on \"*\" or on some table",
                caller.name
            )));
        }
        let mut response = self.blocking(move |db| admin::stats(db, &table)).await?;
        response.tables.retain(|t| caller.allows(&t.table, crate::auth::Permission::View));
        if !caller.allows(crate::auth::ALL_TABLES, crate::auth::Permission::View) {
            // Database-wide counters describe every table's traffic: only for readers of `*`.
            response.wal_bytes = 0;
            response.memtable_bytes = 0;
            response.last_sequence = 0;
        }
        Ok(Response::new(response))
    }

    async fn export(&self, request: Request<pb::ExportRequest>) -> Result<Response<pb::ExportResponse>, Status> {
        authorize(&request, Rpc::Export, &request.get_ref().table)?;
        export::export(&self.db, &self.export_root, Some(self.export_max_bytes), request.into_inner())
            .await
            .map(Response::new)
    }

    async fn export_with_progress(
        &self,
        request: Request<pb::ExportRequest>,
    ) -> Result<Response<Self::ExportWithProgressStream>, Status> {
        authorize(&request, Rpc::ExportWithProgress, &request.get_ref().table)?;
        export::export_with_progress(&self.db, &self.export_root, Some(self.export_max_bytes), request.into_inner())
            .await
            .map(Response::new)
    }

    async fn delete(&self, request: Request<pb::DeleteRequest>) -> Result<Response<pb::DeleteResponse>, Status> {
        authorize(&request, Rpc::Delete, &request.get_ref().table)?;
        let request = request.into_inner();
        let selector = selector_from_proto(request.selector).map_err(ApiError::from)?;
        let range = delete_range(request.range)?;
        let sequence = self
            .blocking(move |db| {
                db.delete(&request.table, request.family.as_deref(), selector, range)?;
                // The engine does not return the tombstone's number; this is the newest one
                // assigned when the delete returned (equal to it unless writes raced).
                Ok(db.stats().last_seq)
            })
            .await?;
        Ok(Response::new(pb::DeleteResponse { sequence }))
    }

    async fn create_snapshot(
        &self,
        request: Request<pb::CreateSnapshotRequest>,
    ) -> Result<Response<pb::CreateSnapshotResponse>, Status> {
        authorize(&request, Rpc::CreateSnapshot, crate::auth::ALL_TABLES)?;
        snapshot::create(self.snapshots.clone(), self.db.clone(), request.into_inner()).await.map(Response::new)
    }

    async fn list_snapshots(
        &self,
        request: Request<pb::ListSnapshotsRequest>,
    ) -> Result<Response<pb::ListSnapshotsResponse>, Status> {
        authorize(&request, Rpc::ListSnapshots, crate::auth::ALL_TABLES)?;
        snapshot::list(self.snapshots.clone(), request.into_inner()).await.map(Response::new)
    }

    async fn delete_snapshot(
        &self,
        request: Request<pb::DeleteSnapshotRequest>,
    ) -> Result<Response<pb::DeleteSnapshotResponse>, Status> {
        authorize(&request, Rpc::DeleteSnapshot, crate::auth::ALL_TABLES)?;
        snapshot::delete(self.snapshots.clone(), request.into_inner()).await.map(Response::new)
    }

    async fn verify_snapshot(
        &self,
        request: Request<pb::VerifySnapshotRequest>,
    ) -> Result<Response<pb::VerifySnapshotResponse>, Status> {
        authorize(&request, Rpc::VerifySnapshot, crate::auth::ALL_TABLES)?;
        snapshot::verify(self.snapshots.clone(), request.into_inner()).await.map(Response::new)
    }

    async fn resume_writes(
        &self,
        request: Request<pb::ResumeWritesRequest>,
    ) -> Result<Response<pb::ResumeWritesResponse>, Status> {
        authorize(&request, Rpc::ResumeWrites, crate::auth::ALL_TABLES)?;
        let outcome = self.blocking(|db| Ok(db.resume()?)).await?;
        let outcome = match outcome {
            isobar_storage::Resumed::NotNeeded => "not_needed",
            isobar_storage::Resumed::FlushesRetried => "flushes_retried",
            isobar_storage::Resumed::WalRestarted => "wal_restarted",
        };
        Ok(Response::new(pb::ResumeWritesResponse { outcome: outcome.into() }))
    }

    async fn change_access(
        &self,
        request: Request<pb::ChangeAccessRequest>,
    ) -> Result<Response<pb::ChangeAccessResponse>, Status> {
        access::change(self.access.clone(), request).await
    }

    async fn issue_token(
        &self,
        request: Request<pb::IssueTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        access::issue_token(self.access.clone(), request).await
    }

    async fn describe_access(
        &self,
        request: Request<pb::DescribeAccessRequest>,
    ) -> Result<Response<pb::DescribeAccessResponse>, Status> {
        access::describe_access(&self.access, &request)
    }

    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
        access::list_audit(&self.access, &request)
    }

    async fn who_am_i(&self, request: Request<pb::WhoAmIRequest>) -> Result<Response<pb::WhoAmIResponse>, Status> {
        access::who_am_i(&request)
    }
}
