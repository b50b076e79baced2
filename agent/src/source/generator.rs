//! The built-in generators as a source: `isobar-workload`'s IoT or weather workload,
//! deterministic by seed, at a configured rate. Its checkpoint is the number of batches queued,
//! so a restarted agent regenerates and skips exactly those and continues with the next one.

use std::time::{Duration, Instant};

use isobar_ingest::convert::batch_to_request;
use isobar_workload::{Generator, Kind, Spec};

use super::{Chunk, Ctx};
use crate::config::SourceConfig;
use crate::queue::Checkpoint;

/// Why a generator cannot start.
#[derive(Debug, thiserror::Error)]
pub enum GeneratorError {
    /// The workload name is unknown.
    #[error(transparent)]
    Kind(#[from] isobar_workload::UnknownKind),
}

/// The workload spec of a generator source config (`None` for other sources).
pub fn spec_of(config: &SourceConfig) -> Result<Option<(Spec, usize)>, GeneratorError> {
    let SourceConfig::Generator { workload, series, timestamps, seed, ts_per_batch, .. } = config else {
        return Ok(None);
    };
    let mut spec = Spec::new(workload.parse::<Kind>()?);
    if let Some(n) = series {
        spec = spec.series(*n);
    }
    if let Some(n) = timestamps {
        spec = spec.timestamps(*n);
    }
    if let Some(s) = seed {
        spec = spec.seed(*s);
    }
    Ok(Some((spec, (*ts_per_batch).max(1))))
}

/// Runs the generator until its workload is exhausted or the agent stops.
pub fn run(config: &SourceConfig, ctx: &Ctx) -> Result<(), GeneratorError> {
    let Some((spec, ts_per_batch)) = spec_of(config)? else { return Ok(()) };
    let rate = match config {
        SourceConfig::Generator { rate, .. } => *rate,
        _ => 0,
    };
    let done = ctx.queue.checkpoint(&ctx.name).map_or(0, |(_, batches)| batches);
    tracing::info!(source = %ctx.name, workload = %spec.kind, series = spec.series, resume_after_batches = done, "generator started");
    let started = Instant::now();
    let mut rows_sent: u64 = 0;
    for (i, batch) in Generator::new(spec).ts_per_batch(ts_per_batch).enumerate() {
        let i = i as u64;
        if i < done {
            continue;
        }
        if ctx.stopping() {
            return Ok(());
        }
        let request = batch_to_request(batch);
        let chunk = Chunk {
            rows: Vec::new(),
            batches: request.batches,
            checkpoint: Some(Checkpoint { source: ctx.name.clone(), file_id: 0, offset: i + 1 }),
            ack: None,
        };
        rows_sent += chunk.row_count() as u64;
        if !ctx.send(chunk) {
            return Ok(());
        }
        if rate > 0 {
            let due = Duration::from_secs_f64(rows_sent as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    tracing::info!(source = %ctx.name, "generator finished its workload");
    Ok(())
}
