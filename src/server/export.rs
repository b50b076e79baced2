//! `Admin/Export` and `Admin/ExportWithProgress`: Parquet export runs in the query engine
//! (`isobar_query::export`), which is not part of this build yet; both answer `UNIMPLEMENTED`
//! with a message saying so.

use std::path::Path;
use std::pin::Pin;

use isobar_ingest::status::ApiError;
use isobar_proto::v1 as pb;
use isobar_storage::Db;
use tokio_stream::Stream;
use tonic::Status;

/// The progress stream of `ExportWithProgress`.
pub type ExportStream = Pin<Box<dyn Stream<Item = Result<pb::ExportEvent, Status>> + Send>>;

fn unavailable(method: &'static str) -> Status {
    ApiError::Unimplemented {
        method,
        reason: "Parquet export (isobar-query) is not part of this build yet; use Scan and convert the Arrow stream",
    }
    .into()
}

/// Runs an export to completion.
pub async fn export(_db: &Db, _root: &Path, _request: pb::ExportRequest) -> Result<pb::ExportResponse, Status> {
    Err(unavailable("Admin/Export"))
}

/// Runs an export, reporting progress.
pub async fn export_with_progress(_db: &Db, _root: &Path, _request: pb::ExportRequest) -> Result<ExportStream, Status> {
    Err(unavailable("Admin/ExportWithProgress"))
}
