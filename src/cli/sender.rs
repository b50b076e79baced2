//! Sends write requests with a bounded number in flight, retrying refusals the server marks as
//! retryable (`RESOURCE_EXHAUSTED`, `UNAVAILABLE` while closing) after its hint.

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
    running: JoinSet<Result<WriteResponse, tonic::Status>>,
    totals: Totals,
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
        }
    }

    /// Starts writing `request`, first waiting for a free slot.
    pub async fn send(&mut self, request: WriteRequest, progress: &mut Progress) -> Result<(), CliError> {
        while self.running.len() >= self.concurrency {
            self.reap_one(progress).await?;
        }
        self.running.spawn(write_with_retry(self.client.clone(), request));
        Ok(())
    }

    /// Waits for every request in flight; returns the totals.
    pub async fn finish(mut self, progress: &mut Progress) -> Result<Totals, CliError> {
        while !self.running.is_empty() {
            self.reap_one(progress).await?;
        }
        Ok(self.totals)
    }

    async fn reap_one(&mut self, progress: &mut Progress) -> Result<(), CliError> {
        let Some(joined) = self.running.join_next().await else { return Ok(()) };
        let response =
            joined.map_err(|e| CliError::from(tonic::Status::internal(format!("write task failed: {e}"))))??;
        self.totals.requests += 1;
        self.totals.rows += response.rows;
        self.totals.points += response.points;
        self.totals.series += response.series;
        progress.set(self.totals.rows);
        Ok(())
    }
}
