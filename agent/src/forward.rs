//! The forwarder: streams the queue to the server exactly once.
//!
//! Per connection (a "session"):
//! 1. connect (with the bearer token and zstd compression when configured) and create the
//!    generator sources' tables if missing;
//! 2. `Resume(producer_id)` returns `applied_seq`: every record at or below it is applied on the
//!    server, so the ack cursor moves there (and the queue's numbering above it, should the
//!    server know more than the queue);
//! 3. `ProducerStream`: records above `max(applied_seq, ack cursor)` are sent in order, up to
//!    `window` ahead of their responses; each response (one per message, in order, sent once
//!    the message is durable) advances the ack cursor, deleting acknowledged segments.
//!
//! A record the server already applied (sent again after a crash of the agent or a cut link)
//! is answered `duplicate = true` and not applied again. Any failure ends the session; the next
//! one starts after an exponential back-off with jitter. A record the server refuses as invalid
//! (`INVALID_ARGUMENT`, `OUT_OF_RANGE`: it can never succeed) is logged, counted as `rejected`
//! and skipped by moving the cursor past it; every other failure (including `NOT_FOUND` for a
//! table not created yet) is retried.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use isobar_proto::v1::admin_client::AdminClient;
use isobar_proto::v1::ingest_client::IngestClient;
use isobar_proto::v1::{CreateTableRequest, ResumeRequest, TableSpec, WriteRequest};
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::codec::CompressionEncoding;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::transport::{Channel, Endpoint};

use crate::config::{AgentConfig, BackoffConfig, Compression};
use crate::metrics::Metrics;
use crate::queue::{Queue, QueueError, QueueStats, Record};

/// Why a session ended.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// The server URL is not valid.
    #[error("server.url {url:?}: {source}")]
    Url {
        /// The URL.
        url: String,
        /// The error.
        #[source]
        source: tonic::transport::Error,
    },
    /// The connection failed.
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// The URL.
        url: String,
        /// The error.
        #[source]
        source: tonic::transport::Error,
    },
    /// A call failed.
    #[error("{call}: {status}")]
    Status {
        /// Which call.
        call: &'static str,
        /// The server's status.
        status: tonic::Status,
    },
    /// The server closed the stream early.
    #[error("the server ended the stream with {0} messages unanswered")]
    Ended(usize),
    /// A queue operation failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// A record's bytes are not a request.
    #[error("record {seq} does not decode as a WriteRequest: {source}")]
    Decode {
        /// The record.
        seq: u64,
        /// The error.
        #[source]
        source: prost::DecodeError,
    },
    /// The bearer token cannot be sent as metadata.
    #[error("the bearer token is not a valid header value")]
    Token,
    /// `Resume` answered a mark above every batch this agent numbered while batches still wait
    /// in its queue: dropping them on that word could lose data, so the queue is kept.
    #[error(
        "Resume answered applied_seq {applied} for producer {producer:?}, but this agent numbered \
         only up to {last_seq} and {unacked} batches are still queued: refusing to drop them \
         (another writer may be using this producer id, or the queue directory was replaced)"
    )]
    MarkAhead {
        /// The producer id.
        producer: String,
        /// The server's mark.
        applied: u64,
        /// The highest sequence number the queue assigned.
        last_seq: u64,
        /// Batches not yet acknowledged.
        unacked: u64,
    },
}

/// Checks the mark `Resume` answered against the queue: a mark above the queue's last sequence
/// while batches still wait would make the agent drop batches the server never received.
pub fn check_resumed_mark(producer: &str, applied: u64, queue: &QueueStats) -> Result<(), ForwardError> {
    if applied > queue.last_seq && queue.unacked_records > 0 {
        return Err(ForwardError::MarkAhead {
            producer: producer.to_owned(),
            applied,
            last_seq: queue.last_seq,
            unacked: queue.unacked_records,
        });
    }
    Ok(())
}

/// Adds `authorization: Bearer <token>` to every call when a token is configured.
#[derive(Clone)]
struct Auth(Option<MetadataValue<tonic::metadata::Ascii>>);

impl Interceptor for Auth {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// Everything the forwarder needs.
pub struct Forwarder {
    /// The queue.
    pub queue: Arc<Queue>,
    /// The configuration (server, backoff).
    pub config: AgentConfig,
    /// Bearer token, if any.
    pub token: Option<String>,
    /// TLS settings for an `https://` server url ([`crate::config::AgentConfig::tls`]).
    pub tls: Option<tonic::transport::ClientTlsConfig>,
    /// The producer id.
    pub producer_id: String,
    /// Tables to create when missing.
    pub tables: Vec<TableSpec>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Whether a session is up.
    pub connected: Arc<AtomicBool>,
}

/// A delay of the back-off: `min(max, initial * 2^attempt)` spread by +- jitter.
pub fn backoff(config: &BackoffConfig, attempt: u32, unit_random: f64) -> Duration {
    let base = (config.initial_ms as f64 * 2f64.powi(attempt.min(30) as i32)).min(config.max_ms as f64);
    let spread = 1.0 + config.jitter * (2.0 * unit_random.clamp(0.0, 1.0) - 1.0);
    Duration::from_millis((base * spread).max(0.0) as u64)
}

fn random_unit(state: &mut u64) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

impl Forwarder {
    /// Runs sessions until the process ends.
    pub async fn run(self) {
        let mut attempt = 0u32;
        let mut sessions = 0u64;
        let mut rng = crate::map::now_ns() as u64 | 1;
        loop {
            let mut progressed = false;
            if sessions > 0 {
                self.metrics.reconnects.fetch_add(1, Ordering::Relaxed);
            }
            sessions += 1;
            let result = self.session(&mut progressed).await;
            self.connected.store(false, Ordering::Relaxed);
            if let Err(err) = result {
                if progressed {
                    attempt = 0;
                }
                let delay = backoff(&self.config.backoff, attempt, random_unit(&mut rng));
                tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "forwarding interrupted");
                tokio::time::sleep(delay).await;
                attempt = attempt.saturating_add(1);
            }
        }
    }

    async fn session(&self, progressed: &mut bool) -> Result<(), ForwardError> {
        let server = &self.config.server;
        let url = server.url.clone();
        let mut endpoint = Endpoint::from_shared(url.clone())
            .map_err(|source| ForwardError::Url { url: url.clone(), source })?
            .connect_timeout(Duration::from_millis(server.connect_timeout_ms))
            .tcp_nodelay(true);
        if let Some(tls) = &self.tls {
            endpoint =
                endpoint.tls_config(tls.clone()).map_err(|source| ForwardError::Url { url: url.clone(), source })?;
        }
        let channel: Channel = endpoint.connect().await.map_err(|source| ForwardError::Connect { url, source })?;
        let token = match &self.token {
            Some(t) => Some(format!("Bearer {t}").parse().map_err(|_| ForwardError::Token)?),
            None => None,
        };
        let auth = Auth(token);
        let max = server.max_message_bytes;
        let mut ingest = IngestClient::with_interceptor(channel.clone(), auth.clone())
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        if server.compression == Compression::Zstd {
            ingest = ingest.send_compressed(CompressionEncoding::Zstd);
        }
        let mut admin = AdminClient::with_interceptor(channel, auth);
        for spec in &self.tables {
            let request = CreateTableRequest { table: Some(spec.clone()), if_not_exists: true };
            admin.create_table(request).await.map_err(|status| ForwardError::Status { call: "CreateTable", status })?;
        }
        let resume = ingest
            .resume(ResumeRequest { producer_id: self.producer_id.clone() })
            .await
            .map_err(|status| ForwardError::Status { call: "Resume", status })?
            .into_inner();
        let queue = Arc::clone(&self.queue);
        let applied = resume.applied_seq;
        check_resumed_mark(&self.producer_id, applied, &self.queue.stats())?;
        blocking(move || {
            queue.ack(applied)?;
            queue.raise_floor(applied)
        })
        .await?;
        let after = applied.max(self.queue.stats().acked_seq);
        tracing::info!(producer = %self.producer_id, applied, known = resume.known, resume_after = after, "connected");
        self.connected.store(true, Ordering::Relaxed);
        self.stream(&mut ingest, after, progressed).await
    }

    async fn stream(
        &self,
        ingest: &mut IngestClient<tonic::service::interceptor::InterceptedService<Channel, Auth>>,
        after: u64,
        progressed: &mut bool,
    ) -> Result<(), ForwardError> {
        let window = self.config.server.window;
        let (rec_tx, mut rec_rx) = mpsc::channel::<Record>(2);
        let queue = Arc::clone(&self.queue);
        tokio::task::spawn_blocking(move || read_ahead(&queue, after, &rec_tx));
        let (tx, rx) = mpsc::channel::<WriteRequest>(window);
        let mut inflight: VecDeque<u64> = VecDeque::new();
        // Fill the window before waiting for the response headers.
        while inflight.len() < window {
            match rec_rx.try_recv() {
                Ok(record) => self.send(&tx, record, &mut inflight).await?,
                Err(_) => break,
            }
        }
        let mut responses = ingest
            .producer_stream(ReceiverStream::new(rx))
            .await
            .map_err(|status| ForwardError::Status { call: "ProducerStream", status })?
            .into_inner();
        loop {
            tokio::select! {
                record = rec_rx.recv(), if inflight.len() < window => {
                    // The reader stopped (a queue read failed, logged): start over after a back-off.
                    let Some(record) = record else { return Err(ForwardError::Ended(inflight.len())) };
                    self.send(&tx, record, &mut inflight).await?;
                }
                message = responses.message() => {
                    match message {
                        Ok(Some(response)) => {
                            let Some(seq) = inflight.pop_front() else { return Err(ForwardError::Ended(0)) };
                            if response.duplicate {
                                self.metrics.duplicates.fetch_add(1, Ordering::Relaxed);
                            }
                            self.metrics.acknowledged.fetch_add(1, Ordering::Relaxed);
                            let queue = Arc::clone(&self.queue);
                            blocking(move || queue.ack(seq)).await?;
                            *progressed = true;
                        }
                        Ok(None) => return Err(ForwardError::Ended(inflight.len())),
                        Err(status) => return Err(self.failed(status, inflight.front().copied()).await),
                    }
                }
            }
        }
    }

    async fn send(
        &self,
        tx: &mpsc::Sender<WriteRequest>,
        record: Record,
        inflight: &mut VecDeque<u64>,
    ) -> Result<(), ForwardError> {
        let mut request = WriteRequest::decode(record.request.as_slice())
            .map_err(|source| ForwardError::Decode { seq: record.seq, source })?;
        request.producer_id.clone_from(&self.producer_id);
        request.producer_seq = record.seq;
        if tx.send(request).await.is_err() {
            return Err(ForwardError::Ended(inflight.len()));
        }
        inflight.push_back(record.seq);
        self.metrics.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Handles a failed stream: a rejection of the first unanswered record skips it.
    async fn failed(&self, status: tonic::Status, first: Option<u64>) -> ForwardError {
        let rejected = matches!(status.code(), tonic::Code::InvalidArgument | tonic::Code::OutOfRange);
        if let (true, Some(seq)) = (rejected, first) {
            tracing::error!(seq, status = %status, "the server rejected a record; it is skipped");
            self.metrics.rejected.fetch_add(1, Ordering::Relaxed);
            let queue = Arc::clone(&self.queue);
            if let Err(e) = blocking(move || queue.ack(seq)).await {
                return e;
            }
        }
        ForwardError::Status { call: "ProducerStream", status }
    }
}

/// Reads records after `after` into `tx` until the session drops its receiver.
fn read_ahead(queue: &Queue, mut after: u64, tx: &mpsc::Sender<Record>) {
    while !tx.is_closed() {
        match queue.next_after(after, Duration::from_millis(200)) {
            Ok(Some(record)) => {
                after = record.seq;
                if tx.blocking_send(record).is_err() {
                    return;
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "cannot read the queue");
                return;
            }
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, QueueError> + Send + 'static,
) -> Result<T, ForwardError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ForwardError::from),
        Err(e) => Err(ForwardError::Queue(QueueError::State {
            path: Default::default(),
            reason: format!("queue task failed: {e}"),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_within_the_jitter() {
        let c = BackoffConfig { initial_ms: 100, max_ms: 1000, jitter: 0.2 };
        assert_eq!(backoff(&c, 0, 0.5), Duration::from_millis(100));
        assert_eq!(backoff(&c, 3, 0.5), Duration::from_millis(800));
        assert_eq!(backoff(&c, 10, 0.5), Duration::from_millis(1000));
        assert_eq!(backoff(&c, 10, 1.0), Duration::from_millis(1200));
        assert_eq!(backoff(&c, 10, 0.0), Duration::from_millis(800));
    }

    #[test]
    fn a_resumed_mark_ahead_of_the_queue_keeps_the_queue_and_is_an_error() {
        let queued = QueueStats { acked_seq: 4, last_seq: 7, unacked_records: 3, ..Default::default() };
        let err = check_resumed_mark("gw-a", 1_000_000_000_000_000_000, &queued).unwrap_err();
        assert!(
            matches!(err, ForwardError::MarkAhead { applied: 1_000_000_000_000_000_000, last_seq: 7, unacked: 3, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("refusing to drop"), "{err}");
        // Marks at or below what was sent drop what the server has, as before.
        for applied in [0, 4, 6, 7] {
            assert!(check_resumed_mark("gw-a", applied, &queued).is_ok(), "{applied}");
        }
        // An empty queue loses nothing by moving its numbering above the server's mark.
        let empty = QueueStats { acked_seq: 7, last_seq: 7, unacked_records: 0, ..Default::default() };
        assert!(check_resumed_mark("gw-a", 50, &empty).is_ok());
    }
}
