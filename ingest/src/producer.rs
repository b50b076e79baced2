//! Idempotent producers at the edge: reading `producer_id`/`producer_seq` off a request, the
//! pipelined `ProducerStream`, and `Resume`.
//!
//! ```text
//! inbound ─► applier task: admit (waits for budget) ─► spawn_blocking { convert ─► Db::submit_as }
//!               │ in order, one message at a time (seq n is applied or skipped before n+1 starts)
//!               ▼ bounded queue of applied, not yet durable messages
//!            acker task: spawn_blocking { PendingWrite::wait } ─► response n ─► outbound
//! ```
//!
//! Applying is quick (memory copies and a WAL hand-off), waiting for the WAL sync is slow, so
//! the applier runs ahead of the acker by up to [`MAX_UNACKED`] messages and one group commit
//! covers many of them. Responses leave in message order. A failed message ends the stream with
//! its status after the responses of the messages before it.
//!
//! # Producers belong to their owner
//!
//! The engine knows producer ids only as strings; the server scopes them to the identity that
//! sends them ([`scoped`]): an authenticated owner's id `gw-a` becomes the engine id
//! `o<16 hex digits of SHA-256(owner)>:gw-a` (the id itself is replaced by `h.<its SHA-256>` when the
//! result would pass 128 bytes). So two identities using the same id have two marks, and
//! `Resume` of another identity's id finds nothing, the same answer as an unknown id. Without an
//! owner (authentication off: one anonymous identity) the id is used as given, so marks of older
//! data directories are still found.

use std::pin::Pin;

use isobar_proto::v1::{ResumeRequest, ResumeResponse, WriteRequest, WriteResponse};
use isobar_storage::{Db, PendingWrite, ProducerId, SyncPolicy};
use prost::Message;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};

use crate::ack::{Applied, series_of};
use crate::admission::{Admission, Admitted};
use crate::convert::request_to_batch;
use crate::request_limits::check_request;
use isobar_wire::status::ApiError;

/// Most messages of one stream applied and not yet acknowledged.
pub const MAX_UNACKED: usize = 1024;

/// The response stream of `ProducerStream`.
pub type AckStream = Pin<Box<dyn Stream<Item = Result<WriteResponse, Status>> + Send>>;

/// The producer of a request: `None` for a plain write; an error for an invalid id, a zero seq,
/// or a seq without an id.
pub fn producer_of(request: &WriteRequest) -> Result<Option<(ProducerId, u64)>, ApiError> {
    if request.producer_id.is_empty() {
        if request.producer_seq != 0 {
            return Err(ApiError::Argument {
                field: "producer_seq".into(),
                reason: format!("is {} but producer_id is empty; set both or neither", request.producer_seq),
            });
        }
        return Ok(None);
    }
    let id = ProducerId::new(request.producer_id.as_str()).map_err(isobar_storage::Error::from)?;
    if request.producer_seq == 0 {
        return Err(isobar_storage::Error::from(isobar_storage::InvalidInput::ProducerSeqZero {
            producer: id.to_string(),
        })
        .into());
    }
    Ok(Some((id, request.producer_seq)))
}

/// The engine-level id of producer `id` of `owner` (see the module doc); `None` (one anonymous
/// identity) keeps `id` as it is.
pub fn scoped(owner: Option<&str>, id: ProducerId) -> ProducerId {
    let Some(owner) = owner else { return id };
    let digest = Sha256::digest(owner.as_bytes());
    let mut engine = String::with_capacity(MAX_ENGINE_ID);
    engine.push('o');
    push_hex(&mut engine, &digest[..8]);
    engine.push(':');
    if engine.len() + id.as_str().len() <= MAX_ENGINE_ID {
        engine.push_str(id.as_str());
    } else {
        engine.push_str("h.");
        push_hex(&mut engine, &Sha256::digest(id.as_str().as_bytes()));
    }
    // Only `[0-9a-f.:o]` and a valid id, at most 128 bytes: always a valid id.
    ProducerId::new(engine).unwrap_or(id)
}

/// Longest engine-level producer id.
const MAX_ENGINE_ID: usize = 128;

fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
}

/// The producer of a request, scoped to `owner`.
fn owned_producer_of(request: &WriteRequest, owner: Option<&str>) -> Result<Option<(ProducerId, u64)>, ApiError> {
    Ok(producer_of(request)?.map(|(id, seq)| (scoped(owner, id), seq)))
}

/// Converts and writes one request on the blocking pool, waiting for durability (`Write`,
/// `WriteStream`); a producer id is scoped to `owner`.
pub(crate) fn write_blocking(
    db: &Db,
    request: WriteRequest,
    max_rows: usize,
    owner: Option<&str>,
) -> Result<Applied, ApiError> {
    let producer = owned_producer_of(&request, owner)?;
    check_request(&request, &db.options().limits).map_err(isobar_storage::Error::from)?;
    let batch = request_to_batch(request, max_rows)?;
    let series = series_of(&batch);
    match producer {
        None => Ok(Applied::plain(db.write(batch)?, series)),
        Some((id, seq)) => Ok(Applied::of_producer(db.write_as(&id, seq, batch)?, series)),
    }
}

/// A message applied and waiting for durability, with the budget it holds until then.
enum Unacked {
    /// A producer write not yet durable.
    Pending(PendingWrite, std::collections::HashSet<u64>, Admitted),
    /// A plain write, durable already.
    Done(Applied),
}

/// A check of each message before it is applied (the caller's permissions); `Err` ends the
/// stream with that status after the answers to the messages before it.
pub type MessageCheck = Box<dyn Fn(&WriteRequest) -> Result<(), Status> + Send + Sync>;

/// Serves one `ProducerStream` call.
pub(crate) fn producer_stream(
    db: Db,
    admission: Admission,
    max_rows: usize,
    check: Option<MessageCheck>,
    owner: Option<String>,
    mut inbound: Streaming<WriteRequest>,
) -> AckStream {
    let sync = db.options().sync;
    let (unacked_tx, mut unacked_rx) = mpsc::channel::<(u64, Result<Unacked, Status>)>(MAX_UNACKED);
    let (out_tx, out_rx) = mpsc::channel::<Result<WriteResponse, Status>>(64);
    tokio::spawn(async move {
        let mut index = 0u64;
        // A broken inbound stream ends the call: the client is gone or will reconnect.
        while let Ok(Some(message)) = inbound.message().await {
            let at = format!("message {index}");
            let allowed = check.as_ref().map_or(Ok(()), |check| check(&message));
            let item = match allowed {
                Ok(()) => apply_one(&db, &admission, max_rows, owner.clone(), message)
                    .await
                    .map_err(|e| e.into_status_at(&at)),
                Err(status) => Err(Status::new(status.code(), format!("{at}: {}", status.message()))),
            };
            let failed = item.is_err();
            if unacked_tx.send((index, item)).await.is_err() || failed {
                return;
            }
            index += 1;
        }
    });
    tokio::spawn(async move {
        while let Some((index, item)) = unacked_rx.recv().await {
            let response = match item {
                Ok(unacked) => {
                    acknowledge(unacked, sync).await.map_err(|e| e.into_status_at(&format!("message {index}")))
                }
                Err(status) => Err(status),
            };
            let failed = response.is_err();
            if out_tx.send(response).await.is_err() || failed {
                return;
            }
        }
    });
    Box::pin(ReceiverStream::new(out_rx))
}

/// Applies (or skips, for a duplicate) one message, in order.
async fn apply_one(
    db: &Db,
    admission: &Admission,
    max_rows: usize,
    owner: Option<String>,
    message: WriteRequest,
) -> Result<Unacked, ApiError> {
    let admitted = admission.admit(message.encoded_len()).await;
    let db = db.clone();
    let task = tokio::task::spawn_blocking(move || -> Result<Unacked, ApiError> {
        let Some((id, seq)) = owned_producer_of(&message, owner.as_deref())? else {
            return Ok(Unacked::Done(write_blocking(&db, message, max_rows, owner.as_deref())?));
        };
        check_request(&message, &db.options().limits).map_err(isobar_storage::Error::from)?;
        let batch = request_to_batch(message, max_rows)?;
        let series = series_of(&batch);
        let pending = db.submit_as(&id, seq, batch)?;
        Ok(Unacked::Pending(pending, series, admitted))
    });
    task.await.map_err(|e| ApiError::TaskFailed(e.to_string()))?
}

/// Waits until an applied message is durable and builds its response.
async fn acknowledge(unacked: Unacked, sync: SyncPolicy) -> Result<WriteResponse, ApiError> {
    let applied = match unacked {
        Unacked::Done(applied) => applied,
        Unacked::Pending(pending, series, admitted) => {
            let receipt = tokio::task::spawn_blocking(move || {
                let _admitted = admitted;
                pending.wait()
            })
            .await
            .map_err(|e| ApiError::TaskFailed(e.to_string()))??;
            Applied::of_producer(receipt, series)
        }
    };
    Ok(applied.response(sync))
}

/// Serves `Resume` for `owner`: another identity's producer is unknown, as a never-seen one.
pub(crate) async fn resume(db: Db, request: ResumeRequest, owner: Option<&str>) -> Result<ResumeResponse, ApiError> {
    let id = scoped(owner, ProducerId::new(request.producer_id).map_err(isobar_storage::Error::from)?);
    let state = tokio::task::spawn_blocking(move || db.producer_state(&id))
        .await
        .map_err(|e| ApiError::TaskFailed(e.to_string()))??;
    Ok(ResumeResponse { applied_seq: state.applied_seq, known: state.known })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producer_fields_are_checked() {
        let with = |id: &str, seq| WriteRequest { producer_id: id.into(), producer_seq: seq, ..Default::default() };
        assert!(producer_of(&with("", 0)).unwrap().is_none());
        assert_eq!(producer_of(&with("gw-1", 3)).unwrap().map(|(id, s)| (id.to_string(), s)), Some(("gw-1".into(), 3)));
        for (id, seq) in [("", 3), ("gw 1", 1), ("gw-1", 0)] {
            let status = Status::from(producer_of(&with(id, seq)).unwrap_err());
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{id:?} {seq}: {status:?}");
        }
    }

    #[test]
    fn producer_ids_are_scoped_to_their_owner() {
        let id = |s: &str| ProducerId::new(s).unwrap();
        assert_eq!(scoped(None, id("gw-a")), id("gw-a"), "no owner: the id as given");
        let a = scoped(Some("writer-a"), id("gw-a"));
        let b = scoped(Some("writer-b"), id("gw-a"));
        assert_ne!(a, b);
        assert_ne!(a, id("gw-a"));
        assert!(a.as_str().ends_with(":gw-a"), "{a}");
        assert_eq!(a, scoped(Some("writer-a"), id("gw-a")), "stable");
        let long = "x".repeat(128);
        let (l1, l2) = (scoped(Some("writer-a"), id(&long)), scoped(Some("writer-a"), id(&format!("y{}", &long[1..]))));
        assert!(l1.as_str().len() <= 128 && l1 != l2, "{l1} {l2}");
    }
}
