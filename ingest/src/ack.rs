//! What a write acknowledges: counts of one request or the totals of a stream.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use isobar_proto::v1::{Durability, WriteResponse};
use isobar_storage::{ProducerReceipt, SyncPolicy, WriteBatch, WriteReceipt};

/// The outcome of one applied request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The engine's receipt.
    pub receipt: WriteReceipt,
    /// 64-bit hashes of the distinct `(table, series)` pairs written (empty for a duplicate).
    pub series: HashSet<u64>,
    /// True when the request was a producer's duplicate and nothing was applied.
    pub duplicate: bool,
    /// The producer's highest applied seq after the request (0 without a producer).
    pub producer_applied_seq: u64,
}

impl Applied {
    /// A plain write's outcome.
    pub fn plain(receipt: WriteReceipt, series: HashSet<u64>) -> Self {
        Self { receipt, series, duplicate: false, producer_applied_seq: 0 }
    }

    /// A producer write's outcome (`series` is dropped for a duplicate).
    pub fn of_producer(receipt: ProducerReceipt, series: HashSet<u64>) -> Self {
        match receipt.applied {
            Some(applied) => {
                Self { receipt: applied, series, duplicate: false, producer_applied_seq: receipt.applied_seq }
            }
            None => Self {
                receipt: WriteReceipt::default(),
                series: HashSet::new(),
                duplicate: true,
                producer_applied_seq: receipt.applied_seq,
            },
        }
    }

    /// The acknowledgement of this one request under `sync`.
    pub fn response(self, sync: SyncPolicy) -> WriteResponse {
        let mut totals = Totals::default();
        totals.add(self);
        totals.response(sync)
    }
}

/// Hashes of the distinct `(table, series)` pairs of `batch`.
pub fn series_of(batch: &WriteBatch) -> HashSet<u64> {
    batch
        .series
        .iter()
        .map(|s| {
            let mut h = DefaultHasher::new();
            (&s.table, &s.series).hash(&mut h);
            h.finish()
        })
        .collect()
}

/// Totals over the messages of a call.
#[derive(Debug, Default)]
pub struct Totals {
    points: u64,
    rows: u64,
    series: HashSet<u64>,
    sequence: u64,
    messages: u64,
    duplicates: u64,
    producer_applied_seq: u64,
    expired_rows: u64,
}

impl Totals {
    /// Adds one applied message.
    pub fn add(&mut self, applied: Applied) {
        self.points += applied.receipt.points as u64;
        self.rows += applied.receipt.rows as u64;
        self.expired_rows += applied.receipt.expired_rows as u64;
        self.sequence = self.sequence.max(applied.receipt.seq);
        self.messages += 1;
        self.duplicates += u64::from(applied.duplicate);
        self.producer_applied_seq = applied.producer_applied_seq;
        self.series.extend(applied.series);
    }

    /// Messages applied so far.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// The acknowledgement of these totals under `sync`.
    pub fn response(&self, sync: SyncPolicy) -> WriteResponse {
        WriteResponse {
            points: self.points,
            rows: self.rows,
            series: self.series.len() as u64,
            sequence: self.sequence,
            durability: durability(sync).into(),
            messages: self.messages,
            duplicate: self.messages > 0 && self.duplicates == self.messages,
            producer_applied_seq: self.producer_applied_seq,
            expired_rows: self.expired_rows,
        }
    }
}

/// What an acknowledgement guarantees under `sync`.
pub fn durability(sync: SyncPolicy) -> Durability {
    match sync {
        SyncPolicy::Always => Durability::Synced,
        SyncPolicy::Interval(_) => Durability::Interval,
        SyncPolicy::None => Durability::Buffered,
    }
}

#[cfg(test)]
mod tests {
    use isobar_storage::{ColumnValues, SeriesWrite};

    use super::*;

    #[test]
    fn totals_count_distinct_series_across_messages() {
        let write = |series: &str| {
            WriteBatch::from(SeriesWrite::new("t", series, vec![1, 2]).column(
                "f",
                "c",
                ColumnValues::F64(vec![1.0, 2.0]),
            ))
        };
        let mut totals = Totals::default();
        for (seq, s) in [(4, "a"), (5, "b"), (6, "a")] {
            let batch = write(s);
            totals.add(Applied::plain(WriteReceipt { seq, rows: 2, points: 2, expired_rows: 0 }, series_of(&batch)));
        }
        let r = totals.response(SyncPolicy::Always);
        assert_eq!((r.points, r.rows, r.series, r.sequence, r.messages), (6, 6, 2, 6, 3));
        assert_eq!(r.durability, Durability::Synced as i32);
        assert!(!r.duplicate);
    }

    #[test]
    fn a_duplicate_acknowledges_nothing_applied() {
        let dup = Applied::of_producer(ProducerReceipt { applied: None, applied_seq: 9 }, HashSet::from([1]));
        let r = dup.response(SyncPolicy::Always);
        assert!(r.duplicate);
        assert_eq!((r.points, r.rows, r.series, r.sequence, r.messages, r.producer_applied_seq), (0, 0, 0, 0, 1, 9));
        let applied = WriteReceipt { seq: 40, rows: 1, points: 2, expired_rows: 0 };
        let r = Applied::of_producer(ProducerReceipt { applied: Some(applied), applied_seq: 10 }, HashSet::from([1]))
            .response(SyncPolicy::Always);
        assert!(!r.duplicate);
        assert_eq!((r.points, r.sequence, r.series, r.producer_applied_seq), (2, 40, 1, 10));
    }
}
