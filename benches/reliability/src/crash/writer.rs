//! One writer stream of the crash loop: generates operations on the series it alone owns, sends
//! them (unary `Write`, `WriteStream` of several messages, `ProducerStream` of several numbered
//! messages as the exactly-once producer `crash-w<id>`, `Delete`), and keeps its part of the
//! model: what was acknowledged, and what is in doubt because the call failed. After a restart
//! the server's producer mark (`Resume`) must say exactly which in-doubt producer messages the
//! data holds.
//!
//! Because a writer owns its series and sends one call at a time, an in-doubt call is the last
//! thing that touched its cells: after a restart its cells must equal the acknowledged state
//! with some prefix of the in-doubt messages applied on top (a `WriteStream` applies messages in
//! order; a unary call is one message). A writer with calls in doubt sends nothing more until
//! the next verification has decided what became of them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tonic::Code;

use super::model::{BatchOp, Cells, Op, TABLES};
use crate::rng::Rng;
use crate::wire::{Clients, failed_message_index};

/// Start of the timestamps of new data (2023-11-14T22:13:20Z); late data goes below it.
const BASE_TS: i64 = 1_700_000_000_000_000_000;
/// Spacing of new points (1 s).
const STEP: i64 = 1_000_000_000;
/// Spacing of late points (7 min: late data spreads over several compaction windows).
const LATE_STEP: i64 = 420_000_000_000;
/// Series each writer owns per table.
const SERIES: u64 = 3;
/// Longest a call may take before the harness calls it a hang.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// A call that must never be left to wait forever failed to answer in time.
#[derive(Debug, thiserror::Error)]
#[error("writer {writer}: a {what} call did not answer within {secs} s (server hang)")]
pub struct Hang {
    /// The writer.
    pub writer: usize,
    /// The kind of call.
    pub what: &'static str,
    /// The timeout.
    pub secs: u64,
}

/// A writer: its generator and its part of the model.
#[derive(Debug)]
pub struct Writer {
    /// Index of the writer.
    pub id: usize,
    writers: u64,
    rng: Rng,
    counter: u64,
    next_ts: BTreeMap<(usize, u64), i64>,
    late_ts: BTreeMap<(usize, u64), i64>,
    written: BTreeMap<(usize, u64), Vec<i64>>,
    /// The acknowledged state of its cells.
    pub acked: Cells,
    /// Operations of failed calls, in the order sent.
    pub in_doubt: Vec<Op>,
    /// Acknowledged operations so far.
    pub acked_ops: u64,
    /// Calls that failed and went in doubt so far.
    pub in_doubt_calls: u64,
    /// Calls refused with back-pressure (nothing applied) so far.
    pub refused: u64,
    /// The last producer seq sent (messages are numbered from 1).
    pub producer_seq: u64,
    /// The last producer seq acknowledged.
    pub producer_acked: u64,
    /// The seq of each in-doubt operation when the failed call was a `ProducerStream` (else empty).
    pub in_doubt_seqs: Vec<u64>,
    /// The server's mark for this producer, read after a restart, before the verification.
    pub producer_mark: Option<u64>,
}

/// The series key of series `j` of writer `w`.
pub fn series_key(w: usize, j: u64) -> String {
    format!("w{w:03}-s{j}")
}

/// The prefix of writer `w`'s series keys.
pub fn owner_prefix(w: usize) -> String {
    format!("w{w:03}-")
}

impl Writer {
    /// Writer `id` of `writers`, seeded from `seed`.
    pub fn new(id: usize, writers: usize, seed: u64) -> Self {
        Self {
            id,
            writers: writers as u64,
            rng: Rng::new(seed, id as u64 + 1),
            counter: 0,
            next_ts: BTreeMap::new(),
            late_ts: BTreeMap::new(),
            written: BTreeMap::new(),
            acked: Cells::new(),
            in_doubt: Vec::new(),
            acked_ops: 0,
            in_doubt_calls: 0,
            refused: 0,
            producer_seq: 0,
            producer_acked: 0,
            in_doubt_seqs: Vec::new(),
            producer_mark: None,
        }
    }

    /// The producer id of this writer.
    pub fn producer_id(&self) -> String {
        format!("crash-w{}", self.id)
    }

    fn next_id(&mut self) -> u64 {
        self.counter += 1;
        self.counter * self.writers + self.id as u64
    }

    /// Distinct timestamps for a batch of `rows` rows: new, overwrites of earlier ones, or late.
    fn timestamps(&mut self, key: (usize, u64), rows: usize) -> Vec<i64> {
        let kind = self.rng.range(0, 100);
        let written = self.written.entry(key).or_default();
        let mut ts: Vec<i64> = if kind < 25 && !written.is_empty() {
            (0..rows).map(|_| written[self.rng.range(0, written.len() as u64) as usize]).collect()
        } else if kind < 40 {
            let late = self.late_ts.entry(key).or_insert(BASE_TS);
            (0..rows)
                .map(|_| {
                    *late -= LATE_STEP;
                    *late
                })
                .collect()
        } else {
            let next = self.next_ts.entry(key).or_insert(BASE_TS);
            (0..rows)
                .map(|_| {
                    let t = *next;
                    *next += STEP;
                    t
                })
                .collect()
        };
        ts.sort_unstable();
        ts.dedup();
        written.extend(ts.iter().copied());
        ts
    }

    /// A write of 1 to 3 batches, each of a distinct (table, series).
    pub fn write_op(&mut self) -> Op {
        let id = self.next_id();
        let mut used = Vec::new();
        let mut batches = Vec::new();
        for _ in 0..self.rng.range(1, 4) {
            let key = (self.rng.range(0, TABLES.len() as u64) as usize, self.rng.range(0, SERIES));
            if used.contains(&key) {
                continue;
            }
            used.push(key);
            let n_cols = TABLES[key.0].columns.len();
            let mask = self.rng.range(1, 1 << n_cols);
            let columns: Vec<usize> = (0..n_cols).filter(|c| mask & (1 << c) != 0).collect();
            let rows = self.rng.range(1, 40) as usize;
            let ts = self.timestamps(key, rows);
            batches.push(BatchOp { table: key.0, series: series_key(self.id, key.1), ts, columns });
        }
        Op::Write { id, batches }
    }

    /// A delete of a range of one series, in one family or all.
    pub fn delete_op(&mut self) -> Op {
        let table = self.rng.range(0, TABLES.len() as u64) as usize;
        let j = self.rng.range(0, SERIES);
        let written = self.written.get(&(table, j)).cloned().unwrap_or_default();
        let pick = |rng: &mut Rng| written.get(rng.range(0, written.len() as u64) as usize).copied().unwrap_or(BASE_TS);
        let (a, b) = (pick(&mut self.rng), pick(&mut self.rng));
        let families = TABLES[table].families();
        let family =
            if self.rng.percent(50) { Some(families[self.rng.range(0, families.len() as u64) as usize]) } else { None };
        Op::Delete { table, series: series_key(self.id, j), from: a.min(b), to: a.max(b) + 1, family }
    }

    fn ack(&mut self, ops: &[Op]) {
        for op in ops {
            op.apply(&mut self.acked);
        }
        self.acked_ops += ops.len() as u64;
    }

    fn doubt(&mut self, ops: Vec<Op>) {
        self.in_doubt_calls += 1;
        self.in_doubt.extend(ops);
    }

    /// Sends calls until `stop` is set or a call fails for another reason than back-pressure.
    pub async fn run(mut self, mut clients: Clients, stop: Arc<AtomicBool>) -> Result<Self, Hang> {
        while !stop.load(Ordering::Relaxed) && self.in_doubt.is_empty() {
            let kind = self.rng.range(0, 100);
            if kind < 10 {
                let op = self.delete_op();
                let request = op.delete_request().unwrap_or_default();
                match self.timed("Delete", clients.admin.delete(request)).await? {
                    Ok(_) => self.ack(&[op]),
                    Err(s) if s.code() == Code::ResourceExhausted => self.refused += 1,
                    Err(_) => self.doubt(vec![op]),
                }
            } else if kind < 35 {
                let ops: Vec<Op> = (0..self.rng.range(2, 6)).map(|_| self.write_op()).collect();
                let requests: Vec<_> = ops.iter().filter_map(Op::write_request).collect();
                let call = clients.ingest.write_stream(tokio_stream::iter(requests));
                match self.timed("WriteStream", call).await? {
                    Ok(_) => self.ack(&ops),
                    Err(s) if s.code() == Code::ResourceExhausted && failed_message_index(&s).is_some() => {
                        // Messages before the refused one are written; it and the rest are not.
                        let at = failed_message_index(&s).unwrap_or(0).min(ops.len());
                        self.ack(&ops[..at]);
                        self.refused += 1;
                    }
                    Err(_) => self.doubt(ops),
                }
            } else if kind < 50 {
                self.producer_call(&mut clients).await?;
            } else {
                let op = self.write_op();
                let request = op.write_request().unwrap_or_default();
                match self.timed("Write", clients.ingest.write(request)).await? {
                    Ok(_) => self.ack(&[op]),
                    Err(s) if s.code() == Code::ResourceExhausted => self.refused += 1,
                    Err(_) => self.doubt(vec![op]),
                }
            }
            if self.refused > 0 && self.rng.percent(50) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok(self)
    }

    /// A `ProducerStream` of 2-5 numbered messages; each response acknowledges one message in
    /// order, so a stream cut by the kill acknowledges a prefix and leaves the rest in doubt.
    async fn producer_call(&mut self, clients: &mut Clients) -> Result<(), Hang> {
        let ops: Vec<Op> = (0..self.rng.range(2, 6)).map(|_| self.write_op()).collect();
        let first = self.producer_seq + 1;
        self.producer_seq += ops.len() as u64;
        let producer_id = self.producer_id();
        let requests: Vec<_> = ops
            .iter()
            .zip(first..)
            .filter_map(|(op, seq)| {
                let mut r = op.write_request()?;
                r.producer_id.clone_from(&producer_id);
                r.producer_seq = seq;
                Some(r)
            })
            .collect();
        let call = clients.ingest.producer_stream(tokio_stream::iter(requests));
        let mut answered = 0usize;
        let mut failed = false;
        match self.timed("ProducerStream", call).await? {
            Ok(response) => {
                let mut stream = response.into_inner();
                while answered < ops.len() {
                    match self.timed("ProducerStream", stream.message()).await? {
                        Ok(Some(_)) => answered += 1,
                        Ok(None) | Err(_) => {
                            failed = true;
                            break;
                        }
                    }
                }
            }
            Err(_) => failed = true,
        }
        self.ack(&ops[..answered]);
        if answered > 0 {
            // Only answered messages count: the numbers of an earlier call that went in doubt
            // and was found absent are burnt, not acknowledged.
            self.producer_acked = first + answered as u64 - 1;
        }
        if failed {
            self.in_doubt_seqs = (first + answered as u64..=self.producer_seq).collect();
            self.doubt(ops[answered..].to_vec());
        }
        Ok(())
    }

    async fn timed<T>(
        &self,
        what: &'static str,
        call: impl std::future::Future<Output = Result<T, tonic::Status>>,
    ) -> Result<Result<T, tonic::Status>, Hang> {
        tokio::time::timeout(CALL_TIMEOUT, call).await.map_err(|_| Hang {
            writer: self.id,
            what,
            secs: CALL_TIMEOUT.as_secs(),
        })
    }
}
