//! Renders [`EngineMetrics`] and [`RequestMetrics`] as Prometheus text. Every family written
//! here is listed, with its meaning, in `docs/metrics.md`.

use isobar_storage::{EngineMetrics, FamilyStats, ReadOnlyReason, StallState};

use super::requests::RequestMetrics;
use super::text::{Kind, TextWriter};

/// The whole exposition: build info, engine metrics, request metrics.
pub fn render(engine: &EngineMetrics, requests: &RequestMetrics) -> String {
    let mut w = TextWriter::default();
    w.family("isobar_build_info", Kind::Gauge, "Always 1; the version label says which Isobar runs.");
    w.sample(&[("version", env!("CARGO_PKG_VERSION"))], 1u64);
    ingest(&mut w, engine);
    wal(&mut w, engine);
    memory(&mut w, engine);
    lsm(&mut w, engine);
    stalls(&mut w, engine);
    read_only(&mut w, engine);
    wal_backlog(&mut w, engine);
    cache(&mut w, engine);
    producers(&mut w, engine);
    rpcs(&mut w, requests);
    super::connections::render(&mut w, &requests.listeners());
    super::process::render(&mut w, &super::process::ProcessStats::read());
    w.finish()
}

/// The idempotent producers (docs/producers.md): how many are tracked against
/// `storage.max_producers`, how many were forgotten, how many duplicates were answered.
fn producers(w: &mut TextWriter, m: &EngineMetrics) {
    let s = &m.stats;
    let help = "Idempotent producers tracked now (each has a durable mark); capped by storage.max_producers.";
    w.single("isobar_producers", Kind::Gauge, help, s.producers_tracked);
    let help = "Producers forgotten since start, idle past storage.producer_state_ttl or past storage.max_producers.";
    w.single("isobar_producers_expired_total", Kind::Counter, help, s.producers_expired);
    let help = "Producer writes answered as duplicates (already applied; not applied again).";
    w.single("isobar_producer_duplicates_total", Kind::Counter, help, s.producer_duplicates);
}

fn ingest(w: &mut TextWriter, m: &EngineMetrics) {
    let s = &m.stats;
    let help = "Points (non-null cells) written and acknowledged.";
    w.single("isobar_ingest_points_total", Kind::Counter, help, s.points_written);
    w.single("isobar_ingest_rows_total", Kind::Counter, "Rows written and acknowledged.", s.rows_written);
    let help = "Bytes of acknowledged writes, as encoded for the WAL.";
    w.single("isobar_ingest_bytes_total", Kind::Counter, help, s.wal_bytes);
    let help = "Write batches (one per accepted write call into the engine) acknowledged.";
    w.single("isobar_write_batches_total", Kind::Counter, help, s.writes);
}

fn wal(w: &mut TextWriter, m: &EngineMetrics) {
    w.single("isobar_wal_appends_total", Kind::Counter, "Records appended to the WAL.", m.wal.appends);
    let help = "Payload bytes of the records appended to the WAL.";
    w.single("isobar_wal_append_bytes_total", Kind::Counter, help, m.wal.append_bytes);
    let help = "Bytes written to WAL segment files, framing included.";
    w.single("isobar_wal_written_bytes_total", Kind::Counter, help, m.wal.written_bytes);
    let help = "Latency of WAL fdatasync calls (one per group commit under sync = always); _count is the sync count.";
    w.family("isobar_wal_sync_duration_seconds", Kind::Histogram, help);
    w.histogram(&[], &m.wal.sync_latency);
}

/// Per-family gauges.
fn per_family(w: &mut TextWriter, m: &EngineMetrics, name: &str, help: &str, value: impl Fn(&FamilyStats) -> u64) {
    w.family(name, Kind::Gauge, help);
    for f in &m.stats.families {
        w.sample(&[("table", &f.table), ("family", &f.family)], value(f));
    }
}

fn memory(w: &mut TextWriter, m: &EngineMetrics) {
    let help = "Bytes held by memtables, by table, family and state (active or frozen awaiting flush).";
    w.family("isobar_memtable_bytes", Kind::Gauge, help);
    for f in &m.stats.families {
        let active = f.memtable_bytes.saturating_sub(f.frozen_memtable_bytes);
        w.sample(&[("table", &f.table), ("family", &f.family), ("state", "active")], active);
        w.sample(&[("table", &f.table), ("family", &f.family), ("state", "frozen")], f.frozen_memtable_bytes);
    }
    let help = "Memory budget of all memtables together; writes stall at it.";
    w.single("isobar_memtable_budget_bytes", Kind::Gauge, help, m.memtable_budget);
    per_family(w, m, "isobar_memtables_frozen", "Frozen memtables waiting for flush.", |f| f.frozen_memtables as u64);
    let help = "Series with rows in the active memtable (written since the family's last flush).";
    per_family(w, m, "isobar_open_series", help, |f| f.memtable_series as u64);
}

fn lsm(w: &mut TextWriter, m: &EngineMetrics) {
    let s = &m.stats;
    w.single("isobar_flushes_total", Kind::Counter, "Memtable flushes completed.", s.flushes);
    w.single("isobar_flush_bytes_total", Kind::Counter, "Bytes of SSTables written by flushes.", s.flush_bytes);
    let help = "SSTables written by flushes (one per time window a flushed memtable covers).";
    w.single("isobar_flush_files_total", Kind::Counter, help, s.flush_files);
    w.single("isobar_compactions_running", Kind::Gauge, "Compaction merges running now.", m.compactions_running);
    w.single("isobar_compactions_total", Kind::Counter, "Compaction merges completed.", s.compactions);
    let help = "Bytes of SSTables read by compaction merges (dropping expired files reads nothing).";
    w.single("isobar_compaction_read_bytes_total", Kind::Counter, help, s.compaction_bytes_read);
    let help = "Bytes of SSTables written by compaction merges.";
    w.single("isobar_compaction_written_bytes_total", Kind::Counter, help, s.compaction_bytes_written);
    let help = "SSTables deleted whole by compaction because all their rows were past the TTL.";
    w.single("isobar_expired_files_dropped_total", Kind::Counter, help, s.expired_files_dropped);
    let help = "Bytes of SSTables deleted whole because all their rows were past the TTL.";
    w.single("isobar_expired_bytes_dropped_total", Kind::Counter, help, s.expired_bytes_dropped);
    let help = "(flush bytes + compaction bytes written) / flush bytes since start; 0 before the first flush.";
    w.single("isobar_write_amplification", Kind::Gauge, help, m.write_amplification());
    let help = "Estimated bytes compaction would still rewrite to bring the family in shape.";
    per_family(w, m, "isobar_compaction_pending_bytes", help, |f| f.pending_compaction_bytes);
    per_family(w, m, "isobar_sstables", "SSTables per table and column family.", |f| f.files as u64);
    per_family(w, m, "isobar_sstable_bytes", "Bytes of SSTables per table and column family.", |f| f.file_bytes);
    let help = "Rows in SSTables (before merging duplicates across files).";
    per_family(w, m, "isobar_sstable_rows", help, |f| f.file_rows);
    let help = "SSTables marked bad after a checksum failure.";
    per_family(w, m, "isobar_sstables_bad", help, |f| f.bad_files as u64);
}

fn stalls(w: &mut TextWriter, m: &EngineMetrics) {
    let s = &m.stats;
    let help = "Writes delayed a little because memtables or a time window approach their limit.";
    w.single("isobar_write_slowdowns_total", Kind::Counter, help, s.slowed_writes);
    let help = "Writes that had to wait for flushes or compaction (memory budget or file limit reached).";
    w.single("isobar_write_stalls_total", Kind::Counter, help, s.write_stalls);
    let help = "Total time writes spent waiting in stalls.";
    w.single("isobar_write_stall_seconds_total", Kind::Counter, help, m.stall_time.as_secs_f64());
    let help = "Writes refused with RESOURCE_EXHAUSTED after stalling past storage.write_stall_timeout.";
    w.single("isobar_write_stall_rejections_total", Kind::Counter, help, m.stall_rejections);
    let state = match s.stall {
        StallState::Normal => 0u64,
        StallState::Slowed(_) => 1,
        StallState::Stopped(_) => 2,
    };
    let help = "Write throttling now: 0 normal, 1 slowed, 2 stopped.";
    w.single("isobar_write_stall_state", Kind::Gauge, help, state);
    let help = "Times writes were resumed after a WAL failure or a full disk, without a restart.";
    w.single("isobar_resumes_total", Kind::Counter, help, m.resumes);
}

/// One sample per reason, so that an alert on `isobar_read_only == 1` has every series from the
/// start (no "absent" case to handle) and the label says why.
fn read_only(w: &mut TextWriter, m: &EngineMetrics) {
    let help = "1 while the database refuses writes for a background failure, labelled by why (disk_full, \
                wal_failed, manifest_failed, flush_failing); 0 otherwise. Health reports NOT_SERVING meanwhile.";
    w.family("isobar_read_only", Kind::Gauge, help);
    let now = m.read_only.as_ref().map(|r| r.reason);
    for reason in ReadOnlyReason::ALL {
        w.sample(&[("reason", reason.as_str())], u64::from(now == Some(reason)));
    }
}

fn wal_backlog(w: &mut TextWriter, m: &EngineMetrics) {
    let help =
        "Bytes in WAL segments still on disk (not yet flushed past by every family): what a restart replays at most.";
    w.single("isobar_wal_unflushed_bytes", Kind::Gauge, help, m.wal_unflushed_bytes);
}

fn cache(w: &mut TextWriter, m: &EngineMetrics) {
    let c = &m.cache;
    w.single("isobar_block_cache_hits_total", Kind::Counter, "Block-cache lookups that found the block.", c.hits);
    let help = "Block-cache lookups that had to read and decode the block.";
    w.single("isobar_block_cache_misses_total", Kind::Counter, help, c.misses);
    let help = "Blocks evicted from the block cache to make room.";
    w.single("isobar_block_cache_evictions_total", Kind::Counter, help, c.evictions);
    w.single("isobar_block_cache_bytes", Kind::Gauge, "Bytes of decoded blocks held in the cache.", c.bytes);
    w.single("isobar_block_cache_capacity_bytes", Kind::Gauge, "Configured block-cache size.", c.capacity);
}

fn rpcs(w: &mut TextWriter, requests: &RequestMetrics) {
    let rpcs = requests.snapshot();
    let help = "Finished gRPC calls by RPC (service/method) and status code.";
    w.family("isobar_grpc_requests_total", Kind::Counter, help);
    for (rpc, s) in &rpcs {
        for (code, n) in &s.codes {
            w.sample(&[("rpc", rpc), ("code", code)], *n);
        }
    }
    let help = "Latency of gRPC calls from arrival to status (whole stream for streaming calls).";
    w.family("isobar_grpc_request_duration_seconds", Kind::Histogram, help);
    for (rpc, s) in &rpcs {
        w.histogram(&[("rpc", rpc)], &s.latency);
    }
}
