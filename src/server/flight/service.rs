//! The `FlightSqlService` of Isobar: each command in its own handler module; this file only
//! dispatches and turns answers into Flight messages.

use std::pin::Pin;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::flight_service_server::FlightServiceServer;
use arrow_flight::sql::metadata::SqlInfoData;
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult,
    CommandGetCatalogs, CommandGetDbSchemas, CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables,
    CommandPreparedStatementQuery, CommandStatementIngest, CommandStatementQuery, DoPutPreparedStatementResult,
    ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{Action, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, Ticket};
use futures::{Stream, TryStreamExt};
use prost::Message;
use tonic::{Request, Response, Status};

use super::ingest::IngestPath;
use super::query::SqlPath;
use super::{listings, metadata};
use crate::server::guard;

/// The stream of a `DoGet` answer.
pub type DoGetStream = Pin<Box<dyn Stream<Item = Result<FlightData, Status>> + Send + 'static>>;

/// The Flight SQL front end over one database.
#[derive(Clone)]
pub struct FlightSql {
    ingest: IngestPath,
    sql: SqlPath,
    sql_info: Arc<SqlInfoData>,
}

impl std::fmt::Debug for FlightSql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightSql").field("ingest", &self.ingest).finish_non_exhaustive()
    }
}

impl FlightSql {
    /// The front end writing through `ingest` and answering SQL through `sql`.
    pub fn new(ingest: IngestPath, sql: SqlPath) -> Result<Self, Status> {
        Ok(Self { ingest, sql, sql_info: Arc::new(metadata::sql_info()?) })
    }

    /// The tonic service, with the server's message size limit.
    pub fn into_server(self, max_message_bytes: usize) -> FlightServiceServer<Self> {
        FlightServiceServer::new(self)
            .max_decoding_message_size(max_message_bytes)
            .max_encoding_message_size(max_message_bytes)
    }
}

/// A `FlightInfo` whose one endpoint's ticket is `command` itself (the metadata commands are
/// answered statelessly on `DoGet`).
pub fn info_for(
    command: &impl ProstMessageExt,
    schema: &arrow_schema::Schema,
    descriptor: FlightDescriptor,
) -> Result<FlightInfo, Status> {
    let ticket = Ticket::new(command.as_any().encode_to_vec());
    FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| Status::internal(format!("encoding a schema: {e}")))
        .map(|info| info.with_endpoint(FlightEndpoint::new().with_ticket(ticket)).with_descriptor(descriptor))
}

/// One batch as a `DoGet` stream.
pub fn one_batch(batch: RecordBatch) -> DoGetStream {
    let schema = batch.schema();
    let stream = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(futures::stream::once(async move { Ok(batch) }))
        .map_err(Status::from);
    Box::pin(stream)
}

#[tonic::async_trait]
impl FlightSqlService for FlightSql {
    type FlightService = FlightSql;

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = self.sql_info.schema();
        Ok(Response::new(info_for(&query, &schema, request.into_inner())?))
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        Ok(Response::new(one_batch(metadata::sql_info_batch(query, &self.sql_info)?)))
    }

    async fn do_put_statement_ingest(
        &self,
        command: CommandStatementIngest,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        self.ingest.run(command, request).await
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let (_, extensions, descriptor) = request.into_parts();
        Ok(Response::new(self.sql.statement_info(&extensions, query, descriptor).await?))
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        Ok(Response::new(self.sql.statement_get(request.extensions(), ticket).await?))
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        self.sql.create_prepared(request.extensions(), query).await
    }

    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let (_, extensions, stream) = request.into_parts();
        self.sql.bind_prepared(&extensions, query, stream).await
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let (_, extensions, descriptor) = request.into_parts();
        Ok(Response::new(self.sql.prepared_info(&extensions, query, descriptor).await?))
    }

    async fn do_get_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        Ok(Response::new(self.sql.prepared_get(request.extensions(), query).await?))
    }

    async fn do_action_close_prepared_statement(
        &self,
        query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        self.sql.close_prepared(request.extensions(), query)
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        guard::caller(request.extensions())?;
        let schema = query.into_builder().schema();
        Ok(Response::new(info_for(&query, &schema, request.into_inner())?))
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        guard::caller(request.extensions())?;
        Ok(Response::new(one_batch(listings::catalogs(query)?)))
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        guard::caller(request.extensions())?;
        let schema = query.clone().into_builder().schema();
        Ok(Response::new(info_for(&query, &schema, request.into_inner())?))
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let principal = guard::caller(request.extensions())?;
        Ok(Response::new(one_batch(listings::schemas(self.sql.engine(), &principal, query)?)))
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        guard::caller(request.extensions())?;
        let schema = query.clone().into_builder().schema();
        Ok(Response::new(info_for(&query, &schema, request.into_inner())?))
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let principal = guard::caller(request.extensions())?;
        Ok(Response::new(one_batch(listings::tables(self.sql.engine(), &principal, query)?)))
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        guard::caller(request.extensions())?;
        let schema = query.into_builder().schema();
        Ok(Response::new(info_for(&query, &schema, request.into_inner())?))
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        guard::caller(request.extensions())?;
        Ok(Response::new(one_batch(listings::table_types(query)?)))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
