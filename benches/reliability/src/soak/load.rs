//! The tasks of a soak: writers that stream contiguous rows into a series of their own, and
//! scanners that read writers' series back while they grow.
//!
//! A writer sends `WriteStream` calls of a few messages; row `i` of writer `w` has
//! `ts = BASE + i s`, `v = i` (f64) and `n = 3 i` (i64). Messages are applied in order and a
//! refused message (back-pressure) is sent again, so at every moment the stored rows of a series
//! are a prefix `0..k` with `acked <= k <= sent`. Scanners check exactly that.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use isobar_proto::v1 as pb;
use pb::series_selector::Selector;

use crate::rng::Rng;
use crate::wire::{self, Clients, Value, failed_message_index, is_backpressure};

/// Timestamp of row 0.
pub const BASE_TS: i64 = 1_750_000_000_000_000_000;
/// Spacing of rows.
pub const STEP: i64 = 1_000_000_000;
/// The soak table.
pub const TABLE: &str = "soak";

/// The series of writer `w`.
pub fn series_of(w: usize) -> String {
    format!("soak{w:04}")
}

/// Progress of one writer, shared with the scanners.
#[derive(Debug, Default)]
pub struct Progress {
    /// Rows acknowledged (a prefix of the series).
    pub acked: AtomicU64,
    /// Rows sent in calls so far (an upper bound of what may be stored).
    pub sent: AtomicU64,
}

/// What a task saw.
#[derive(Debug, Default)]
pub struct TaskResult {
    /// Latency of each completed call.
    pub latencies: Vec<Duration>,
    /// Refusals with RESOURCE_EXHAUSTED or UNAVAILABLE.
    pub backpressure: u64,
    /// Anything else that went wrong.
    pub errors: Vec<String>,
    /// Rows acknowledged or read.
    pub rows: u64,
}

fn message(w: usize, first: u64, rows: u64) -> pb::WriteRequest {
    let idx: Vec<u64> = (first..first + rows).collect();
    let col = |name: &str, values| pb::Column {
        family: "m".into(),
        name: name.into(),
        values: Some(values),
        validity: Vec::new(),
        nulls: Vec::new(),
    };
    pb::WriteRequest {
        batches: vec![pb::SeriesBatch {
            table: TABLE.into(),
            series: series_of(w),
            ts: idx.iter().map(|i| BASE_TS + *i as i64 * STEP).collect(),
            columns: vec![
                col(
                    "v",
                    pb::column::Values::F64Values(pb::DoubleValues { values: idx.iter().map(|i| *i as f64).collect() }),
                ),
                col(
                    "n",
                    pb::column::Values::I64Values(pb::Int64Values {
                        values: idx.iter().map(|i| *i as i64 * 3).collect(),
                    }),
                ),
            ],
        }],
        ..Default::default()
    }
}

/// Writer `w`: streams of 1 to 4 messages of `rows` rows until `deadline`.
pub async fn writer(
    w: usize,
    mut clients: Clients,
    progress: Arc<Progress>,
    rows: u64,
    seed: u64,
    deadline: Instant,
) -> TaskResult {
    let mut rng = Rng::new(seed, w as u64 + 1);
    let mut out = TaskResult::default();
    let mut next = 0u64;
    while Instant::now() < deadline {
        let k = rng.range(1, 5);
        let messages: Vec<_> = (0..k).map(|j| message(w, next + j * rows, rows)).collect();
        progress.sent.fetch_max(next + k * rows, Ordering::SeqCst);
        let started = Instant::now();
        let call = clients.ingest.write_stream(tokio_stream::iter(messages));
        match tokio::time::timeout(Duration::from_secs(60), call).await {
            Ok(Ok(_)) => {
                out.latencies.push(started.elapsed());
                next += k * rows;
                out.rows += k * rows;
            }
            Ok(Err(s)) if is_backpressure(s.code()) && failed_message_index(&s).is_some() => {
                // Messages before the refused one are written; the rest is sent again.
                let at = failed_message_index(&s).unwrap_or(0) as u64;
                next += at.min(k) * rows;
                out.rows += at.min(k) * rows;
                out.backpressure += 1;
                let hint = isobar_retry_hint(&s).unwrap_or(Duration::from_millis(50));
                tokio::time::sleep(hint.min(Duration::from_millis(500))).await;
            }
            Ok(Err(s)) => {
                out.errors.push(format!("writer {w}: {:?}: {}", s.code(), s.message()));
                break;
            }
            Err(_) => {
                out.errors.push(format!("writer {w}: a WriteStream call did not answer within 60 s"));
                break;
            }
        }
        progress.acked.store(next, Ordering::SeqCst);
    }
    out
}

/// The retry delay a refusal suggests (`grpc-retry-pushback-ms` metadata), if any.
fn isobar_retry_hint(status: &tonic::Status) -> Option<Duration> {
    let ms = status.metadata().get("grpc-retry-pushback-ms")?.to_str().ok()?.parse().ok()?;
    Some(Duration::from_millis(ms))
}

/// Checks the rows of `batches` for writers `lo..hi`: each series a prefix `0..k` with
/// `acked_before <= k <= sent_after`. Returns the rows read of each series.
pub fn check_prefixes(
    batches: &[RecordBatch],
    lo: usize,
    before: &[u64],
    progress: &[Arc<Progress>],
) -> Result<Vec<u64>, String> {
    let mut counts = vec![0u64; before.len()];
    for b in batches {
        let series = wire::series(b).map_err(|e| e.to_string())?;
        let ts = wire::timestamps(b, "ts").map_err(|e| e.to_string())?;
        let v = wire::values(b, "m.v").map_err(|e| e.to_string())?;
        let n = wire::values(b, "m.n").map_err(|e| e.to_string())?;
        for (r, key) in series.iter().enumerate() {
            let w: usize = key.get(4..).and_then(|x| x.parse().ok()).ok_or(format!("unexpected series {key}"))?;
            let slot = w.checked_sub(lo).filter(|s| *s < counts.len()).ok_or(format!("series {key} not selected"))?;
            let i = counts[slot];
            let want = (Some(BASE_TS + i as i64 * STEP), Some(Value::F64(i as f64)), Some(Value::I64(i as i64 * 3)));
            if (ts[r], v[r].clone(), n[r].clone()) != want {
                return Err(format!("{key} row {i}: got {:?}, expected {want:?}", (ts[r], &v[r], &n[r])));
            }
            counts[slot] += 1;
        }
    }
    for (slot, count) in counts.iter().enumerate() {
        let sent = progress[lo + slot].sent.load(Ordering::SeqCst);
        if *count < before[slot] || *count > sent {
            return Err(format!(
                "{}: {count} rows read, but {} were acknowledged before the scan and {sent} sent",
                series_of(lo + slot),
                before[slot]
            ));
        }
    }
    Ok(counts)
}

/// Scans one series (7 times in 8) or ten series by key range, checking what it reads.
pub async fn scan_once(
    clients: &mut Clients,
    rng: &mut Rng,
    progress: &[Arc<Progress>],
) -> Result<u64, Result<tonic::Status, String>> {
    let writers = progress.len();
    let (lo, hi, selector) = if rng.percent(12) && writers >= 10 {
        let lo = rng.range(0, (writers - 9) as u64) as usize;
        let range = pb::KeyRange { start: Some(series_of(lo)), end: Some(series_of(lo + 10)) };
        (lo, lo + 10, Selector::Range(range))
    } else {
        let w = rng.range(0, writers as u64) as usize;
        (w, w + 1, Selector::Exact(series_of(w)))
    };
    let before: Vec<u64> = progress[lo..hi].iter().map(|p| p.acked.load(Ordering::SeqCst)).collect();
    let request = pb::ScanRequest {
        table: TABLE.into(),
        selector: Some(pb::SeriesSelector { selector: Some(selector) }),
        ..Default::default()
    };
    let stream = clients.query.scan(request).await.map_err(Ok)?.into_inner();
    let batches = wire::collect(stream).await.map_err(|e| match e {
        wire::WireError::Status(s) => Ok(s),
        other => Err(other.to_string()),
    })?;
    check_prefixes(&batches, lo, &before, progress).map(|c| c.iter().sum()).map_err(Err)
}

/// A scanner: scans until `deadline`.
pub async fn scanner(
    s: usize,
    mut clients: Clients,
    progress: Vec<Arc<Progress>>,
    seed: u64,
    deadline: Instant,
) -> TaskResult {
    let mut rng = Rng::new(seed, 1_000_000 + s as u64);
    let mut out = TaskResult::default();
    while Instant::now() < deadline {
        let started = Instant::now();
        match tokio::time::timeout(Duration::from_secs(60), scan_once(&mut clients, &mut rng, &progress)).await {
            Ok(Ok(rows)) => {
                out.latencies.push(started.elapsed());
                out.rows += rows;
            }
            Ok(Err(Ok(status))) if is_backpressure(status.code()) => {
                out.backpressure += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(Err(Ok(status))) => {
                out.errors.push(format!("scanner {s}: {:?}: {}", status.code(), status.message()));
                break;
            }
            Ok(Err(Err(problem))) => {
                out.errors.push(format!("scanner {s}: {problem}"));
                break;
            }
            Err(_) => {
                out.errors.push(format!("scanner {s}: a scan did not finish within 60 s"));
                break;
            }
        }
    }
    out
}
