//! The tonic `Query` service: `Scan`, `Aggregate`, `Latest`, each answering one Arrow IPC stream
//! as a stream of `ArrowBatch` messages (schema, batches, end-of-stream marker).
//!
//! Each call takes one snapshot and reads it on a blocking thread ([`super::scan::produce`]);
//! the messages travel through a bounded channel, so a slow client slows the read down instead
//! of growing a buffer, and a client that disconnects stops it. Errors found before the first
//! message (unknown table, bad column) are the call's status; later ones end the stream.

use std::pin::Pin;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema};
use isobar_proto::v1 as pb;
use isobar_proto::v1::query_server::Query;
use isobar_query::request::{Order as PlanOrder, aggregate_plan, latest_plan, scan_plan};
use isobar_query::{AggregateQuery, LatestQuery};
use isobar_storage::{Db, Order, ScanRequest};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::guard::authorize;
use super::rpc::Rpc;
use super::scan::{CHANNEL_BATCHES, RowLimit, Sink, produce};
use super::status::QueryError;

/// Rows per batch when the request leaves it to the server.
const DEFAULT_BATCH_ROWS: usize = 8192;
/// Most rows per batch a request may ask for.
const MAX_BATCH_ROWS: usize = 1 << 20;

/// The answer stream of every read method.
pub type ArrowStream = Pin<Box<dyn Stream<Item = Result<pb::ArrowBatch, Status>> + Send>>;

/// The `isobar.v1.Query` service over one database.
#[derive(Clone, Debug)]
pub struct QueryService {
    db: Db,
}

impl QueryService {
    /// A service reading `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

/// Runs `work` on a blocking thread with a bounded sink; answers with the stream once the first
/// message (the schema) or the first error is known.
async fn stream_from(work: impl FnOnce(&Sink) + Send + 'static) -> Result<Response<ArrowStream>, Status> {
    let (sink, mut rx) = mpsc::channel(CHANNEL_BATCHES);
    tokio::task::spawn_blocking(move || work(&sink));
    let first = match rx.recv().await {
        Some(Ok(first)) => first,
        Some(Err(status)) => return Err(status),
        None => return Err(Status::internal("the read ended before sending its schema")),
    };
    let stream = tokio_stream::once(Ok(first)).chain(ReceiverStream::new(rx));
    Ok(Response::new(Box::pin(stream)))
}

/// Aggregate answers with their time column named `bucket`, as the API documents (the engine
/// calls it `ts`).
fn bucket_named(batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>, arrow_schema::ArrowError> {
    let Some(first) = batches.first() else { return Ok(batches) };
    let schema = first.schema();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| if f.name() == "ts" { f.as_ref().clone().with_name("bucket") } else { f.as_ref().clone() })
        .collect();
    let renamed = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    batches.into_iter().map(|b| RecordBatch::try_new(renamed.clone(), b.columns().to_vec())).collect()
}

/// The engine scan and the row limits of a wire scan request.
pub fn scan_request(request: pb::ScanRequest) -> Result<(ScanRequest, RowLimit), QueryError> {
    let plan = scan_plan(request)?;
    let batch_rows = plan.batch_rows.map_or(DEFAULT_BATCH_ROWS, |n| (n as usize).clamp(1, MAX_BATCH_ROWS));
    let per_series = plan.limit_per_series;
    let scan = ScanRequest {
        table: plan.table,
        selector: plan.selector,
        range: plan.range,
        columns: plan.columns.iter().map(ToString::to_string).collect(),
        // With a per-series limit the total is counted after it, here; otherwise the engine
        // stops early.
        limit: if per_series.is_none() { plan.limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX)) } else { None },
        order: match plan.order {
            PlanOrder::Asc => Order::Asc,
            PlanOrder::Desc => Order::Desc,
        },
        batch_rows,
    };
    Ok((scan, RowLimit::new(plan.limit, per_series)))
}

#[tonic::async_trait]
impl Query for QueryService {
    type ScanStream = ArrowStream;
    type AggregateStream = ArrowStream;
    type LatestStream = ArrowStream;

    async fn scan(&self, request: Request<pb::ScanRequest>) -> Result<Response<ArrowStream>, Status> {
        authorize(&request, Rpc::Scan, &request.get_ref().table)?;
        let (scan, limit) = scan_request(request.into_inner())?;
        let db = self.db.clone();
        stream_from(move |sink| {
            let snapshot = db.snapshot();
            match snapshot.scan(&scan) {
                Ok(reader) => {
                    let schema = reader.schema();
                    produce(sink, &schema, reader.map(|b| b.map_err(QueryError::from)), limit);
                }
                Err(e) => {
                    let _ = sink.blocking_send(Err(QueryError::from(e).into()));
                }
            }
        })
        .await
    }

    async fn aggregate(&self, request: Request<pb::AggregateRequest>) -> Result<Response<ArrowStream>, Status> {
        authorize(&request, Rpc::Aggregate, &request.get_ref().table)?;
        let query = AggregateQuery::from(aggregate_plan(request.into_inner()).map_err(QueryError::from)?);
        let db = self.db.clone();
        let answer = move |db: &Db| -> Result<Vec<RecordBatch>, QueryError> {
            Ok(bucket_named(isobar_query::aggregate(&db.snapshot(), &query)?)?)
        };
        stream_from(move |sink| match answer(&db) {
            Ok(batches) => {
                let Some(schema) = batches.first().map(RecordBatch::schema) else {
                    let _ = sink.blocking_send(Err(Status::internal("the aggregate produced no schema")));
                    return;
                };
                produce(sink, &schema, batches.into_iter().map(Ok), RowLimit::default());
            }
            Err(e) => {
                let _ = sink.blocking_send(Err(e.into()));
            }
        })
        .await
    }

    async fn latest(&self, request: Request<pb::LatestRequest>) -> Result<Response<ArrowStream>, Status> {
        authorize(&request, Rpc::Latest, &request.get_ref().table)?;
        let query = LatestQuery::from(latest_plan(request.into_inner()).map_err(QueryError::from)?);
        let db = self.db.clone();
        stream_from(move |sink| match isobar_query::latest(&db.snapshot(), &query) {
            Ok(batch) => produce(sink, &batch.schema(), std::iter::once(Ok(batch)), RowLimit::default()),
            Err(e) => {
                let _ = sink.blocking_send(Err(QueryError::from(e).into()));
            }
        })
        .await
    }
}
