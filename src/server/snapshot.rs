//! The snapshot RPCs of the `Admin` service: `CreateSnapshot`, `ListSnapshots`,
//! `DeleteSnapshot`, `VerifySnapshot`, over a [`SnapshotStore`]. Every one runs on the blocking
//! pool (they link, read and checksum files); names are validated before any path is built.

use std::sync::Arc;

use isobar_proto::v1 as pb;
use isobar_storage::{CheckpointInfo, Db};
use isobar_wire::status::classify_storage;
use tonic::{Code, Status};

use crate::snapshots::{SnapshotEntry, SnapshotError, SnapshotStore};

/// The status of a snapshot error: one exhaustive match.
fn status(error: SnapshotError) -> Status {
    let code = match &error {
        SnapshotError::InvalidName { .. } => Code::InvalidArgument,
        SnapshotError::NotFound { .. } => Code::NotFound,
        SnapshotError::Exists { .. } => Code::AlreadyExists,
        // A file that does not match the listing: the snapshot lost data.
        SnapshotError::Storage { source, .. } if is_damage(source) => Code::DataLoss,
        SnapshotError::Storage { source, .. } => classify_storage(source).code,
        SnapshotError::Io { .. } => Code::Internal,
    };
    Status::new(code, error.to_string())
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

/// Runs `f` on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SnapshotError> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Status::internal(format!("internal error: snapshot task failed: {e}")))?
        .map_err(status)
}

/// `CreateSnapshot`.
pub async fn create(
    store: Arc<SnapshotStore>,
    db: Db,
    request: pb::CreateSnapshotRequest,
) -> Result<pb::CreateSnapshotResponse, Status> {
    if let Some(name) = &request.name {
        crate::snapshots::validate_snapshot_name(name).map_err(status)?;
    }
    let dir = store.dir().to_path_buf();
    let (name, info) = blocking(move || store.create(&db, request.name.as_deref())).await?;
    let path = std::path::absolute(dir.join(&name)).unwrap_or_else(|_| dir.join(&name));
    Ok(pb::CreateSnapshotResponse {
        path: path.display().to_string(),
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
    let entries = blocking(move || store.list(request.verify)).await?;
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
    crate::snapshots::validate_snapshot_name(&request.name).map_err(status)?;
    let bytes = blocking(move || store.delete(&request.name)).await?;
    Ok(pb::DeleteSnapshotResponse { bytes })
}

/// `VerifySnapshot`.
pub async fn verify(
    store: Arc<SnapshotStore>,
    request: pb::VerifySnapshotRequest,
) -> Result<pb::VerifySnapshotResponse, Status> {
    crate::snapshots::validate_snapshot_name(&request.name).map_err(status)?;
    let name = request.name.clone();
    let info = blocking(move || store.verify(&request.name)).await?;
    Ok(pb::VerifySnapshotResponse { snapshot: Some(info_to_proto(name, Some(&info), Some(true), String::new())) })
}
