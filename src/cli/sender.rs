//! Sends write requests with a bounded number in flight, retrying refusals the server marks as
//! retryable (`RESOURCE_EXHAUSTED`, `UNAVAILABLE` while closing) after its hint.
//!
//! Each request carries a tag (the importer uses the first line of its rows). When one fails, the
//! requests still in flight are awaited rather than abandoned, so [`Sender::acked`] says exactly
//! which requests the server acknowledged: an import that stops can say what was stored.

use std::time::Duration;

use isobar_proto::v1::{WriteRequest, WriteResponse};
use isobar_wire::status::retry_hint;
use tokio::task::JoinSet;
use tonic::Code;

use super::CliError;
use super::progress::Progress;
use crate::client::Client;

/// Retries of one request before giving up.
const RETRIES: u32 = 10;

/// What the server acknowledged over all requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Requests acknowledged.
    pub requests: u64,
    /// Rows written.
    pub rows: u64,
    /// Points written.
    pub points: u64,
    /// Sum of the distinct series of each request.
    pub series: u64,
}

/// Writes requests, at most `concurrency` at a time.
pub struct Sender {
    client: Client,
    concurrency: usize,
    running: JoinSet<(u64, Result<WriteResponse, tonic::Status>)>,
    totals: Totals,
    acked: Vec<(u64, WriteResponse)>,
    failure: Option<(u64, tonic::Status)>,
}

/// Writes `request`, retrying while the server says it is busy.
async fn write_with_retry(client: Client, request: WriteRequest) -> Result<WriteResponse, tonic::Status> {
    let mut ingest = client.ingest;
    let mut attempt = 0;
    loop {
        match ingest.write(request.clone()).await {
            Ok(r) => return Ok(r.into_inner()),
            Err(status)
                if attempt < RETRIES && matches!(status.code(), Code::ResourceExhausted | Code::Unavailable) =>
            {
                let Some(wait) = retry_hint(&status) else { return Err(status) };
                attempt += 1;
                tokio::time::sleep(wait.max(Duration::from_millis(10)) * attempt).await;
            }
            Err(status) => return Err(status),
        }
    }
}

impl Sender {
    /// A sender over `client`.
    pub fn new(client: &Client, concurrency: usize) -> Self {
        Self {
            client: client.clone(),
            concurrency: concurrency.max(1),
            running: JoinSet::new(),
            totals: Totals::default(),
            acked: Vec::new(),
            failure: None,
        }
    }

    /// Tags and answers of the requests acknowledged so far.
    pub fn acked(&self) -> &[(u64, WriteResponse)] {
        &self.acked
    }

    /// The tag of the first request that failed, if one did.
    pub fn failed_tag(&self) -> Option<u64> {
        self.failure.as_ref().map(|(tag, _)| *tag)
    }

    /// Starts writing `request`, first waiting for a free slot.
    pub async fn send(&mut self, request: WriteRequest, progress: &mut Progress) -> Result<(), CliError> {
        self.send_tagged(request, 0, progress).await
    }

    /// Starts writing `request` tagged `tag`, first waiting for a free slot. After a failure it
    /// sends nothing more: it waits for the requests in flight and returns the first error.
    pub async fn send_tagged(
        &mut self,
        request: WriteRequest,
        tag: u64,
        progress: &mut Progress,
    ) -> Result<(), CliError> {
        while self.failure.is_none() && self.running.len() >= self.concurrency {
            self.reap_one(progress).await;
        }
        self.stop_on_failure(progress).await?;
        let client = self.client.clone();
        self.running.spawn(async move { (tag, write_with_retry(client, request).await) });
        Ok(())
    }

    /// Waits for every request in flight; returns the totals, or the first error.
    pub async fn finish(&mut self, progress: &mut Progress) -> Result<Totals, CliError> {
        while !self.running.is_empty() {
            self.reap_one(progress).await;
        }
        self.stop_on_failure(progress).await?;
        Ok(self.totals)
    }

    /// After a failure: waits for the rest, then returns the failure.
    async fn stop_on_failure(&mut self, progress: &mut Progress) -> Result<(), CliError> {
        if self.failure.is_none() {
            return Ok(());
        }
        while !self.running.is_empty() {
            self.reap_one(progress).await;
        }
        match &self.failure {
            Some((_, status)) => Err(CliError::from(status.clone())),
            None => Ok(()),
        }
    }

    /// Collects one finished request.
    async fn reap_one(&mut self, progress: &mut Progress) {
        let Some(joined) = self.running.join_next().await else { return };
        let (tag, result) = match joined {
            Ok(done) => done,
            Err(e) => (u64::MAX, Err(tonic::Status::internal(format!("write task failed: {e}")))),
        };
        match result {
            Ok(response) => {
                self.totals.requests += 1;
                self.totals.rows += response.rows;
                self.totals.points += response.points;
                self.totals.series += response.series;
                self.acked.push((tag, response));
                progress.set(self.totals.rows);
            }
            Err(status) => match &self.failure {
                Some((first, _)) if *first <= tag => {}
                _ => self.failure = Some((tag, status)),
            },
        }
    }
}
