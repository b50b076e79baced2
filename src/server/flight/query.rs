//! SQL statements over Flight SQL: `CommandStatementQuery` (one-shot) and prepared statements
//! (`CreatePreparedStatement`, parameters bound by `DoPut`, `GetFlightInfo` + `DoGet`, `Close`),
//! all planned and run by the server's [`SqlEngine`].
//!
//! ```text
//! GetFlightInfo(query) ─► prepare (read permission on every table named) ─► schema
//!                      ─► ticket = the statement text
//! DoGet(ticket)        ─► prepare again against a fresh snapshot, as the caller of DoGet
//!                      ─► execute (memory limit, timeout, query slot) ─► Arrow IPC stream
//! ```
//!
//! A one-shot statement is stateless: its ticket carries the statement text, so any server
//! (and any later `DoGet`) can answer it, and the permission check is made on `DoGet` again,
//! for the caller of `DoGet`. A prepared statement lives in [`Prepared`], bounded; its handle
//! is only usable by the identity that created it. Dropping the `DoGet` stream (a client that
//! goes away) drops the query's stream, which cancels it and frees its slot.

use std::sync::Arc;

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::sql::server::PeekableFlightDataStream;
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult,
    CommandPreparedStatementQuery, CommandStatementQuery, DoPutPreparedStatementResult, ProstMessageExt,
    TicketStatementQuery,
};
use arrow_flight::{FlightDescriptor, FlightEndpoint, FlightInfo, IpcMessage, SchemaAsIpc, Ticket};
use arrow_schema::{DataType, Field, Schema};
use futures::{StreamExt, TryStreamExt};
use isobar_sql::ScalarValue;
use isobar_sql::{SqlEngine, SqlError, SqlErrorKind, SqlPlan};
use prost::Message;
use tonic::Status;

use super::listings::Readable;
use super::prepared::{Prepared, PreparedStatement};
use super::service::DoGetStream;
use crate::server::guard;

/// Longest statement text accepted (bytes): a statement is planned in memory, and the text
/// travels back in a ticket.
pub const MAX_STATEMENT_BYTES: usize = 1 << 20;

/// The SQL side of the Flight SQL front end.
#[derive(Clone, Debug)]
pub struct SqlPath {
    engine: SqlEngine,
    prepared: Arc<Prepared>,
}

impl SqlPath {
    /// Statements over `engine`, with at most `max_prepared` prepared statements open at once.
    pub fn new(engine: SqlEngine, max_prepared: usize) -> Self {
        Self { engine, prepared: Arc::new(Prepared::new(max_prepared)) }
    }

    /// The engine (for the metadata listings).
    pub fn engine(&self) -> &SqlEngine {
        &self.engine
    }

    /// Plans `sql` as the caller of the request; refusals are logged and audited.
    async fn plan(&self, extensions: &tonic::Extensions, sql: &str) -> Result<SqlPlan, Status> {
        if sql.len() > MAX_STATEMENT_BYTES {
            return Err(Status::invalid_argument(format!(
                "the statement is {} bytes, more than the {MAX_STATEMENT_BYTES} accepted",
                sql.len()
            )));
        }
        let principal = guard::caller(extensions)?;
        self.engine.prepare(sql, &Readable(&principal)).await.map_err(|e| sql_status(extensions, e))
    }

    /// `GetFlightInfo(CommandStatementQuery)`: the result schema, and a ticket carrying the text.
    pub async fn statement_info(
        &self,
        extensions: &tonic::Extensions,
        query: CommandStatementQuery,
        descriptor: FlightDescriptor,
    ) -> Result<FlightInfo, Status> {
        if query.transaction_id.is_some() {
            return Err(Status::unimplemented("transactions are not supported (SQL is read-only)"));
        }
        let plan = self.plan(extensions, &query.query).await?;
        let ticket = TicketStatementQuery { statement_handle: query.query.into_bytes().into() };
        info(&plan.schema(), ticket.as_any().encode_to_vec(), descriptor)
    }

    /// `DoGet(TicketStatementQuery)`: plans the ticket's text again and streams the answer.
    pub async fn statement_get(
        &self,
        extensions: &tonic::Extensions,
        ticket: TicketStatementQuery,
    ) -> Result<DoGetStream, Status> {
        let sql = std::str::from_utf8(&ticket.statement_handle)
            .map_err(|_| Status::invalid_argument("the statement ticket is not UTF-8 text"))?;
        let plan = self.plan(extensions, sql).await?;
        self.run(extensions, plan).await
    }

    /// `CreatePreparedStatement`: plans the statement, keeps it, answers its schemas.
    pub async fn create_prepared(
        &self,
        extensions: &tonic::Extensions,
        request: ActionCreatePreparedStatementRequest,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        if request.transaction_id.is_some() {
            return Err(Status::unimplemented("transactions are not supported (SQL is read-only)"));
        }
        let plan = self.plan(extensions, &request.query).await?;
        let owner = guard::caller(extensions)?.name;
        let parameter_types = plan.parameter_types();
        let dataset_schema = ipc_schema(&plan.schema())?;
        let parameter_schema = ipc_schema(&parameter_schema(&parameter_types))?;
        let handle = self.prepared.insert(PreparedStatement::new(owner, request.query, parameter_types.len()))?;
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: handle.into(),
            dataset_schema,
            parameter_schema,
        })
    }

    /// `DoPut(CommandPreparedStatementQuery)`: binds the one row of parameters sent.
    pub async fn bind_prepared(
        &self,
        extensions: &tonic::Extensions,
        query: CommandPreparedStatementQuery,
        stream: PeekableFlightDataStream,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let owner = guard::caller(extensions)?.name;
        let expected = self.prepared.get(&query.prepared_statement_handle, &owner)?.parameter_count;
        let params = receive_parameters(stream, expected).await?;
        self.prepared.bind(&query.prepared_statement_handle, &owner, params)?;
        Ok(DoPutPreparedStatementResult { prepared_statement_handle: Some(query.prepared_statement_handle) })
    }

    /// `GetFlightInfo(CommandPreparedStatementQuery)`: the schema; the ticket is the command.
    pub async fn prepared_info(
        &self,
        extensions: &tonic::Extensions,
        query: CommandPreparedStatementQuery,
        descriptor: FlightDescriptor,
    ) -> Result<FlightInfo, Status> {
        let plan = self.bound_plan(extensions, &query).await?;
        info(&plan.schema(), query.as_any().encode_to_vec(), descriptor)
    }

    /// `DoGet(CommandPreparedStatementQuery)`: runs the statement with its bound parameters.
    pub async fn prepared_get(
        &self,
        extensions: &tonic::Extensions,
        query: CommandPreparedStatementQuery,
    ) -> Result<DoGetStream, Status> {
        let plan = self.bound_plan(extensions, &query).await?;
        self.run(extensions, plan).await
    }

    /// `ClosePreparedStatement`.
    pub fn close_prepared(
        &self,
        extensions: &tonic::Extensions,
        request: ActionClosePreparedStatementRequest,
    ) -> Result<(), Status> {
        let owner = guard::caller(extensions)?.name;
        self.prepared.remove(&request.prepared_statement_handle, &owner)
    }

    /// The prepared statement planned again (a fresh snapshot, the caller's access now), with
    /// its parameters bound.
    async fn bound_plan(
        &self,
        extensions: &tonic::Extensions,
        query: &CommandPreparedStatementQuery,
    ) -> Result<SqlPlan, Status> {
        let owner = guard::caller(extensions)?.name;
        let statement = self.prepared.get(&query.prepared_statement_handle, &owner)?;
        let plan = self.plan(extensions, &statement.sql).await?;
        match (statement.parameter_count, statement.parameters) {
            (0, _) => Ok(plan),
            (n, None) => Err(Status::invalid_argument(format!(
                "the prepared statement has {n} parameter(s) and none were bound; send them with DoPut first"
            ))),
            (_, Some(params)) => plan.bind(params).map_err(|e| sql_status(extensions, e)),
        }
    }

    /// Executes `plan` and encodes its batches as Flight data.
    async fn run(&self, extensions: &tonic::Extensions, plan: SqlPlan) -> Result<DoGetStream, Status> {
        let schema = plan.schema();
        let stream = plan.execute().await.map_err(|e| sql_status(extensions, e))?;
        let batches = stream.map_err(|e| {
            let e = SqlError::from_datafusion(e);
            arrow_flight::error::FlightError::Tonic(Box::new(status_of(&e)))
        });
        let encoded = FlightDataEncoderBuilder::new().with_schema(schema).build(batches).map_err(Status::from);
        Ok(Box::pin(encoded))
    }
}

/// A `FlightInfo` with `schema` and one endpoint whose ticket is `ticket`.
fn info(schema: &Schema, ticket: Vec<u8>, descriptor: FlightDescriptor) -> Result<FlightInfo, Status> {
    FlightInfo::new().try_with_schema(schema).map_err(|e| Status::internal(format!("encoding a schema: {e}"))).map(
        |info| {
            info.with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
                .with_descriptor(descriptor)
                .with_ordered(true)
        },
    )
}

/// `schema` as an IPC-encapsulated message, as `ActionCreatePreparedStatementResult` wants it.
fn ipc_schema(schema: &Schema) -> Result<prost::bytes::Bytes, Status> {
    let options = arrow_ipc::writer::IpcWriteOptions::default();
    let IpcMessage(bytes) = SchemaAsIpc::new(schema, &options)
        .try_into()
        .map_err(|e: arrow_schema::ArrowError| Status::internal(format!("encoding a schema: {e}")))?;
    Ok(bytes)
}

/// The schema of the parameters: `$1`, `$2`, ... (nullable; `Null` where the statement does not
/// fix a type).
fn parameter_schema(types: &[DataType]) -> Schema {
    Schema::new(
        types.iter().enumerate().map(|(i, ty)| Field::new(format!("${}", i + 1), ty.clone(), true)).collect::<Vec<_>>(),
    )
}

/// Reads the parameter batches of a `DoPut`: exactly one row of `expected` columns.
async fn receive_parameters(stream: PeekableFlightDataStream, expected: usize) -> Result<Vec<ScalarValue>, Status> {
    let data = stream.into_peekable().map_err(arrow_flight::error::FlightError::from);
    let mut decoded = arrow_flight::decode::FlightRecordBatchStream::new_from_flight_data(data);
    let mut row = None;
    while let Some(batch) = decoded.next().await {
        let batch = batch.map_err(|e| Status::invalid_argument(format!("the parameters cannot be decoded: {e}")))?;
        if batch.num_rows() == 0 {
            continue;
        }
        if row.is_some() || batch.num_rows() > 1 {
            return Err(Status::invalid_argument(
                "parameters: send one row of values; running a statement once per row is not supported",
            ));
        }
        if batch.num_columns() != expected {
            return Err(Status::invalid_argument(format!(
                "parameters: the statement has {expected} parameter(s) but {} column(s) were sent",
                batch.num_columns()
            )));
        }
        let values = batch
            .columns()
            .iter()
            .map(|column| ScalarValue::try_from_array(column, 0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Status::invalid_argument(format!("parameters: {e}")))?;
        row = Some(values);
    }
    row.ok_or_else(|| Status::invalid_argument("parameters: no row of values was sent"))
}

/// The gRPC status of a SQL error; a permission refusal is also logged and audited.
fn sql_status(extensions: &tonic::Extensions, error: SqlError) -> Status {
    if error.kind() == SqlErrorKind::PermissionDenied {
        return guard::denied(extensions, "FlightSQL/Statement", "", error.message());
    }
    status_of(&error)
}

/// The one table from [`SqlErrorKind`] to gRPC codes.
pub fn status_of(error: &SqlError) -> Status {
    let code = match error.kind() {
        SqlErrorKind::InvalidArgument => tonic::Code::InvalidArgument,
        SqlErrorKind::NotFound => tonic::Code::NotFound,
        SqlErrorKind::PermissionDenied => tonic::Code::PermissionDenied,
        SqlErrorKind::ResourceExhausted => tonic::Code::ResourceExhausted,
        SqlErrorKind::DeadlineExceeded => tonic::Code::DeadlineExceeded,
        SqlErrorKind::Cancelled => tonic::Code::Cancelled,
        SqlErrorKind::Unavailable => tonic::Code::Unavailable,
        SqlErrorKind::Internal => tonic::Code::Internal,
    };
    Status::new(code, error.message().to_owned())
}
