//! The pgwire handlers: simple and extended query over [`crate::execute`], session commands
//! over [`crate::session`], cancel requests over [`Cancels`].

use std::fmt::Debug;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_pg::datatypes::df::deserialize_parameters;
use arrow_pg::datatypes::into_pg_type;
use arrow_schema::{DataType, SchemaRef};
use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use futures::{Sink, SinkExt, StreamExt};
use isobar_sql::{ScalarValue, SqlEngine};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{CopyResponse, FieldInfo, QueryResponse, Response, Tag};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::{MemPortalStore, PortalStore};
use pgwire::api::{ClientInfo, ClientPortalStore, ErrorHandler, PgWireServerHandlers, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::startup::ParameterStatus;
use pgwire::types::format::FormatOptions;

use crate::errors::{FEATURE_NOT_SUPPORTED, SYNTAX_ERROR, UNDEFINED_OBJECT, user_error};
use crate::execute::{self, CancelSignal, Cancels, Cursors};
use crate::login::Session;
use crate::session::{self, Command};
use crate::startup::Startup;
use crate::statement::{self, Parsed, Prepared};

/// Everything a connection's handlers share.
pub(crate) struct Handlers {
    pub(crate) query: Arc<Queries>,
    pub(crate) startup: Arc<Startup>,
    pub(crate) cancel: Arc<CancelRequests>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.query.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.query.clone()
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        self.startup.clone()
    }

    fn error_handler(&self) -> Arc<impl ErrorHandler> {
        Arc::new(LogErrors)
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.cancel.clone()
    }
}

/// Logs internal errors (a user's mistakes are only answered).
struct LogErrors;

impl ErrorHandler for LogErrors {
    fn on_error<C: ClientInfo>(&self, client: &C, error: &mut PgWireError) {
        match error {
            PgWireError::UserError(info) if !info.code.starts_with("XX") => {}
            PgWireError::IoError(_) => {}
            other => tracing::warn!(peer = %client.socket_addr(), error = %other, "postgres connection error"),
        }
    }
}

/// `CancelRequest`s: a new connection carrying another's backend key.
pub(crate) struct CancelRequests(pub(crate) Arc<Cancels>);

#[async_trait]
impl CancelHandler for CancelRequests {
    async fn on_cancel_request(&self, request: CancelRequest) {
        self.0.cancel(request.pid, &request.secret_key);
    }
}

/// The query handlers: SQL through the engine, session commands here.
pub(crate) struct Queries {
    pub(crate) engine: SqlEngine,
    pub(crate) parser: Arc<Parser>,
}

/// The extended protocol's parser: plans at `Parse` to answer `Describe`.
pub(crate) struct Parser {
    pub(crate) engine: SqlEngine,
    pub(crate) sql: PostgresCompatibilityParser,
}

fn session_of<C: ClientInfo + ?Sized>(client: &C) -> PgWireResult<Arc<Session>> {
    client
        .session_extensions()
        .get::<Session>()
        .ok_or_else(|| user_error("28000", "the connection has not authenticated"))
}

fn cancel_of<C: ClientInfo + ?Sized>(client: &C) -> Option<tokio::sync::watch::Receiver<u64>> {
    client.session_extensions().get::<CancelSignal>().map(|s| s.watch())
}

fn cursors_of<C: ClientInfo + ?Sized>(client: &C) -> Arc<Cursors> {
    client.session_extensions().get_or_insert_with(Cursors::default)
}

fn format_options<C: ClientInfo + ?Sized>(client: &C) -> Arc<FormatOptions> {
    Arc::new(FormatOptions::from_client_metadata(client.metadata()))
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = Prepared;

    async fn parse_sql<C>(&self, client: &C, sql: &str, _types: &[Option<Type>]) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let mut parsed = statement::parse(&self.sql, sql)?;
        if parsed.len() > 1 {
            return Err(user_error(SYNTAX_ERROR, "cannot insert multiple commands into a prepared statement"));
        }
        let Some(parsed) = parsed.pop() else { return Ok(None) };
        let (params, schema) = match (&parsed.command, &parsed.query) {
            (Some(Command::Show { name }), _) if name == "all" => (Vec::new(), Some(statement::show_all_schema())),
            (Some(Command::Show { name }), _) => (Vec::new(), Some(statement::show_schema(name))),
            (Some(Command::Fetch { name, .. }), _) => (Vec::new(), Some(cursors_of(client).schema(name)?)),
            (Some(Command::Declare { .. }), Some(query)) => (self.plan_types(client, query).await?.0, None),
            (Some(_), _) => (Vec::new(), None),
            (None, Some(query)) => {
                let (params, schema) = self.plan_types(client, query).await?;
                (params, Some(schema))
            }
            (None, None) => (Vec::new(), None),
        };
        Ok(Some(Prepared { parsed, params, schema }))
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        stmt.params.iter().map(|t| if t.is_null() { Ok(Type::UNKNOWN) } else { into_pg_type(t) }).collect()
    }

    fn get_result_schema(&self, stmt: &Prepared, format: Option<&Format>) -> PgWireResult<Vec<FieldInfo>> {
        let Some(schema) = &stmt.schema else { return Ok(Vec::new()) };
        let format = format.cloned().unwrap_or(Format::UnifiedText);
        Ok(execute::fields(schema, &format, Arc::new(FormatOptions::default()))?.as_ref().clone())
    }
}

impl Parser {
    async fn plan_types<C: ClientInfo + ?Sized>(
        &self,
        client: &C,
        query: &datafusion::sql::sqlparser::ast::Statement,
    ) -> PgWireResult<(Vec<DataType>, SchemaRef)> {
        let session = session_of(client)?;
        let plan = self
            .engine
            .prepare_parsed(query.clone(), session.access.as_ref())
            .await
            .map_err(|e| crate::errors::sql_error(&e))?;
        Ok((plan.parameter_types(), plan.schema()))
    }
}

#[async_trait]
impl SimpleQueryHandler for Queries {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statements = statement::parse(&self.parser.sql, query)?;
        if statements.is_empty() {
            // Only comments (pgx's health check sends `-- ping`).
            return Ok(vec![Response::EmptyQuery]);
        }
        let mut responses = Vec::with_capacity(statements.len());
        for parsed in statements {
            match self.run(client, &parsed, Vec::new(), &Format::UnifiedText).await {
                Ok(response) => responses.push(response),
                Err(error) => {
                    // PostgreSQL stops a multi-statement query at its first error.
                    responses.push(Response::Error(Box::new(ErrorInfo::from(error))));
                    break;
                }
            }
        }
        Ok(responses)
    }
}

#[async_trait]
impl ExtendedQueryHandler for Queries {
    type Statement = Prepared;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    async fn do_query<C>(&self, client: &mut C, portal: &Portal<Prepared>, _max_rows: usize) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let prepared = &portal.statement.statement;
        let params = decode_parameters(portal, &prepared.params)?;
        self.run(client, &prepared.parsed, params, &portal.result_column_format).await
    }
}

/// The values bound to a portal, typed as the statement's plan wants them.
fn decode_parameters(portal: &Portal<Prepared>, types: &[DataType]) -> PgWireResult<Vec<ScalarValue>> {
    if portal.parameter_len() == 0 {
        return Ok(Vec::new());
    }
    let inferred: Vec<Option<&DataType>> = types.iter().map(|t| (!t.is_null()).then_some(t)).collect();
    match deserialize_parameters(portal, &inferred)? {
        ParamValues::List(values) => Ok(values.into_iter().map(|v| v.value).collect()),
        ParamValues::Map(_) => {
            Err(user_error(FEATURE_NOT_SUPPORTED, "named parameters are not supported; use $1, $2, ..."))
        }
    }
}

impl Queries {
    /// Runs one statement with `params`, rows in `format`.
    async fn run<C>(
        &self,
        client: &mut C,
        parsed: &Parsed,
        params: Vec<ScalarValue>,
        format: &Format,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client)?;
        match (&parsed.command, &parsed.query) {
            (None, Some(query)) => {
                let plan = execute::plan(&self.engine, &session, query.clone(), params).await?;
                let batches = execute::start(plan, cancel_of(client)).await?;
                let fields = execute::fields(&batches.schema, format, format_options(client))?;
                Ok(Response::Query(execute::response(batches, fields)))
            }
            (Some(command), query) => self.command(client, &session, command, query.as_ref(), params, format).await,
            (None, None) => Ok(Response::EmptyQuery),
        }
    }

    async fn command<C>(
        &self,
        client: &mut C,
        session: &Session,
        command: &Command,
        query: Option<&datafusion::sql::sqlparser::ast::Statement>,
        params: Vec<ScalarValue>,
        format: &Format,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match command {
            Command::Set { name, value } => {
                session::check_set(name, value).map_err(|m| user_error("22023", m))?;
                client.metadata_mut().insert(session::metadata_key(name), value.clone());
                if session::is_reported(name) {
                    let status = ParameterStatus::new(session::metadata_key(name), value.clone());
                    client.feed(PgWireBackendMessage::ParameterStatus(status)).await?;
                }
                Ok(Response::Execution(Tag::new("SET")))
            }
            Command::Reset { name } => {
                if name == "all" {
                    client.metadata_mut().retain(|k, _| matches!(k.as_str(), "user" | "database"));
                } else {
                    client.metadata_mut().remove(&session::metadata_key(name));
                }
                Ok(Response::Execution(Tag::new("RESET")))
            }
            Command::Show { name } => {
                let (schema, columns): (SchemaRef, Vec<ArrayRef>) = if name == "all" {
                    let all = session::defaults();
                    let values: Vec<String> =
                        all.iter().map(|(n, _)| session::show(client.metadata(), n).unwrap_or_default()).collect();
                    let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
                    (
                        statement::show_all_schema(),
                        vec![
                            Arc::new(StringArray::from(names)),
                            Arc::new(StringArray::from(values)),
                            Arc::new(StringArray::from(vec![""; all.len()])),
                        ],
                    )
                } else {
                    let value = session::show(client.metadata(), name).ok_or_else(|| {
                        user_error(UNDEFINED_OBJECT, format!("unrecognized configuration parameter \"{name}\""))
                    })?;
                    (statement::show_schema(name), vec![Arc::new(StringArray::from(vec![value]))])
                };
                let batch = RecordBatch::try_new(schema.clone(), columns)
                    .map_err(|e| user_error("XX000", format!("building SHOW's answer: {e}")))?;
                let fields = execute::fields(&schema, format, format_options(client))?;
                Ok(Response::Query(batch_response(fields, vec![batch], "SHOW")))
            }
            Command::Begin => Ok(Response::TransactionStart(Tag::new("BEGIN"))),
            Command::Commit | Command::Rollback => {
                // Cursors declared WITHOUT HOLD end with their transaction.
                cursors_of(client).close(None)?;
                let tag = if *command == Command::Commit { "COMMIT" } else { "ROLLBACK" };
                Ok(Response::TransactionEnd(Tag::new(tag)))
            }
            Command::Accept { tag } => Ok(Response::Execution(Tag::new(tag))),
            Command::Declare { name, .. } => {
                let query = query.ok_or_else(|| user_error(SYNTAX_ERROR, "DECLARE without a query"))?;
                let plan = execute::plan(&self.engine, session, query.clone(), params).await?;
                let batches = execute::start(plan, cancel_of(client)).await?;
                let schema = batches.schema.clone();
                cursors_of(client).declare(name, batches)?;
                cursor_portal(client, name, Some(schema));
                Ok(Response::Execution(Tag::new("DECLARE CURSOR")))
            }
            Command::Fetch { name, count } => {
                let (schema, batches) = cursors_of(client).fetch(name, *count).await?;
                let fields = execute::fields(&schema, format, format_options(client))?;
                Ok(Response::Query(batch_response(fields, batches, "FETCH")))
            }
            Command::Close { name } => {
                cursors_of(client).close(name.as_deref())?;
                if let Some(name) = name {
                    cursor_portal(client, name, None);
                }
                Ok(Response::Execution(Tag::new("CLOSE CURSOR")))
            }
            Command::CopyOut { format: layout } => {
                let query = query.ok_or_else(|| user_error(SYNTAX_ERROR, "COPY without a query"))?;
                let plan = execute::plan(&self.engine, session, query.clone(), params).await?;
                let batches = execute::start(plan, cancel_of(client)).await?;
                let fields = execute::fields(&batches.schema, &Format::UnifiedText, format_options(client))?;
                let names: Vec<String> = fields.iter().map(|f| f.name().to_owned()).collect();
                let header = layout.header.then(|| Ok(crate::copy::header_line(&names, layout)));
                let layout = layout.clone();
                let rows = batches.into_rows(fields).map(move |row| row.map(|r| crate::copy::row_line(&r, &layout)));
                let data = futures::stream::iter(header).chain(rows);
                Ok(Response::CopyOut(CopyResponse::new(0, names.len(), data)))
            }
        }
    }
}

/// Makes cursor `name` a protocol portal too (or removes it, for `None`): clients such as
/// psycopg `Describe` a declared cursor's portal to learn its columns, as PostgreSQL allows.
fn cursor_portal<C>(client: &C, name: &str, schema: Option<SchemaRef>)
where
    C: ClientPortalStore,
    C::PortalStore: PortalStore,
{
    let Some(store) = client.portal_store().as_any().downcast_ref::<MemPortalStore<Prepared>>() else { return };
    match schema {
        None => store.rm_portal(name),
        Some(schema) => {
            let fetch = Command::Fetch { name: name.to_owned(), count: None };
            let prepared = Prepared {
                parsed: Parsed { command: Some(fetch), query: None },
                params: Vec::new(),
                schema: Some(schema),
            };
            let statement = StoredStatement::new(name.to_owned(), prepared, Vec::new());
            store.put_portal(Arc::new(Portal::new_cursor(name.to_owned(), Arc::new(statement))));
        }
    }
}

/// A response of batches already in hand, with `tag`.
fn batch_response(fields: Arc<Vec<FieldInfo>>, batches: Vec<RecordBatch>, tag: &str) -> QueryResponse {
    let fixes = crate::text::fixes(&fields);
    let encoding = fields.clone();
    let rows = futures::stream::iter(batches)
        .flat_map(move |b| execute::rows_of(Ok(b), encoding.clone(), fixes.as_ref().map(|f| f.as_slice())));
    let mut response = QueryResponse::new(fields, rows);
    response.set_command_tag(tag);
    response
}
