//! [`SqlOptions`]: the bounds every SQL query runs under (memory, time, concurrency).

use std::time::Duration;

/// The bounds of the SQL layer; one set per [`crate::SqlEngine`].
///
/// Defaults are sized for a small server: a query may use 256 MiB of operator memory (hash
/// tables, sorts, joins; batches read from the engine are bounded by the scan itself), run for
/// 60 s, and 16 queries run at once. Past the memory limit a query fails with
/// [`crate::SqlErrorKind::ResourceExhausted`] (operators do not spill to disk); past the timeout
/// with [`crate::SqlErrorKind::DeadlineExceeded`]; a query that finds every slot taken fails at
/// once with `ResourceExhausted` instead of queueing, so that a client can back off and retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlOptions {
    /// Most bytes of operator memory one query may hold (DataFusion memory pool per query).
    pub memory_limit_bytes: usize,
    /// Longest a query may take from `execute` to the end of its stream (planning included).
    pub timeout: Duration,
    /// Most queries executing at once (a stream holds its slot until it ends or is dropped).
    pub max_concurrent_queries: usize,
}

impl Default for SqlOptions {
    fn default() -> Self {
        Self { memory_limit_bytes: 256 << 20, timeout: Duration::from_secs(60), max_concurrent_queries: 16 }
    }
}
