//! The metrics HTTP endpoint: HTTP/1.1 with hyper on its own port.
//!
//! | request | answer |
//! |---|---|
//! | `GET /metrics` | 200, the exposition ([`CONTENT_TYPE`]) |
//! | `GET /ready` | 200 `ready` while the database takes writes; 503 `not ready: read-only (REASON): DETAIL` while it refuses them for a background failure (see [`ready`]) |
//! | `GET /` | 200, a line of text pointing at `/metrics` |
//! | `GET` anything else | 404 |
//! | any other method | 405 with `Allow: GET` |
//!
//! The engine snapshot reads the current version and a few locks, so it is taken on the
//! blocking pool, never on a tokio worker. Each connection is served by its own task; the
//! accept loop stops when the [`MetricsServer`] handle is dropped.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use isobar_storage::Db;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::render::render;
use super::requests::RequestMetrics;
use super::text::CONTENT_TYPE;

/// The running endpoint; dropping it stops accepting connections.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// Binds `addr` and serves the metrics of `db` and `requests` there.
    pub async fn start(addr: SocketAddr, db: Db, requests: RequestMetrics) -> std::io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(accept_loop(listener, db, requests));
        tracing::info!(listen = %addr, "serving Prometheus metrics at /metrics");
        Ok(MetricsServer { addr, task })
    }

    /// The bound address (with the port the OS chose for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, db: Db, requests: RequestMetrics) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                tracing::warn!(error = %e, "metrics endpoint cannot accept a connection");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let (db, requests) = (db.clone(), requests.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(request, db.clone(), requests.clone()));
            let served = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "metrics connection ended with an error");
            }
        });
    }
}

/// The readiness answer, for probes that cannot speak gRPC: the same condition as the gRPC health
/// service's `NOT_SERVING` ([`Db::read_only`]). Cheap enough for a tokio worker: two small
/// mutexes and the memtable sizes, no I/O.
fn ready(db: &Db) -> (http::StatusCode, String) {
    match db.read_only() {
        None => (http::StatusCode::OK, "ready\n".into()),
        Some(state) => (
            http::StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: read-only ({}): {}\n", state.reason.as_str(), state.detail),
        ),
    }
}

async fn answer<B>(
    request: http::Request<B>,
    db: Db,
    requests: RequestMetrics,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let reply = |status: http::StatusCode, content_type: &str, body: String| {
        let mut response = http::Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        if let Ok(v) = http::HeaderValue::from_str(content_type) {
            response.headers_mut().insert(http::header::CONTENT_TYPE, v);
        }
        response
    };
    const PLAIN: &str = "text/plain; charset=utf-8";
    if request.method() != http::Method::GET {
        let mut response = reply(http::StatusCode::METHOD_NOT_ALLOWED, PLAIN, "only GET is supported\n".into());
        response.headers_mut().insert(http::header::ALLOW, http::HeaderValue::from_static("GET"));
        return Ok(response);
    }
    Ok(match request.uri().path() {
        "/metrics" => match tokio::task::spawn_blocking(move || render(&db.metrics(), &requests)).await {
            Ok(text) => reply(http::StatusCode::OK, CONTENT_TYPE, text),
            Err(e) => reply(http::StatusCode::INTERNAL_SERVER_ERROR, PLAIN, format!("metrics snapshot failed: {e}\n")),
        },
        "/ready" => {
            let (status, body) = ready(&db);
            reply(status, PLAIN, body)
        }
        "/" => reply(
            http::StatusCode::OK,
            PLAIN,
            "Isobar metrics endpoint. Prometheus metrics are at /metrics (text format 0.0.4).\n".into(),
        ),
        other => reply(http::StatusCode::NOT_FOUND, PLAIN, format!("no page {other}; metrics are at /metrics\n")),
    })
}
