//! What a write acknowledges: counts of one request or the totals of a stream.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use isobar_proto::v1::{Durability, WriteResponse};
use isobar_storage::{SyncPolicy, WriteBatch, WriteReceipt};

/// The outcome of one applied request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The engine's receipt.
    pub receipt: WriteReceipt,
    /// 64-bit hashes of the distinct `(table, series)` pairs written.
    pub series: HashSet<u64>,
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
}

impl Totals {
    /// Adds one applied message.
    pub fn add(&mut self, applied: Applied) {
        self.points += applied.receipt.points as u64;
        self.rows += applied.receipt.rows as u64;
        self.sequence = self.sequence.max(applied.receipt.seq);
        self.messages += 1;
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
            totals.add(Applied { receipt: WriteReceipt { seq, rows: 2, points: 2 }, series: series_of(&batch) });
        }
        let r = totals.response(SyncPolicy::Always);
        assert_eq!((r.points, r.rows, r.series, r.sequence, r.messages), (6, 6, 2, 6, 3));
        assert_eq!(r.durability, Durability::Synced as i32);
    }
}
