//! `Admin/Export` and `Admin/ExportWithProgress`: Parquet files written by [`crate::export()`]
//! from one snapshot, under the server's export directory. The server's `Admin` service checks
//! the caller's permission and calls [`export`] or [`export_with_progress`].
//!
//! The destination is a relative path without `..` (checked here, so nothing outside the
//! export directory is ever written); the engine refuses a destination that is not empty, so
//! existing files are never overwritten. The export runs on the blocking pool; with progress,
//! events go through a small channel and are dropped (not queued) when the client reads slowly.

use std::path::{Component, Path, PathBuf};
use std::pin::Pin;

use isobar_proto::v1 as pb;
use isobar_storage::Db;
use isobar_wire::selector::{selector_from_proto, time_range_from_proto};
use isobar_wire::status::ApiError;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::status::ReadError;
use crate::{ExportProgress, ExportQuery, ExportSummary};

/// The progress stream of `ExportWithProgress`.
pub type ExportStream = Pin<Box<dyn Stream<Item = Result<pb::ExportEvent, Status>> + Send>>;

/// A checked export: the engine query and the destination directory.
struct Job {
    query: ExportQuery,
    dest: PathBuf,
    root: PathBuf,
}

/// Checks `request` against `root`.
fn job(root: &Path, request: pb::ExportRequest) -> Result<Job, ApiError> {
    let argument = |field: &str, reason: &str| ApiError::Argument { field: field.into(), reason: reason.into() };
    match pb::ExportFormat::try_from(request.format) {
        Ok(pb::ExportFormat::Unspecified | pb::ExportFormat::Parquet) => {}
        Err(_) => return Err(argument("format", "is not a known ExportFormat; use EXPORT_FORMAT_PARQUET")),
    }
    let relative = Path::new(&request.destination);
    if request.destination.is_empty() || !relative.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(argument(
            "destination",
            "must be a non-empty relative path inside the export directory, without \"..\" or \".\"",
        ));
    }
    let selector = selector_from_proto(request.selector)?;
    let range = time_range_from_proto(request.range)?;
    let mut query = ExportQuery::new(request.table);
    query.selector = selector;
    query.range = range;
    query.columns = request.columns;
    if request.max_rows_per_file > 0 {
        query.file_rows = request.max_rows_per_file;
    }
    Ok(Job { query, dest: root.join(relative), root: root.to_path_buf() })
}

/// The wire answer of a finished export; paths relative to the export root.
fn response(root: &Path, summary: &ExportSummary) -> pb::ExportResponse {
    pb::ExportResponse {
        files: summary
            .files
            .iter()
            .map(|f| pb::ExportedFile {
                path: f.path.strip_prefix(root).unwrap_or(&f.path).to_string_lossy().into_owned(),
                rows: f.rows,
                bytes: f.bytes,
            })
            .collect(),
        rows: summary.rows,
        bytes: summary.bytes,
    }
}

/// Runs `job`, calling `progress` after each batch.
fn run(db: &Db, job: &Job, progress: &mut dyn FnMut(ExportProgress)) -> Result<pb::ExportResponse, Status> {
    let summary = crate::export(db, &job.query, &job.dest, progress).map_err(ReadError::from)?;
    tracing::info!(
        table = %job.query.table,
        dest = %job.dest.display(),
        rows = summary.rows,
        files = summary.files.len(),
        "export finished"
    );
    Ok(response(&job.root, &summary))
}

/// Runs an export to completion.
pub async fn export(db: &Db, root: &Path, request: pb::ExportRequest) -> Result<pb::ExportResponse, Status> {
    let job = job(root, request)?;
    let db = db.clone();
    tokio::task::spawn_blocking(move || run(&db, &job, &mut |_| {}))
        .await
        .map_err(|e| Status::from(ApiError::TaskFailed(e.to_string())))?
}

/// Runs an export, streaming progress and then the result.
pub async fn export_with_progress(db: &Db, root: &Path, request: pb::ExportRequest) -> Result<ExportStream, Status> {
    let job = job(root, request)?;
    let db = db.clone();
    let (tx, rx) = mpsc::channel(16);
    tokio::task::spawn_blocking(move || {
        let mut report = |p: ExportProgress| {
            let event = pb::export_event::Event::Progress(pb::ExportProgress {
                rows: p.rows,
                bytes: p.bytes,
                files_done: p.files,
            });
            let _ = tx.try_send(Ok(pb::ExportEvent { event: Some(event) }));
        };
        let last = run(&db, &job, &mut report)
            .map(|done| pb::ExportEvent { event: Some(pb::export_event::Event::Done(done)) });
        let _ = tx.blocking_send(last);
    });
    Ok(Box::pin(ReceiverStream::new(rx)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(dest: &str) -> pb::ExportRequest {
        pb::ExportRequest {
            table: "t".into(),
            selector: Some(isobar_wire::selector::selector_to_proto(isobar_storage::SeriesSelector::All)),
            destination: dest.into(),
            ..Default::default()
        }
    }

    #[test]
    fn destinations_stay_inside_the_export_directory() {
        let root = Path::new("/srv/export");
        assert_eq!(job(root, request("may/2024")).expect("ok").dest, Path::new("/srv/export/may/2024"));
        for bad in ["", "../etc", "/abs", "a/../../b", "./x"] {
            let err = job(root, request(bad)).err().expect("refused");
            assert!(err.to_string().starts_with("destination:"), "{bad}: {err}");
        }
    }

    #[test]
    fn unknown_format_is_refused() {
        let mut r = request("x");
        r.format = 9;
        assert!(job(Path::new("/e"), r).err().expect("refused").to_string().starts_with("format:"));
    }
}
