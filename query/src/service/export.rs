//! `Admin/Export` and `Admin/ExportWithProgress`: Parquet files written by [`crate::export()`]
//! from one snapshot, under the server's export directory. The server's `Admin` service checks
//! the caller's permission and calls [`export`] or [`export_with_progress`].
//!
//! The destination is a relative path without `..` and without a symbolic link among its
//! existing components (checked here, so nothing outside the export directory is ever written;
//! part files are then created exclusively, which never follows a link at their name); the
//! engine refuses a destination that is not empty, unless the request sets `overwrite` and the
//! destination holds only a previous export (never anything else, never through a link).
//! Every byte written is charged to the server's quota (`server.export_max_bytes`). Answers and
//! errors name files relative to the export directory, never by their absolute server path. The export runs on the blocking pool; with progress,
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

use crate::export::{MIN_TARGET_FILE_BYTES, Naming, Partition, Partitioning};
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

/// Refuses a destination with a symbolic link among the components that exist below `root`
/// (a link planted in the export directory would otherwise carry the export out of it).
fn refuse_links(root: &Path, relative: &Path) -> Result<(), ApiError> {
    let mut at = root.to_path_buf();
    for component in relative.components() {
        at.push(component);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let name = at.strip_prefix(root).unwrap_or(relative).display().to_string();
                return Err(ApiError::Argument {
                    field: "destination".into(),
                    reason: format!(
                        "\"{name}\" inside the export directory is a symbolic link; exports never write \
                         through links: choose a destination of plain directories"
                    ),
                });
            }
            Ok(_) => {}
            // Nothing further exists: the export creates it as plain directories.
            Err(_) => break,
        }
    }
    Ok(())
}

/// `error` with its paths made relative to the export directory `root`: answers never carry
/// the server's absolute paths.
fn relative_paths(root: &Path, error: crate::Error) -> crate::Error {
    let relative = |path: PathBuf| match path.strip_prefix(root) {
        Ok(rest) => rest.to_path_buf(),
        Err(_) => path.file_name().map(PathBuf::from).unwrap_or_default(),
    };
    match error {
        crate::Error::Io { op, path, source } => crate::Error::Io { op, path: relative(path), source },
        crate::Error::DestinationNotEmpty { path } => crate::Error::DestinationNotEmpty { path: relative(path) },
        crate::Error::DestinationForeign { path, entry } => {
            crate::Error::DestinationForeign { path: relative(path), entry: relative(entry) }
        }
        other => other,
    }
}

/// Checks `request` against `root`; the export may write at most `max_bytes`.
fn job(root: &Path, max_bytes: Option<u64>, request: pb::ExportRequest) -> Result<Job, ApiError> {
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
    refuse_links(root, relative)?;
    let selector = selector_from_proto(request.selector)?;
    let range = time_range_from_proto(request.range)?;
    let mut query = ExportQuery::new(request.table);
    query.selector = selector;
    query.range = range;
    query.columns = request.columns;
    query.max_bytes = max_bytes;
    if request.max_rows_per_file > 0 {
        query.file_rows = request.max_rows_per_file;
    }
    query.partition = match pb::ExportPartition::try_from(request.partition) {
        Ok(pb::ExportPartition::Unspecified | pb::ExportPartition::Day) => Partitioning::Day,
        Ok(pb::ExportPartition::Auto) => Partitioning::Auto,
        Ok(pb::ExportPartition::None) => Partitioning::None,
        Ok(pb::ExportPartition::Month) => Partitioning::Month,
        Ok(pb::ExportPartition::Year) => Partitioning::Year,
        Err(_) => return Err(argument("partition", "is not a known ExportPartition (AUTO, NONE, DAY, MONTH, YEAR)")),
    };
    query.naming = match pb::ExportColumnNaming::try_from(request.column_naming) {
        Ok(pb::ExportColumnNaming::Unspecified | pb::ExportColumnNaming::Dotted) => Naming::Dotted,
        Ok(pb::ExportColumnNaming::Underscore) => Naming::Underscore,
        Ok(pb::ExportColumnNaming::Family) => Naming::Family,
        Err(_) => {
            return Err(argument("column_naming", "is not a known ExportColumnNaming (DOTTED, UNDERSCORE, FAMILY)"));
        }
    };
    match request.target_file_size_bytes {
        0 => {}
        n if n < MIN_TARGET_FILE_BYTES => {
            return Err(ApiError::Argument {
                field: "target_file_size_bytes".into(),
                reason: format!("is {n}; it must be 0 (128 MiB) or at least {MIN_TARGET_FILE_BYTES} (64 KiB)"),
            });
        }
        n => query.target_file_bytes = n,
    }
    query.overwrite = request.overwrite;
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
        partition: partition_to_proto(summary.partition).into(),
    }
}

/// The wire value of a resolved partitioning.
pub fn partition_to_proto(partition: Partition) -> pb::ExportPartition {
    match partition {
        Partition::None => pb::ExportPartition::None,
        Partition::Day => pb::ExportPartition::Day,
        Partition::Month => pb::ExportPartition::Month,
        Partition::Year => pb::ExportPartition::Year,
    }
}

/// Runs `job`, calling `progress` after each batch.
fn run(db: &Db, job: &Job, progress: &mut dyn FnMut(ExportProgress)) -> Result<pb::ExportResponse, Status> {
    let summary = crate::export(db, &job.query, &job.dest, progress)
        .map_err(|e| ReadError::from(relative_paths(&job.root, e)))?;
    tracing::info!(
        table = %job.query.table,
        dest = %job.dest.display(),
        partition = summary.partition.name(),
        rows = summary.rows,
        files = summary.files.len(),
        "export finished"
    );
    Ok(response(&job.root, &summary))
}

/// Runs an export to completion into `root`, writing at most `max_bytes`.
pub async fn export(
    db: &Db,
    root: &Path,
    max_bytes: Option<u64>,
    request: pb::ExportRequest,
) -> Result<pb::ExportResponse, Status> {
    let job = job(root, max_bytes, request)?;
    let db = db.clone();
    tokio::task::spawn_blocking(move || run(&db, &job, &mut |_| {}))
        .await
        .map_err(|e| Status::from(ApiError::TaskFailed(e.to_string())))?
}

/// Runs an export, streaming progress and then the result (as [`export`]).
pub async fn export_with_progress(
    db: &Db,
    root: &Path,
    max_bytes: Option<u64>,
    request: pb::ExportRequest,
) -> Result<ExportStream, Status> {
    let job = job(root, max_bytes, request)?;
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
        assert_eq!(job(root, None, request("may/2024")).expect("ok").dest, Path::new("/srv/export/may/2024"));
        for bad in ["", "../etc", "/abs", "a/../../b", "./x"] {
            let err = job(root, None, request(bad)).err().expect("refused");
            assert!(err.to_string().starts_with("destination:"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_symbolic_link_below_the_export_directory_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("export");
        std::fs::create_dir_all(root.join("plain")).expect("mkdir");
        std::os::unix::fs::symlink(dir.path(), root.join("plain/out")).expect("symlink");
        let err = job(&root, None, request("plain/out/x")).err().expect("refused");
        let message = err.to_string();
        assert!(message.contains("\"plain/out\"") && message.contains("symbolic link"), "{message}");
        assert!(!message.contains(&dir.path().display().to_string()), "no absolute path: {message}");
        assert!(job(&root, None, request("plain/new/x")).is_ok(), "plain directories are fine");
    }

    #[test]
    fn error_paths_are_relative_to_the_export_directory() {
        let root = Path::new("/srv/export");
        let err = relative_paths(root, crate::Error::DestinationNotEmpty { path: root.join("may/2024") });
        assert_eq!(err.to_string(), crate::Error::DestinationNotEmpty { path: "may/2024".into() }.to_string());
        let io = std::io::Error::other("disk full");
        let err = relative_paths(root, crate::Error::Io { op: "create", path: root.join("a/b"), source: io });
        assert!(err.to_string().starts_with("create a/b:"), "{err}");
    }

    #[test]
    fn unset_fields_keep_the_old_behaviour_and_new_ones_convert() {
        let old = job(Path::new("/e"), None, request("x")).expect("ok").query;
        assert_eq!((old.partition, old.naming, old.overwrite), (Partitioning::Day, Naming::Dotted, false));
        assert_eq!(old.target_file_bytes, crate::export::DEFAULT_TARGET_FILE_BYTES);
        let new = pb::ExportRequest {
            partition: pb::ExportPartition::Auto.into(),
            column_naming: pb::ExportColumnNaming::Family.into(),
            target_file_size_bytes: 1 << 20,
            overwrite: true,
            ..request("x")
        };
        let q = job(Path::new("/e"), None, new).expect("ok").query;
        assert_eq!(
            (q.partition, q.naming, q.target_file_bytes, q.overwrite),
            (Partitioning::Auto, Naming::Family, 1 << 20, true)
        );
    }

    #[test]
    fn bad_partitions_namings_and_sizes_are_refused_by_field() {
        let cases = [
            (pb::ExportRequest { partition: 42, ..request("x") }, "partition:"),
            (pb::ExportRequest { column_naming: 42, ..request("x") }, "column_naming:"),
            (pb::ExportRequest { target_file_size_bytes: 1000, ..request("x") }, "target_file_size_bytes:"),
        ];
        for (r, field) in cases {
            let err = job(Path::new("/e"), None, r).err().expect("refused").to_string();
            assert!(err.starts_with(field), "{err}");
        }
    }

    #[test]
    fn a_foreign_entry_is_named_relative_to_the_export_directory() {
        let root = Path::new("/srv/export");
        let err = relative_paths(
            root,
            crate::Error::DestinationForeign { path: root.join("may"), entry: root.join("may/notes.txt") },
        );
        let message = err.to_string();
        assert!(message.starts_with("export destination may holds may/notes.txt"), "{message}");
    }

    #[test]
    fn unknown_format_is_refused() {
        let mut r = request("x");
        r.format = 9;
        assert!(job(Path::new("/e"), None, r).err().expect("refused").to_string().starts_with("format:"));
    }
}
