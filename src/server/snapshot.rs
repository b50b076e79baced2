//! The snapshot RPCs of the `Admin` service: `CreateSnapshot`, `ListSnapshots`,
//! `DeleteSnapshot`, `VerifySnapshot`, over a [`SnapshotStore`]. Every one runs on the blocking
//! pool (they link, read and checksum files); names are validated before any path is built.
//! Answers and errors name snapshots and their files relative to the snapshot directory
//! (`server.snapshot_dir`), never by the server's absolute paths.

use std::path::Path;
use std::sync::Arc;

use isobar_proto::v1 as pb;
use isobar_storage::{CheckpointInfo, Db};
use isobar_wire::status::classify_storage;
use tonic::{Code, Status};

use crate::snapshots::{SnapshotEntry, SnapshotError, SnapshotStore};

/// `message` with the snapshot directory `dir` taken out: paths below it become relative, the
/// directory itself reads `<snapshot_dir>` (callers need not know where the server keeps it).
fn without_dir(message: &str, dir: &Path) -> String {
    let mut forms = vec![dir.display().to_string()];
    if let Ok(absolute) = std::path::absolute(dir) {
        forms.push(absolute.display().to_string());
    }
    // The longest form first, so that a relative form inside the absolute one is not cut alone.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    let mut out = message.to_owned();
    for form in forms.iter().filter(|f| !f.is_empty()) {
        out = out.replace(&format!("{form}/"), "").replace(form.as_str(), "<snapshot_dir>");
    }
    out
}

/// The status of a snapshot error: one exhaustive match.
fn status(error: SnapshotError, dir: &Path) -> Status {
    let code = match &error {
        SnapshotError::InvalidName { .. } => Code::InvalidArgument,
        SnapshotError::NotFound { .. } => Code::NotFound,
        SnapshotError::Exists { .. } => Code::AlreadyExists,
        // A file that does not match the listing: the snapshot lost data.
        SnapshotError::Storage { source, .. } if is_damage(source) => Code::DataLoss,
        SnapshotError::Storage { source, .. } => classify_storage(source).code,
        SnapshotError::Io { .. } => Code::Internal,
    };
    Status::new(code, without_dir(&error.to_string(), dir))
}

/// True when `error` says a file does not match its listing (rather than a failing disk).
fn is_damage(error: &isobar_storage::Error) -> bool {
    matches!(error, isobar_storage::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::InvalidData)
}

/// The wire form of a snapshot.
fn info_to_proto(
    name: String,
    info: Option<&CheckpointInfo>,
    verified: Option<bool>,
    problem: String,
) -> pb::SnapshotInfo {
    pb::SnapshotInfo {
        name,
        created_ns: info.map_or(0, |i| i.created_ns),
        sequence: info.map_or(0, |i| i.last_seq),
        files: info.map_or(0, |i| i.files.len() as u64),
        bytes: info.map_or(0, CheckpointInfo::bytes),
        tables: info.map_or_else(Vec::new, |i| i.tables.clone()),
        verified,
        problem,
    }
}

/// Runs `f` on the blocking pool; errors name paths relative to `store`'s directory.
async fn blocking<T: Send + 'static>(
    store: &SnapshotStore,
    f: impl FnOnce() -> Result<T, SnapshotError> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Status::internal(format!("internal error: snapshot task failed: {e}")))?
        .map_err(|e| status(e, store.dir()))
}

/// `CreateSnapshot`.
pub async fn create(
    store: Arc<SnapshotStore>,
    db: Db,
    request: pb::CreateSnapshotRequest,
) -> Result<pb::CreateSnapshotResponse, Status> {
    if let Some(name) = &request.name {
        crate::snapshots::validate_snapshot_name(name).map_err(|e| status(e, store.dir()))?;
    }
    let runner = Arc::clone(&store);
    let (name, info) = blocking(&store, move || runner.create(&db, request.name.as_deref())).await?;
    Ok(pb::CreateSnapshotResponse {
        // Relative to the snapshot directory: the snapshot's own directory is its name.
        path: name.clone(),
        linked: info.linked,
        copied: info.copied,
        snapshot: Some(info_to_proto(name, Some(&info), None, String::new())),
    })
}

/// `ListSnapshots`.
pub async fn list(
    store: Arc<SnapshotStore>,
    request: pb::ListSnapshotsRequest,
) -> Result<pb::ListSnapshotsResponse, Status> {
    let runner = Arc::clone(&store);
    let entries = blocking(&store, move || runner.list(request.verify)).await?;
    let snapshots = entries
        .into_iter()
        .map(|SnapshotEntry { name, info, verified, problem }| {
            info_to_proto(name, info.as_ref(), verified, problem.unwrap_or_default())
        })
        .collect();
    Ok(pb::ListSnapshotsResponse { snapshots })
}

/// `DeleteSnapshot`.
pub async fn delete(
    store: Arc<SnapshotStore>,
    request: pb::DeleteSnapshotRequest,
) -> Result<pb::DeleteSnapshotResponse, Status> {
    crate::snapshots::validate_snapshot_name(&request.name).map_err(|e| status(e, store.dir()))?;
    let runner = Arc::clone(&store);
    let bytes = blocking(&store, move || runner.delete(&request.name)).await?;
    Ok(pb::DeleteSnapshotResponse { bytes })
}

/// `VerifySnapshot`.
pub async fn verify(
    store: Arc<SnapshotStore>,
    request: pb::VerifySnapshotRequest,
) -> Result<pb::VerifySnapshotResponse, Status> {
    crate::snapshots::validate_snapshot_name(&request.name).map_err(|e| status(e, store.dir()))?;
    let name = request.name.clone();
    let runner = Arc::clone(&store);
    let info = blocking(&store, move || runner.verify(&request.name)).await?;
    Ok(pb::VerifySnapshotResponse { snapshot: Some(info_to_proto(name, Some(&info), Some(true), String::new())) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_paths_relative_to_the_snapshot_directory() {
        let dir = Path::new("/var/lib/isobar/snapshots");
        let message = "snapshot \"n\": checksum mismatch in /var/lib/isobar/snapshots/n/sst/1.sst";
        assert_eq!(without_dir(message, dir), "snapshot \"n\": checksum mismatch in n/sst/1.sst");
        assert_eq!(
            without_dir("x does not exist in /var/lib/isobar/snapshots", dir),
            "x does not exist in <snapshot_dir>"
        );
        let relative = Path::new("data/snapshots");
        let absolute = std::path::absolute(relative).expect("absolute").display().to_string();
        let message = format!("snapshot directory {absolute}/n: denied");
        assert_eq!(without_dir(&message, relative), "snapshot directory n: denied");
    }
}
