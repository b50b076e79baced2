//! Running a statement: plan it against a fresh snapshot with the caller's access, bind the
//! parameters, execute under the SQL layer's bounds, and stream the batches out as PostgreSQL
//! rows. Also the cancel signal ([`Cancels`]: the protocol's `CancelRequest` stops the running
//! query of the connection whose key it carries) and cursors (`DECLARE` / `FETCH` / `CLOSE`:
//! a query's stream kept open and read a slice at a time, as psycopg's server-side cursors do).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_pg::datatypes::{arrow_schema_to_pg_fields, encode_recordbatch};
use arrow_schema::SchemaRef;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::sql::sqlparser::ast::Statement as Ast;
use futures::{Stream, StreamExt};
use isobar_sql::{ScalarValue, SqlEngine, SqlError, SqlErrorKind, SqlPlan};
use pgwire::api::portal::Format;
use pgwire::api::results::{FieldInfo, QueryResponse};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;
use pgwire::messages::startup::SecretKey;
use pgwire::types::format::FormatOptions;
use tokio::sync::watch;

use crate::errors::{QUERY_CANCELED, sql_error, user_error};
use crate::login::Session;

/// Most cursors one connection may hold open.
pub(crate) const MAX_CURSORS: usize = 16;

/// A connection's backend key: its process id and secret.
type BackendKey = (i32, Vec<u8>);

/// The cancel keys of the open connections.
#[derive(Debug, Default)]
pub(crate) struct Cancels {
    senders: Mutex<HashMap<BackendKey, watch::Sender<u64>>>,
}

/// A connection's cancel signal; removes its key from [`Cancels`] when the connection ends.
#[derive(Debug)]
pub(crate) struct CancelSignal {
    key: BackendKey,
    receiver: watch::Receiver<u64>,
    cancels: Arc<Cancels>,
}

impl Drop for CancelSignal {
    fn drop(&mut self) {
        if let Ok(mut senders) = self.cancels.senders.lock() {
            senders.remove(&self.key);
        }
    }
}

impl Cancels {
    /// Registers the connection with backend key `(pid, key)`.
    pub(crate) fn register(self: &Arc<Self>, pid: i32, key: &SecretKey) -> CancelSignal {
        let (sender, receiver) = watch::channel(0);
        let key = (pid, key.to_bytes().to_vec());
        if let Ok(mut senders) = self.senders.lock() {
            senders.insert(key.clone(), sender);
        }
        CancelSignal { key, receiver, cancels: self.clone() }
    }

    /// Cancels the running query of the connection with `(pid, key)`, if any; a wrong key does
    /// nothing (and says nothing, as PostgreSQL).
    pub(crate) fn cancel(&self, pid: i32, key: &SecretKey) {
        let key = (pid, key.to_bytes().to_vec());
        if let Ok(senders) = self.senders.lock()
            && let Some(sender) = senders.get(&key)
        {
            sender.send_modify(|n| *n += 1);
        }
    }
}

impl CancelSignal {
    /// A watcher that fires on the next cancel request (not on earlier ones).
    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        let mut receiver = self.receiver.clone();
        receiver.borrow_and_update();
        receiver
    }
}

/// The error a cancelled query ends with.
pub(crate) fn cancelled() -> PgWireError {
    user_error(QUERY_CANCELED, "canceling statement due to user request")
}

/// Plans `ast` for `session` and binds `params` (when the statement has any).
pub(crate) async fn plan(
    engine: &SqlEngine,
    session: &Session,
    ast: Ast,
    params: Vec<ScalarValue>,
) -> PgWireResult<SqlPlan> {
    let plan = engine.prepare_parsed(ast, session.access.as_ref()).await.map_err(|e| sql_error(&e))?;
    if params.is_empty() && plan.parameter_types().is_empty() {
        return Ok(plan);
    }
    plan.bind(params).map_err(|e| sql_error(&e))
}

/// Executes `plan`, stopping at a cancel request on `cancel`.
pub(crate) async fn start(plan: SqlPlan, cancel: Option<watch::Receiver<u64>>) -> PgWireResult<Batches> {
    let schema = plan.schema();
    let mut watcher = cancel.clone();
    let stream = match watcher.as_mut() {
        Some(w) => tokio::select! {
            s = plan.execute() => s,
            _ = w.changed() => return Err(cancelled()),
        },
        None => plan.execute().await,
    }
    .map_err(|e| sql_error(&e))?;
    Ok(Batches { schema, stream, cancel })
}

/// A running query's batches.
pub(crate) struct Batches {
    pub(crate) schema: SchemaRef,
    stream: SendableRecordBatchStream,
    cancel: Option<watch::Receiver<u64>>,
}

impl Batches {
    /// The next batch, `None` at the end; a cancel request ends it with `57014`.
    pub(crate) async fn next(&mut self) -> Option<PgWireResult<RecordBatch>> {
        let next = match self.cancel.as_mut() {
            Some(w) => tokio::select! {
                b = self.stream.next() => b,
                changed = w.changed() => match changed {
                    Ok(()) => return Some(Err(cancelled())),
                    // The connection is gone; its query stops with it.
                    Err(_) => return None,
                },
            },
            None => self.stream.next().await,
        };
        next.map(|r| r.map_err(|e| sql_error(&SqlError::from_datafusion(e))))
    }

    /// The rows of the whole query, encoded for `fields`.
    pub(crate) fn into_rows(self, fields: Arc<Vec<FieldInfo>>) -> impl Stream<Item = PgWireResult<DataRow>> + Send {
        let fixes = crate::text::fixes(&fields);
        futures::stream::unfold(self, |mut batches| async move { batches.next().await.map(|b| (b, batches)) })
            .flat_map(move |batch| rows_of(batch, fields.clone(), fixes.as_ref().map(|f| f.as_slice())))
    }
}

/// The rows of one batch (or its error), encoded for `fields`.
pub(crate) fn rows_of(
    batch: PgWireResult<RecordBatch>,
    fields: Arc<Vec<FieldInfo>>,
    fixes: Option<&[crate::text::Fix]>,
) -> futures::stream::Iter<std::vec::IntoIter<PgWireResult<DataRow>>> {
    let rows: Vec<_> = match (batch, fixes) {
        (Ok(batch), None) => encode_recordbatch(fields, batch).collect(),
        (Ok(batch), Some(fixes)) => {
            encode_recordbatch(fields, batch).map(|row| row.map(|r| crate::text::apply(r, fixes))).collect()
        }
        (Err(e), _) => vec![Err(e)],
    };
    futures::stream::iter(rows)
}

/// The PostgreSQL fields of `schema` in `format`, with the session's display settings.
pub(crate) fn fields(
    schema: &SchemaRef,
    format: &Format,
    options: Arc<FormatOptions>,
) -> PgWireResult<Arc<Vec<FieldInfo>>> {
    Ok(Arc::new(arrow_schema_to_pg_fields(schema, format, Some(options))?))
}

/// A whole query as one response.
pub(crate) fn response(batches: Batches, fields: Arc<Vec<FieldInfo>>) -> QueryResponse {
    QueryResponse::new(fields.clone(), batches.into_rows(fields))
}

/// The open cursors of one connection.
#[derive(Default)]
pub(crate) struct Cursors {
    open: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Cursor>>>>,
}

/// An open cursor: the query's batches and the rest of the batch being read.
pub(crate) struct Cursor {
    batches: Batches,
    pending: Option<RecordBatch>,
}

impl Cursors {
    /// Opens cursor `name` over `batches`.
    pub(crate) fn declare(&self, name: &str, batches: Batches) -> PgWireResult<()> {
        let mut open = self.open.lock().map_err(|_| poisoned())?;
        if open.contains_key(name) {
            return Err(user_error("42P03", format!("cursor \"{name}\" already exists; CLOSE it first")));
        }
        if open.len() >= MAX_CURSORS {
            return Err(user_error(
                "53400",
                format!("a connection may hold {MAX_CURSORS} open cursors at most; CLOSE one first"),
            ));
        }
        open.insert(name.to_owned(), Arc::new(tokio::sync::Mutex::new(Cursor { batches, pending: None })));
        Ok(())
    }

    /// Closes `name` (every cursor for `None`); an unknown name is `34000`.
    pub(crate) fn close(&self, name: Option<&str>) -> PgWireResult<()> {
        let mut open = self.open.lock().map_err(|_| poisoned())?;
        match name {
            None => open.clear(),
            Some(name) => {
                open.remove(name).ok_or_else(|| no_cursor(name))?;
            }
        }
        Ok(())
    }

    /// The schema of cursor `name`.
    pub(crate) fn schema(&self, name: &str) -> PgWireResult<SchemaRef> {
        let open = self.open.lock().map_err(|_| poisoned())?;
        let cursor = open.get(name).ok_or_else(|| no_cursor(name))?;
        let cursor = cursor.try_lock().map_err(|_| user_error("55000", format!("cursor \"{name}\" is in use")))?;
        Ok(cursor.batches.schema.clone())
    }

    /// The next `count` rows of cursor `name` (all that are left for `None`).
    pub(crate) async fn fetch(&self, name: &str, count: Option<usize>) -> PgWireResult<(SchemaRef, Vec<RecordBatch>)> {
        let cursor = self.open.lock().map_err(|_| poisoned())?.get(name).cloned().ok_or_else(|| no_cursor(name))?;
        let mut cursor = cursor.lock().await;
        let schema = cursor.batches.schema.clone();
        let mut wanted = count.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        while wanted > 0 {
            let batch = match cursor.pending.take() {
                Some(b) => b,
                None => match cursor.batches.next().await {
                    Some(b) => b?,
                    None => break,
                },
            };
            if batch.num_rows() <= wanted {
                wanted -= batch.num_rows();
                out.push(batch);
            } else {
                out.push(batch.slice(0, wanted));
                cursor.pending = Some(batch.slice(wanted, batch.num_rows() - wanted));
                wanted = 0;
            }
        }
        Ok((schema, out))
    }
}

fn no_cursor(name: &str) -> PgWireError {
    user_error("34000", format!("cursor \"{name}\" does not exist"))
}

fn poisoned() -> PgWireError {
    sql_error(&SqlError::new(SqlErrorKind::Internal, "the connection's cursor table is unusable after a panic"))
}
