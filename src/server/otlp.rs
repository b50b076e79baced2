//! The OTLP metrics service (`opentelemetry.proto.collector.metrics.v1.MetricsService/Export`),
//! served on the gRPC port when `[otlp] enabled = true`.
//!
//! ```text
//! Export(request) ─► [auth layer: token] ─► map (blocking pool) ─► write permission on every
//!                    table ─► check_catalog ─► apply (create tables, one engine write)
//!                    ─► partial_success
//! ```
//!
//! The order is the security model, as on the line-protocol endpoint: the caller is authenticated
//! by the server's auth layer before the request is decoded, and authorized on every table before
//! the catalog is consulted, so a caller without write permission on a table never learns its
//! families, column types, whether it exists or whether it takes new columns.
//!
//! A whole-request refusal (bad metric name, timestamp out of range, type conflict, unknown table
//! without `create_tables`) is `INVALID_ARGUMENT` and writes nothing; the caller needs write
//! permission on every table the request writes, checked before anything is applied. Data points
//! Isobar does not store (histograms, exponential histograms, summaries, points without a value)
//! are reported in `ExportMetricsServiceResponse.partial_success` and the rest is written.
//! Requests being written share a byte budget of `server.max_inflight_write_bytes` (past it:
//! `RESOURCE_EXHAUSTED` with a retry hint, like `Ingest/Write`).

use std::time::{SystemTime, UNIX_EPOCH};

use isobar_ingest::admission::Admission;
use isobar_ingest::otlp::{OtlpError, OtlpOptions, apply, check_catalog, map};
use isobar_storage::Db;
use isobar_wire::status::storage_status;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::MetricsService;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use prost::Message;
use tonic::{Request, Response, Status};

use super::guard::authorize;
use super::rpc::Rpc;
use crate::config::Config;

/// The OTLP `MetricsService` over one database.
#[derive(Clone, Debug)]
pub struct OtlpService {
    db: Db,
    options: OtlpOptions,
    /// Bytes of requests being mapped and written at once (`server.max_inflight_write_bytes`).
    admission: Admission,
}

impl OtlpService {
    /// A service writing into `db` as `config.otlp` says.
    pub fn new(db: Db, config: &Config) -> Self {
        let options = OtlpOptions { family: config.otlp.family.clone(), create_tables: config.otlp.create_tables };
        Self { db, options, admission: Admission::new(config.server.max_inflight_write_bytes.0) }
    }
}

#[tonic::async_trait]
impl MetricsService for OtlpService {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_nanos()).ok())
            .unwrap_or(0);
        let (db, options) = (self.db.clone(), self.options.clone());
        let (_, extensions, message) = request.into_parts();
        let admitted = self.admission.try_admit(message.encoded_len()).map_err(Status::from)?;
        let checked = Request::from_parts(Default::default(), extensions, ());
        let written = tokio::task::spawn_blocking(move || {
            let _admitted = admitted;
            let mapped = map(&db, &message, now_ns, &options).map_err(otlp_status)?;
            for table in &mapped.tables {
                authorize(&checked, Rpc::OtlpExport, &table.name)?;
            }
            check_catalog(&db, &mapped, &options).map_err(otlp_status)?;
            apply(&db, mapped, &options).map_err(otlp_status)
        })
        .await
        .map_err(|e| Status::internal(format!("OTLP write task failed: {e}")))??;
        let partial_success = (written.rejected > 0).then(|| ExportMetricsPartialSuccess {
            rejected_data_points: i64::try_from(written.rejected).unwrap_or(i64::MAX),
            error_message: written.rejection,
        });
        Ok(Response::new(ExportMetricsServiceResponse { partial_success }))
    }
}

/// The gRPC status of a refused request.
fn otlp_status(error: OtlpError) -> Status {
    match error {
        OtlpError::Engine(e) => storage_status(e),
        other => Status::invalid_argument(other.to_string()),
    }
}
