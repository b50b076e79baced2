//! Options for opening a database, with documented defaults.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// When an acknowledged write is durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPolicy {
    /// `fsync` once per group commit before acknowledging: an acknowledged write survives power
    /// loss. The default, as in SQLite's `synchronous=FULL`.
    Always,
    /// Write to the OS before acknowledging and `fsync` at most this often: an acknowledged write
    /// survives a process crash, and power loss can cost the last interval (RocksDB's default
    /// `sync=false` with a periodic `SyncWAL`).
    Interval(Duration),
    /// Write to the OS before acknowledging; never `fsync` except on flush and close.
    None,
}

/// What WAL recovery does with a corrupt record that is not at the tail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalRecovery {
    /// Refuse to open and name the segment and offset (the default: never drop data silently).
    #[default]
    Strict,
    /// Skip the corrupt record with a warning and go on (RocksDB's `kSkipAnyCorruptedRecords`).
    SkipCorrupt,
}

/// Limits applied to every write; a write over a limit is rejected whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Longest series key in bytes (default 1024).
    pub max_series_key_len: usize,
    /// Longest string value in bytes (default 64 KiB).
    pub max_string_len: usize,
    /// Most rows in one write batch (default 1,000,000).
    pub max_rows_per_batch: usize,
    /// Most columns in one table, over all its families; a write adding columns past it is
    /// refused (default 4,096).
    pub max_columns_per_table: usize,
    /// Most new columns one write may add to dynamic tables (default 1,024). Columns are added
    /// under the database's write lock, so this bounds how long one write holds it.
    pub max_new_columns_per_request: usize,
    /// Most distinct series (table, series key) in one write request (default 100,000). Checked
    /// by the front ends before a request is converted or applied: a request's size on the wire
    /// says little about what it becomes in memtables and indexes.
    pub max_series_per_request: usize,
    /// Most cells (present values) in one write request (default 10,000,000); checked like
    /// `max_series_per_request`.
    pub max_cells_per_request: u64,
    /// Smallest accepted timestamp (default 1900-01-01T00:00:00Z).
    pub min_ts: i64,
    /// Largest accepted timestamp (default `i64::MAX - 1`, 2262-04-11); `i64::MAX` stays free as
    /// the open end of ranges.
    pub max_ts: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_series_key_len: 1024,
            max_string_len: 64 * 1024,
            max_rows_per_batch: 1_000_000,
            max_columns_per_table: 4096,
            max_new_columns_per_request: 1024,
            max_series_per_request: 100_000,
            max_cells_per_request: 10_000_000,
            min_ts: -2_208_988_800_000_000_000,
            max_ts: i64::MAX - 1,
        }
    }
}

/// Options for [`Db::open`](crate::Db::open). Every field has a default suited to a small server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Options {
    /// WAL durability (default [`SyncPolicy::Always`]).
    pub sync: SyncPolicy,
    /// Size at which the WAL starts a new segment (default 64 MiB).
    pub wal_segment_size: u64,
    /// What to do with a corrupt WAL record in the middle of the log (default strict).
    pub wal_recovery: WalRecovery,
    /// Size at which a family's active memtable is frozen and flushed (default 32 MiB).
    pub memtable_size: usize,
    /// Memory for all memtables together, active and waiting for flush (default 256 MiB). Past
    /// it, writes wait for flushes; past [`Options::write_stall_timeout`], they fail with
    /// [`Error::Overloaded`](crate::Error::Overloaded).
    pub memtable_budget: usize,
    /// Longest a write waits for memory before it is refused (default 5 s).
    pub write_stall_timeout: Duration,
    /// Bytes of decoded blocks kept in memory (default 64 MiB).
    pub block_cache_size: usize,
    /// zstd level for SSTable blocks (default 3).
    pub zstd_level: i32,
    /// Rows per SSTable page, the unit of compression and caching (default 8192).
    pub rows_per_page: usize,
    /// Write limits.
    pub limits: Limits,
    /// Compaction settings.
    pub compaction: crate::compaction::CompactionOptions,
    /// How long an idempotent producer's mark is kept after its last write or resume (default
    /// 7 days); see the `producer` module.
    pub producer_state_ttl: Duration,
    /// Most producers tracked at once; past it the least recently active are forgotten
    /// (default 100,000).
    pub max_producers: usize,
    /// Most producers of one owner (an authenticated identity, see the `producer` module); a
    /// write creating one more is refused, so one identity cannot fill `max_producers` and evict
    /// the others' marks (default 1,000).
    pub max_producers_per_owner: usize,
    /// The file system every engine file goes through (default: the OS). Tests put a
    /// [`FaultFs`](crate::fs::FaultFs) here; not part of the configuration file.
    #[serde(skip)]
    pub fs: crate::fs::Fs,
    /// Refuse a write whose rows are all past their TTL ([`InvalidInput::AllExpired`](crate::InvalidInput::AllExpired))
    /// instead of storing rows no read will return (default false, so an embedding program or a
    /// test may load expired data on purpose; the server turns it on). Either way the receipt
    /// counts the expired rows of an applied write. Not part of the configuration file.
    #[serde(skip)]
    pub refuse_expired_writes: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sync: SyncPolicy::Always,
            wal_segment_size: 64 << 20,
            wal_recovery: WalRecovery::Strict,
            memtable_size: 32 << 20,
            memtable_budget: 256 << 20,
            write_stall_timeout: Duration::from_secs(5),
            block_cache_size: 64 << 20,
            zstd_level: 3,
            rows_per_page: 8192,
            limits: Limits::default(),
            compaction: crate::compaction::CompactionOptions::default(),
            producer_state_ttl: Duration::from_secs(7 * 24 * 3600),
            max_producers: 100_000,
            max_producers_per_owner: 1000,
            refuse_expired_writes: false,
            fs: crate::fs::Fs::default(),
        }
    }
}
