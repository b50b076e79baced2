//! The tonic `Query` service (`Scan`, `Aggregate`, `Latest`), each answering one Arrow IPC
//! stream as a stream of `ArrowBatch` messages (schema, batches, end-of-stream marker), and the
//! read-only calls of the `Admin` service ([`admin`], [`export`]), which the server's `Admin`
//! implementation delegates to.
//!
//! ```text
//! request ─► ReadGuard (permission on the table) ─► request::* (protobuf -> engine request, once)
//!         ─► spawn_blocking { snapshot ─► scan / aggregate / latest ─► stream::produce } ─► ArrowBatch stream
//! ```
//!
//! Each call takes one snapshot and reads it on a blocking thread ([`stream::produce`]); the
//! messages travel through a bounded channel, so a slow client slows the read down instead of
//! growing a buffer, and a client that disconnects stops it. Errors found before the first
//! message (unknown table, bad column) are the call's status; later ones end the stream.
//!
//! A [`ReadGuard`] (the server's permission check) sees every call before its request is
//! converted or anything is read; a refused call reads nothing.

pub mod admin;
pub mod export;
pub mod stream;

use std::pin::Pin;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema};
use isobar_proto::v1 as pb;
use isobar_proto::v1::query_server::Query;
use isobar_storage::Db;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use crate::request::{aggregate_query, latest_query, scan_request};
use crate::status::ReadError;
use stream::{CHANNEL_BATCHES, Sink, produce};

/// The answer stream of every read method.
pub type ArrowStream = Pin<Box<dyn Stream<Item = Result<pb::ArrowBatch, Status>> + Send>>;

/// A read call, as a [`ReadGuard`] is asked about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadCall {
    /// `Query/Scan`.
    Scan,
    /// `Query/Aggregate`.
    Aggregate,
    /// `Query/Latest`.
    Latest,
}

/// A check of every read call before it reads (e.g. the caller's permission on the table),
/// given the call's extensions.
pub trait ReadGuard: Send + Sync + std::fmt::Debug + 'static {
    /// `Err` refuses `call` on `table` with that status.
    fn check(&self, extensions: &tonic::Extensions, call: ReadCall, table: &str) -> Result<(), Status>;
}

/// The `isobar.v1.Query` service over one database.
#[derive(Clone, Debug)]
pub struct QueryService {
    db: Db,
    guard: Option<Arc<dyn ReadGuard>>,
}

impl QueryService {
    /// A service reading `db`, admitting every call (see [`QueryService::with_guard`]).
    pub fn new(db: Db) -> Self {
        Self { db, guard: None }
    }

    /// The same service checking every call with `guard` first.
    pub fn with_guard(self, guard: Arc<dyn ReadGuard>) -> Self {
        Self { guard: Some(guard), ..self }
    }

    /// Asks the guard, if any, whether `request` may read `table`.
    fn check<T>(&self, request: &Request<T>, call: ReadCall, table: &str) -> Result<(), Status> {
        match &self.guard {
            Some(guard) => guard.check(request.extensions(), call, table),
            None => Ok(()),
        }
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

#[tonic::async_trait]
impl Query for QueryService {
    type ScanStream = ArrowStream;
    type AggregateStream = ArrowStream;
    type LatestStream = ArrowStream;

    async fn scan(&self, request: Request<pb::ScanRequest>) -> Result<Response<ArrowStream>, Status> {
        self.check(&request, ReadCall::Scan, &request.get_ref().table)?;
        let scan = scan_request(request.into_inner()).map_err(ReadError::from)?;
        let db = self.db.clone();
        stream_from(move |sink| match db.snapshot().scan(&scan) {
            Ok(reader) => {
                let schema = reader.schema();
                produce(sink, &schema, reader.map(|b| b.map_err(ReadError::from)));
            }
            Err(e) => {
                let _ = sink.blocking_send(Err(ReadError::from(e).into()));
            }
        })
        .await
    }

    async fn aggregate(&self, request: Request<pb::AggregateRequest>) -> Result<Response<ArrowStream>, Status> {
        self.check(&request, ReadCall::Aggregate, &request.get_ref().table)?;
        let query = aggregate_query(request.into_inner()).map_err(ReadError::from)?;
        let db = self.db.clone();
        let answer = move |db: &Db| -> Result<Vec<RecordBatch>, ReadError> {
            Ok(bucket_named(crate::aggregate(&db.snapshot(), &query)?)?)
        };
        stream_from(move |sink| match answer(&db) {
            Ok(batches) => {
                let Some(schema) = batches.first().map(RecordBatch::schema) else {
                    let _ = sink.blocking_send(Err(Status::internal("the aggregate produced no schema")));
                    return;
                };
                produce(sink, &schema, batches.into_iter().map(Ok));
            }
            Err(e) => {
                let _ = sink.blocking_send(Err(e.into()));
            }
        })
        .await
    }

    async fn latest(&self, request: Request<pb::LatestRequest>) -> Result<Response<ArrowStream>, Status> {
        self.check(&request, ReadCall::Latest, &request.get_ref().table)?;
        let query = latest_query(request.into_inner()).map_err(ReadError::from)?;
        let db = self.db.clone();
        stream_from(move |sink| match crate::latest(&db.snapshot(), &query) {
            Ok(batch) => produce(sink, &batch.schema(), std::iter::once(Ok(batch))),
            Err(e) => {
                let _ = sink.blocking_send(Err(ReadError::from(e).into()));
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refuses every call on table `secret`, recording what it was asked.
    #[derive(Debug, Default)]
    struct Secret(std::sync::Mutex<Vec<(ReadCall, String)>>);

    impl ReadGuard for Secret {
        fn check(&self, _: &tonic::Extensions, call: ReadCall, table: &str) -> Result<(), Status> {
            self.0.lock().expect("lock").push((call, table.to_owned()));
            if table == "secret" { Err(Status::permission_denied(format!("no read on {table}"))) } else { Ok(()) }
        }
    }

    #[tokio::test]
    async fn the_guard_decides_before_the_request_is_looked_at() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open(dir.path(), isobar_storage::Options::default()).expect("opens");
        let guard = Arc::new(Secret::default());
        let service = QueryService::new(db.clone()).with_guard(guard.clone());
        // No selector: malformed, but the refusal comes first.
        let scan = pb::ScanRequest { table: "secret".into(), ..Default::default() };
        let refused = service.scan(Request::new(scan)).await.err().expect("refused");
        assert_eq!((refused.code(), refused.message()), (tonic::Code::PermissionDenied, "no read on secret"));
        let latest = pb::LatestRequest { table: "secret".into(), ..Default::default() };
        let refused = service.latest(Request::new(latest)).await.err().expect("refused");
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        let aggregate = pb::AggregateRequest { table: "other".into(), ..Default::default() };
        let admitted = service.aggregate(Request::new(aggregate)).await.err().expect("malformed");
        assert_eq!(admitted.code(), tonic::Code::InvalidArgument, "{}", admitted.message());
        let asked = guard.0.lock().expect("lock").clone();
        assert_eq!(
            asked,
            [
                (ReadCall::Scan, "secret".to_owned()),
                (ReadCall::Latest, "secret".to_owned()),
                (ReadCall::Aggregate, "other".to_owned())
            ]
        );
        db.close().expect("close");
    }
}
