//! The InfluxDB-compatible HTTP front end (`[line_protocol]`), off unless enabled.
//!
//! | route | answers |
//! |---|---|
//! | `POST /write` | InfluxDB 1.x write: `db`, `rp` ignored; `precision` = `n`/`ns`, `u`/`us`, `ms`, `s`; token in `Authorization` (in `p` only with `line_protocol.allow_token_in_url`) |
//! | `POST /api/v2/write` | InfluxDB 2.x write: `org`, `bucket` ignored; `precision` = `ns`, `us`, `ms`, `s`; `Authorization: Token X` |
//! | `GET`/`HEAD /ping` | 204 with `X-Influxdb-Version` (what Telegraf and v1 clients probe) |
//! | `GET /health` | 200 JSON `{"name":"isobar","status":"pass",...}` (what v2 clients probe) |
//!
//! Bodies may be gzip-compressed (`Content-Encoding: gzip`). The parser and the mapping to tables
//! live in [`isobar_ingest::line_protocol`]; see `docs/protocols.md` for the mapping with examples
//! and [`write`] for the request path.

pub mod auth;
pub mod query;
pub mod reply;
pub mod write;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use isobar_ingest::admission::Admission;
use isobar_ingest::line_protocol::LineProtocolOptions;
use isobar_storage::Db;
use tokio::net::TcpListener;

pub use auth::{AllowAll, Denied, TokenWrites, WriteAuthorizer, authorizer_for};
pub use write::bytes_inflated;

use crate::config::Config;

/// The version string `/ping` and `/health` report.
const VERSION: &str = concat!("isobar-", env!("CARGO_PKG_VERSION"));

/// What the handlers share.
pub struct LineProtocolState {
    /// The database.
    pub db: Db,
    /// Mapping options.
    pub options: LineProtocolOptions,
    /// `line_protocol.max_body_bytes`.
    pub max_body_bytes: u64,
    /// Bytes of bodies being processed at once (`server.max_inflight_write_bytes`).
    pub admission: Admission,
    /// Who may write.
    pub authorizer: Arc<dyn WriteAuthorizer>,
    /// `line_protocol.allow_token_in_url`.
    pub allow_token_in_url: bool,
}

impl LineProtocolState {
    /// The state for `config` over `db`.
    pub fn new(config: &Config, db: Db, authorizer: Arc<dyn WriteAuthorizer>) -> Self {
        let lp = &config.line_protocol;
        Self {
            db,
            options: LineProtocolOptions { family: lp.family.clone(), create_tables: lp.create_tables },
            max_body_bytes: lp.max_body_bytes.0,
            admission: Admission::new(config.server.max_inflight_write_bytes.0),
            authorizer,
            allow_token_in_url: lp.allow_token_in_url,
        }
    }
}

/// The routes of the front end.
pub fn router(state: Arc<LineProtocolState>) -> Router {
    Router::new()
        .route("/write", post(write::write_v1))
        .route("/api/v2/write", post(write::write_v2))
        .route("/ping", get(ping).head(ping))
        .route("/health", get(health))
        .with_state(state)
        // The body limit is enforced by the handlers (before and after decompression).
        .layer(axum::extract::DefaultBodyLimit::disable())
}

async fn ping() -> impl IntoResponse {
    (
        StatusCode::NO_CONTENT,
        [
            ("X-Influxdb-Version", HeaderValue::from_static(VERSION)),
            ("X-Influxdb-Build", HeaderValue::from_static("OSS")),
        ],
    )
}

async fn health() -> impl IntoResponse {
    let body = serde_json::json!({
        "name": "isobar",
        "message": "ready for writes",
        "status": "pass",
        "checks": [],
        "version": VERSION,
    });
    ([("content-type", "application/json; charset=utf-8")], body.to_string())
}

/// Serves `router` on `listener` (HTTPS with `tls`: the server's `[tls]` certificate) until
/// `shutdown` completes, then finishes running requests; connections are capped and timed out
/// by `gate` and `timeouts` (`[connections]`).
pub fn serve(
    listener: TcpListener,
    gate: crate::net::accept::Gate,
    timeouts: crate::net::http1::HttpTimeouts,
    tls: Option<std::sync::Arc<tokio_rustls::rustls::ServerConfig>>,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> impl Future<Output = std::io::Result<()>> + Send {
    crate::net::http1::serve(listener, gate, timeouts, tls, router, shutdown)
}
