//! `grpc.health.v1.Health` that tells the truth: `NOT_SERVING` while the engine refuses writes
//! for a background failure ([`Db::read_only`]), with the reason in the reply's metadata, and a
//! watcher that keeps the `Watch` stream, the log and the reporter's statuses in step.
//!
//! `Check` asks the engine on every call, so a probe never sees a stale `SERVING`; the reason
//! travels in two reply headers ([`REASON_HEADER`], [`DETAIL_HEADER`]) that `isobar health`
//! prints. `Watch` streams the reporter's statuses, which [`watch_read_only`] updates once a
//! second and on every change logs one line: an `ERROR` "health: NOT_SERVING, the database is
//! read-only" with the reason, or an `INFO` "health: SERVING again" once it clears.
//!
//! Between a resume (`isobar admin resume`, or the engine's own retry) and the watcher's next
//! look, the reporter still says `NOT_SERVING` for the read-only state that just cleared; `Check`
//! answers `SERVING` then, because [`ReadOnlyReported`] tells it that the reporter's
//! `NOT_SERVING` is the watcher's (stale) one and not the shutdown's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use isobar_storage::{Db, ReadOnly};
use tonic::{Request, Response, Status};
use tonic_health::ServingStatus;
use tonic_health::pb::health_check_response::ServingStatus::{NotServing, Serving};
use tonic_health::pb::health_server::Health;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_health::server::{HealthReporter, HealthService};

/// Reply header carrying the read-only reason (`disk_full`, `wal_failed`, ...).
pub const REASON_HEADER: &str = "isobar-read-only-reason";
/// Reply header carrying what failed and what to do (printable ASCII, other bytes as `?`).
pub const DETAIL_HEADER: &str = "isobar-read-only-detail";

/// The services whose status follows the engine: the server as a whole and each Isobar service.
pub const SERVICES: [&str; 4] = ["", "isobar.v1.Ingest", "isobar.v1.Query", "isobar.v1.Admin"];

/// How often [`watch_read_only`] looks at the engine.
const POLL: Duration = Duration::from_secs(1);

/// True while the reporter's `NOT_SERVING` was set by [`watch_read_only`] for a read-only
/// state (not by the shutdown, which clears it first).
#[derive(Clone, Debug, Default)]
pub struct ReadOnlyReported(Arc<AtomicBool>);

impl ReadOnlyReported {
    fn set(&self, on: bool) {
        self.0.store(on, Ordering::Release);
    }

    fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Called before the shutdown reports `NOT_SERVING`: from then on it is the truth.
    pub fn shutting_down(&self) {
        self.set(false);
    }
}

/// The health service: the reporter's statuses, overridden by the engine's read-only state.
#[derive(Debug)]
pub struct EngineHealth {
    inner: HealthService,
    db: Db,
    reported: ReadOnlyReported,
}

impl EngineHealth {
    /// A service answering from `reporter`'s statuses and `db`'s read-only state; `reported` is
    /// shared with the [`watch_read_only`] that updates `reporter`.
    pub fn new(reporter: HealthReporter, db: Db, reported: ReadOnlyReported) -> Self {
        Self { inner: HealthService::from_health_reporter(reporter), db, reported }
    }
}

#[tonic::async_trait]
impl Health for EngineHealth {
    async fn check(&self, request: Request<HealthCheckRequest>) -> Result<Response<HealthCheckResponse>, Status> {
        let ours = SERVICES.contains(&request.get_ref().service.as_str());
        // `read_only` takes two small mutexes and reads the current version: no I/O.
        if let Some(state) = ours.then(|| self.db.read_only()).flatten() {
            let mut reply = Response::new(HealthCheckResponse { status: NotServing as i32 });
            let headers = reply.metadata_mut();
            if let Ok(v) = state.reason.as_str().parse() {
                headers.insert(REASON_HEADER, v);
            }
            if let Ok(v) = printable(&state.detail).parse() {
                headers.insert(DETAIL_HEADER, v);
            }
            return Ok(reply);
        }
        let answer = self.inner.check(request).await?;
        if ours && answer.get_ref().status == NotServing as i32 && self.reported.get() {
            // The watcher's NOT_SERVING for a read-only state that has cleared since.
            return Ok(Response::new(HealthCheckResponse { status: Serving as i32 }));
        }
        Ok(answer)
    }

    type WatchStream = <HealthService as Health>::WatchStream;

    async fn watch(&self, request: Request<HealthCheckRequest>) -> Result<Response<Self::WatchStream>, Status> {
        self.inner.watch(request).await
    }
}

/// `text` with every byte outside printable ASCII replaced by `?` (a valid header value).
fn printable(text: &str) -> String {
    text.chars().map(|c| if c == ' ' || c.is_ascii_graphic() { c } else { '?' }).collect()
}

/// Keeps `reporter` in step with the engine's read-only state and logs each change; runs until
/// aborted (the server aborts it before it reports `NOT_SERVING` for shutdown).
pub async fn watch_read_only(reporter: HealthReporter, db: Db, reported: ReadOnlyReported) {
    let mut last: Option<ReadOnly> = None;
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = db.read_only();
        if now.as_ref().map(|s| s.reason) == last.as_ref().map(|s| s.reason) {
            continue;
        }
        match &now {
            Some(state) => tracing::error!(
                read_only = state.reason.as_str(),
                clears_by_itself = state.clears_by_itself,
                detail = %state.detail,
                "health: NOT_SERVING, the database is read-only (writes are refused); see docs/operations.md"
            ),
            None => tracing::info!(
                was = last.as_ref().map(|s| s.reason.as_str()).unwrap_or_default(),
                "health: SERVING again, the database takes writes"
            ),
        }
        let status = if now.is_some() { ServingStatus::NotServing } else { ServingStatus::Serving };
        if now.is_some() {
            reported.set(true);
        }
        for name in SERVICES {
            reporter.set_service_status(name, status).await;
        }
        if now.is_none() {
            reported.set(false);
        }
        last = now;
    }
}
