//! `CommandStatementIngest` (what ADBC's `adbc_ingest` sends): Arrow record batches written
//! through the normal write path as one atomic engine write.
//!
//! ```text
//! DoPut(descriptor = CommandStatementIngest) ─► target relation from (schema, table)
//!   ─► `write` permission on the table (before any batch is read)
//!   ─► relation exists? modes (append / fail if exists)
//!   ─► batches decoded one by one, each taking its bytes from the ingest budget
//!      (server.max_inflight_write_bytes, shared with gRPC `Write`: RESOURCE_EXHAUSTED past it)
//!   ─► blocking pool: Arrow -> WriteBatch (`batches`), request limits, `Db::write`
//!   ─► DoPutUpdateResult { record_count = rows written }
//! ```
//!
//! **Naming** (the same as the SQL relations): `db_schema_name` absent or `public` with
//! `table_name = T` ingests into table `T`, value columns named `family.column`;
//! `db_schema_name = T` with `table_name = F` ingests into family `F` of table `T`, value
//! columns under their own names. Either way the batches carry `series` and `ts` columns. The
//! catalog, when given, must be `isobar`.
//!
//! **Modes**: the relation must exist (create tables with `isobar table create` or the `Admin`
//! API: a table's families and types are a decision, not a guess from one DataFrame). Appending
//! is what ingest does (ADBC `mode="append"`); `mode="create"` (fail if the relation exists)
//! answers `ALREADY_EXISTS` for an existing one and `NOT_FOUND` for a missing one;
//! `mode="replace"`, temporary tables and transactions answer `UNIMPLEMENTED`. Upserts make a
//! retried ingest harmless.

use arrow_array::RecordBatch;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::sql::CommandStatementIngest;
use arrow_flight::sql::TableExistsOption;
use arrow_flight::sql::server::PeekableFlightDataStream;
use futures::{StreamExt, TryStreamExt};
use isobar_ingest::admission::{Admission, Admitted};
use isobar_storage::Db;
use isobar_wire::status::ApiError;
use tonic::{Request, Status};

use super::batches::{Target, admitted_bytes, to_write_batch};
use super::errors::IngestError;
use crate::auth::Permission;
use crate::server::guard;

/// The catalog every relation is in.
pub const CATALOG: &str = "isobar";
/// The schema of the table relations (one per table, columns `family.column`).
pub const PUBLIC: &str = "public";

/// What bulk ingest writes into and under which limits.
#[derive(Clone, Debug)]
pub struct IngestPath {
    db: Db,
    admission: Admission,
    max_rows: usize,
}

impl IngestPath {
    /// Ingest into `db`, sharing `admission` (the gRPC `Write` budget), at most `max_rows` rows
    /// per request.
    pub fn new(db: Db, admission: Admission, max_rows: usize) -> Self {
        Self { db, admission, max_rows }
    }

    /// Serves one `CommandStatementIngest`: the number of rows written.
    pub async fn run(
        &self,
        command: CommandStatementIngest,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let target = target_of(&command)?;
        guard::require_permission(request.extensions(), Permission::Add, target.table(), "FlightSQL/StatementIngest")?;
        let def = self.db.table_def(target.table()).map_err(|_| {
            IngestError::NotFound(format!(
                "table \"{}\" does not exist; create it first (isobar table create), ingest does not create tables",
                target.table()
            ))
        })?;
        if let Target::Family { table, family } = &target
            && def.family(family).is_none()
        {
            let known: Vec<&str> = def.families.iter().map(|f| f.name.as_str()).collect();
            return Err(IngestError::NotFound(format!(
                "table \"{table}\" has no family \"{family}\" (it has: {})",
                known.join(", ")
            ))
            .into());
        }
        check_modes(&command, &target)?;
        let (batches, _budget) = self.receive(request.into_inner()).await?;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || -> Result<(), IngestError> {
            let batch = to_write_batch(&target, &def, &batches)?;
            drop(batches);
            if batch.is_empty() {
                return Ok(());
            }
            isobar_ingest::request_limits::check_batch(&batch, &db.options().limits)
                .map_err(isobar_storage::Error::from)?;
            db.write(batch)?;
            Ok(())
        })
        .await
        .map_err(|e| IngestError::Api(ApiError::TaskFailed(e.to_string())))??;
        Ok(i64::try_from(rows).unwrap_or(i64::MAX))
    }

    /// Decodes the request's batches, each admitted into the write budget (held until the
    /// write is done), refusing past `max_rows`.
    async fn receive(
        &self,
        stream: PeekableFlightDataStream,
    ) -> Result<(Vec<RecordBatch>, Vec<Admitted>), IngestError> {
        let data = stream.into_peekable().map_err(FlightError::from);
        let mut decoded = FlightRecordBatchStream::new_from_flight_data(data);
        let mut batches = Vec::new();
        let mut budget = Vec::new();
        let mut rows = 0usize;
        while let Some(batch) = decoded.next().await {
            let batch = batch.map_err(|e| match e {
                FlightError::Tonic(status) => IngestError::Decode(status.message().to_owned()),
                other => IngestError::Decode(other.to_string()),
            })?;
            budget.push(self.admission.try_admit(admitted_bytes(&batch))?);
            rows += batch.num_rows();
            if rows > self.max_rows {
                return Err(IngestError::TooManyRows { rows, limit: self.max_rows });
            }
            batches.push(batch);
        }
        Ok((batches, budget))
    }
}

/// The relation a command names.
pub fn target_of(command: &CommandStatementIngest) -> Result<Target, IngestError> {
    if let Some(catalog) = command.catalog.as_deref().filter(|c| !c.is_empty())
        && catalog != CATALOG
    {
        return Err(IngestError::NotFound(format!(
            "catalog \"{catalog}\" does not exist (the catalog is \"{CATALOG}\")"
        )));
    }
    if command.table.is_empty() {
        return Err(IngestError::Argument("the command names no table".into()));
    }
    Ok(match command.schema.as_deref() {
        None | Some("") | Some(PUBLIC) => Target::Table { table: command.table.clone() },
        Some(table) => Target::Family { table: table.to_owned(), family: command.table.clone() },
    })
}

/// Refuses what ingest does not do; the relation exists when this is called.
fn check_modes(command: &CommandStatementIngest, target: &Target) -> Result<(), IngestError> {
    if command.temporary {
        return Err(IngestError::Unsupported("temporary tables are not supported".into()));
    }
    if command.transaction_id.is_some() {
        return Err(IngestError::Unsupported("transactions are not supported; each ingest request is atomic".into()));
    }
    let Some(options) = command.table_definition_options else {
        return Ok(());
    };
    // Isobar never creates on ingest and the relation exists here: `if_not_exist` has no effect.
    match TableExistsOption::try_from(options.if_exists) {
        Ok(TableExistsOption::Append) | Ok(TableExistsOption::Unspecified) => Ok(()),
        Err(_) => Err(IngestError::Argument(format!("unknown if_exists option {}", options.if_exists))),
        Ok(TableExistsOption::Fail) => Err(IngestError::Exists(format!(
            "{} exists and the request asked to fail if it does; ingest with mode \"append\"",
            describe(target)
        ))),
        Ok(TableExistsOption::Replace) => Err(IngestError::Unsupported(format!(
            "replacing {} is not supported: delete the time range or drop the table, then append",
            describe(target)
        ))),
    }
}

fn describe(target: &Target) -> String {
    match target {
        Target::Family { table, family } => format!("relation \"{table}\".\"{family}\""),
        Target::Table { table } => format!("relation \"{PUBLIC}\".\"{table}\""),
    }
}
