//! The read side of the handle: snapshots and whole-result scans (the read path itself is in
//! [`crate::read`]).

use arrow_array::RecordBatch;

use super::Db;
use crate::clock::now_ns;
use crate::error::Result;
use crate::read::{ScanRequest, Snapshot};

impl Db {
    /// A consistent view of everything written (and acknowledged) so far.
    pub fn snapshot(&self) -> Snapshot {
        let sv = self.current();
        let seq = self.visible_seq();
        Snapshot::new(sv, seq, now_ns())
    }

    /// Scans and collects every batch (convenient for small results; use
    /// [`Snapshot::scan`] to stream large ones).
    pub fn scan(&self, req: &ScanRequest) -> Result<Vec<RecordBatch>> {
        self.snapshot().scan(req)?.collect()
    }
}
