//! The tonic `Ingest` service: `Write` and `WriteStream`; `ProducerStream` and `Resume` live in
//! [`crate::producer`]. A request with a `producer_id` goes through
//! [`Db::write_as`](isobar_storage::Db::write_as) in every call.
//!
//! ```text
//! request ─► admission (byte budget) ─► spawn_blocking { convert ─► Db::write (waits for the WAL) } ─► ack
//! ```
//!
//! Conversion and the engine write run on tokio's blocking pool: `Db::write` waits for the WAL
//! group commit (an fsync under `sync = always`), which must never stall a tokio worker.
//!
//! `WriteStream` applies its messages one at a time and in order, each atomically (one engine
//! write), while the next message is already being received and decoded. A message only reaches
//! the handler once it has arrived completely, so a client that disconnects mid-message leaves
//! nothing of that message applied; the messages before it are written (and the call fails).
//! A rejected message fails the call with a status whose message starts with `message <i>:`.
//!
//! A [`WriteGuard`] (the server's permission check) sees every message before any of it is
//! admitted or applied; a refused message fails the call and changes nothing.

use std::sync::Arc;

use isobar_proto::v1::ingest_server::Ingest;
use isobar_proto::v1::{ResumeRequest, ResumeResponse, WriteRequest, WriteResponse};
use isobar_storage::Db;
use prost::Message;
use tokio::task::JoinHandle;
use tonic::{Request, Response, Status, Streaming};

use crate::ack::{Applied, Totals};
use crate::admission::Admission;
use crate::producer::{AckStream, producer_stream, resume, write_blocking};
use isobar_wire::status::ApiError;

/// Limits of the ingest service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IngestLimits {
    /// Most rows (timestamps plus row-form rows) in one request message.
    pub max_rows_per_request: usize,
    /// Bytes of requests being converted and written at once, over every call.
    pub max_inflight_bytes: u64,
}

/// A check of every write message before it is applied (e.g. the caller's permissions on the
/// tables it writes), given the call's extensions.
pub trait WriteGuard: Send + Sync + std::fmt::Debug + 'static {
    /// `Err` refuses the message (and ends the call) with that status.
    fn check(&self, extensions: &tonic::Extensions, request: &WriteRequest) -> Result<(), Status>;

    /// `Err` refuses a `Resume` call with that status.
    fn check_resume(&self, extensions: &tonic::Extensions) -> Result<(), Status>;

    /// The identity that owns the producers of this call (producer ids are scoped to it), or
    /// `None` when every caller is one anonymous identity.
    fn producer_owner(&self, extensions: &tonic::Extensions) -> Result<Option<String>, Status> {
        let _ = extensions;
        Ok(None)
    }
}

/// The `isobar.v1.Ingest` service over one database.
#[derive(Clone, Debug)]
pub struct IngestService {
    db: Db,
    max_rows: usize,
    admission: Admission,
    guard: Option<Arc<dyn WriteGuard>>,
}

type Pending = JoinHandle<Result<Applied, ApiError>>;

impl IngestService {
    /// A service writing into `db` under `limits`.
    pub fn new(db: Db, limits: IngestLimits) -> Self {
        Self {
            db,
            max_rows: limits.max_rows_per_request,
            admission: Admission::new(limits.max_inflight_bytes),
            guard: None,
        }
    }

    /// The service with `guard` checking every message first.
    pub fn with_guard(mut self, guard: Arc<dyn WriteGuard>) -> Self {
        self.guard = Some(guard);
        self
    }

    /// The write budget, shared with the other front ends that write through the same path
    /// (Flight SQL bulk ingest), so that back-pressure counts every writer.
    pub fn admission(&self) -> Admission {
        self.admission.clone()
    }

    /// Runs the guard, if any, on one message.
    fn check(&self, extensions: &tonic::Extensions, request: &WriteRequest) -> Result<(), Status> {
        self.guard.as_ref().map_or(Ok(()), |g| g.check(extensions, request))
    }

    /// The owner of the call's producers, per the guard.
    fn owner(&self, extensions: &tonic::Extensions) -> Result<Option<String>, Status> {
        self.guard.as_ref().map_or(Ok(None), |g| g.producer_owner(extensions))
    }

    /// Admits `request` and starts converting and writing it on the blocking pool.
    fn start(&self, request: WriteRequest, owner: Option<String>) -> Result<Pending, ApiError> {
        let admitted = self.admission.try_admit(request.encoded_len())?;
        let db = self.db.clone();
        let max_rows = self.max_rows;
        Ok(tokio::task::spawn_blocking(move || {
            let _admitted = admitted;
            write_blocking(&db, request, max_rows, owner.as_deref())
        }))
    }

    fn sync(&self) -> isobar_storage::SyncPolicy {
        self.db.options().sync
    }
}

/// Waits for a started write.
async fn finish(pending: Pending) -> Result<Applied, ApiError> {
    pending.await.map_err(|e| ApiError::TaskFailed(e.to_string()))?
}

#[tonic::async_trait]
impl Ingest for IngestService {
    type ProducerStreamStream = AckStream;

    async fn producer_stream(
        &self,
        request: Request<Streaming<WriteRequest>>,
    ) -> Result<Response<Self::ProducerStreamStream>, Status> {
        let (_, extensions, inbound) = request.into_parts();
        let owner = self.owner(&extensions)?;
        let check = self.guard.clone().map(|guard| -> crate::producer::MessageCheck {
            Box::new(move |message: &WriteRequest| guard.check(&extensions, message))
        });
        let acks = producer_stream(self.db.clone(), self.admission.clone(), self.max_rows, check, owner, inbound);
        Ok(Response::new(acks))
    }

    async fn resume(&self, request: Request<ResumeRequest>) -> Result<Response<ResumeResponse>, Status> {
        if let Some(guard) = &self.guard {
            guard.check_resume(request.extensions())?;
        }
        let owner = self.owner(request.extensions())?;
        Ok(Response::new(resume(self.db.clone(), request.into_inner(), owner.as_deref()).await?))
    }

    async fn write(&self, request: Request<WriteRequest>) -> Result<Response<WriteResponse>, Status> {
        self.check(request.extensions(), request.get_ref())?;
        let owner = self.owner(request.extensions())?;
        let applied = finish(self.start(request.into_inner(), owner)?).await?;
        let mut totals = Totals::default();
        totals.add(applied);
        Ok(Response::new(totals.response(self.sync())))
    }

    async fn write_stream(&self, request: Request<Streaming<WriteRequest>>) -> Result<Response<WriteResponse>, Status> {
        let (_, extensions, mut stream) = request.into_parts();
        let owner = self.owner(&extensions)?;
        let mut totals = Totals::default();
        let mut pending: Option<(u64, Pending)> = None;
        let mut index = 0u64;
        loop {
            let next = stream.message().await;
            // Order: the previous message is written before the next one starts.
            if let Some((at, write)) = pending.take() {
                totals.add(finish(write).await.map_err(|e| e.into_status_at(&format!("message {at}")))?);
            }
            match next {
                Ok(Some(message)) => {
                    self.check(&extensions, &message).map_err(|status| {
                        Status::new(status.code(), format!("message {index}: {}", status.message()))
                    })?;
                    let write = self
                        .start(message, owner.clone())
                        .map_err(|e| e.into_status_at(&format!("message {index}")))?;
                    pending = Some((index, write));
                    index += 1;
                }
                Ok(None) => break,
                Err(status) => {
                    let applied = totals.messages();
                    return Err(Status::new(
                        status.code(),
                        format!(
                            "the write stream broke after {applied} complete messages (all of them written): {}",
                            status.message()
                        ),
                    ));
                }
            }
        }
        Ok(Response::new(totals.response(self.sync())))
    }
}
